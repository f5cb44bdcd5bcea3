"""ComputeService: Nova's logic, one small class per resource, no HTTP in here."""

from __future__ import annotations

from overcast.common.config import Config
from overcast.common.db import Database
from overcast.compute.service.flavors import Flavors
from overcast.compute.service.keypairs import Keypairs


class ComputeService:
    def __init__(self, config: Config, db: Database):
        self.config = config
        self.db = db
        self.flavors = Flavors(db)
        self.keypairs = Keypairs(db, config.compute.quota_key_pairs)

    def start(self) -> None:
        """Make sure the default flavors exist (first start)."""
        self.flavors.ensure_defaults()
