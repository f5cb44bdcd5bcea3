"""Who is calling: built by the auth layer from a validated token, read by policy."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RequestContext:
    user_id: str | None = None
    user_domain_id: str | None = None
    project_id: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None  # set for domain-scoped tokens
    system_scope: str | None = None  # "all" for system-scoped tokens
    roles: list[str] = field(default_factory=list)  # role names, lower case, implied ones included
    role_ids: list[str] = field(default_factory=list)
    token: str | None = None
    token_data: dict | None = None  # what the token provider decoded (methods, expiry, audit ids)
    request_id: str = ""

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    def creds(self) -> dict:
        """The credentials dict policy rules are checked against (oslo.policy's names)."""
        return {
            "user_id": self.user_id,
            "user_domain_id": self.user_domain_id,
            "project_id": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "roles": self.roles,
            "is_admin": False,
        }
