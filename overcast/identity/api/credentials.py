"""/v3/credentials, EC2 credentials (/v3/users/{id}/credentials/OS-EC2), /v3/policies"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.validation import check
from overcast.identity import views
from overcast.identity.api.common import no_id, resource

FIELDS = {"blob": "string", "type": ("string", 1, 255), "user_id": "string", "project_id": "string|null"}
POLICY = {"blob": "string", "type": ("string", 1, 255)}


def _view(req, row) -> dict:
    return views.credential(req.base_url, row, req.state.identity.credentials.blob(row))


def list_credentials(req):
    user_id = req.query.get("user_id")
    own = req.context.user_id
    if not req.allowed({"target.credential.user_id": user_id}):
        # callers who may not read everyone's credentials see their own only, as in Keystone
        req.authorize({"target.credential.user_id": own})
        if user_id and user_id != own:
            return reply(views.collection(req.base_url, "credentials", "credentials", []))
        user_id = own
    rows = req.state.identity.credentials.list(user_id=user_id, type=req.query.get("type"))
    return reply(views.collection(req.base_url, "credentials", "credentials", [_view(req, r) for r in rows]))


def get_credential(req):
    row = req.state.identity.credentials.get(req.params["credential_id"])
    req.authorize({"target.credential.user_id": row.user_id})
    return reply({"credential": _view(req, row)})


def create_credential(req):
    fields = no_id(resource(req, "credential", FIELDS, ("blob", "type", "user_id")), "credential")
    req.authorize({"target.credential.user_id": fields["user_id"]})
    row = req.state.identity.credentials.create(fields)
    return reply({"credential": _view(req, row)}, status=201)


def update_credential(req):
    credentials = req.state.identity.credentials
    row = credentials.get(req.params["credential_id"])
    req.authorize({"target.credential.user_id": row.user_id})
    fields = no_id(resource(req, "credential", FIELDS), "credential", row.id)
    if "user_id" in fields:
        req.authorize({"target.credential.user_id": fields["user_id"]})
    row = credentials.update(row.id, fields)
    return reply({"credential": _view(req, row)})


def delete_credential(req):
    credentials = req.state.identity.credentials
    row = credentials.get(req.params["credential_id"])
    req.authorize({"target.credential.user_id": row.user_id})
    credentials.delete(row.id)
    return reply(None, status=204)


# EC2

def create_ec2(req):
    user_id = req.params["user_id"]
    req.authorize({"user_id": user_id})
    body = check(req.json() if isinstance(req.json(), dict) else {}, {"tenant_id": "string"}, ("tenant_id",))
    created = req.state.identity.credentials.create_ec2(user_id, body["tenant_id"])
    return reply({"credential": views.ec2(req.base_url, created)}, status=201)


def list_ec2(req):
    user_id = req.params["user_id"]
    req.authorize({"user_id": user_id})
    items = req.state.identity.credentials.list_ec2(user_id)
    base = req.base_url
    return reply(views.collection(base, f"users/{user_id}/credentials/OS-EC2", "credentials",
                                  [views.ec2(base, item) for item in items]))


def get_ec2(req):
    user_id = req.params["user_id"]
    req.authorize({"target.credential.user_id": user_id})
    item = req.state.identity.credentials.get_ec2(user_id, req.params["access"])
    return reply({"credential": views.ec2(req.base_url, item)})


def delete_ec2(req):
    user_id = req.params["user_id"]
    req.authorize({"target.credential.user_id": user_id})
    req.state.identity.credentials.delete_ec2(user_id, req.params["access"])
    return reply(None, status=204)


# policies

def list_policies(req):
    req.authorize()
    rows = req.state.identity.policies.list(req.query.get("type"))
    base = req.base_url
    return reply(views.collection(base, "policies", "policies", [views.policy(base, r) for r in rows]))


def get_policy(req):
    req.authorize()
    return reply({"policy": views.policy(req.base_url, req.state.identity.policies.get(req.params["policy_id"]))})


def create_policy(req):
    req.authorize()
    row = req.state.identity.policies.create(no_id(resource(req, "policy", POLICY, ("blob", "type")), "policy"))
    return reply({"policy": views.policy(req.base_url, row)}, status=201)


def update_policy(req):
    req.authorize()
    fields = no_id(resource(req, "policy", POLICY), "policy", req.params["policy_id"])
    row = req.state.identity.policies.update(req.params["policy_id"], fields)
    return reply({"policy": views.policy(req.base_url, row)})


def delete_policy(req):
    req.authorize()
    req.state.identity.policies.delete(req.params["policy_id"])
    return reply(None, status=204)
