"""ImageService: Glance's logic, one small class per resource, no HTTP in here."""

from __future__ import annotations

from overcast.common.config import Config
from overcast.common.db import Database
from overcast.image.drivers import make_store
from overcast.image.metadefs.service import Metadefs
from overcast.image.service.data import ImageData
from overcast.image.service.images import Images
from overcast.image.service.members import Members
from overcast.image.service.quotas import Quotas


class ImageService:
    """Everything the image API does; compute reaches images through this object."""

    def __init__(self, config: Config, db: Database, store=None, key_manager=None):
        self.config = config
        self.db = db
        self._key_manager = key_manager
        self.store = store or make_store(config.image.store, config.data_path)
        self.quotas = Quotas(config)
        self.images = Images(self)
        self.members = Members(self)
        self.data = ImageData(self)
        self.metadefs = Metadefs(db)

    @property
    def key_manager(self):
        """Where the keys of encrypted volumes' uploads are (the volume service's local key
        manager on the same database, as Glance and Cinder share Barbican); made when first
        needed."""
        if self._key_manager is None:
            from overcast.volume.key_manager import LocalKeyManager

            self._key_manager = LocalKeyManager.for_config(self.config, self.db)
        return self._key_manager

    def start(self) -> None:
        """Repair what a crash left (unfinished uploads, temp files)."""
        self.data.recover()
