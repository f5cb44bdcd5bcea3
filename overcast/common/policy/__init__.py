"""Policy engine: oslo.policy check strings, defaults in code, file overrides.

Usage::

    from overcast.common.policy import Enforcer, Rule

    enforcer = Enforcer(
        [Rule("identity:get_user", "role:reader and system_scope:all",
              description="Show user details.",
              operations=[("GET", "/v3/users/{user_id}")])],
        overrides_path="/etc/overcast/policy.yaml")
    enforcer.authorize("identity:get_user", target, creds)  # -> bool
"""

from overcast.common.policy.checks import Check
from overcast.common.policy.enforcer import (
    Enforcer, PolicyFileError, PolicyNotRegistered, Rule,
)
from overcast.common.policy.parser import PolicyError, PolicyParseError, parse

__all__ = [
    "Check", "Enforcer", "PolicyError", "PolicyFileError",
    "PolicyNotRegistered", "PolicyParseError", "Rule", "parse",
]
