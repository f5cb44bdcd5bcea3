"""One page of a container or object listing from the index, in byte order: limit, marker,
end_marker, prefix, delimiter and reverse, as Swift lists; it costs the same in a container
of a million objects as in one of ten thousand (bench/objectstore_million.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from overcast.objectstore.models import SwiftObject

MAX_LISTING = 10000


@dataclass
class Listing:
    limit: int = MAX_LISTING
    marker: str = ""
    end_marker: str = ""
    prefix: str = ""
    delimiter: str = ""
    reverse: bool = False


def page(db, model, scope, listing: Listing) -> list:
    """One page of ``model`` rows (or subdir names, with a delimiter), in byte order.

    Without a delimiter that is one query along the (container, name) index. With one,
    the page is first walked by name alone: a name with the delimiter after the prefix
    becomes a subdir, and the walk jumps past everything under it with a new query
    (so a million objects in a thousand pseudo-directories cost a thousand short index
    reads, not a million rows); the rows of the page's objects are then read by name."""
    column, table = model.name, model.__table__
    with db.session() as session:
        # read-only rows (named tuples with the model's column names): a tenth of an ORM
        # object's cost, and a listing has up to 10,000 of them
        connection = session.connection()
        if not listing.delimiter:
            return list(connection.execute(_narrowed(select(table), model, scope, listing, listing.marker)
                                           .limit(listing.limit)))
        page = _walk(session, model, scope, listing)
        wanted = [name for name, is_dir in page if not is_dir]
        rows = {}
        for start in range(0, len(wanted), 500):
            query = select(table).where(scope, column.in_(wanted[start:start + 500]))
            rows.update((row.name, row) for row in connection.execute(query))
    return [name if is_dir else rows[name] for name, is_dir in page if is_dir or name in rows]

def _narrowed(query, model, scope, listing: Listing, marker):
    """``query`` narrowed to ``scope``, the prefix, the markers and live objects, in order.
    ``marker`` is a name ("": none) or a bound parameter to fill in at each execution."""
    column = model.name
    query = query.where(scope)
    has_marker = not isinstance(marker, str) or bool(marker)
    if listing.prefix:
        query = query.where(column >= listing.prefix, column < listing.prefix + "\U0010ffff")
    if listing.reverse:
        query = query.where(column < marker) if has_marker else query
        query = query.where(column > listing.end_marker) if listing.end_marker else query
        query = query.order_by(column.desc())
    else:
        query = query.where(column > marker) if has_marker else query
        query = query.where(column < listing.end_marker) if listing.end_marker else query
        query = query.order_by(column)
    if model is SwiftObject:
        query = query.where((SwiftObject.delete_at.is_(None)) | (SwiftObject.delete_at > time.time()))
    return query

def _walk(session, model, scope, listing: Listing) -> list[tuple[str, bool]]:
    """The page's names with a delimiter, as (name, is a subdir). After a subdir the next
    read asks for few names (the next may be a subdir again), doubling while they are not."""
    found: list[tuple[str, bool]] = []
    marker, batch = listing.marker, listing.limit
    connection = session.connection()  # plain Core reads: names only, no ORM rows
    # built once: each jump only binds a new marker and batch size
    first = _narrowed(select(model.name), model, scope, listing, marker).limit(bindparam("want"))
    after = _narrowed(select(model.name), model, scope, listing, bindparam("after")).limit(bindparam("want"))
    while len(found) < listing.limit:
        want = min(batch, listing.limit - len(found))
        query, params = (after, {"after": marker, "want": want}) if found or marker else (first, {"want": want})
        names = list(connection.execute(query, params).scalars())
        for name in names:
            rest = name[len(listing.prefix):]
            cut = rest.find(listing.delimiter)
            if cut < 0:
                found.append((name, False))
                marker = name
                continue
            subdir = listing.prefix + rest[:cut + len(listing.delimiter)]
            if subdir != listing.marker:  # as Swift: paging by the last subdir does not repeat it
                found.append((subdir, True))
            marker = subdir if listing.reverse else subdir + "\U0010ffff"  # past the rest of it
            batch = 16
            break
        else:
            if len(names) < want:
                break  # the end of the listing
            batch *= 2
    return found
