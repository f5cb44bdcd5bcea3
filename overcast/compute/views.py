"""Flavors and keypairs as Nova's JSON, shaped by the requested microversion."""

from __future__ import annotations

from overcast.common.times import iso_seconds


def _links(base: str, kind: str, ident: str) -> list[dict]:
    root = base.rsplit("/v2.1", 1)[0]
    return [{"rel": "self", "href": f"{base}/{kind}/{ident}"}, {"rel": "bookmark", "href": f"{root}/{kind}/{ident}"}]


def flavor_summary(base: str, row, version) -> dict:
    body = {"id": row.flavorid, "name": row.name, "links": _links(base, "flavors", row.flavorid)}
    if version.at_least("2.55"):
        body["description"] = row.description
    return body


def flavor(base: str, row, version, with_specs: bool) -> dict:
    body = {
        **flavor_summary(base, row, version),
        "ram": row.memory_mb,
        "vcpus": row.vcpus,
        "disk": row.root_gb,
        "swap": row.swap if (row.swap or version.at_least("2.75")) else "",
        "OS-FLV-EXT-DATA:ephemeral": row.ephemeral_gb,
        "OS-FLV-DISABLED:disabled": row.disabled,
        "os-flavor-access:is_public": row.is_public,
        "rxtx_factor": row.rxtx_factor,
    }
    if version.at_least("2.61") and with_specs:
        body["extra_specs"] = getattr(row, "extra_specs", {})
    return body


def keypair(row, version, detail: bool = False) -> dict:
    body = {"name": row.name, "public_key": row.public_key, "fingerprint": row.fingerprint}
    if version.at_least("2.2"):
        body["type"] = row.type
    if detail:
        body.update(user_id=row.user_id, id=row.id, created_at=iso_seconds(row.created_at)[:-1],
                    deleted=False, deleted_at=None, updated_at=None)
    return body
