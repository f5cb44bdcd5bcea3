"""Domain-specific configuration: the identity and ldap options one domain overrides.

Only Keystone's allowed groups and options are accepted; values keep their JSON type.
Sensitive options (the LDAP password) are stored but never shown.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, select

from overcast.identity import errors
from overcast.identity.models import DomainConfig
from overcast.identity.service.base import SubService

DEFAULTS = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        "url": "ldap://localhost", "user": None, "suffix": "cn=example,cn=com", "query_scope": "one",
        "page_size": 0, "alias_dereferencing": "default", "debug_level": None, "chase_referrals": None,
        "user_tree_dn": None, "user_filter": None, "user_objectclass": "inetOrgPerson",
        "user_id_attribute": "cn", "user_name_attribute": "sn", "user_description_attribute": "description",
        "user_mail_attribute": "mail", "user_pass_attribute": "userPassword",
        "user_enabled_attribute": "enabled", "user_enabled_invert": False, "user_enabled_mask": 0,
        "user_enabled_default": "True", "user_attribute_ignore": ["default_project_id"],
        "user_default_project_id_attribute": None, "user_enabled_emulation": False,
        "user_enabled_emulation_dn": None, "user_enabled_emulation_use_group_config": False,
        "user_additional_attribute_mapping": [], "group_tree_dn": None, "group_filter": None,
        "group_objectclass": "groupOfNames", "group_id_attribute": "cn", "group_name_attribute": "ou",
        "group_member_attribute": "member", "group_members_are_ids": False, "group_desc_attribute": "description",
        "group_attribute_ignore": [], "group_additional_attribute_mapping": [], "tls_cacertfile": None,
        "tls_cacertdir": None, "use_tls": False, "tls_req_cert": "demand", "use_pool": True, "pool_size": 10,
        "pool_retry_max": 3, "pool_retry_delay": 0.1, "pool_connection_timeout": -1,
        "pool_connection_lifetime": 600, "use_auth_pool": True, "auth_pool_size": 100,
        "auth_pool_connection_lifetime": 60,
    },
}
SENSITIVE = {"ldap": {"password"}}


def _allowed(group: str, option: str | None = None) -> None:
    if group not in DEFAULTS:
        raise errors.ForbiddenAction(f"Group {group} is not supported for domain specific configurations.")
    if option is not None and option not in DEFAULTS[group] and option not in SENSITIVE.get(group, ()):
        raise errors.ForbiddenAction(f"Option {option} in group {group} is not supported for domain specific configurations.")


def _check(config) -> dict:
    if not isinstance(config, dict) or not config:
        raise errors.ValidationError("Invalid input for field 'config': a non-empty object of groups is required")
    for group, options in config.items():
        if not isinstance(options, dict) or not options:
            raise errors.ValidationError(f"Invalid input for field 'config': group {group} needs options")
        for option in options:
            _allowed(group, option)
    return config


class DomainConfigs(SubService):
    def _rows(self, session, domain_id: str):
        return session.scalars(select(DomainConfig).where(DomainConfig.domain_id == domain_id)).all()

    def get(self, domain_id: str, group: str | None = None, option: str | None = None) -> dict:
        """The visible config (all, one group, or one option); 404 when nothing is set there."""
        self.identity.domains.get(domain_id)
        if group is not None:
            _allowed(group, option)
        with self.db.session() as session:
            rows = self._rows(session, domain_id)
        config: dict = {}
        for row in rows:
            if row.option in SENSITIVE.get(row.group, ()):
                continue
            config.setdefault(row.group, {})[row.option] = json.loads(row.value)
        if group is not None:
            config = {group: config[group]} if group in config else {}
            if option is not None:
                config = {option: config[group][option]} if option in config.get(group, {}) else {}
        if not config:
            raise errors.IdentityNotFound(f"config for domain {domain_id}")
        return config

    def replace(self, domain_id: str, config: dict) -> tuple[dict, bool]:
        """Set the whole config; returns (config, created)."""
        self.identity.domains.get(domain_id)
        _check(config)
        with self.db.session() as session:
            created = not self._rows(session, domain_id)
            session.execute(delete(DomainConfig).where(DomainConfig.domain_id == domain_id))
            self._write(session, domain_id, config)
        return self.get(domain_id), created

    def update(self, domain_id: str, config: dict, group: str | None = None, option: str | None = None) -> dict:
        """Merge into the existing config (scoped to a group or option when given)."""
        self.get(domain_id, group, option)  # 404 when the part being changed does not exist
        _check(config)
        if group is not None and set(config) != {group}:
            raise errors.ValidationError(f"Invalid input for field 'config': only group {group} may be given")
        if option is not None and set(config[group]) != {option}:
            raise errors.ValidationError(f"Invalid input for field 'config': only option {option} may be given")
        with self.db.session() as session:
            self._write(session, domain_id, config)
        return self.get(domain_id)

    def _write(self, session, domain_id: str, config: dict) -> None:
        for group, options in config.items():
            for option, value in options.items():
                row = session.get(DomainConfig, (domain_id, group, option))
                if row is None:
                    session.add(DomainConfig(domain_id=domain_id, group=group, option=option, value=json.dumps(value)))
                else:
                    row.value = json.dumps(value)
        session.flush()

    def delete(self, domain_id: str, group: str | None = None, option: str | None = None) -> None:
        self.get(domain_id, group, option)
        query = delete(DomainConfig).where(DomainConfig.domain_id == domain_id)
        if group is not None:
            query = query.where(DomainConfig.group == group)
        if option is not None:
            query = query.where(DomainConfig.option == option)
        with self.db.session() as session:
            session.execute(query)

    @staticmethod
    def defaults(group: str | None = None, option: str | None = None) -> dict:
        if group is None:
            return {g: dict(options) for g, options in DEFAULTS.items()}
        _allowed(group, option)
        if option is None:
            return {group: dict(DEFAULTS[group])}
        if option not in DEFAULTS[group]:
            raise errors.ForbiddenAction(f"Reading the default of {group}.{option} is not allowed.")
        return {option: DEFAULTS[group][option]}
