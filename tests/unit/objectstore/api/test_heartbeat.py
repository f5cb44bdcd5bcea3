"""Bulk answers: the Accept header's pick and the three body formats."""

from __future__ import annotations

import json

from overcast.objectstore.api.heartbeat import output_format, render


def test_output_format_follows_accept_as_swob_does():
    assert output_format(None) == "text/plain"
    assert output_format("application/json") == "application/json"
    assert output_format("*/*") == "text/plain"
    assert output_format("text/*;q=0.5, application/xml") == "application/xml"
    assert output_format("image/png") is None
    assert output_format("not a type") is None


def test_render_plain_json_xml():
    result = {"Number Deleted": 1, "Response Status": "400 Bad Request"}
    failures = [["/c", "409 Conflict"]]
    assert render("text/plain", result, failures, "delete") == (
        b"Number Deleted: 1\nResponse Status: 400 Bad Request\nErrors:\n/c, 409 Conflict\n")
    assert json.loads(render("application/json", result, failures, "delete"))["Errors"] == failures
    assert render("text/xml", result, failures, "delete").decode() == (
        "<delete>\n<number_deleted>1</number_deleted>\n<response_status>400 Bad Request</response_status>\n"
        "<errors>\n<object><name>/c</name><status>409 Conflict</status></object>\n</errors>\n</delete>\n")
