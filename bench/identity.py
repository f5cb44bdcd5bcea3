"""Identity benchmark: overcast against the real Keystone, side by side, in one run.

    .venv/bin/python bench/identity.py [--no-keystone] [--duration S] [--quick] [--profile]

Starts overcast (fresh temp data dir) and Keystone 30.x (uWSGI, 2 processes, SQLite,
fernet; set up once in /tmp/perf-anchors by the anchors' scripts) on free loopback ports,
then measures cold start, password token issue, token validation and project list at
concurrency 1 and 16 (runs interleaved between the two servers), server CPU per request
from /proc, idle RSS, and checks the results against overcast's targets. Prints a table
and writes bench/results/identity-<time>.json (and identity-latest.json).

With --profile, py-spy (if installed: PATH, .venv/bin or /tmp/perf-tools/bin) samples
overcast during one extra run per case and the hottest functions are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import procs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ANCHORS = Path(os.environ.get("OVERCAST_BENCH_ANCHORS", ROOT.parent / "shared" / "anchors"))
HOST = "127.0.0.1"
CORES = os.cpu_count() or 1

ADMIN_PASSWORD = "bench-admin-pw"  # overcast's, given on first start; Keystone's is admin/admin
BENCH_USER, BENCH_PASSWORD, BENCH_PROJECT = "bench-user", "bench-user-pw-1", "bench-project"

CASES = {
    "issue": "password token issue (POST /v3/auth/tokens, project-scoped admin)",
    "validate": "token validation (GET /v3/auth/tokens, X-Subject-Token a user token)",
    "projects": "project list (GET /v3/projects, admin token)",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# the two servers ---------------------------------------------------------------------------


class Target:
    """One identity server under test and the tokens used to drive it."""

    def __init__(self, name: str, server: procs.Server, prefix: str, admin_password: str):
        self.name, self.server, self.prefix, self.admin_password = name, server, prefix, admin_password
        self.admin_token = ""
        self.subject_token = ""
        self.requests: dict[str, tuple[bytes, int]] = {}
        self.info: dict = {}

    @property
    def port(self) -> int:
        return self.server.port

    def call(self, method: str, path: str, body=None, token: str | None = None, extra: dict | None = None):
        headers = {"Content-Type": "application/json", "Accept": "application/json", **(extra or {})}
        if token:
            headers["X-Auth-Token"] = token
        raw = json.dumps(body).encode() if body is not None else None
        status, hdrs, data = procs.request(method, HOST, self.port, self.prefix + path, headers, raw)
        return status, hdrs, (json.loads(data) if data and data[:1] in b"{[" else None)

    def password_body(self, user: str, password: str, project: str) -> dict:
        return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}

    def token(self, user: str, password: str, project: str) -> str:
        status, hdrs, body = self.call("POST", "/v3/auth/tokens", self.password_body(user, password, project))
        if status != 201:
            raise RuntimeError(f"{self.name}: token for {user} failed: {status} {body}")
        return hdrs["x-subject-token"]

    def _find(self, collection: str, name: str) -> str | None:
        status, _, body = self.call("GET", f"/v3/{collection}?name={name}", token=self.admin_token)
        if status != 200:
            raise RuntimeError(f"{self.name}: list {collection} failed: {status} {body}")
        rows = body[collection]
        return rows[0]["id"] if rows else None

    def prepare(self) -> None:
        """Admin token, a member user on its own project (made once), that user's token, the requests."""
        self.admin_token = self.token("admin", self.admin_password, "admin")
        project = self._find("projects", BENCH_PROJECT)
        if project is None:
            status, _, body = self.call("POST", "/v3/projects", {"project": {"name": BENCH_PROJECT, "domain_id": "default"}},
                                        token=self.admin_token)
            if status != 201:
                raise RuntimeError(f"{self.name}: create project: {status} {body}")
            project = body["project"]["id"]
        user = self._find("users", BENCH_USER)
        if user is None:
            status, _, body = self.call("POST", "/v3/users", {"user": {
                "name": BENCH_USER, "domain_id": "default", "password": BENCH_PASSWORD}}, token=self.admin_token)
            if status != 201:
                raise RuntimeError(f"{self.name}: create user: {status} {body}")
            user = body["user"]["id"]
        role = self._find("roles", "member")
        status, _, body = self.call("PUT", f"/v3/projects/{project}/users/{user}/roles/{role}", token=self.admin_token)
        if status not in (200, 201, 204):
            raise RuntimeError(f"{self.name}: grant member: {status} {body}")
        self.subject_token = self.token(BENCH_USER, BENCH_PASSWORD, BENCH_PROJECT)
        v3 = self.prefix + "/v3"
        issue_body = json.dumps(self.password_body("admin", self.admin_password, "admin")).encode()
        self.requests = {
            "issue": (loadgen.build_request("POST", HOST, self.port, f"{v3}/auth/tokens",
                                            {"Content-Type": "application/json"}, issue_body), 201),
            "validate": (loadgen.build_request("GET", HOST, self.port, f"{v3}/auth/tokens",
                                               {"X-Auth-Token": self.admin_token,
                                                "X-Subject-Token": self.subject_token}), 200),
            "projects": (loadgen.build_request("GET", HOST, self.port, f"{v3}/projects",
                                               {"X-Auth-Token": self.admin_token}), 200),
        }
        # sizes, so a reader can see both return comparable documents
        for case, (raw, expect) in self.requests.items():
            result = loadgen.run(HOST, self.port, raw, 1, 0.0, expect)
            if result.errors or not result.latencies:
                raise RuntimeError(f"{self.name}: {case} does not answer {expect}: {result.statuses}")
            self.info[f"{case}_body_bytes"] = result.body_bytes
        _, _, body = self.call("GET", "/v3/projects", token=self.admin_token)
        self.info["projects_listed"] = len(body["projects"])
        self.info["admin_token_bytes"] = len(self.admin_token)

    def run(self, case: str, concurrency: int, duration: float) -> dict:
        raw, expect = self.requests[case]
        busy0, cpu0 = procs.machine_busy_seconds(), self.server.cpu_seconds()
        result = loadgen.run(HOST, self.port, raw, concurrency, duration, expect)
        cpu = self.server.cpu_seconds() - cpu0
        # CPU that neither this server nor the load generator used: other processes (noise)
        other = max(0.0, procs.machine_busy_seconds() - busy0 - cpu - result.client_cpu)
        return {
            "ok": len(result.latencies), "errors": result.errors, "statuses": result.statuses,
            "elapsed": result.elapsed, "rps": result.rps, "server_cpu": cpu,
            "client_cpu": result.client_cpu, "client_core_share": result.client_core_share,
            "connects": result.connects, "latencies": result.latencies,
            "other_cores": other / result.elapsed if result.elapsed else 0.0,
        }


