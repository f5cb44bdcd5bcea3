"""/v2.1/os-instance_usage_audit_log[/{before_timestamp}]: the instance usage audit report."""

from __future__ import annotations

import datetime

from overcast.common.api import reply
from overcast.compute import errors


def list_logs(req):
    req.authorize()
    return reply({"instance_usage_audit_logs": req.state.compute.task_log.instance_usage_audit()})


def show_log(req):
    """The report for the last period completed before the timestamp (``YYYY-MM-DD HH:MM:SS[.ffffff]``)."""
    req.authorize()
    text = req.params["before_timestamp"]
    try:
        before = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise errors.ComputeInvalid(f"Invalid timestamp for date {text}") from None
    return reply({"instance_usage_audit_log": req.state.compute.task_log.instance_usage_audit(before)})
