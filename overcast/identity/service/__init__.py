"""IdentityService: the Keystone logic, one small class per resource, no HTTP in here."""

from __future__ import annotations

from overcast.common.config import Config
from overcast.common.db import Database
from overcast.identity.keys import KeyRepository
from overcast.identity.revocations import Revocations
from overcast.identity.service.app_creds import ApplicationCredentials
from overcast.identity.service.assignments import Assignments
from overcast.identity.service.auth import Auth
from overcast.identity.service.base import NameCache
from overcast.identity.service.catalog import Catalog
from overcast.identity.service.consumers import Consumers
from overcast.identity.service.credentials import Credentials, Policies
from overcast.identity.service.domain_configs import DomainConfigs
from overcast.identity.service.domains import Domains
from overcast.identity.service.endpoint_groups import EndpointGroups
from overcast.identity.service.groups import Groups
from overcast.identity.service.projects import Projects
from overcast.identity.service.roles import Roles
from overcast.identity.service.users import Users


class IdentityService:
    """Everything identity does; other services reach it through this object.

    ``identity.auth.authenticate(headers)`` is what the API layer uses to turn a token
    into a RequestContext (locally: no database read on that path).
    """

    def __init__(self, config: Config, db: Database):
        self.config = config
        self.db = db
        self.public_url = config.public_url
        keys_dir = config.data_path / "keys"
        self.token_keys = KeyRepository(keys_dir / "fernet", config.identity.max_active_keys)
        self.credential_keys = KeyRepository(keys_dir / "credential", config.identity.max_active_keys)
        self.revocations = Revocations(db, config.identity.token_expiration)
        self.names = NameCache(db)
        self.domains = Domains(self)
        self.projects = Projects(self)
        self.users = Users(self)
        self.groups = Groups(self)
        self.roles = Roles(self)
        self.assignments = Assignments(self)
        self.catalog = Catalog(self)
        self.credentials = Credentials(self)
        self.policies = Policies(self)
        self.app_creds = ApplicationCredentials(self)
        self.auth = Auth(self)
        self.domain_configs = DomainConfigs(self)
        self.endpoint_groups = EndpointGroups(self)
        self.consumers = Consumers(self)

    def start(self) -> None:
        """Make sure keys exist and load revocations (called once at start-up)."""
        self.token_keys.setup()
        self.credential_keys.setup()
        self.revocations.load()
