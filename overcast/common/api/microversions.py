"""Microversions: parse what the client asks for and say which one answered.

Clients send ``OpenStack-API-Version: <service> X.Y`` (or a legacy header such as
``X-OpenStack-Nova-API-Version: X.Y``); no header means the minimum, ``latest`` the
maximum. A malformed value is a 400, one outside [minimum, maximum] a 406.
"""

from __future__ import annotations

import functools

import re
from dataclasses import dataclass

from overcast.common.errors import BadRequest, OvercastError

VERSION = re.compile(r"^(\d+)\.(\d+)$")


class VersionNotAcceptable(OvercastError):
    status = 406
    title = "Not Acceptable"


@dataclass(frozen=True, order=True)
class Microversion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> "Microversion":
        match = VERSION.match(text.strip())
        if not match:
            raise BadRequest(f"API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum.")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, text: str) -> bool:
        return (self.major, self.minor) >= _parsed(text)


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> tuple[int, int]:
    """(major, minor) of a version the code compares with; views ask thousands of times."""
    version = Microversion.parse(text)
    return version.major, version.minor


@dataclass(frozen=True)
class MicroversionRange:
    service: str  # the word in OpenStack-API-Version, e.g. "compute"
    minimum: Microversion
    maximum: Microversion
    legacy_header: str | None = None  # e.g. "x-openstack-nova-api-version"

    def requested(self, headers) -> Microversion:
        """The version a request asks for; BadRequest or VersionNotAcceptable when it cannot be served."""
        text = None
        for value in headers.getlist("openstack-api-version") if hasattr(headers, "getlist") else []:
            service, _, version = value.strip().partition(" ")
            if service.lower() == self.service:
                text = version.strip()
        if text is None and self.legacy_header:
            text = headers.get(self.legacy_header)
        if not text:
            return self.minimum
        if text.strip().lower() == "latest":
            return self.maximum
        version = Microversion.parse(text)
        if not self.minimum <= version <= self.maximum:
            raise VersionNotAcceptable(
                f"Version {version} is not supported by the API. Minimum is {self.minimum} "
                f"and maximum is {self.maximum}."
            )
        return version

    def response_headers(self, version: Microversion) -> dict[str, str]:
        headers = {"OpenStack-API-Version": f"{self.service} {version}"}
        vary = ["OpenStack-API-Version"]
        if self.legacy_header:
            headers[_title(self.legacy_header)] = str(version)
            vary.append(_title(self.legacy_header))
        headers["Vary"] = ", ".join(vary)
        return headers


def _title(name: str) -> str:
    return "-".join(part.capitalize() if part != "openstack" else "OpenStack" for part in name.split("-")).replace(
        "Api", "API"
    )
