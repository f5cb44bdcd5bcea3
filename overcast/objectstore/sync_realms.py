"""Container sync realms and the checks of X-Container-Sync-To, as Swift's
container-sync-realms.conf and container server define them.

The realms file (``objectstore.sync_realms``) has one section per realm::

    [realm1]
    key = realm1key
    key2 = realm1key2          ; optional: a second key while rotating
    cluster_name1 = http://127.0.0.1:8774/swift/v1/
    cluster_name2 = http://other:8774/swift/v1/

Realm and cluster names are case-insensitive (kept upper case, as Swift does). A realm
target ``//realm/cluster/AUTH_account/container`` syncs to ``<cluster URL>AUTH_account/
container``, every request signed with ``X-Container-Sync-Auth: <realm> <nonce> <sig>``,
where sig is the hex HMAC-SHA1 under the realm key of ``METHOD\\npath\\nX-Timestamp\\nnonce\\n
<container sync key>``. The old form, a full ``http(s)://`` URL, is allowed when
``objectstore.sync_allow_full_urls`` is on and its host is in ``objectstore.sync_allowed_hosts``;
its requests carry the container's key in ``X-Container-Sync-Key``.

The file is read again when its modification time changes (looked at every few seconds).
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass
from urllib.parse import urlparse

from overcast.objectstore import errors

log = logging.getLogger("overcast.objectstore.sync")
CHECK_EVERY = 5.0  # seconds between looks at the realms file's mtime


@dataclass(frozen=True)
class Target:
    """Where a container syncs to: the container's URL, and the realm and its key when the
    target was given as ``//realm/cluster/...`` (None for a full URL)."""

    url: str
    realm: str | None = None
    realm_key: str | None = None


class SyncRealms:
    def __init__(self, path: str = "", allow_full_urls: bool = True, allowed_hosts: str = "127.0.0.1",
                 current: str = ""):
        self.path = path
        self.allow_full_urls = allow_full_urls
        self.allowed_hosts = {host.strip() for host in allowed_hosts.split(",") if host.strip()}
        self.current = tuple(part.upper() for part in current.strip("/").split("/")) if current else ()
        self._data: dict[str, dict] = {}
        self._mtime: float | None = None
        self._next_check = 0.0

    def _load(self) -> dict[str, dict]:
        if not self.path:
            return self._data
        now = time.monotonic()
        if now < self._next_check:
            return self._data
        self._next_check = now + CHECK_EVERY
        try:
            mtime = os.path.getmtime(self.path)
        except OSError as error:
            log.warning("cannot read the container sync realms %s: %s", self.path, error)
            return self._data
        if mtime == self._mtime:
            return self._data
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(self.path)
        except configparser.Error as error:
            log.error("cannot parse the container sync realms %s: %s", self.path, error)
            return self._data
        realms = {}
        for section in parser.sections():
            realm = {"clusters": {}}
            for option, value in parser.items(section):
                if option in ("key", "key2"):
                    realm[option] = value
                elif option.startswith("cluster_"):
                    realm["clusters"][option[len("cluster_"):].upper()] = value
            realms[section.upper()] = realm
        self._data, self._mtime = realms, mtime
        return realms

    def realms(self) -> list[str]:
        return list(self._load())

    def keys(self, realm: str) -> list[str]:
        """The realm's key and key2 (either may sign); empty for an unknown realm."""
        data = self._load().get(realm.upper(), {})
        return [data[name] for name in ("key", "key2") if data.get(name)]

    def endpoint(self, realm: str, cluster: str) -> str | None:
        return self._load().get(realm.upper(), {}).get("clusters", {}).get(cluster.upper())

    def info(self) -> dict:
        """The ``container_sync`` entry of /info: realms, their clusters, the current one."""
        realms = {}
        for name, data in self._load().items():
            if data["clusters"]:
                realms[name] = {"clusters": {cluster: {} for cluster in data["clusters"]}}
        if len(self.current) == 2 and self.current[1] in realms.get(self.current[0], {}).get("clusters", {}):
            realms[self.current[0]]["clusters"][self.current[1]]["current"] = True
        return {"realms": realms}

    def target(self, value: str) -> Target | None:
        """The target an X-Container-Sync-To value names (None: empty, sync off); 400 with
        Swift's messages when it cannot be used."""
        original, value = value, value.rstrip("/")
        if not value:
            return None
        if value.startswith("//"):
            parts = value[2:].split("/")
            if len(parts) != 4 or not all(parts):
                raise errors.SwiftBadRequest(f"Invalid X-Container-Sync-To format {original!r}")
            realm, cluster, account, container = parts
            keys = self.keys(realm)
            if not keys:
                raise errors.SwiftBadRequest(f"No realm key for {realm!r}")
            endpoint = self.endpoint(realm, cluster)
            if not endpoint:
                raise errors.SwiftBadRequest(f"No cluster endpoint for {realm!r} {cluster!r}")
            return Target(f"{endpoint.rstrip('/')}/{account}/{container}", realm.upper(), keys[0])
        if not self.allow_full_urls:
            raise errors.SwiftBadRequest("Full URLs are not allowed for X-Container-Sync-To values. Only realm values "
                                         "of the format //realm/cluster/account/container are allowed.")
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https"):
            raise errors.SwiftBadRequest(f"Invalid scheme {parsed.scheme!r} in X-Container-Sync-To, must be \"//\", "
                                         "\"http\", or \"https\".")
        if not parsed.path:
            raise errors.SwiftBadRequest("Path required in X-Container-Sync-To")
        if parsed.params or parsed.query or parsed.fragment:
            raise errors.SwiftBadRequest("Params, queries, and fragments not allowed in X-Container-Sync-To")
        if parsed.hostname not in self.allowed_hosts:
            raise errors.SwiftBadRequest(f"Invalid host {parsed.hostname!r} in X-Container-Sync-To")
        return Target(value)


def signature(method: str, path: str, timestamp: str, nonce: str, realm_key: str, user_key: str) -> str:
    """The hex HMAC-SHA1 of an X-Container-Sync-Auth header (``path`` URL-encoded)."""
    message = "\n".join((method, path, timestamp, nonce, user_key)).encode("utf-8", "surrogateescape")
    return hmac.new(realm_key.encode(), message, hashlib.sha1).hexdigest()


def auth_valid(header: str, method: str, paths: list[str], timestamp: str, realm_keys: list[str],
               user_key: str | None) -> bool:
    """Whether ``X-Container-Sync-Auth: <realm> <nonce> <sig>`` was signed for this request
    with one of the realm's keys and the receiving container's sync key."""
    parts = header.split()
    if len(parts) != 3 or not realm_keys or not user_key:
        return False
    _, nonce, sig = parts
    return any(hmac.compare_digest(sig, signature(method, path, timestamp, nonce, key, user_key))
               for key in realm_keys for path in paths)
