"""/v3/{project_id}/messages (3.3+): user messages."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.volume.api import common
from overcast.volume.service.messages import FILTERS, SORT_KEYS, user_message
from overcast.volume.views_groups import message as view


def list_messages(req):
    common.gate(req, "3.3")
    req.authorize({"project_id": req.context.project_id})
    filters, page = {}, {"sort": [("created_at", "desc")], "limit": None, "marker": None, "offset": 0}
    if req.version.at_least("3.5"):
        page = common.paging(req, SORT_KEYS)
        filters = common.filters(req, FILTERS)
    rows = req.state.volume.messages.list(req.context, filters, page["sort"], page["limit"], page["marker"],
                                          page["offset"])
    body = {"messages": [view(req.base_url, row, user_message(row)) for row in rows]}
    link = common.next_link(req, "messages", rows, page["limit"])
    if link:
        body["messages_links"] = link
    return reply(body)


def show(req):
    common.gate(req, "3.3")
    row = req.state.volume.messages.get(req.context, req.params["message_id"])
    req.authorize({"project_id": row.project_id})
    return reply({"message": view(req.base_url, row, user_message(row))})


def delete(req):
    common.gate(req, "3.3")
    service = req.state.volume.messages
    row = service.get(req.context, req.params["message_id"])
    req.authorize({"project_id": row.project_id})
    service.delete(req.context, row.id)
    return reply(None, status=204)
