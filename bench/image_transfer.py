"""Image data transfer for bench/image.py: upload and download, with the server measured around them.

The client is cheap on purpose: a sized PUT streamed from the file with sendfile(2), and a
GET read into one reused buffer. ``measured`` samples the server's RSS every 50 ms and reads
its CPU (per thread) and the machine's other load from /proc.
"""

from __future__ import annotations

import http.client as httpclient
import json
import os
import socket
import time
from pathlib import Path

import procs
from image_bound import CHUNK, MB, read_through
from image_servers import HOST, Target


def _response(sock: socket.socket, method: str) -> httpclient.HTTPResponse:
    resp = httpclient.HTTPResponse(sock, method=method)
    resp.begin()
    return resp


def put_file(target: Target, path: str, src: Path, size: int) -> dict:
    """A sized PUT of ``src`` streamed with sendfile(2): the client copies nothing in user space."""
    head = [f"PUT {target.prefix}{path} HTTP/1.1", f"Host: {HOST}:{target.port}", "User-Agent: overcast-bench",
            "Content-Type: application/octet-stream", f"Content-Length: {size}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in target.headers.items()]
    raw_head = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
    c0, t0 = time.thread_time(), time.perf_counter()
    sock = socket.create_connection((HOST, target.port))
    error = None
    try:
        sock.sendall(raw_head)
        with open(src, "rb") as f:
            offset = 0
            while offset < size:
                try:
                    sent = os.sendfile(sock.fileno(), f.fileno(), offset, size - offset)
                except (BrokenPipeError, ConnectionResetError) as e:  # the server answered early
                    error = repr(e)
                    break
                if sent == 0:
                    break
                offset += sent
        resp = _response(sock, "PUT")
        body = resp.read()
    finally:
        sock.close()
    wall = time.perf_counter() - t0
    return {"status": resp.status, "wall_s": wall, "client_cpu_s": time.thread_time() - c0, "sent": offset,
            "error": error, "body": body[:300].decode(errors="replace")}


def get_file(target: Target, path: str) -> dict:
    """GET the data, read into one reused 1 MiB buffer and discarded."""
    head = [f"GET {target.prefix}{path} HTTP/1.1", f"Host: {HOST}:{target.port}", "User-Agent: overcast-bench",
            "Connection: close"] + [f"{k}: {v}" for k, v in target.headers.items()]
    raw_head = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
    buf = bytearray(CHUNK)
    c0, t0 = time.thread_time(), time.perf_counter()
    sock = socket.create_connection((HOST, target.port))
    try:
        sock.sendall(raw_head)
        resp = _response(sock, "GET")
        first_byte = time.perf_counter() - t0
        got = 0
        while True:
            n = resp.readinto(buf)
            if not n:
                break
            got += n
    finally:
        sock.close()
    return {"status": resp.status, "wall_s": time.perf_counter() - t0, "client_cpu_s": time.thread_time() - c0,
            "bytes": got, "first_byte_s": first_byte}


def measured(target: Target, work) -> dict:
    """Run ``work()`` while sampling the server's RSS every 50 ms; add server CPU, RSS and noise figures."""
    pid = target.server.pid
    rss_before = procs.rss_bytes(pid)
    threads0 = procs.thread_cpu(pid)
    busy0, cpu0 = procs.machine_busy_seconds(), target.server.cpu_seconds()
    with procs.RssSampler(pid, 0.05) as sampler:
        out = work()
    cpu = target.server.cpu_seconds() - cpu0
    threads1 = procs.thread_cpu(pid)
    per_thread = []
    for tid, (name, user, system) in threads1.items():
        _, user0, system0 = threads0.get(tid, (name, 0.0, 0.0))
        per_thread.append((tid, name, user - user0, system - system0))
    per_thread.sort(key=lambda t: -(t[2] + t[3]))
    out.update({
        "server_user_s": sum(t[2] for t in per_thread), "server_sys_s": sum(t[3] for t in per_thread),
        # the busiest thread's CPU: close to the wall time when one thread is the critical path
        "busiest_thread_s": per_thread[0][2] + per_thread[0][3] if per_thread else 0.0,
        "threads": [{"tid": t[0], "name": t[1], "user_s": round(t[2], 2), "sys_s": round(t[3], 2)}
                    for t in per_thread if t[2] + t[3] > 0.005],
    })
    other = max(0.0, procs.machine_busy_seconds() - busy0 - cpu - out["client_cpu_s"])
    out.update({
        "server_cpu_s": cpu, "rss_before": rss_before, "rss_max": max(sampler.max, rss_before),
        "rss_delta": max(sampler.max, rss_before) - rss_before, "rss_samples": len(sampler.samples),
        "other_cores": other / out["wall_s"] if out["wall_s"] else 0.0,
    })
    return out


def upload(target: Target, image_id: str, src: Path, size: int, digests: dict) -> dict:
    os.sync()  # no write-back left from earlier steps (Glance does not fsync its files)
    time.sleep(0.2)
    r = measured(target, lambda: put_file(target, f"/v2/images/{image_id}/file", src, size))
    if r["status"] != 204:
        raise RuntimeError(f"{target.name}: upload answered {r['status']} ({r['error']}): {r['body']}")
    t0 = time.perf_counter()
    os.sync()
    r["sync_after_s"] = time.perf_counter() - t0  # data the server left unwritten
    time.sleep(max(0.0, 1.0 - r["sync_after_s"]))
    r["rss_after_1s"] = target.server.rss_bytes()
    image = target.call("GET", f"/v2/images/{image_id}")
    r["checked"] = (image["status"] == "active" and image["size"] == size and image["checksum"] == digests["md5"]
                    and image.get("os_hash_value") == digests["sha512"])
    if not r["checked"]:
        raise RuntimeError(f"{target.name}: uploaded image does not match: {json.dumps(image)[:400]}")
    r["mbps"] = size / r["wall_s"] / MB
    r.pop("body", None)
    return r


def download(target: Target, image_id: str, size: int) -> dict:
    stored = target.store_dir / image_id
    if stored.exists():
        read_through(stored)  # both servers' files page-cached: this measures the server, not the disk
    r = measured(target, lambda: get_file(target, f"/v2/images/{image_id}/file"))
    if r["status"] != 200 or r["bytes"] != size:
        raise RuntimeError(f"{target.name}: download answered {r['status']} with {r['bytes']} bytes")
    r["mbps"] = size / r["wall_s"] / MB
    r["cache_warmed"] = stored.exists()
    return r

