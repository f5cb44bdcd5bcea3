"""Image benchmark: overcast against the real Glance, side by side, in one run.

    .venv/bin/python bench/image.py [--no-glance] [--quick] [--size-mib 256] [--profile]

Starts overcast (fresh temp data dir) and Glance 33.x (uWSGI, 2 processes, SQLite, file
store, no auth; its venv is installed once in /tmp/perf-anchors by the anchors' script, and
each run gets a fresh database and store in a temp dir) on free loopback ports. Measures
the physical bound of this machine (copying the image file with fsync, hashing it with md5
+ sha512 in Python), then, interleaved between the servers: image upload (a sized PUT
streamed from the file with sendfile), download (streamed, discarded), and listing 1000
images (one request with limit=1000, and paging at the default page size). Reports MB/s
(10^6 bytes/s), server CPU and RSS from /proc (process tree), client CPU, and checks
overcast's targets. Prints a table and writes bench/results/image-<time>.json (and
image-latest.json).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client as httpclient
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import identity  # noqa: E402  (shared report helpers: environment, revision, py-spy frame names)
import loadgen  # noqa: E402
import procs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ANCHORS = identity.ANCHORS
HOST = "127.0.0.1"
CORES = os.cpu_count() or 1
MB = 1e6  # MB/s and RSS in MB are 10^6 bytes
MIB = 1 << 20
CHUNK = 1 << 20  # client read size for downloads, and the bound's copy/hash buffer


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# the two servers ---------------------------------------------------------------------------


class Target:
    """One image service under test: its process, URL prefix, auth headers and where it stores files."""

    def __init__(self, name: str, server: procs.Server, prefix: str, store_dir: Path):
        self.name, self.server, self.prefix, self.store_dir = name, server, prefix, store_dir
        self.headers: dict[str, str] = {}
        self.conn: httpclient.HTTPConnection | None = None  # kept alive for API calls (reconnects itself)

    @property
    def port(self) -> int:
        return self.server.port

    def _conn(self) -> httpclient.HTTPConnection:
        if self.conn is None:
            self.conn = httpclient.HTTPConnection(HOST, self.port, timeout=120)
        return self.conn

    def raw_call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, headers, body bytes) over the kept-alive connection; retried once on a closed one."""
        hdrs = {"Accept": "application/json", **self.headers, **(headers or {})}
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request(method, self.prefix + path, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
            except (httpclient.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                if attempt == 2:
                    raise
                continue
            if resp.will_close:
                conn.close()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, body=None, expect: tuple[int, ...] = (200,)):
        raw = json.dumps(body).encode() if body is not None else None
        status, hdrs, data = self.raw_call(method, path, raw, {"Content-Type": "application/json"} if raw else None)
        if status not in expect:
            raise RuntimeError(f"{self.name}: {method} {path} answered {status}: {data[:300]!r}")
        return json.loads(data) if data[:1] in (b"{", b"[") else None

    def create_image(self, name: str) -> str:
        body = self.call("POST", "/v2/images", {"name": name, "disk_format": "raw", "container_format": "bare"},
                         expect=(201,))
        return body["id"]

    def delete_image(self, image_id: str) -> None:
        self.call("DELETE", f"/v2/images/{image_id}", expect=(204,))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def overcast_token(port: int, password: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    status, hdrs, data = procs.request("POST", HOST, port, "/identity/v3/auth/tokens",
                                       {"Content-Type": "application/json"}, json.dumps(body).encode())
    if status != 201:
        raise RuntimeError(f"overcast: admin token failed: {status} {data[:300]!r}")
    return hdrs["x-subject-token"]


def read_passwords(path: Path) -> dict[str, str]:
    """passwords.yaml is flat 'user: password' lines."""
    out = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "#")):
            out[key.strip()] = value.strip().strip("'\"")
    return out


def start_overcast(args, work: Path, logs: Path) -> tuple[Target, dict]:
    data_dir = work / "overcast"
    port = procs.free_port()
    exe = Path(sys.executable).parent / "overcast"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "overcast"]
    cmd += ["up", "--data-dir", str(data_dir), "--port", str(port)]
    if args.overcast_log_level:
        cmd += ["--log-level", args.overcast_log_level]
    env = identity.clean_env()
    # the default allows 1000 images per project: the list needs --images of them plus the uploads
    env["OVERCAST_IMAGE_MAX_IMAGES_PER_PROJECT"] = "-1"
    server = procs.Server("overcast", cmd, port, "/image/versions", logs / "overcast.log", env=env, cwd=str(work))
    server.start()
    ready = server.wait_ready()
    log(f"overcast ready after {ready:.3f}s on port {port} (data in {data_dir})")
    target = Target("overcast", server, "/image", data_dir / "images")
    password = read_passwords(data_dir / "passwords.yaml")["admin"]
    target.headers = {"X-Auth-Token": overcast_token(port, password)}
    return target, {"ready_s": ready, "data_dir": str(data_dir), "port": port}


