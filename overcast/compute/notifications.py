"""Server notifications on the bus (``compute.instance.<event>``), for telemetry and
anyone else subscribed; legacy unversioned payloads, as Nova's were."""

from __future__ import annotations

import logging

from overcast.compute import states

log = logging.getLogger("overcast.compute.notifications")


def payload(row) -> dict:
    return {"instance_id": row.uuid, "tenant_id": row.project_id, "user_id": row.user_id,
            "display_name": row.display_name, "state": row.vm_state, "host": row.host,
            "instance_type_id": row.flavor_id, "memory_mb": row.memory_mb, "vcpus": row.vcpus,
            "root_gb": row.root_gb, "image_ref": row.image_ref, "state_description": row.task_state or "",
            "status": states.status(row.vm_state, row.task_state)}


async def notify(bus, event: str, row) -> None:
    """Send ``compute.instance.<event>``; a failure is logged, never raised: a notification
    does not undo the work it describes."""
    try:
        await bus.notify(f"compute.instance.{event}", payload(row), publisher_id=f"compute.{row.host or 'api'}")
    except Exception:
        log.warning("notification %s for %s not sent", event, row.uuid, exc_info=True)
