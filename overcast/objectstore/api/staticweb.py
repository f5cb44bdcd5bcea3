"""Static websites from containers, as Swift's staticweb middleware serves them.

A container's metadata turns it into a site: ``X-Container-Meta-Web-Index`` (the object
served for ``<container>/`` and each ``<pseudo-directory>/``), ``-Web-Listings: true``
(HTML listings where there is no index; ``-Web-Listings-CSS`` names a style sheet,
``-Web-Listings-Label`` replaces the path in the title), ``-Web-Error`` (on an error,
the object ``<status><suffix>`` is served with the error's status, e.g. ``404error.html``)
and ``-Web-Directory-Type`` (objects of that type, ``application/directory`` by default,
count as directories, not as files).

It applies to GET and HEAD without a token, and with a token only given ``X-Web-Mode:
true`` (as in Swift 2.38, anonymous callers cannot opt out); never to temp URLs. Reads
happen as the caller: anonymous callers need the container's ``.r:*`` (else a 401, shown
with the ``401<suffix>`` page) and ``.rlistings`` for listings. A container or
pseudo-directory asked for without its trailing slash is redirected (301) to it, as Swift
does, when it would show an index or a listing.
"""

from __future__ import annotations

import asyncio
import copy
import functools
from html import escape
from urllib.parse import quote

from starlette.datastructures import QueryParams
from starlette.responses import Response

from overcast.common.errors import OvercastError
from overcast.objectstore import errors
from overcast.objectstore.api import access, objects, tempurl
from overcast.objectstore.api.common import iso
from overcast.objectstore.service import Listing

TRUE = ("true", "1", "yes", "on", "t", "y")
DIRECTORY_TYPE = "application/directory"
STYLE = ("  <style type=\"text/css\">\n   h1 {font-size: 1em; font-weight: bold;}\n"
         "   th {text-align: left; padding: 0px 1em 0px 1em;}\n   td {padding: 0px 1em 0px 1em;}\n"
         "   a {text-decoration: none;}\n  </style>\n")
DOCTYPE = "<!DOCTYPE html>\n"


def info() -> dict:
    """The ``staticweb`` entry of /info (Swift registers it empty)."""
    return {}


def applies(req) -> bool:
    if req.method not in ("GET", "HEAD") or tempurl.requested(req):
        return False
    if req.headers.get("x-auth-token"):
        return (req.headers.get("x-web-mode") or "").lower() in TRUE
    return True


def middleware(handler):
    """``handler`` (a container or object GET) behind Swift's staticweb middleware."""

    @functools.wraps(handler)
    async def serve(req):
        if not applies(req):
            return await handler(req)
        account, container_name, name = req.params["account"], req.params["container"], req.params.get("object")
        try:
            if name:  # the object comes with its container: one look-up serves the handler too
                found = await objects.locate(req, account, container_name, name)
                container = found[0]
            else:
                container = await asyncio.to_thread(req.state.objectstore.container, account, container_name)
        except OvercastError:
            return await handler(req)  # it answers for missing containers
        site = Site(req, container)
        if name and not site.index and not site.listings:
            req.located = ((account, container_name, name), found)
            return await handler(req)  # what Swift ends up answering for a container that is no site
        if name:
            return await site.object(handler, name)
        return await site.root(handler, trailing=name is not None)

    return serve


