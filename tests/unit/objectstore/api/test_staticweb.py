"""Static web: which requests it serves, and sizes as listings show them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.datastructures import Headers, QueryParams

from overcast.objectstore.api.staticweb import applies, human_readable


@pytest.mark.parametrize("size,shown", [(0, "0"), (1023, "1023"), (1024, "1Ki"), (2048, "2Ki"),
                                        (5 * 1024 ** 2, "5Mi"), (3 * 1024 ** 3 + 1, "3Gi")])
def test_human_readable_sizes(size, shown):
    assert human_readable(size) == shown


def _req(method="GET", query="", **headers):
    return SimpleNamespace(method=method, query=QueryParams(query),
                           headers=Headers({k.replace("_", "-"): v for k, v in headers.items()}))


def test_applies_to_anonymous_reads_and_to_tokens_only_in_web_mode():
    assert applies(_req())
    assert applies(_req("HEAD"))
    assert applies(_req(x_web_mode="false"))  # Swift 2.38: anonymous callers cannot opt out
    assert not applies(_req(x_auth_token="t"))
    assert applies(_req(x_auth_token="t", x_web_mode="true"))
    assert not applies(_req("PUT"))
    assert not applies(_req(query="temp_url_sig=a&temp_url_expires=1"))
