"""The compute agent's boot volumes: connected through the volume conductor, an encrypted
one with its key (asked for the attachment and server, as an attach asks)."""

from __future__ import annotations

from overcast.compute import agent_volumes
from overcast.compute.drivers import InstanceSpec


class Agent:
    host = "host-1"

    def __init__(self, encrypted: bool):
        self.encrypted, self.calls = encrypted, []

    def _call(self, topic: str, kind: str, payload: dict, timeout: float = 600):
        self.calls.append((topic, kind, payload))
        if kind == "boot_volume":
            data = {"path": "/v.qcow2", "format": "qcow2", **({"encrypted": True} if self.encrypted else {})}
            return {"attachment_id": "att-1", "device": "/dev/vda", "volume_id": "vol-1",
                    "connection_info": {"driver_volume_type": "file", "serial": "vol-1", "data": data}}
        return {"passphrase": "00ff" * 16, "cipher": "aes-xts-plain64", "key_size": 256}


def boot(agent: Agent):
    spec = InstanceSpec(uuid="u-1", name="vm", vcpus=1, memory_mb=128, root_gb=1)
    payload = {"spec": {"boot_volumes": [{"uuid": "vol-1", "source_type": "volume", "boot_index": 0}],
                        "owner": {"project_id": "p"}}}
    return agent_volumes.prepare_boot(agent, payload, spec)


def test_an_encrypted_boot_volume_comes_with_its_key():
    agent = Agent(encrypted=True)
    spec, attached = boot(agent)
    (entry,) = spec.block_devices
    assert entry["connection_info"]["data"]["encryption"]["passphrase"] == "00ff" * 16
    assert entry["boot_index"] == 0 and [a["attachment_id"] for a in attached] == ["att-1"]
    assert agent.calls[1] == (agent_volumes.VOLUME_CONDUCTOR, "attachment_encryption",
                              {"attachment_id": "att-1", "instance_uuid": "u-1"})


def test_a_plain_boot_volume_asks_for_no_key():
    agent = Agent(encrypted=False)
    spec, _ = boot(agent)
    assert [kind for _, kind, _ in agent.calls] == ["boot_volume"]
    assert "encryption" not in spec.block_devices[0]["connection_info"]["data"]