def overcast_cmd(data_dir: Path, port: int, log_level: str | None) -> list[str]:
    exe = Path(sys.executable).parent / "overcast"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "overcast"]
    cmd += ["up", "--data-dir", str(data_dir), "--port", str(port), "--admin-password", ADMIN_PASSWORD]
    return cmd + (["--log-level", log_level] if log_level else [])


def clean_env() -> dict:
    """This environment without OVERCAST_* / OS_* settings, so both servers run on their defaults."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("OVERCAST_", "OS_"))},
            "OVERCAST_COMPUTE_DRIVER": "fake", "OVERCAST_NETWORK_DRIVER": "fake"}


def start_overcast(args, logs: Path) -> tuple[Target, dict]:
    data_dir = Path(tempfile.mkdtemp(prefix="overcast-bench-"))
    port = procs.free_port()
    cold = {}
    for label in ("first_start", "restart"):
        server = procs.Server("overcast", overcast_cmd(data_dir, port, args.overcast_log_level), port,
                              "/identity/v3", logs / "overcast.log", env=clean_env(), cwd=str(data_dir))
        server.start()
        cold[label] = server.wait_ready()
        log(f"overcast {label.replace('_', ' ')}: first 200 on GET /identity/v3 after {cold[label]:.3f}s")
        if label == "first_start":
            server.stop()
    cold["data_dir"] = str(data_dir)
    return Target("overcast", server, "/identity", ADMIN_PASSWORD), cold


def ensure_keystone(workdir: Path) -> None:
    ready = (workdir / "ks" / "bin" / "uwsgi").exists() and (workdir / "keystone" / "keystone.db").exists() \
        and any((workdir / "keystone" / "fernet-keys").glob("*"))
    if ready:
        return
    script = ANCHORS / "keystone_setup.sh"
    log(f"setting up Keystone in {workdir} with {script} (a few minutes the first time) ...")
    with open(RESULTS / "logs" / "keystone-setup.log", "ab") as out:
        subprocess.run(["bash", str(script), str(workdir)], check=True, stdout=out, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL)


def start_keystone(args, logs: Path) -> tuple[Target, dict]:
    workdir = Path(args.keystone_dir)
    ensure_keystone(workdir)
    port = procs.free_port()
    cmd = ["bash", str(ANCHORS / "keystone_start.sh"), str(workdir), str(port), "exec"]
    server = procs.Server("keystone", cmd, port, "/v3", logs / "keystone-uwsgi.log", env=clean_env())
    server.start()
    cold = {"restart": server.wait_ready()}
    log(f"keystone start (existing database): first 200 on GET /v3 after {cold['restart']:.3f}s")
    return Target("keystone", server, "", "admin"), cold


# measurements ----------------------------------------------------------------------------


def bcrypt_check_seconds(samples: int = 5) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one bcrypt.checkpw at cost 12, medians of ``samples``.

    The bound uses the CPU time: on a shared machine the wall time also counts whatever
    else ran, while the servers' CPU per request is measured the same way (from /proc).
    """
    import bcrypt

    hashed = bcrypt.hashpw(b"correct horse battery staple", bcrypt.gensalt(12))
    cpu, wall = [], []
    for _ in range(samples):
        c0, t0 = time.thread_time(), time.perf_counter()
        assert bcrypt.checkpw(b"correct horse battery staple", hashed)
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - t0)
    return statistics.median(cpu), statistics.median(wall)


