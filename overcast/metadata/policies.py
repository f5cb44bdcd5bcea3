"""The metadata service has no policy rules: it is not Keystone-authenticated, it trusts
signed requests from its proxies (see service.py)."""

RULES: list = []
