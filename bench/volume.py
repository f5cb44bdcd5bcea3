#!/usr/bin/env python3
"""Block storage figures for overcast's file driver (there is no Cinder on this machine
to run beside it, so these are overcast's own numbers against the issue's targets).

    .venv/bin/python bench/volume.py [--reps 20] [--image-mib 256] [--keep]

Starts ``overcast up`` on a temp data dir and a free port, then measures over plain HTTP
(one keep-alive client, so client overhead stays small):

1. create-to-available for 1 GB and 100 GB volumes: POST /volumes, then GET until
   ``available`` (polled every 2 ms); p50/p90/max over ``--reps`` each. Sparse qcow2,
   so both sizes should be milliseconds.
2. create-from-image throughput: a ``--image-mib`` MiB raw image of random data (so
   nothing is skipped as zeros) uploaded to the image service, then a 1 GB volume made
   from it, timed from POST to ``available``; MiB/s = image size / that time (best and
   median of 3).
3. attach/detach latency with the fake hypervisor: a server is booted once; each rep
   POSTs os-volume_attachments and waits for the volume to be ``in-use``, then DELETEs
   and waits for ``available``.

Writes ``bench/results/volume-<time>.json`` and ``volume-latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ADMIN_PASSWORD = "bench-admin-pw"


def log(msg: str) -> None:
    print(msg, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Cloud:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(timeout=600)
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        got = self.http.post(f"{self.base}/identity/v3/auth/tokens", json=body)
        got.raise_for_status()
        self.http.headers["X-Auth-Token"] = got.headers["X-Subject-Token"]
        self.project = got.json()["token"]["project"]["id"]
        self.volume = f"{self.base}/volume/v3/{self.project}"

    def wait(self, volume_id: str, status: str, timeout: float = 600) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            got = self.http.get(f"{self.volume}/volumes/{volume_id}").json()["volume"]
            if got["status"] == status:
                return time.perf_counter()
            if got["status"] == "error":
                raise RuntimeError(f"volume {volume_id} went to error")
            time.sleep(0.002)
        raise RuntimeError(f"volume {volume_id} is not {status} after {timeout}s")

    def create_timed(self, **fields) -> tuple[str, float]:
        began = time.perf_counter()
        got = self.http.post(f"{self.volume}/volumes", json={"volume": fields})
        got.raise_for_status()
        volume_id = got.json()["volume"]["id"]
        return volume_id, self.wait(volume_id, "available") - began

    def delete(self, volume_id: str) -> None:
        self.http.delete(f"{self.volume}/volumes/{volume_id}")
        deadline = time.perf_counter() + 60
        while self.http.get(f"{self.volume}/volumes/{volume_id}").status_code != 404:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"volume {volume_id} not deleted")
            time.sleep(0.01)


def create_latency(cloud: Cloud, size: int, reps: int) -> dict:
    times = []
    for _ in range(reps):
        volume_id, took = cloud.create_timed(size=size)
        times.append(took)
        cloud.delete(volume_id)
    return {"size_gb": size, "reps": reps, "p50_ms": pct(times, 0.5) * 1000, "p90_ms": pct(times, 0.9) * 1000,
            "max_ms": max(times) * 1000}


def from_image(cloud: Cloud, mib: int, tries: int = 3) -> dict:
    image = cloud.http.post(f"{cloud.base}/image/v2/images", json={
        "name": "bench-image", "disk_format": "raw", "container_format": "bare"}).json()
    data = os.urandom(mib << 20)
    cloud.http.put(f"{cloud.base}/image/v2/images/{image['id']}/file", content=data,
                   headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    del data
    rates, times = [], []
    for _ in range(tries):
        volume_id, took = cloud.create_timed(size=max(1, -(-mib // 1024)), imageRef=image["id"])
        times.append(took)
        rates.append(mib / took)
        cloud.delete(volume_id)
    cloud.http.delete(f"{cloud.base}/image/v2/images/{image['id']}")
    return {"image_mib": mib, "tries": tries, "best_mib_s": max(rates), "median_mib_s": statistics.median(rates),
            "seconds": times}


def attach_detach(cloud: Cloud, reps: int) -> dict:
    compute = f"{cloud.base}/compute/v2.1"
    headers = {"OpenStack-API-Version": "compute 2.79"}
    image = cloud.http.post(f"{cloud.base}/image/v2/images", json={
        "name": "bench-boot", "disk_format": "raw", "container_format": "bare"}).json()
    cloud.http.put(f"{cloud.base}/image/v2/images/{image['id']}/file", content=b"\0" * 1024,
                   headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    server = cloud.http.post(f"{compute}/servers", headers=headers, json={"server": {
        "name": "bench", "flavorRef": "1", "imageRef": image["id"], "networks": "none"}}).json()["server"]
    while cloud.http.get(f"{compute}/servers/{server['id']}").json()["server"]["status"] != "ACTIVE":
        time.sleep(0.01)
    volume_id, _ = cloud.create_timed(size=1)
    attach, detach = [], []
    for _ in range(reps):
        began = time.perf_counter()
        cloud.http.post(f"{compute}/servers/{server['id']}/os-volume_attachments", headers=headers,
                        json={"volumeAttachment": {"volumeId": volume_id}}).raise_for_status()
        attach.append(cloud.wait(volume_id, "in-use") - began)
        began = time.perf_counter()
        cloud.http.delete(f"{compute}/servers/{server['id']}/os-volume_attachments/{volume_id}",
                          headers=headers).raise_for_status()
        detach.append(cloud.wait(volume_id, "available") - began)
    cloud.http.delete(f"{compute}/servers/{server['id']}")
    return {"reps": reps, "attach_p50_ms": pct(attach, 0.5) * 1000, "attach_p90_ms": pct(attach, 0.9) * 1000,
            "detach_p50_ms": pct(detach, 0.5) * 1000, "detach_p90_ms": pct(detach, 0.9) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--image-mib", type=int, default=256)
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir")
    args = parser.parse_args()
    began = time.perf_counter()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    data_dir = Path(tempfile.mkdtemp(prefix="overcast-bench-volume-"))
    port = procs.free_port()
    exe = Path(sys.executable).parent / "overcast"
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "overcast"]),
           "up", "--data-dir", str(data_dir / "data"), "--port", str(port), "--admin-password", ADMIN_PASSWORD]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVERCAST_", "OS_"))}
    env.update(OVERCAST_COMPUTE_DRIVER="fake", OVERCAST_NETWORK_DRIVER="fake")
    server = procs.Server("overcast", cmd, port, "/identity/v3", data_dir / "overcast.log", env=env)
    server.start()
    try:
        server.wait_ready()
        cloud = Cloud(port)
        report = {"machine": {"cores": os.cpu_count()}, "data_dir": str(data_dir)}
        for size in (1, 100):
            report[f"create_{size}gb"] = found = create_latency(cloud, size, args.reps)
            log(f"create-to-available {size:>3} GB: p50 {found['p50_ms']:.1f} ms, p90 {found['p90_ms']:.1f} ms, "
                f"max {found['max_ms']:.1f} ms ({args.reps} volumes)")
        report["from_image"] = found = from_image(cloud, args.image_mib)
        log(f"create from a {args.image_mib} MiB image: best {found['best_mib_s']:.0f} MiB/s, median "
            f"{found['median_mib_s']:.0f} MiB/s ({', '.join(f'{s:.2f}s' for s in found['seconds'])})")
        report["attach_detach"] = found = attach_detach(cloud, args.reps)
        log(f"attach (fake hypervisor): p50 {found['attach_p50_ms']:.1f} ms, p90 {found['attach_p90_ms']:.1f} ms; "
            f"detach: p50 {found['detach_p50_ms']:.1f} ms, p90 {found['detach_p90_ms']:.1f} ms")
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str)
    (RESULTS / f"volume-{stamp}.json").write_text(text)
    (RESULTS / "volume-latest.json").write_text(text)
    log(f"whole run {time.perf_counter() - began:.0f}s; results in {RESULTS / f'volume-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