def idle_figures(target: Target, settle: float = 1.0, window: float = 2.0) -> dict:
    time.sleep(settle)
    cpu0 = target.server.cpu_seconds()
    time.sleep(window)
    cpu = target.server.cpu_seconds() - cpu0
    pids = procs.process_tree(target.server.pid)
    return {"rss_bytes": target.server.rss_bytes(), "processes": len(pids), "idle_cpu_share": cpu / window}


def summarize(runs: list[dict]) -> dict:
    lat = [x for r in runs for x in r["latencies"]]
    ok = sum(r["ok"] for r in runs)
    total = ok + sum(r["errors"] for r in runs)
    elapsed = sum(r["elapsed"] for r in runs)
    return {
        "requests": total, "ok": ok, "errors": total - ok,
        "rps": ok / elapsed if elapsed else 0.0,
        "rps_runs": [round(r["rps"], 2) for r in runs],
        "p50_ms": loadgen.percentile(lat, 50) * 1000, "p99_ms": loadgen.percentile(lat, 99) * 1000,
        "mean_ms": statistics.fmean(lat) * 1000 if lat else float("nan"),
        "cpu_ms_per_req": sum(r["server_cpu"] for r in runs) / total * 1000 if total else float("nan"),
        "server_cores": sum(r["server_cpu"] for r in runs) / elapsed if elapsed else 0.0,
        "client_core_share_max": max(r["client_core_share"] for r in runs),
        "client_cpu_us_per_req": sum(r["client_cpu"] for r in runs) / total * 1e6 if total else float("nan"),
        "connects": sum(r["connects"] for r in runs),
        "other_cores_max": max(r["other_cores"] for r in runs),
        "statuses": dict(sum((Counter(r["statuses"]) for r in runs), Counter())),
    }


def find_pyspy() -> str | None:
    for candidate in (shutil.which("py-spy"), Path(sys.executable).parent / "py-spy", "/tmp/perf-tools/bin/py-spy"):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def _short(frame: str) -> str:
    """'func (path/to/file.py)' -> 'path/to/file.py:func', overcast paths relative to the repo."""
    func, _, where = frame.rpartition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{where}:{func}"


