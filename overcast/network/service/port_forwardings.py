"""(being written) port forwardings."""

from __future__ import annotations

from overcast.common.errors import Unimplemented


class PortForwardings:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    def list(self, ctx, filters: dict) -> list[dict]:
        return []

    def get(self, ctx, ident: str) -> dict:
        raise Unimplemented()

    def create(self, ctx, items: list[dict]) -> list[dict]:
        raise Unimplemented()

    def update(self, ctx, ident: str, values: dict) -> dict:
        raise Unimplemented()

    def delete(self, ctx, ident: str) -> None:
        raise Unimplemented()
