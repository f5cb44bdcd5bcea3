"""Many boots racing for a few small hosts, for bench/compute.py: no host may be oversubscribed.

``run_race`` starts a cloud of its own whose hosts each fit ``per_host`` servers of the
flavor: the all-in-one's in-process agent plus, when this overcast has
`overcast agent compute`, ``hosts - 1`` agents as separate processes (shared database,
RabbitMQ in a private virtual host). ``oversubscription`` then fires ``count`` single-server
POSTs at once, waits until none is in BUILD, and checks every hypervisor's used resources
(GET /os-hypervisors/detail, microversion 2.1) against capacity x allocation ratio, that
each host's vcpus_used matches the ACTIVE servers placed there, and that exactly
min(count, capacity) servers went ACTIVE and the rest ERROR.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from pathlib import Path

import loadgen
from compute_boot import _boot_body, _ms
from compute_cloud import COMPUTE, HOST, Cloud, Vhost, agent_help, start_agent, start_cloud
from identity import log

NANO = {"id": "42", "vcpus": 1, "ram": 64, "disk": 1}  # m1.nano, a default flavor
CPU_RATIO, RESERVED_MB = 4.0, 512


def oversubscription(cloud: Cloud, count: int, image: str, flavor: dict, ratios: dict, timeout: float = 300.0) -> dict:
    """``count`` concurrent single-server creates; then every host's usage against its capacity.

    ``flavor``: {"id", "vcpus", "ram", "disk"}; ``ratios``: {"cpu", "ram", "disk", "reserved_mb"}, the
    allocation ratios and reserved memory the hosts were started with (the 2.1 view shows neither).
    """
    raws = [cloud.raw("POST", f"{COMPUTE}/servers", _boot_body(f"race-{i:03d}", image, flavor["id"]), version="2.37")
            for i in range(count)]
    posted = loadgen.run_each(HOST, cloud.port, raws, count, expect=202)
    settle = cloud.wait_settled(timeout)
    after = cloud.hypervisors()
    servers = cloud.call("GET", f"{COMPUTE}/servers/detail?limit=1000&name=%5Erace-")["servers"]
    outcomes = Counter(s["status"] for s in servers)
    faults = Counter((s.get("fault") or {}).get("message", "")[:80] for s in servers if s["status"] == "ERROR")
    per_host = Counter(s.get("OS-EXT-SRV-ATTR:host") for s in servers if s["status"] == "ACTIVE")
    hosts, over = [], []
    for h in after:
        row = {"host": h["service"]["host"], "node": h["hypervisor_hostname"], "state": h["state"],
               "vcpus": h["vcpus"], "vcpus_used": h["vcpus_used"], "vcpus_cap": h["vcpus"] * ratios["cpu"],
               "memory_mb": h["memory_mb"], "memory_mb_used": h["memory_mb_used"],
               "memory_mb_cap": (h["memory_mb"] - ratios["reserved_mb"]) * ratios["ram"] + ratios["reserved_mb"],
               "local_gb": h["local_gb"], "local_gb_used": h["local_gb_used"],
               "local_gb_cap": h["local_gb"] * ratios["disk"], "running_vms": h["running_vms"],
               "active_here": per_host.get(h["service"]["host"], 0)}
        # memory_mb_used includes the host's reserved memory, as Nova shows it: hence the cap's + reserved
        for kind in ("vcpus", "memory_mb", "local_gb"):
            if row[f"{kind}_used"] > row[f"{kind}_cap"]:
                over.append(f"{row['host']}: {kind} {row[f'{kind}_used']} > {row[f'{kind}_cap']}")
        if row["vcpus_used"] != row["active_here"] * flavor["vcpus"]:
            over.append(f"{row['host']}: vcpus_used {row['vcpus_used']} but {row['active_here']} ACTIVE servers of "
                        f"{flavor['vcpus']} vCPU here")
        hosts.append(row)
    capacity = sum(int(h["vcpus_cap"] // flavor["vcpus"]) for h in hosts)
    active = outcomes.get("ACTIVE", 0)
    return {"count": count, "posted": {"statuses": posted.statuses, "errors": posted.errors,
                                       "p50_ms": _ms(posted.latencies, 50), "max_ms": _ms(posted.latencies, 100),
                                       "elapsed_s": posted.elapsed},
            "settle_s": settle, "outcomes": dict(outcomes), "faults": dict(faults), "hosts": hosts,
            "capacity_servers": capacity, "violations": over,
            "ok": not over and active == min(count, capacity) and active + outcomes.get("ERROR", 0) == count}


def _postgres_db(name: str, drop: bool = False) -> str:
    sql = f'DROP DATABASE IF EXISTS "{name}"' if drop else f'CREATE DATABASE "{name}"'
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", sql], check=not drop, capture_output=True,
                   stdin=subprocess.DEVNULL, timeout=60)
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def run_race(work: Path, logs: Path, hosts: int, per_host: int, count: int, database: str, broker: str,
             log_level: str | None) -> dict:
    vcpus = max(1, int(per_host * NANO["vcpus"] / CPU_RATIO))
    sizing = {"OVERCAST_COMPUTE_FAKE_VCPUS": str(vcpus), "OVERCAST_COMPUTE_FAKE_MEMORY_MB": "65536",
              "OVERCAST_COMPUTE_FAKE_LOCAL_GB": "1000", "OVERCAST_COMPUTE_CPU_ALLOCATION_RATIO": str(CPU_RATIO),
              "OVERCAST_COMPUTE_RAM_ALLOCATION_RATIO": "1.0", "OVERCAST_COMPUTE_DISK_ALLOCATION_RATIO": "1.0",
              "OVERCAST_COMPUTE_RESERVED_HOST_MEMORY_MB": str(RESERVED_MB)}
    ratios = {"cpu": CPU_RATIO, "ram": 1.0, "disk": 1.0, "reserved_mb": RESERVED_MB}
    has_agent, answer = agent_help()
    out = {"hosts_wanted": hosts, "per_host": per_host, "fake_vcpus": vcpus, "flavor": "m1.nano",
           "agent_command": has_agent}
    if not has_agent:
        log("  `overcast agent compute` is not there yet: racing for the all-in-one's one host only")
        out["agent_command_answer"] = answer[-400:]
        hosts = 1
    stamp = time.strftime("%Y%m%d%H%M%S")
    vhost = Vhost(f"overcast-bench-{stamp}", broker) if hosts > 1 else None
    db_name = f"overcast_bench_{stamp}"
    if hosts > 1 and database == "postgres":
        database_url = _postgres_db(db_name)
    else:
        database_url = f"sqlite:///{work / 'race' / 'overcast.db'}"
    out.update(database=database_url.split("://", 1)[0], bus="amqp (private vhost)" if vhost else "memory")
    cloud = None
    try:
        if vhost:
            vhost.__enter__()
        env = {**sizing, "OVERCAST_COMPUTE_HOST": "bench-host-1"}
        cloud, info = start_cloud("race", work, logs, env, log_level, database_url=database_url,
                                  bus_url=vhost.url if vhost else None)
        out["cloud"] = info
        cloud.unlimited_quotas()
        image = cloud.make_image()
        out["agents_ready_s"] = {}
        for n in range(2, hosts + 1):
            name = f"bench-host-{n}"
            out["agents_ready_s"][name] = start_agent(cloud, name, logs, sizing, database_url, vhost.url)
            log(f"  agent {name} registered after {out['agents_ready_s'][name]:.2f}s")
        up = [h["service"]["host"] for h in cloud.hypervisors() if h["state"] == "up"]
        out["hosts_up"] = up
        log(f"  {count} concurrent boots of m1.nano on {len(up)} host(s) fitting {per_host} each ...")
        out.update(oversubscription(cloud, count, image, NANO, ratios))
    finally:
        if cloud is not None:
            cloud.stop()
        if vhost:
            vhost.__exit__(None, None, None)
        if hosts > 1 and database == "postgres":
            _postgres_db(db_name, drop=True)
    return out