# leaf frames of threads that are only waiting: py-spy's idle detection misses some of them here
IDLE_LEAVES = {"threading.py:Condition.wait", "threading.py:Event.wait", "threading.py:Thread._wait_for_tstate_lock",
               "selectors.py:EpollSelector.select", "concurrent/futures/thread.py:_worker", "queue.py:Queue.get",
               "queue.py:SimpleQueue.get"}


def _package(frame: str) -> str:
    where = frame.rsplit(":", 1)[0]
    if where.startswith("overcast/"):
        return "/".join(where.split("/")[:2]) if where.count("/") > 1 else where
    return where.split("/", 1)[0].removesuffix(".py")


def profile(pyspy: str, target: Target, case: str, concurrency: int, duration: float, out: Path) -> dict:
    """Sample ``target`` with py-spy while driving ``case``: where its busy threads spend their time.

    Shares are of busy samples (a sample is one thread's stack; waiting threads are dropped).
    """
    raw_file = out / f"pyspy-{case}.txt"
    spy = subprocess.Popen([pyspy, "record", "--pid", str(target.server.pid), "--duration", str(int(duration + 1)),
                            "--rate", "250", "--format", "raw", "--nolineno", "--output", str(raw_file)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)  # let py-spy attach
    run = target.run(case, concurrency, duration)
    _, err = spy.communicate(timeout=60)
    if spy.returncode != 0 or not raw_file.exists():
        return {"error": err.decode(errors="replace")[-500:]}
    self_t, incl, pkg = Counter(), Counter(), Counter()
    total = idle = 0
    for line in raw_file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";")]
        if frames[-1] in IDLE_LEAVES:
            idle += n
            continue
        total += n
        self_t[frames[-1]] += n
        pkg[_package(frames[-1])] += n
        for f in set(frames):
            if f.startswith("overcast/") and not f.startswith(("overcast/cli.py", "overcast/__main__")):
                incl[f] += n
    total = max(total, 1)
    share = lambda c, k=15: [(f, round(100 * v / total, 1)) for f, v in c.most_common(k)]  # noqa: E731
    return {"busy_samples": total, "idle_samples": idle, "file": str(raw_file), "rps_while_sampled": run["rps"],
            "self": share(self_t, 25), "self_by_package": share(pkg), "inclusive_overcast": share(incl, 25)}


# report ------------------------------------------------------------------------------------


def fmt(v, spec=".1f") -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    return format(v, spec)