class Site:
    """One static-web request on one container."""

    def __init__(self, req, container):
        self.req, self.container = req, container
        meta = container.meta or {}
        self.index = meta.get("x-container-meta-web-index", "").strip()
        self.error = meta.get("x-container-meta-web-error", "").strip()
        self.listings = meta.get("x-container-meta-web-listings", "").strip()
        self.css = meta.get("x-container-meta-web-listings-css", "").strip()
        self.label = meta.get("x-container-meta-web-listings-label", "").strip()
        self.directory_type = meta.get("x-container-meta-web-directory-type", "").strip() or DIRECTORY_TYPE

    async def root(self, handler, trailing: bool):
        """``<container>`` or ``<container>/``."""
        try:
            access.may_read(access.caller(self.req), self.req.params["account"], self.container, listing=False)
        except OvercastError as error:
            return await self._error(error)
        if not self.listings and not self.index:
            if (self.req.headers.get("x-web-mode") or "").lower() in TRUE:
                raise errors.SwiftNotFound()
            return await handler(self.req)
        if not trailing:
            return self._redirect()
        if not self.index:
            return await self._listing("")
        try:
            return await self._get(self.index)
        except OvercastError as error:
            if error.status == 404:
                return await self._listing("")
            return await self._error(error)

    async def object(self, handler, name: str):
        """``<container>/<name>``: the object, else the pseudo-directory's index or listing."""
        try:
            response = await handler(self.req)
            if not self._is_directory(response):
                return response
        except OvercastError as error:
            if error.status != 404:
                raise
            missing = error
        else:
            missing = errors.SwiftNotFound()
        if not self.listings and not self.index:
            raise missing
        trailing = name.endswith("/")
        if self.index:
            try:
                response = await self._get(name.rstrip("/") + "/" + self.index)
                return response if trailing else self._redirect()
            except OvercastError as error:
                if error.status != 404:
                    raise
        if trailing:
            return await self._listing(name)
        if not await self._has_children(name + "/"):
            return await self._error(errors.SwiftNotFound())
        return self._redirect()

    def _is_directory(self, response) -> bool:
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        return content_type == self.directory_type and int(response.headers.get("content-length") or 0) <= 1

    async def _get(self, name: str):
        """The object ``name`` of the container, read as the caller reads (raises its error)."""
        sub = copy.copy(self.req)
        sub.params = {**self.req.params, "object": name}
        sub.query = QueryParams("")
        return await objects.get(sub)

    def _redirect(self) -> Response:
        url = str(self.req.raw.url).split("?", 1)[0] + "/"
        return Response(b"<html><h1>Moved Permanently</h1><p>The resource has moved permanently.</p></html>", 301,
                        {"Location": url}, media_type="text/html; charset=UTF-8")

    async def _error(self, error: OvercastError, default: Response | None = None):
        """The error's answer: the container's ``<status><web-error>`` page when there is one."""
        if self.error:
            try:
                page = await self._get(f"{error.status}{self.error}")
            except OvercastError:
                page = None
            if page is not None:
                page.status_code = error.status
                return page
        if default is not None:
            return default
        raise error

    async def _rows(self, prefix: str, limit: int) -> list:
        """The listing under ``prefix`` (a 401/403 as the caller's listing would get)."""
        account = self.req.params["account"]
        access.may_read(access.caller(self.req), account, self.container, listing=True)
        return await asyncio.to_thread(self.req.state.objectstore.list_objects, self.container,
                                       Listing(limit=limit, prefix=prefix, delimiter="/"))

    async def _has_children(self, prefix: str) -> bool:
        try:
            return bool(await self._rows(prefix, 1))
        except OvercastError:
            return False

    async def _listing(self, prefix: str):
        if self.listings.lower() not in TRUE:
            return await self._error(errors.SwiftNotFound(), Response(self._disabled(prefix), 404,
                                                                      media_type="text/html; charset=UTF-8"))
        try:
            rows = await self._rows(prefix, 10000)
        except OvercastError as error:
            return await self._error(error)
        if prefix and not rows:
            return await self._error(errors.SwiftNotFound())
        body = listing_page(self._title(prefix), prefix, rows, self._css_link(prefix))
        # the server leaves the body out of a HEAD answer, which keeps its Content-Length
        return Response(body.encode("utf-8", "surrogateescape"), 200, media_type="text/html; charset=UTF-8")

    def _title(self, prefix: str) -> str:
        if self.label:
            return f"{self.label}/{prefix}"
        return f"/v1/{self.req.params['account']}/{self.container.name}/{prefix}"

    def _css_link(self, prefix: str) -> str:
        if not self.css:
            return STYLE
        absolute = self.css.startswith(("/", "http://", "https://"))
        href = quote(self.css, ":/") if absolute else "../" * prefix.count("/") + quote(self.css)
        return f'  <link rel="stylesheet" type="text/css" href="{href}" />\n'

    def _disabled(self, prefix: str) -> str:
        """The 404 page of a listing that is not enabled, in Swift's words."""
        head = self._css_link(prefix) if self.css else ("  <style type=\"text/css\">\n"
                                                          "   h1 {font-size: 1em; font-weight: bold;}\n"
                                                          "   p {font-size: 2}\n  </style>\n")
        page = (f"{DOCTYPE}<html>\n<head>\n<title>Listing of {escape(self._title(prefix))}</title>\n{head}"
                "</head>\n<body>  <h1>Web Listing Disabled</h1>"
                "   <p>The owner of this web site has disabled web listing."
                "   <p>If you are the owner of this web site, you can enable"
                "   web listing by setting X-Container-Meta-Web-Listings.</p>")
        if self.index:
            page += ("<h1>Index File Not Found</h1> <p>The owner of this web site has set "
                     f" <b>X-Container-Meta-Web-Index: {self.index}</b>.  However, this file is not found.</p>")
        return page + " </body>\n</html>\n"


