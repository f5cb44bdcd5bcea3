"""Logging in: password, token and application-credential methods; scopes; validation.

Every failure to authenticate raises the same AuthFailed (401) so a caller cannot tell
an unknown user from a wrong password, a disabled user or a disabled project.
"""

from __future__ import annotations

import datetime
import json
import threading
import time

from overcast.common.api.context import RequestContext
from overcast.identity import errors
from overcast.identity.passwords import check_password, hash_password
from overcast.identity.service.base import SubService
from overcast.identity.tokens import TokenData, new_audit_id, seal, unseal

METHODS = ("password", "token", "application_credential")


class Auth(SubService):
    def __init__(self, identity):
        super().__init__(identity)
        self.keys = identity.token_keys

    # issue

    def issue(self, auth: dict) -> tuple[str, TokenData]:
        """Authenticate ``auth`` (the body's "auth" object) and seal a new token."""
        identity = auth.get("identity")
        if not isinstance(identity, dict) or not isinstance(identity.get("methods"), list):
            raise errors.ValidationError("Invalid input for field 'identity': 'methods' is a required property")
        methods = identity["methods"]
        unknown = [m for m in methods if m not in METHODS]
        if not methods or unknown:
            raise errors.AuthFailed(f"Attempted to authenticate with an unsupported method: {unknown or methods}.")
        scope = auth.get("scope")
        expires = int(time.time()) + self.identity.config.identity.token_expiration  # whole seconds, as Keystone
        audit_ids = [new_audit_id()]
        app_cred = None
        if "application_credential" in methods:
            app_cred = self.identity.app_creds.authenticate(identity.get("application_credential"))
            user = self._enabled_user(app_cred.user_id)
            if app_cred.expires_at is not None:
                expires = min(expires, int(app_cred.expires_at.replace(tzinfo=datetime.UTC).timestamp()))
            if scope:
                raise errors.AuthFailed("Application credentials cannot request a scope.")
            scope = {"project": {"id": app_cred.project_id}}
        elif "token" in methods:
            ref = identity.get("token") or {}
            old = self._valid(ref.get("id") if isinstance(ref, dict) else None)
            if old.app_cred_id:
                raise errors.ForbiddenAction("Tokens from application credentials cannot be rescoped.")
            user = self._enabled_user(old.user_id)
            expires = old.expires_at
            audit_ids = [new_audit_id(), old.audit_ids[-1]]
            methods = list(dict.fromkeys(old.methods + ["token"]))
        else:
            user = self._password_user(identity.get("password"))
        if scope is None and user.default_project_id:
            scope = self._default_scope(user)
        data = TokenData(user_id=user.id, user_domain_id=user.domain_id, methods=methods, expires_at=expires,
                         audit_ids=audit_ids)
        self._scope(data, scope)
        if app_cred is not None:
            granted = self.identity.roles.expand(json.loads(app_cred.roles))
            data.role_ids = [r for r in data.role_ids if r in granted]
            data.app_cred_id = app_cred.id
            if not data.role_ids:
                raise errors.AuthFailed()
        return seal(self.keys, data), data

    def issue_ec2(self, credentials: dict) -> tuple[str, TokenData]:
        """A token for the project of a correctly signed EC2 request (``/v3/ec2tokens``)."""
        user_id, project_id = self.identity.credentials.check_ec2_signature(credentials)
        user = self._enabled_user(user_id)
        data = TokenData(user_id=user.id, user_domain_id=user.domain_id, methods=["ec2credential"],
                                          expires_at=int(time.time()) + self.identity.config.identity.token_expiration)
        self._scope(data, {"project": {"id": project_id}})
        return seal(self.keys, data), data

    def _enabled_user(self, user_id: str):
        try:
            user = self.identity.users.get(user_id)
        except errors.IdentityNotFound:
            raise errors.AuthFailed() from None
        if not user.enabled or not self._domain_enabled(user.domain_id):
            raise errors.AuthFailed()
        return user

    def _domain_enabled(self, domain_id: str) -> bool:
        try:
            return self.identity.domains.get(domain_id).enabled
        except errors.IdentityNotFound:
            return False

    def _password_user(self, ref):
        user_ref = ref.get("user") if isinstance(ref, dict) else None
        if not isinstance(user_ref, dict) or not isinstance(user_ref.get("password"), str):
            raise errors.ValidationError("Invalid input for field 'password': a user with a password is required")
        try:
            user = self.identity.users.resolve(user_ref)
        except errors.IdentityNotFound:
            check_password(user_ref["password"], self._decoy_hash())  # same cost as a real check
            raise errors.AuthFailed() from None
        # the hash check runs even for disabled users, so timing tells nothing either
        matched = check_password(user_ref["password"], user.password_hash)
        if not matched or not user.enabled or not self._domain_enabled(user.domain_id):
            raise errors.AuthFailed()
        return user

    _decoy: str | None = None
    _decoy_lock = threading.Lock()

    def _decoy_hash(self) -> str:
        """A hash to check unknown users against, made on first need (not at start-up)."""
        with self._decoy_lock:
            if Auth._decoy is None:
                rounds = self.identity.config.identity.password_hash_rounds
                Auth._decoy = hash_password(new_audit_id(), rounds)
        return Auth._decoy

    def _default_scope(self, user) -> dict | None:
        try:
            project = self.identity.projects.get(user.default_project_id)
        except errors.IdentityNotFound:
            return None
        if not self.identity.assignments.effective_roles(user.id, project_id=project.id):
            return None
        return {"project": {"id": project.id}}

    def _scope(self, data: TokenData, scope) -> None:
        if scope is None:
            return
        if not isinstance(scope, dict) or len(scope) != 1:
            raise errors.ValidationError("Invalid input for field 'scope': give exactly one of project, domain, system")
        assignments = self.identity.assignments
        (kind, ref), = scope.items()
        if kind == "project":
            try:
                project = self.identity.projects.resolve(ref if isinstance(ref, dict) else {})
            except errors.IdentityNotFound:
                raise errors.AuthFailed() from None
            if not project.enabled or not self._domain_enabled(project.domain_id):
                raise errors.AuthFailed()
            data.project_id, data.project_domain_id = project.id, project.domain_id
            data.role_ids = assignments.effective_roles(data.user_id, project_id=project.id)
        elif kind == "domain":
            try:
                domain = self.identity.domains.resolve(ref if isinstance(ref, dict) else {})
            except errors.IdentityNotFound:
                raise errors.AuthFailed() from None
            if not domain.enabled:
                raise errors.AuthFailed()
            data.domain_id = domain.id
            data.role_ids = assignments.effective_roles(data.user_id, domain_id=domain.id)
        elif kind == "system":
            if not isinstance(ref, dict) or ref.get("all") is not True:
                raise errors.ValidationError("Invalid input for field 'system': only {'all': true} exists")
            data.system = "all"
            data.role_ids = assignments.effective_roles(data.user_id, system=True)
        elif kind == "OS-TRUST:trust":
            raise errors.AuthFailed("Trusts are not supported.")
        else:
            raise errors.ValidationError(f"Invalid input for field 'scope': unknown scope {kind!r}")
        if not data.role_ids:
            raise errors.AuthFailed(f"User {data.user_id} has no access to the requested {kind}.")

    # validate

    def _valid(self, token: str | None) -> TokenData:
        data = unseal(self.keys, token) if isinstance(token, str) else None
        if data is None or data.expired or self.identity.revocations.is_revoked(data):
            raise errors.AuthFailed()
        return data

    def validate(self, token: str | None) -> TokenData:
        """The data of a live token; TokenNotFound (404) for a bad, expired or revoked one."""
        try:
            return self._valid(token)
        except errors.AuthFailed:
            raise errors.TokenNotFound((token or "")[:8] + "...") from None

    def revoke(self, token: str) -> None:
        data = self.validate(token)
        self.identity.revocations.revoke(audit_id=data.audit_ids[0])

    def authenticate(self, headers, request_id: str = "") -> RequestContext:
        """The caller's context from X-Auth-Token; AuthFailed (401) otherwise. No DB read."""
        token = headers.get("x-auth-token")
        try:
            data = self._valid(token)
        except errors.AuthFailed as error:
            error.headers["WWW-Authenticate"] = f'Keystone uri="{self.identity.public_url}/identity"'
            raise
        names = self.names.role_names()
        return RequestContext(
            user_id=data.user_id,
            user_domain_id=data.user_domain_id,
            project_id=data.project_id,
            project_domain_id=data.project_domain_id,
            domain_id=data.domain_id,
            system_scope=data.system,
            roles=[names.get(r, "").lower() for r in data.role_ids],
            role_ids=data.role_ids,
            token=token,
            token_data={"audit_ids": data.audit_ids, "app_cred_id": data.app_cred_id, "methods": data.methods,
                        "expires_at": data.expires_at},
            request_id=request_id,
        )