def print_report(report: dict) -> None:
    names = report["servers"]
    cells = report["cells"]
    print()
    print("identity benchmark: " + ("overcast vs Keystone 30.x (uWSGI 2 processes, SQLite, fernet)"
                                    if len(names) == 2 else "overcast only (--no-keystone)"))
    m = report["machine"]
    print(f"machine: {m['cores']} cores, {m['cpu']}; Python {m['python']}; "
          f"{report['config']['duration']}s x {report['config']['reps']} interleaved runs per cell")
    note = "; PYTHONDONTWRITEBYTECODE is set (overcast's modules compile on every start: ~10-40 ms)" \
        if m["PYTHONDONTWRITEBYTECODE"] else ""
    print(f"overcast revision {report['overcast_revision']}{note}")
    print()
    head = f"{'case':<9}{'c':>3} |"
    for n in names:
        head += f" {n + ' req/s':>15}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>11}{'client %core':>13} |"
    if len(names) == 2:
        head += f" {'req/s ratio':>11}{'CPU ratio':>10}"
    print(head)
    print("-" * len(head))
    for case in CASES:
        for c in report["config"]["concurrency"]:
            row = f"{case:<9}{c:>3} |"
            cell = {n: cells[n][case][str(c)] for n in names}
            for n in names:
                s = cell[n]
                err = f" ({s['errors']} err)" if s["errors"] else ""
                row += (f" {fmt(s['rps']) + err:>15}{fmt(s['p50_ms']):>9}{fmt(s['p99_ms']):>9}"
                        f"{fmt(s['cpu_ms_per_req'], '.2f'):>11}{fmt(100 * s['client_core_share_max'], '.0f'):>13} |")
            if len(names) == 2:
                a, b = cell["overcast"], cell["keystone"]
                ratio = a["rps"] / b["rps"] if b["rps"] else float("nan")
                cpu_ratio = b["cpu_ms_per_req"] / a["cpu_ms_per_req"] if a["cpu_ms_per_req"] else float("nan")
                row += f" {fmt(ratio, '.2f') + 'x':>11}{fmt(cpu_ratio, '.2f') + 'x':>10}"
            print(row)
    print("(req/s ratio = overcast / keystone; CPU ratio = keystone CPU per request / overcast CPU per request;"
          " client %core = the load generator's own CPU, max over runs, % of one core)")
    print()
    cold = report["cold_start"]
    line = (f"cold start, process start -> first 200 on GET /v3:  overcast first start (empty data dir) "
            f"{cold['overcast']['first_start']:.3f}s, restart {cold['overcast']['restart']:.3f}s")
    if "keystone" in cold:
        line += f";  keystone {cold['keystone']['restart']:.3f}s"
    print(line)
    parts = []
    for n in names:
        i = report["idle"][n]
        parts.append(f"{n} {i['rss_bytes'] / 1e6:.1f} MB over {i['processes']} process(es), "
                     f"idle CPU {100 * i['idle_cpu_share']:.1f}% of a core")
    print("idle after warm-up (RSS = sum of VmRSS over the process tree):  " + ";  ".join(parts))
    b = report["bcrypt"]
    print(f"bcrypt.checkpw at cost 12 on this machine: {b['check_ms']:.1f} ms CPU ({b['check_wall_ms']:.1f} ms wall)"
          f" -> bound {CORES} cores / check = {b['bound_rps']:.2f} issues/s")
    for n in names:
        i = report["servers_info"][n]
        print(f"{n}: lists {i['projects_listed']} projects ({i['projects_body_bytes']} B), validation body "
              f"{i['validate_body_bytes']} B, issue body {i['issue_body_bytes']} B, admin token {i['admin_token_bytes']} chars")
    cl = report["client"]
    print(f"load generator: at most {100 * cl['max_core_share']:.0f}% of one core in any run "
          f"({cl['us_per_req_busiest']:.0f} us CPU per request in the busiest run); {cl['verdict']}")
    print(f"noise: other processes on this machine used up to {cl['other_cores_max']:.2f} cores during a run "
          f"(median {cl['other_cores_median']:.2f}) of {CORES}; CPU pressure at start: {report['machine']['cpu_pressure']}")
    print()
    print("targets (concurrency 16):")
    for t in report["targets"]:
        status = "n/a " if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
        print(f"  [{status}] {t['name']:<46} {t['detail']}")
    print()
    for case, prof in report.get("profiles", {}).items():
        if "error" in prof:
            print(f"py-spy, overcast, {case}: error: {prof['error']}")
            continue
        print(f"py-spy, overcast, {case} at c=16: {prof['busy_samples']} busy thread samples "
              f"({prof['idle_samples']} waiting ones dropped); % of busy samples; raw stacks in {prof['file']}")
        print("  self time by package:  " + ",  ".join(f"{p} {s:.1f}%" for p, s in prof["self_by_package"][:9]))
        print("  self time, top functions:")
        for f, s in prof["self"][:12]:
            print(f"    {s:5.1f}%  {f}")
        print("  inclusive time, overcast functions:")
        for f, s in prof["inclusive_overcast"][:12]:
            print(f"    {s:5.1f}%  {f}")
        print()


