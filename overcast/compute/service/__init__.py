"""ComputeService: Nova's logic, one small class per resource, no HTTP in here."""

from __future__ import annotations

from overcast.common.config import Config
from overcast.common.db import Database
from overcast.compute.service.flavors import Flavors
from overcast.compute.service.keypairs import Keypairs
from overcast.compute.service.quotas import Quotas


class ComputeService:
    def __init__(self, config: Config, db: Database):
        self.config = config
        self.db = db
        self.flavors = Flavors(db)
        self.quotas = Quotas(db, {"key_pairs": config.compute.quota_key_pairs})
        self.keypairs = Keypairs(db, self.quotas)

    def start(self) -> None:
        """Make sure the default flavors exist (first start)."""
        self.flavors.ensure_defaults()