def ensure_glance_venv(anchors_dir: Path) -> None:
    if (anchors_dir / "gl" / "bin" / "glance-manage").exists() and (anchors_dir / "gl" / "bin" / "uwsgi").exists():
        return
    script = ANCHORS / "glance_setup.sh"
    log(f"installing Glance into {anchors_dir} with {script} (a few minutes the first time) ...")
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "logs" / "glance-setup.log", "ab") as out:
        subprocess.run(["bash", str(script), str(anchors_dir)], check=True, stdout=out, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL)


def start_glance(args, work: Path, logs: Path) -> tuple[Target, dict]:
    """A fresh Glance (new SQLite database and file store) in ``work``/glance-run, sharing the anchors' venv."""
    anchors_dir = Path(args.glance_dir)
    ensure_glance_venv(anchors_dir)
    gdir = work / "glance-run"
    gdir.mkdir()
    (gdir / "gl").symlink_to(anchors_dir / "gl")  # glance_setup.sh skips the install when the venv is there
    t0 = time.perf_counter()
    with open(logs / "glance-setup.log", "ab") as out:
        subprocess.run(["bash", str(ANCHORS / "glance_setup.sh"), str(gdir)], check=True, stdout=out,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=identity.clean_env())
    setup = time.perf_counter() - t0
    port = procs.free_port()
    cmd = ["bash", str(ANCHORS / "glance_start.sh"), str(gdir), str(port), "exec"]
    server = procs.Server("glance", cmd, port, "/v2/images", logs / "glance-uwsgi.log", env=identity.clean_env())
    server.start()
    ready = server.wait_ready()
    log(f"glance ready after {ready:.3f}s on port {port} (fresh database and store in {gdir}, set up in {setup:.1f}s)")
    return Target("glance", server, "", gdir / "glance" / "images"), {"ready_s": ready, "setup_s": setup,
                                                                       "dir": str(gdir), "port": port}


# the physical bound ---------------------------------------------------------------------


def make_source(path: Path, size: int) -> None:
    """``size`` random bytes, fsynced (so later timings do not pay for its write-back)."""
    with open(path, "wb", buffering=0) as f:
        left = size
        while left:
            n = min(left, 8 * MIB)
            f.write(os.urandom(n))
            left -= n
        os.fsync(f.fileno())


def read_through(path: Path) -> None:
    """Read a file once (into the page cache), discarding the bytes."""
    buf = bytearray(CHUNK)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buf):
            pass


def _python_copy(src: Path, dst: Path, block: int) -> None:
    buf = bytearray(block)
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as fin, open(dst, "wb", buffering=0) as fout:
        while True:
            n = fin.readinto(buf)
            if not n:
                break
            fout.write(view[:n])
        os.fsync(fout.fileno())