def targets(report: dict) -> list[dict]:
    cells, out = report["cells"], []
    have_ks = "keystone" in report["servers"]
    for case, label in (("validate", "token validation >= 10x Keystone req/s"),
                        ("projects", "project list >= 10x Keystone req/s")):
        oc = cells["overcast"][case]["16"]["rps"]
        if have_ks:
            ks = cells["keystone"][case]["16"]["rps"]
            ratio = oc / ks if ks else float("inf")
            out.append({"name": label, "pass": ratio >= 10, "value": ratio,
                        "detail": f"{oc:.1f} / {ks:.1f} req/s = {ratio:.2f}x"})
        else:
            out.append({"name": label, "pass": None, "value": None, "detail": f"{oc:.1f} req/s (no Keystone run)"})
    oc = cells["overcast"]["issue"]["16"]["rps"]
    bound = report["bcrypt"]["bound_rps"]
    cpu = cells["overcast"]["issue"]["16"]["cpu_ms_per_req"]
    cores = cells["overcast"]["issue"]["16"]["server_cores"]
    projected = CORES / (cpu / 1000) if cpu == cpu and cpu else float("nan")
    out.append({"name": "password issue >= 90% of cores / bcrypt check", "pass": oc >= 0.9 * bound,
                "value": oc / bound,
                "detail": f"{oc:.2f} req/s = {100 * oc / bound:.0f}% of {bound:.2f}/s bound (server used {cores:.2f} "
                          f"cores; at {cpu:.0f} ms CPU/issue all {CORES} cores would give {projected:.2f}/s = "
                          f"{100 * projected / bound:.0f}%)"})
    cold = report["cold_start"]["overcast"]
    worst = max(cold["first_start"], cold["restart"])
    out.append({"name": "overcast cold start <= 1 s (first start and restart)", "pass": worst <= 1.0, "value": worst,
                "detail": f"first {cold['first_start']:.3f}s, restart {cold['restart']:.3f}s"})
    rss = report["idle"]["overcast"]["rss_bytes"]
    out.append({"name": "overcast RSS idle <= 150 MB", "pass": rss <= 150e6, "value": rss,
                "detail": f"{rss / 1e6:.1f} MB"})
    return out


