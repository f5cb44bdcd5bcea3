"""Swift has no policy file: access follows roles and container ACLs (api/access.py).
These entries document that for `overcast policy-sample`."""

RULES: list = []
