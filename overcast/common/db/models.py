"""Imports every module that defines tables, so Base.metadata knows them all."""


def load_all() -> None:
    import overcast.common.heartbeats  # noqa: F401
    import overcast.compute.models  # noqa: F401
    import overcast.identity.models  # noqa: F401
    import overcast.image.metadefs.models  # noqa: F401
    import overcast.image.models  # noqa: F401
    import overcast.network.models  # noqa: F401
    import overcast.objectstore.models  # noqa: F401
    import overcast.volume.key_manager.models  # noqa: F401
    import overcast.volume.models  # noqa: F401