# main --------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keystone", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the real Keystone (default: yes)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per run (default 3, --quick 1)")
    parser.add_argument("--reps", type=int, default=None, help="runs per server and cell (default 2, --quick 1)")
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test of the benchmark")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated list (default 1,16)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    parser.add_argument("--keystone-dir", default="/tmp/perf-anchors", help="anchors work dir (default /tmp/perf-anchors)")
    parser.add_argument("--overcast-log-level", default=None, help="passed to overcast up --log-level (default: its own)")
    parser.add_argument("--profile", action="store_true", help="py-spy overcast for one extra run per case (c=16)")
    parser.add_argument("--keep", action="store_true", help="keep overcast's temp data dir")
    args = parser.parse_args(argv)
    duration = args.duration if args.duration is not None else (1.0 if args.quick else 3.0)
    reps = args.reps if args.reps is not None else (1 if args.quick else 2)
    concurrency = [int(c) for c in args.concurrency.split(",")]
    cases = [c for c in args.cases.split(",") if c]
    for c in cases:
        if c not in CASES:
            parser.error(f"unknown case {c!r}")
    if 16 not in concurrency:
        parser.error("the targets are checked at concurrency 16: keep 16 in --concurrency")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    began = time.perf_counter()
    out_dir = RESULTS / f"identity-{stamp}"
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)

    log(f"measuring bcrypt.checkpw at cost 12 ...")
    check, check_wall = bcrypt_check_seconds()
    report: dict = {
        "benchmark": "identity", "time": stamp,
        "machine": {"cores": CORES, "cpu": _cpu_model(), "python": platform.python_version(),
                    "kernel": platform.release(), "cpu_pressure": _pressure(),
                    "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", "")},
        "overcast_revision": _revision(),
        "config": {"duration": duration, "reps": reps, "concurrency": concurrency, "cases": cases,
                   "overcast_log_level": args.overcast_log_level or "default"},
        "bcrypt": {"check_ms": check * 1000, "check_wall_ms": check_wall * 1000, "bound_rps": CORES / check},
        "cold_start": {}, "idle": {}, "servers_info": {}, "cells": {},
    }
    targets_list: list[Target] = []
    try:
        oc, cold = start_overcast(args, logs)
        targets_list.append(oc)
        report["cold_start"]["overcast"] = cold
        if args.keystone:
            ks, cold = start_keystone(args, logs)
            targets_list.append(ks)
            report["cold_start"]["keystone"] = cold
        report["servers"] = [t.name for t in targets_list]
        for t in targets_list:
            log(f"{t.name}: preparing users and tokens ...")
            t.prepare()
            report["servers_info"][t.name] = t.info
        log("warm-up ...")
        for t in targets_list:
            for case in cases:
                t.run(case, 2 if case == "issue" else 4, 0.5)
        for t in targets_list:
            report["idle"][t.name] = idle_figures(t)
        runs: dict = {t.name: {case: {c: [] for c in concurrency} for case in cases} for t in targets_list}
        for case in cases:
            for c in concurrency:
                for rep in range(reps):
                    order = targets_list if rep % 2 == 0 else targets_list[::-1]
                    for t in order:
                        r = t.run(case, c, duration)
                        runs[t.name][case][c].append(r)
                        log(f"  {case:<9} c={c:<3} {t.name:<9} {r['rps']:9.1f} req/s  "
                            f"server CPU {r['server_cpu'] / max(r['ok'] + r['errors'], 1) * 1000:7.2f} ms/req  "
                            f"client {100 * r['client_core_share']:3.0f}% core  others {r['other_cores']:.2f} cores  "
                            f"errors {r['errors']}")
                        time.sleep(0.2)
        for name, by_case in runs.items():
            report["cells"][name] = {case: {str(c): summarize(rs) for c, rs in by_c.items()}
                                     for case, by_c in by_case.items()}
        # cases left out still need cells for the report
        for name in report["servers"]:
            for case in CASES:
                report["cells"][name].setdefault(case, {str(c): summarize([_empty()]) for c in concurrency})
        every = [r for n in runs.values() for bc in n.values() for rs in bc.values() for r in rs]
        worst = max(r["client_core_share"] for r in every)
        busiest = max(every, key=lambda r: r["ok"] + r["errors"])
        others = [r["other_cores"] for r in every]
        report["client"] = {
            "max_core_share": worst,
            "us_per_req_busiest": busiest["client_cpu"] / max(busiest["ok"] + busiest["errors"], 1) * 1e6,
            "other_cores_max": max(others), "other_cores_median": statistics.median(others),
            "verdict": ("not the bottleneck (a single asyncio thread, far from a full core)" if worst < 0.6 else
                        "WARNING: close to a full core, may limit the fastest cells" if worst < 0.9 else
                        "WARNING: the client saturated a core: the fastest cells are client-bound"),
        }
        if args.profile:
            pyspy = find_pyspy()
            report["profiles"] = {}
            if pyspy is None:
                log("--profile: py-spy not found (pip install py-spy into a venv; see bench/README.md)")
            else:
                for case in cases:
                    log(f"profiling overcast: {case} ...")
                    report["profiles"][case] = profile(pyspy, oc, case, 16, max(duration, 3.0), out_dir)
    finally:
        for t in targets_list:
            t.server.stop()
        if not args.keep and "overcast" in report["cold_start"]:
            shutil.rmtree(report["cold_start"]["overcast"]["data_dir"], ignore_errors=True)
    report["targets"] = targets(report)
    # raw latencies are long: keep them out of the JSON, keep everything else
    for name, by_case in runs.items():
        for case, by_c in by_case.items():
            for c, rs in by_c.items():
                for r in rs:
                    r.pop("latencies", None)
    report["runs"] = {n: {case: {str(c): rs for c, rs in bc.items()} for case, bc in bcs.items()}
                      for n, bcs in runs.items()}
    print_report(report)
    save_results("identity", report, stamp, began, logs)
    return 0


def save_results(name: str, report: dict, stamp: str, began: float, logs) -> None:
    """Write ``<name>-<stamp>.json`` and ``<name>-latest.json`` and say where they are."""
    text = json.dumps(report, indent=2, default=str)
    (RESULTS / f"{name}-{stamp}.json").write_text(text)
    (RESULTS / f"{name}-latest.json").write_text(text)
    print(f"whole run {time.perf_counter() - began:.0f}s")
    print(f"results: {RESULTS / f'{name}-{stamp}.json'} (logs in {logs})")


def _empty() -> dict:
    return {"other_cores": 0.0, "ok": 0, "errors": 0, "statuses": {}, "elapsed": 0.0, "rps": 0.0, "server_cpu": 0.0, "client_cpu": 0.0,
            "client_core_share": 0.0, "connects": 0, "latencies": []}


def _revision() -> str:
    """The overcast commit measured, and how many of its files differ from it (others edit the tree)."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "overcast"],
                               capture_output=True, text=True, timeout=10).stdout.splitlines()
        return f"{head} (+{len(dirty)} uncommitted files under overcast/)" if dirty else head
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _pressure() -> str:
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return "n/a"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
