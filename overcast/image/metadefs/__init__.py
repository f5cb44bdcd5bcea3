"""Glance's metadata definitions catalog (``/v2/metadefs``): namespaces and what they hold.

A namespace groups property definitions, objects (named groups of properties) and tags,
and is associated with the resource types (``OS::Glance::Image``, ``OS::Nova::Flavor``,
...) whose metadata it describes. Clients such as Horizon read it to offer well-known
keys; nothing in overcast enforces the definitions on the resources themselves.
"""