#: how the bound copies the file: dd at two block sizes, and a Python read/write loop; the bound
#: takes the fastest (the block size can change the kernel's cost of filling the page cache).
COPIES = {
    "dd bs=1M": lambda src, dst: subprocess.run(["dd", f"if={src}", f"of={dst}", "bs=1M", "conv=fsync"], check=True,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    "dd bs=128K": lambda src, dst: subprocess.run(["dd", f"if={src}", f"of={dst}", "bs=128K", "conv=fsync"],
                                                  check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    "Python 128K": lambda src, dst: _python_copy(src, dst, 128 << 10),
}


def measure_copy(src: Path, size: int, reps: int) -> dict:
    """Copy ``src`` to a new file and fsync it, each way of COPIES ``reps`` times, interleaved.

    Every copy goes to a new file, kept until all are done, as a store keeps its images (a
    copy over a just-deleted file reuses the memory just freed, which can be much cheaper).
    Wall seconds and CPU seconds (user + system, including dd's) per way, medians.
    """
    walls: dict[str, list[float]] = {k: [] for k in COPIES}
    cpus: dict[str, list[float]] = {k: [] for k in COPIES}
    made = []
    try:
        for rep in range(reps):
            for index, (kind, copy) in enumerate(COPIES.items()):
                dst = src.with_name(f"copy-{index}-{rep}")
                made.append(dst)
                os.sync()
                c0 = _rusage_cpu()
                t0 = time.perf_counter()
                copy(src, dst)
                walls[kind].append(time.perf_counter() - t0)
                cpus[kind].append(_rusage_cpu() - c0)
    finally:
        for dst in made:
            dst.unlink(missing_ok=True)
    ways = {kind: {"s": statistics.median(walls[kind]), "mbps": size / statistics.median(walls[kind]) / MB,
                   "runs_s": walls[kind], "cpu_s": statistics.median(cpus[kind])} for kind in COPIES}
    best = max(ways, key=lambda k: ways[k]["mbps"])
    return {"ways": ways, "best": best, "mbps": ways[best]["mbps"], "cpu_s": ways[best]["cpu_s"]}


def _rusage_cpu() -> float:
    """User + system CPU seconds of this process (main thread's work) and its finished children."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure_hashing(src: Path, size: int, reps: int) -> dict:
    """md5 + sha512 over the file's bytes (in memory, 1 MiB updates), one thread and two threads."""
    data = src.read_bytes()
    view = memoryview(data)
    slices = [view[i:i + CHUNK] for i in range(0, len(data), CHUNK)]

    def one(algos):
        hs = [hashlib.new(a) for a in algos]
        for s in slices:
            for h in hs:
                h.update(s)
        return [h.hexdigest() for h in hs]

    single, single_cpu, md5_only, sha_only, parallel = [], [], [], [], []
    digests = {}
    for _ in range(reps):
        c0, t0 = time.thread_time(), time.perf_counter()
        digests["md5"], digests["sha512"] = one(("md5", "sha512"))
        single.append(time.perf_counter() - t0)
        single_cpu.append(time.thread_time() - c0)
        t0 = time.perf_counter()
        one(("md5",))
        md5_only.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        one(("sha512",))
        sha_only.append(time.perf_counter() - t0)
        threads = [threading.Thread(target=one, args=((a,),)) for a in ("md5", "sha512")]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        parallel.append(time.perf_counter() - t0)
    med = statistics.median
    return {"single_s": med(single), "single_mbps": size / med(single) / MB, "single_runs_s": single,
            "single_cpu_s": med(single_cpu),
            "md5_mbps": size / med(md5_only) / MB, "sha512_mbps": size / med(sha_only) / MB,
            "parallel_s": med(parallel), "parallel_mbps": size / med(parallel) / MB, "parallel_runs_s": parallel,
            "md5": digests["md5"], "sha512": digests["sha512"]}


# data transfer -------------------------------------------------------------------------------


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


# listing ---------------------------------------------------------------------------------------


def create_images(target: Target, count: int, concurrency: int) -> dict:
    raws = []
    headers = {"Content-Type": "application/json", **target.headers}
    for i in range(count):
        body = json.dumps({"name": f"bench-list-{i:05d}", "disk_format": "raw", "container_format": "bare",
                           "tags": ["bench"], "bench_index": str(i)}).encode()
        raws.append(loadgen.build_request("POST", HOST, target.port, target.prefix + "/v2/images", headers, body))
    cpu0 = target.server.cpu_seconds()
    result = loadgen.run_each(HOST, target.port, raws, concurrency, expect=201)
    cpu = target.server.cpu_seconds() - cpu0
    # Glance on SQLite answers some concurrent writes with 500 (database is locked): make up the
    # difference one at a time, so both servers list exactly ``count`` images; the failures are reported
    made = sum(len(page) for page in _pages(target))
    extra = 0
    while made < count:
        target.create_image(f"bench-list-retry-{extra:05d}")
        made, extra = made + 1, extra + 1
    if made > count:  # a failed create that still left a row behind
        for page in _pages(target):
            for image in page[: made - count]:
                target.delete_image(image["id"])
                made -= 1
            if made == count:
                break
    return {"count": count, "concurrency": concurrency, "elapsed_s": result.elapsed, "per_s": count / result.elapsed,
            "server_cpu_ms_each": cpu / count * 1000, "p50_ms": loadgen.percentile(result.latencies, 50) * 1000,
            "client_cpu_s": result.client_cpu, "connects": result.connects, "failed": result.errors,
            "statuses": result.statuses, "made_up_one_by_one": extra}


def _pages(target: Target):
    """All images, 1000 at a time."""
    path = "/v2/images?limit=1000"
    while path:
        body = target.call("GET", path)
        yield body["images"]
        path = body.get("next")


def list_once(target: Target, limit: int | None) -> dict:
    """One listing: a single request with ``limit``, or (None) default-size pages following ``next``."""
    t0 = time.perf_counter()
    bodies, path = [], "/v2/images" + (f"?limit={limit}" if limit else "")
    while path:
        status, _, data = target.raw_call("GET", path)
        if status != 200:
            raise RuntimeError(f"{target.name}: GET {path} answered {status}: {data[:300]!r}")
        bodies.append(data)
        if limit:
            break
        nxt = json.loads(data).get("next")  # part of the paging a client does, so inside the timing
        path = nxt
    wall = time.perf_counter() - t0
    images = sum(len(json.loads(b)["images"]) for b in bodies)
    return {"wall_s": wall, "requests": len(bodies), "images": images, "bytes": sum(len(b) for b in bodies)}


def measure_listing(targets: list[Target], count: int, reps: int) -> dict:
    out = {t.name: {"single": [], "paged": []} for t in targets}
    cpu = {t.name: {"single": 0.0, "paged": 0.0} for t in targets}
    for t in targets:  # warm-up
        list_once(t, count)
        list_once(t, None)
    for rep in range(reps):
        order = targets if rep % 2 == 0 else targets[::-1]
        for t in order:
            for kind, limit in (("single", count), ("paged", None)):
                c0 = t.server.cpu_seconds()
                r = list_once(t, limit)
                cpu[t.name][kind] += t.server.cpu_seconds() - c0
                if r["images"] < count:
                    raise RuntimeError(f"{t.name}: listing found {r['images']} images, expected {count}")
                out[t.name][kind].append(r)
    summary = {}
    for t in targets:
        summary[t.name] = {}
        for kind, runs in out[t.name].items():
            summary[t.name][kind] = {
                "median_ms": statistics.median(r["wall_s"] for r in runs) * 1000,
                "runs_ms": [round(r["wall_s"] * 1000, 2) for r in runs],
                "requests": runs[0]["requests"], "images": runs[0]["images"], "bytes": runs[0]["bytes"],
                "server_cpu_ms": cpu[t.name][kind] / len(runs) * 1000,
            }
    return summary


# profile -----------------------------------------------------------------------------------------


#: what the time of a Python frame that calls straight into C is (py-spy counts C time to its caller)
C_LEAVES = {
    "asyncio/runners.py:Runner.run": "inside uvloop (C): socket reads/writes, the loop, callbacks",
    "concurrent/futures/thread.py:_WorkItem.run": "a C function run directly by a worker thread (upload: md5.update)",
    "overcast/image/upload.py:receive.<locals>.hash_and_write": "sha512.update (C, GIL released)",
    "overcast/image/drivers/file.py:_FileWriter.write": "write(2) into the temp file",
    "overcast/image/drivers/file.py:_FileChunks.__next__": "read(2) from the image file",
    "uvicorn/protocols/http/httptools_impl.py:RequestResponseCycle.send": "transport.write: send(2) on the socket",
    "concurrent/futures/thread.py:ThreadPoolExecutor.submit": "handing work to a thread: queue, lock, wake-up",
    "anyio/_backends/_asyncio.py:WorkerThread.run": "anyio worker thread: waiting for/handing back results",
    "sqlalchemy/engine/cursor.py:CursorFetchStrategy.fetchall": "sqlite3 fetchall (C): reading the rows",
    "sqlalchemy/engine/default.py:DefaultDialect.do_execute": "sqlite3 execute (C): running the query",
    "json/encoder.py:JSONEncoder.iterencode": "json C encoder",
}


def profile(pyspy: str, target: Target, label: str, work, out: Path) -> dict:
    """py-spy ``target`` while ``work()`` runs; shares of busy thread samples by function and package.

    Non-blocking sampling (the server is not paused), Python frames only: time in C is
    counted to the Python function that called it (see C_LEAVES).
    """
    raw_file = out / f"pyspy-{label}.txt"
    spy = subprocess.Popen([pyspy, "record", "--pid", str(target.server.pid), "--rate", "250", "--format", "raw",
                            "--nolineno", "--threads", "--nonblocking", "--output", str(raw_file)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # let py-spy attach
    c0, t0 = target.server.cpu_seconds(), time.perf_counter()
    note = work()
    wall, cpu = time.perf_counter() - t0, target.server.cpu_seconds() - c0
    time.sleep(0.2)
    spy.send_signal(signal.SIGINT)
    try:
        _, err = spy.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        spy.kill()
        _, err = spy.communicate()
    if not raw_file.exists():
        return {"error": err.decode(errors="replace")[-500:]}
    self_t, incl, pkg, threads = Counter(), Counter(), Counter(), Counter()
    total = idle = 0
    for line in raw_file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        thread = frames.pop(0) if frames and frames[0].startswith("thread (") else "?"
        if not frames:
            continue
        frames = [identity._short(f) for f in frames]
        if frames[-1] in identity.IDLE_LEAVES or frames[-1].endswith(("EpollSelector.select", "_UnixSelectorEventLoop")):
            idle += n
            continue
        total += n
        self_t[frames[-1]] += n
        pkg[identity._package(frames[-1])] += n
        tname = thread.partition(": ")[2]
        threads["event loop (MainThread)" if tname == "MainThread" else
                "AnyIO workers (sync handlers, DB)" if tname.startswith("AnyIO") else
                "loop executor (run_in_executor)" if tname.startswith(("uvloop", "asyncio", "ThreadPool")) else
                tname or "?"] += n
        for f in set(frames):
            if not f.startswith(("overcast/cli.py", "overcast/__main__", "<frozen", "threading.py",
                                 "concurrent/futures/thread.py")) and ":<module>" not in f:
                incl[f] += n
    share = lambda c, k=15: [(f, round(100 * v / max(total, 1), 1)) for f, v in c.most_common(k)]  # noqa: E731
    return {"busy_samples": total, "idle_samples": idle, "file": str(raw_file), "wall_s": wall, "server_cpu_s": cpu,
            "note": note, "self": share(self_t, 20), "self_by_package": share(pkg, 12),
            "inclusive": share(incl, 25), "threads": share(threads, 4)}


def run_profiles(pyspy: str, oc: Target, src: Path, size: int, digests: dict, count: int, out: Path) -> dict:
    profiles = {}
    ids = [oc.create_image(f"bench-profile-{i}") for i in range(2)]

    def uploads():
        rs = [put_file(oc, f"/v2/images/{i}/file", src, size) for i in ids]
        return f"{len(rs)} uploads, {statistics.median(size / r['wall_s'] / MB for r in rs):.0f} MB/s while sampled"

    log("profiling overcast: upload ...")
    profiles["upload"] = profile(pyspy, oc, "upload", uploads, out)

    def downloads():
        rs = [get_file(oc, f"/v2/images/{ids[k % 2]}/file") for k in range(6)]
        return f"{len(rs)} downloads, {statistics.median(size / r['wall_s'] / MB for r in rs):.0f} MB/s while sampled"

    log("profiling overcast: download ...")
    profiles["download"] = profile(pyspy, oc, "download", downloads, out)
    for i in ids:
        oc.delete_image(i)

    def lists(limit):
        def work():
            t_end, n, walls = time.perf_counter() + 3.0, 0, []
            while time.perf_counter() < t_end:
                walls.append(list_once(oc, limit)["wall_s"])
                n += 1
            return f"{n} listings, median {statistics.median(walls) * 1000:.1f} ms while sampled"
        return work

    log("profiling overcast: list (one request) ...")
    profiles["list"] = profile(pyspy, oc, "list", lists(count), out)
    log("profiling overcast: list (paged) ...")
    profiles["list_paged"] = profile(pyspy, oc, "list_paged", lists(None), out)
    return profiles


# report ------------------------------------------------------------------------------------------


fmt = identity.fmt


def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs) if runs else float("nan")


def print_report(report: dict) -> None:
    names = report["servers"]
    two = len(names) == 2
    cfg = report["config"]
    size = cfg["size_bytes"]
    print()
    print("image benchmark: " + ("overcast vs Glance 33.x (uWSGI 2 processes x 1 thread, SQLite, file store, no auth)"
                                 if two else "overcast only (--no-glance)"))
    m = report["machine"]
    print(f"machine: {m['cores']} cores, {m['cpu']}; Python {m['python']}; work dir {cfg['work_dir']} "
          f"({m['filesystem']}); overcast revision {report['overcast_revision']}")
    print(f"image: {cfg['size_mib']} MiB of random bytes (raw/bare); {cfg['reps']} uploads and downloads per server, "
          f"interleaved; listing {cfg['images']} images, median of {cfg['list_reps']}; MB = 10^6 bytes")
    print()
    b = report["bound"]
    cp, h = b["copy"], b["hash"]
    print(f"physical bound ({cfg['size_mib']} MiB, source file in the page cache, target on the stores' filesystem; "
          f"medians of {cfg['bound_reps']}):")
    runs = lambda xs: " ".join(f"{size / x / MB:.0f}" for x in xs)  # noqa: E731
    print("  copy to a new file + fsync:  " + ";  ".join(
        f"{k} {v['mbps']:.1f} MB/s (runs {runs(v['runs_s'])}; {v['cpu_s']:.2f} CPU-s)" for k, v in cp["ways"].items())
        + f"  -> cp {cp['mbps']:.1f} MB/s")
    print(f"  hashing in Python: md5 + sha512 in one thread {h['single_mbps']:7.1f} MB/s ({h['single_cpu_s']:.2f} CPU-s; "
          f"md5 alone {h['md5_mbps']:.1f}, sha512 alone {h['sha512_mbps']:.1f});  md5 || sha512 in two threads "
          f"{h['parallel_mbps']:.1f} MB/s")
    print(f"  bound = slower of cp and one-thread hashing = {b['mbps']:.1f} MB/s ({b['limited_by']})")
    need = h["single_cpu_s"] + cp["cpu_s"]
    print(f"  (CPU an upload cannot avoid: hashing + copying into the page cache = {need:.2f} CPU-s, so with "
          f"{CORES} cores even a perfectly parallel server tops out near {size / (need / CORES) / MB:.0f} MB/s "
          f"before receiving from the socket)")
    print()
    w = 22
    head = f"{'':<34}|" + "".join(f"{n:>{w}}" for n in names) + (f"{'overcast / glance':>20}" if two else "")
    print(head)
    print("-" * len(head))

    def row(label, values, ratio=None, spec=".1f", suffix=""):
        line = f"{label:<34}|" + "".join(f"{fmt(v, spec) + suffix:>{w}}" for v in values)
        if two and ratio is not None:
            line += f"{fmt(ratio, '.2f') + 'x':>20}"
        print(line)

    up = {n: report["uploads"][n] for n in names}
    down = {n: report["downloads"][n] for n in names}

    def ratio(a, b, inverse=False):
        if not two or not a or not b or a != a or b != b:
            return None
        return b / a if inverse else a / b

    def both(d, key, scale=1.0):
        return [med(d[n], key) * scale for n in names]

    v = both(up, "mbps")
    row("upload MB/s (median)", v, ratio(*v) if two else None)
    print(f"{'  runs':<34}|" + "".join(f"{' '.join(fmt(r['mbps'], '.0f') for r in up[n]):>{w}}" for n in names))
    row("  % of bound", [x / b["mbps"] * 100 for x in v], spec=".0f", suffix="%")
    v = both(up, "server_cpu_s")
    row("  server CPU s / upload", v, ratio(*v, inverse=True) if two else None, spec=".2f")
    print(f"{'    of which user / sys':<34}|" + "".join(
        f"{fmt(med(up[n], 'server_user_s'), '.2f') + ' / ' + fmt(med(up[n], 'server_sys_s'), '.2f'):>{w}}"
        for n in names))
    row("  busiest server thread, CPU s", both(up, "busiest_thread_s"), spec=".2f")
    row("  server cores busy", [med(up[n], "server_cpu_s") / med(up[n], "wall_s") for n in names], spec=".2f")
    row("  client CPU s / upload (sendfile)", both(up, "client_cpu_s"), spec=".3f")
    row("  server RSS max - before, MB", [max(r["rss_delta"] for r in up[n]) / MB for n in names], spec=".1f")
    row("  server RSS before, MB", [up[n][0]["rss_before"] / MB for n in names], spec=".1f")
    row("  os.sync() right after upload, s", both(up, "sync_after_s"), spec=".3f")
    row("  other processes, cores", [max(r["other_cores"] for r in up[n]) for n in names], spec=".2f")
    v = both(down, "mbps")
    row("download MB/s (median)", v, ratio(*v) if two else None)
    print(f"{'  runs':<34}|" + "".join(f"{' '.join(fmt(r['mbps'], '.0f') for r in down[n]):>{w}}" for n in names))
    v = both(down, "server_cpu_s")
    row("  server CPU s / download", v, ratio(*v, inverse=True) if two else None, spec=".2f")
    row("  busiest server thread, CPU s", both(down, "busiest_thread_s"), spec=".2f")
    row("  client CPU s / download", both(down, "client_cpu_s"), spec=".3f")
    row("  server RSS max - before, MB", [max(r["rss_delta"] for r in down[n]) / MB for n in names], spec=".1f")
    row("  first byte, ms", both(down, "first_byte_s", 1000), spec=".1f")
    cr = report["create"]
    v = [cr[n]["per_s"] for n in names]
    row(f"create {cfg['images']} images, per s (c={cr[names[0]]['concurrency']})", v, ratio(*v) if two else None)
    row("  server CPU ms / create", [cr[n]["server_cpu_ms_each"] for n in names], spec=".2f")
    failed = [", ".join(f"{v} x {k}" for k, v in cr[n]["statuses"].items() if str(k) != "201") or "0" for n in names]
    print(f"{'  failed, made up one at a time':<34}|" + "".join(f"{f:>{w}}" for f in failed))
    ls = report["listing"]
    for kind, label in (("single", f"list limit={cfg['images']}, ms"), ("paged", "list, default pages, ms")):
        v = [ls[n][kind]["median_ms"] for n in names]
        row(label, v, ratio(*v, inverse=True) if two else None)
        if kind == "paged":
            print(f"{'  requests':<34}|" + "".join(f"{ls[n][kind]['requests']:>{w}}" for n in names))
        print(f"{'  runs ms':<34}|" + "".join(
            f"{' '.join(fmt(x, '.0f') for x in ls[n][kind]['runs_ms']):>{w}}" for n in names))
        row("  server CPU ms / listing", [ls[n][kind]["server_cpu_ms"] for n in names], spec=".1f")
        row("  response bytes (all pages)", [ls[n][kind]["bytes"] for n in names], spec=".0f")
    row("idle RSS after warm-up, MB", [report["idle"][n]["rss_bytes"] / MB for n in names])
    print("(ratios: MB/s and images/s overcast / glance; CPU and times glance / overcast, so > 1 favours overcast)")
    cl = report["client"]
    print(f"client: sized PUT streamed with sendfile, GET read into a reused 1 MiB buffer; at most "
          f"{100 * cl['max_core_share']:.0f}% of one core in any transfer: {cl['verdict']}")
    print(f"noise: other processes used up to {cl['other_cores_max']:.2f} of {CORES} cores during a transfer; "
          f"CPU pressure at start: {m['cpu_pressure']}")
    print("note: server sys CPU is mostly the kernel receiving the data and copying it into the page cache "
          "(write(2)); on a VM whose host takes back free guest memory that copy costs 0.05-0.9 CPU-s per 256 MiB "
          "depending on the memory state (it tends to grow through a run, for both servers; compare the copy runs "
          "of the bound), so compare user CPU too")
    if two:
        print("note: Glance's file store does not fsync (its data is in the page cache when it answers: see the "
              "os.sync() line); overcast fsyncs the file and its directory before it answers 204")
    print()
    print("targets:")
    for t in report["targets"]:
        status = "n/a " if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
        print(f"  [{status}] {t['name']:<44} {t['detail']}")
    print()
    for label, prof in report.get("profiles", {}).items():
        if "error" in prof:
            print(f"py-spy, overcast, {label}: error: {prof['error']}")
            continue
        print(f"py-spy, overcast, {label}: {prof['note']}; {prof['busy_samples']} busy thread samples "
              f"({prof['idle_samples']} waiting dropped), server CPU {prof['server_cpu_s']:.2f}s in "
              f"{prof['wall_s']:.2f}s; % of busy samples; raw stacks in {prof['file']}")
        print("  by thread:  " + ",  ".join(f"{p} {s:.1f}%" for p, s in prof["threads"]))
        print("  self time by package:  " + ",  ".join(f"{p} {s:.1f}%" for p, s in prof["self_by_package"][:9]))
        print("  self time, top functions:")
        for f, s in prof["self"][:12]:
            print(f"    {s:5.1f}%  {f}" + (f"  [{C_LEAVES[f]}]" if f in C_LEAVES else ""))
        print("  inclusive time:")
        for f, s in prof["inclusive"][:16]:
            print(f"    {s:5.1f}%  {f}")
        print()


def targets(report: dict) -> list[dict]:
    names = report["servers"]
    two = "glance" in names
    out = []
    oc_up = med(report["uploads"]["overcast"], "mbps")
    if two:
        gl_up = med(report["uploads"]["glance"], "mbps")
        r = oc_up / gl_up
        out.append({"name": "upload >= 1.5x Glance", "pass": r >= 1.5, "value": r,
                    "detail": f"{oc_up:.1f} / {gl_up:.1f} MB/s = {r:.2f}x"})
    else:
        out.append({"name": "upload >= 1.5x Glance", "pass": None, "value": None,
                    "detail": f"{oc_up:.1f} MB/s (no Glance run)"})
    bound = report["bound"]["mbps"]
    out.append({"name": "upload >= 70% of the bound", "pass": oc_up >= 0.7 * bound, "value": oc_up / bound,
                "detail": f"{oc_up:.1f} MB/s = {100 * oc_up / bound:.0f}% of {bound:.1f} MB/s"})
    worst = max(r["rss_delta"] for r in report["uploads"]["overcast"])
    out.append({"name": "overcast RSS flat within 30 MB during upload", "pass": worst <= 30 * MB, "value": worst,
                "detail": f"max - before = {worst / MB:.1f} MB at worst over {len(report['uploads']['overcast'])} "
                          f"uploads (sampled every 50 ms)"})
    for kind, label in (("single", "list 1000 images >= 5x faster than Glance"),
                        ("paged", "  the same, paging at the default size")):
        oc = report["listing"]["overcast"][kind]["median_ms"]
        if two:
            gl = report["listing"]["glance"][kind]["median_ms"]
            r = gl / oc
            out.append({"name": label, "pass": r >= 5, "value": r,
                        "detail": f"{oc:.1f} ms vs {gl:.1f} ms = {r:.2f}x"})
        else:
            out.append({"name": label, "pass": None, "value": None, "detail": f"{oc:.1f} ms (no Glance run)"})
    return out


# main ----------------------------------------------------------------------------------------


def _filesystem(path: Path) -> str:
    """'<fstype> on <mount point>' for ``path``, from /proc/self/mounts (longest matching mount point)."""
    best = ("?", "?")
    try:
        for line in Path("/proc/self/mounts").read_text().splitlines():
            dev, mnt, fstype = line.split()[:3]
            if (str(path) + "/").startswith(mnt.rstrip("/") + "/") and len(mnt) >= len(best[1]):
                best = (f"{fstype} {dev}", mnt)
    except OSError:
        pass
    return f"{best[0]} on {best[1]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--glance", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the real Glance (default: yes)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 32 MiB image, 1 transfer each, 200 images, median of 3")
    parser.add_argument("--size-mib", type=int, default=None, help="image size in MiB (default 256, --quick 32)")
    parser.add_argument("--reps", type=int, default=None, help="uploads and downloads per server (default 3, --quick 1)")
    parser.add_argument("--images", type=int, default=None, help="images to list (default 1000, --quick 200)")
    parser.add_argument("--list-reps", type=int, default=None, help="timed listings per kind (default 5, --quick 3)")
    parser.add_argument("--create-concurrency", type=int, default=8, help="parallel image creations (default 8)")
    parser.add_argument("--glance-dir", default="/tmp/perf-anchors",
                        help="anchors work dir holding Glance's venv (default /tmp/perf-anchors)")
    parser.add_argument("--work-dir", default=None,
                        help="where the temp dir (image file, overcast data, Glance store) goes (default: $TMPDIR)")
    parser.add_argument("--overcast-log-level", default=None, help="passed to overcast up --log-level")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, py-spy overcast during extra uploads, downloads and listings")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args(argv)
    size_mib = args.size_mib or (32 if args.quick else 256)
    size = size_mib * MIB
    reps = args.reps or (1 if args.quick else 3)
    count = args.images or (200 if args.quick else 1000)
    list_reps = args.list_reps or (3 if args.quick else 5)
    bound_reps = 1 if args.quick else 3
    if count > 1000:
        parser.error("--images: Glance and overcast return at most 1000 images per request")

    stamp = time.strftime("%Y%m%d-%H%M%S")
    began = time.perf_counter()
    out_dir = RESULTS / f"image-{stamp}"
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="overcast-image-bench-", dir=args.work_dir))
    report: dict = {
        "benchmark": "image", "time": stamp,
        "machine": {"cores": CORES, "cpu": identity._cpu_model(), "python": platform.python_version(),
                    "kernel": platform.release(), "cpu_pressure": identity._pressure(),
                    "filesystem": _filesystem(work)},
        "overcast_revision": identity._revision(),
        "config": {"size_mib": size_mib, "size_bytes": size, "reps": reps, "images": count, "list_reps": list_reps,
                   "bound_reps": bound_reps, "work_dir": str(work),
                   "overcast_log_level": args.overcast_log_level or "default"},
        "servers_info": {}, "idle": {}, "uploads": {}, "downloads": {},
    }
    targets_list: list[Target] = []
    try:
        src = work / "image.raw"
        log(f"writing {size_mib} MiB of random bytes to {src} ...")
        make_source(src, size)
        log("measuring the bound: copy with fsync, md5 + sha512 ...")
        copy = measure_copy(src, size, bound_reps)
        hashing = measure_hashing(src, size, bound_reps)
        digests = {"md5": hashing["md5"], "sha512": hashing["sha512"]}
        bound = min(copy["mbps"], hashing["single_mbps"])
        report["bound"] = {"copy": copy, "hash": hashing, "mbps": bound,
                           "limited_by": "hashing" if hashing["single_mbps"] < copy["mbps"] else "copy"}
        read_through(src)  # the uploads' source stays page-cached

        oc, info = start_overcast(args, work, logs)
        targets_list.append(oc)
        report["servers_info"]["overcast"] = info
        if args.glance:
            gl, info = start_glance(args, work, logs)
            targets_list.append(gl)
            report["servers_info"]["glance"] = info
        report["servers"] = [t.name for t in targets_list]

        log("warm-up: a 4 MiB upload and download on each ...")
        small = work / "warmup.raw"
        make_source(small, 4 * MIB)
        for t in targets_list:
            image_id = t.create_image("bench-warmup")
            r = put_file(t, f"/v2/images/{image_id}/file", small, 4 * MIB)
            if r["status"] != 204:
                raise RuntimeError(f"{t.name}: warm-up upload answered {r['status']}: {r['body']}")
            get_file(t, f"/v2/images/{image_id}/file")
            t.delete_image(image_id)
            list_once(t, None)
        small.unlink()
        for t in targets_list:
            time.sleep(0.5)
            report["idle"][t.name] = {"rss_bytes": t.server.rss_bytes(),
                                      "processes": len(procs.process_tree(t.server.pid))}

        images = {t.name: [] for t in targets_list}
        for rep in range(reps):
            order = targets_list if rep % 2 == 0 else targets_list[::-1]
            for t in order:
                image_id = t.create_image(f"bench-upload-{rep}")
                r = upload(t, image_id, src, size, digests)
                images[t.name].append(image_id)
                report["uploads"].setdefault(t.name, []).append(r)
                log(f"  upload   {t.name:<9} {r['mbps']:7.1f} MB/s  server CPU {r['server_cpu_s']:.2f}s "
                    f"(user {r['server_user_s']:.2f} sys {r['server_sys_s']:.2f}, busiest thread "
                    f"{r['busiest_thread_s']:.2f})  "
                    f"client CPU {r['client_cpu_s']:.3f}s  RSS +{r['rss_delta'] / MB:.1f} MB  "
                    f"sync after {r['sync_after_s']:.3f}s  others {r['other_cores']:.2f} cores")
        for rep in range(reps):
            order = targets_list if rep % 2 == 0 else targets_list[::-1]
            for t in order:
                r = download(t, images[t.name][rep], size)
                report["downloads"].setdefault(t.name, []).append(r)
                log(f"  download {t.name:<9} {r['mbps']:7.1f} MB/s  server CPU {r['server_cpu_s']:.2f}s  "
                    f"client CPU {r['client_cpu_s']:.3f}s  RSS +{r['rss_delta'] / MB:.1f} MB  "
                    f"others {r['other_cores']:.2f} cores")
        for t in targets_list:
            for image_id in images[t.name]:
                t.delete_image(image_id)

        report["create"] = {}
        for t in targets_list:
            log(f"creating {count} images on {t.name} ({args.create_concurrency} at a time) ...")
            report["create"][t.name] = create_images(t, count, args.create_concurrency)
            c = report["create"][t.name]
            log(f"  {c['per_s']:.0f} images/s" + (f"; {c['failed']} failed {c['statuses']}, made up one at a time"
                                                   if c["failed"] else ""))
        log(f"listing {count} images, {list_reps} times each way ...")
        report["listing"] = measure_listing(targets_list, count, list_reps)
        for t in targets_list:
            ls = report["listing"][t.name]
            log(f"  {t.name:<9} single {ls['single']['median_ms']:.1f} ms, paged {ls['paged']['median_ms']:.1f} ms "
                f"({ls['paged']['requests']} requests)")

        transfers = [r for n in report["uploads"].values() for r in n] + \
                    [r for n in report["downloads"].values() for r in n]
        worst = max(r["client_cpu_s"] / r["wall_s"] for r in transfers)
        report["client"] = {
            "max_core_share": worst,
            "other_cores_max": max(r["other_cores"] for r in transfers),
            "verdict": "not the bottleneck" if worst < 0.5 else "WARNING: the client may limit the fastest transfers",
        }
        if args.profile:
            pyspy = identity.find_pyspy()
            if pyspy is None:
                log("--profile: py-spy not found (pip install py-spy into a venv; see bench/README.md)")
                report["profiles"] = {"all": {"error": "py-spy not found"}}
            else:
                report["profiles"] = run_profiles(pyspy, oc, src, size, digests, count, out_dir)
    finally:
        for t in targets_list:
            t.close()
            t.server.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report["targets"] = targets(report)
    print_report(report)
    text = json.dumps(report, indent=2, default=str)
    (RESULTS / f"image-{stamp}.json").write_text(text)
    (RESULTS / "image-latest.json").write_text(text)
    print(f"whole run {time.perf_counter() - began:.0f}s")
    print(f"results: {RESULTS / f'image-{stamp}.json'} (logs in {logs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
