"""Neutron's list semantics on resource dicts: filters on any attribute, tag filters,
``fields``, ``sort_key``/``sort_dir``, and ``limit``/``marker``/``page_reverse`` paging
with ``<plural>_links``.

Services narrow what they read with the filters they can put in SQL; this module then
applies every filter, so each service need not know them all.
"""

from __future__ import annotations

from urllib.parse import urlencode

from overcast.network.errors import HTTPBadRequest

CONTROL = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse", "tags", "tags-any", "not-tags",
           "not-tags-any"}


def filters_of(query) -> dict[str, list[str]]:
    """The attribute filters of a query string: name -> accepted values."""
    wanted: dict[str, list[str]] = {}
    for name, value in query.multi_items():
        if name not in CONTROL:
            wanted.setdefault(name, []).append(value)
    return wanted


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _matches(item: dict, name: str, values: list[str]) -> bool:
    if name not in item:
        return True  # Neutron ignores filters on attributes a resource does not have
    have = item[name]
    if name == "fixed_ips":  # fixed_ips=ip_address=10.0.0.3 / subnet_id=... / ip_address_substr=...
        return any(_fixed_ip_matches(have, value) for value in values)
    if isinstance(have, list):
        return any(value in [_text(one) for one in have] for value in values)
    return _text(have).lower() in [value.lower() for value in values] if isinstance(have, bool) \
        else _text(have) in values


def _fixed_ip_matches(fixed_ips: list, value: str) -> bool:
    key, _, wanted = value.partition("=")
    if key == "ip_address_substr":
        return any(wanted in ip["ip_address"] for ip in fixed_ips)
    return any(ip.get(key) == wanted for ip in fixed_ips)


def _tags_match(item: dict, query) -> bool:
    tags = set(item.get("tags") or [])
    for key, test in (("tags", lambda want: want <= tags), ("tags-any", lambda want: bool(want & tags)),
                      ("not-tags", lambda want: not want <= tags), ("not-tags-any", lambda want: not want & tags)):
        for value in query.getlist(key):
            if not test({tag for tag in value.split(",") if tag}):
                return False
    return True


def select(items: list[dict], query) -> list[dict]:
    """The items every attribute and tag filter of ``query`` accepts."""
    wanted = filters_of(query)
    return [item for item in items
            if all(_matches(item, name, values) for name, values in wanted.items()) and _tags_match(item, query)]


def _sort_key(value):
    return (value is not None, _text(value) if not isinstance(value, (int, float)) or isinstance(value, bool)
            else value)


def sort(items: list[dict], query, known: set[str]) -> list[dict]:
    keys = query.getlist("sort_key")
    dirs = query.getlist("sort_dir")
    if len(dirs) > len(keys) or (dirs and len(dirs) != len(keys)):
        raise HTTPBadRequest("The number of sort_keys and sort_dirs must be same")
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise HTTPBadRequest(f"{direction} is an invalid value for sort_dir, valid value is 'asc' and 'desc'")
    for key in keys:
        if key not in known:
            raise HTTPBadRequest(f"{key} is an invalid attribute for sort_key")
    ordered = sorted(items, key=lambda item: item.get("id", ""))
    for key, direction in reversed(list(zip(keys, dirs or ["asc"] * len(keys)))):
        ordered.sort(key=lambda item: _sort_key(item.get(key)), reverse=direction == "desc")
    return ordered


def page(items: list[dict], query, url: str, plural: str) -> tuple[list[dict], list[dict]]:
    """The page ``limit``/``marker``/``page_reverse`` ask for, and its links."""
    limit_text = query.get("limit")
    if limit_text is None:
        return items, []
    try:
        limit = int(limit_text)
        if limit < 0:
            raise ValueError
    except ValueError:
        raise HTTPBadRequest(f"Limit must be an integer 0 or greater and not '{limit_text}'") from None
    if limit == 0:
        return items, []
    reverse = query.get("page_reverse", "false").lower() == "true"
    ordered = list(reversed(items)) if reverse else items
    marker = query.get("marker")
    start = 0
    if marker:
        start = next((index + 1 for index, item in enumerate(ordered) if item.get("id") == marker), 0)
    chunk = ordered[start:start + limit]
    has_more = start + limit < len(ordered)
    if reverse:
        chunk.reverse()
    base = [(key, value) for key, value in query.multi_items() if key not in ("marker", "page_reverse")]
    more_after, more_before = (bool(marker), has_more) if reverse else (has_more, bool(marker))
    links = []
    if chunk and more_after:
        links.append({"rel": "next", "href": f"{url}?{urlencode(base + [('marker', chunk[-1]['id'])])}"})
    if chunk and more_before:
        previous = base + [("marker", chunk[0]["id"]), ("page_reverse", "True")]
        links.append({"rel": "previous", "href": f"{url}?{urlencode(previous)}"})
    return chunk, links


def only_fields(item: dict, fields: list[str]) -> dict:
    if not fields:
        return item
    return {name: item[name] for name in fields if name in item}
