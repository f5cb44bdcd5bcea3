"""/v3/ec2tokens checks requests signed by botocore (SigV2 and SigV4) with EC2 credentials."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from botocore.auth import SigV2Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@pytest.fixture(scope="module")
def ec2(admin):
    response = admin.identity.post(f"/users/{admin.current_user_id}/credentials/OS-EC2",
                                   json={"tenant_id": admin.current_project_id})
    assert response.status_code == 201
    return response.json()["credential"]


def describe(signer_class, access, secret, **signer_args):
    request = AWSRequest(method="GET", url="http://127.0.0.1:8788/",
                         params={"Action": "DescribeInstances", "Version": "2016-11-15"})
    signer = signer_class(Credentials(access, secret), **signer_args)
    signer.add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    return {
        "access": access,
        "host": parts.netloc,
        "verb": "GET",
        "path": parts.path or "/",
        "params": dict(parse_qsl(parts.query)),
        "headers": {"Host": parts.netloc, **dict(prepared.headers)},
        "body_hash": hashlib.sha256(b"").hexdigest(),
    }


def test_sigv4_signed_request_gets_a_project_token(cloud, admin, ec2):
    credentials = describe(SigV4Auth, ec2["access"], ec2["secret"], service_name="ec2", region_name="RegionOne")
    authorization = credentials["headers"]["Authorization"]
    credentials["signature"] = authorization.rsplit("Signature=", 1)[1]
    response = httpx.post(f"{cloud.auth_url}/ec2tokens", json={"credentials": credentials})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert token["project"]["id"] == admin.current_project_id and token["methods"] == ["ec2credential"]
    assert response.headers["X-Subject-Token"]


def test_sigv2_signed_request_and_wrong_secret(cloud, ec2):
    credentials = describe(SigV2Auth, ec2["access"], ec2["secret"])
    credentials["signature"] = credentials["params"].pop("Signature")
    credentials["params"]["SignatureVersion"] = "2"
    assert httpx.post(f"{cloud.auth_url}/ec2tokens", json={"credentials": credentials}).status_code == 200
    forged = describe(SigV2Auth, ec2["access"], "not-the-secret")
    forged["signature"] = forged["params"].pop("Signature")
    response = httpx.post(f"{cloud.auth_url}/ec2tokens", json={"credentials": forged})
    assert response.status_code == 401 and response.json()["error"]["code"] == 401