def human_readable(size: int) -> str:
    """Sizes as Swift's listings show them: 1023, 1Ki, 5Mi, ..."""
    value, unit = float(size), ""
    for suffix in "KMGTPEZY":
        if value < 1024:
            break
        value, unit = round(value / 1024), suffix
    return f"{round(value):d}{unit}i" if unit else f"{int(value):d}"


def listing_page(title: str, prefix: str, rows: list, head: str) -> str:
    """The HTML listing of ``rows`` (names and subdirs under ``prefix``), as Swift lays it out."""
    lines = [f"{DOCTYPE}<html>\n <head>\n  <title>Listing of {escape(title)}</title>\n{head} </head>\n <body>\n"
             f"  <h1 id=\"title\">Listing of {escape(title)}</h1>\n  <table id=\"listing\">\n"
             "   <tr id=\"heading\">\n    <th class=\"colname\">Name</th>\n    <th class=\"colsize\">Size</th>\n"
             "    <th class=\"coldate\">Date</th>\n   </tr>\n"]
    if prefix:
        lines.append(_row("parent\" class=\"item", "../", "../", "&nbsp;", "&nbsp;", tag="id"))
    for row in rows:
        if isinstance(row, str):
            name = row[len(prefix):]
            lines.append(_row("item subdir", _href(name), escape(name), "&nbsp;", "&nbsp;"))
    for row in rows:
        if not isinstance(row, str):
            name = row.name[len(prefix):]
            kinds = " ".join("type-" + escape(part.lower()) for part in row.content_type.split("/"))
            size = int(row.meta.get("x-slo-size", row.size))
            date = escape(iso(row.last_modified)).split(".")[0].replace("T", " ")
            lines.append(_row(f"item {kinds}", _href(name), escape(name), human_readable(size), date))
    lines.append("  </table>\n </body>\n</html>\n")
    return "".join(lines)


def _href(name: str) -> str:
    """A link relative to the listing; dots encoded so that ``..`` stays a name."""
    return "./" + quote(name).replace(".", "%2E")


def _row(kind: str, href: str, text: str, size: str, date: str, tag: str = "class") -> str:
    return (f"   <tr {tag}=\"{kind}\">\n    <td class=\"colname\"><a href=\"{href}\">{text}</a></td>\n"
            f"    <td class=\"colsize\">{size}</td>\n    <td class=\"coldate\">{date}</td>\n   </tr>\n")

