"""rally-openstack's NovaServers.boot_and_delete_server against the private overcast.

Rally lives in its own venv (``ensure_rally`` installs rally-openstack from PyPI into it the
first time); each run gets its own rally.conf and SQLite database in the run's work dir, an
existing-cloud environment with overcast's admin (auth URL, password, project), and one
task per polling setting:

- ``defaults``: Rally's own waits (1 s before the first status poll after a boot, polls
  every 2 s; 2 s between delete polls), what a Rally user sees out of the box;
- ``fast``: every prepoll delay 0 and poll intervals of ``fast_poll`` seconds, so the
  figures are overcast's time rather than Rally's sleeps.

The task uses the ``users`` context (Rally creates a project and a user through Keystone's
API and deletes them afterwards), so identity's admin API is exercised too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from compute_cloud import Cloud
from identity import ADMIN_PASSWORD, ROOT, clean_env, log

RALLY_VENV = ROOT / ".bench" / "rally-venv"
SCENARIO = "NovaServers.boot_and_delete_server"
POLL_OPTIONS = ("nova_server_boot_prepoll_delay", "nova_server_boot_poll_interval",
                "nova_server_delete_prepoll_delay", "nova_server_delete_poll_interval")


def ensure_rally(venv: Path) -> Path:
    rally = venv / "bin" / "rally"
    if rally.exists():
        return rally
    log(f"installing rally-openstack into {venv} (a few minutes the first time) ...")
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    with open(venv.parent / "rally-install.log", "ab") as out:
        subprocess.run([str(venv / "bin" / "pip"), "install", "rally-openstack"], check=True, stdout=out,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return rally


def _rally(rally: Path, conf: Path, args: list[str], log_path: Path, timeout: float = 1800) -> str:
    done = subprocess.run([str(rally), "--config-file", str(conf), *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=clean_env(), timeout=timeout)
    with open(log_path, "a") as out:
        out.write(f"$ rally {' '.join(args)}  (exit {done.returncode})\n{done.stdout}\n{done.stderr}\n")
    if done.returncode != 0:
        raise RuntimeError(f"rally {' '.join(args)} exited {done.returncode}; see {log_path}:\n"
                           + _interesting(done.stdout + done.stderr))
    return done.stdout


def _interesting(text: str) -> str:
    """The lines of Rally's output that say what went wrong (its INFO chatter dropped)."""
    keep = [line for line in text.splitlines()
            if line.strip() and " INFO " not in line and "rally.task.types" not in line]
    return "\n".join(keep[-40:])


def _stats(node: dict) -> dict:
    d = node["data"]
    return {k: d[k] for k in ("min", "median", "90%ile", "95%ile", "max", "avg", "success", "iteration_count")}


def run_rally(cloud: Cloud, work: Path, image_name: str, flavor_name: str, times: int, concurrency: int,
              fast_poll: float, logs: Path) -> dict:
    rally = ensure_rally(RALLY_VENV)
    rdir = work / "rally"
    rdir.mkdir(exist_ok=True)
    log_path = logs / "rally.log"
    out: dict = {"rally_venv": str(RALLY_VENV), "times": times, "concurrency": concurrency, "runs": {}}
    version = subprocess.run([str(rally), "--version"], capture_output=True, text=True, env=clean_env())
    text = " ".join((version.stdout + version.stderr).split())  # "Rally version: 5.1.1 Installed Plugins: ..."
    out["version"] = text.replace("Rally version: ", "rally ").replace(" Installed Plugins:", ",")
    spec = {"openstack": {"auth_url": cloud.auth_url, "region_name": "RegionOne", "admin": {
        "username": "admin", "password": ADMIN_PASSWORD, "project_name": "admin",
        "user_domain_name": "Default", "project_domain_name": "Default"}}}
    (rdir / "env.json").write_text(json.dumps(spec))
    issues = []
    for _ in range(3):  # what each iteration's first call costs: Rally's clients log in per iteration
        t0 = time.perf_counter()
        cloud.login()
        issues.append((time.perf_counter() - t0) * 1000)
    out["password_token_issue_ms"] = sorted(issues)[1]
    task = {"version": 2, "title": "overcast compute bench", "subtasks": [{
        "title": SCENARIO,
        "scenario": {SCENARIO: {"flavor": {"name": flavor_name}, "image": {"name": image_name},
                                "force_delete": False}},
        "runner": {"constant": {"times": times, "concurrency": concurrency}},
        "contexts": {"users": {"tenants": 1, "users_per_tenant": 1}}}]}
    (rdir / "task.json").write_text(json.dumps(task))
    for label, poll in (("defaults", None), ("fast", fast_poll)):
        conf = rdir / f"rally-{label}.conf"
        lines = ["[DEFAULT]", f"log_file = {rdir / f'rally-{label}-debug.log'}", "[database]",
                 f"connection = sqlite:///{rdir / f'rally-{label}.sqlite'}"]
        if poll is not None:
            lines += ["[openstack]"] + [f"{opt} = {0 if 'prepoll' in opt else poll}" for opt in POLL_OPTIONS]
        conf.write_text("\n".join(lines) + "\n")
        try:
            _rally(rally, conf, ["db", "create"], log_path)
            _rally(rally, conf, ["env", "create", "--name", f"overcast-{label}", "--spec", str(rdir / "env.json")],
                   log_path)
            check = _rally(rally, conf, ["env", "check"], log_path)
            t0 = time.perf_counter()
            started = _rally(rally, conf, ["task", "start", str(rdir / "task.json")], log_path)
            wall = time.perf_counter() - t0
            uuid = _task_uuid(started)
            report = rdir / f"report-{label}.json"
            _rally(rally, conf, ["task", "report", uuid, "--json", "--out", str(report)], log_path)
            workload = json.loads(report.read_text())["tasks"][0]["subtasks"][0]["workloads"][0]
            durations = workload["statistics"]["durations"]
            errors = [it["error"] for it in workload["data"] if it.get("error")]
            out["runs"][label] = {
                "poll_s": poll, "wall_s": wall, "task": uuid, "env_check": "OK" if "OK!" in check else check[-300:],
                "total": _stats(durations["total"]),
                "atomics": {a["name"]: _stats(a) for a in durations["atomics"]},
                "load_duration_s": workload["load_duration"], "full_duration_s": workload["full_duration"],
                "failed": workload["failed_iteration_count"], "pass_sla": workload["pass_sla"],
                "errors": errors[:3],
            }
            log(f"  rally {label}: total median {out['runs'][label]['total']['median']:.3f}s, "
                f"success {out['runs'][label]['total']['success']}")
        except (RuntimeError, subprocess.TimeoutExpired, KeyError, IndexError) as error:
            out["runs"][label] = {"poll_s": poll, "error": str(error)[-3000:]}
            log(f"  rally {label} failed: {str(error)[-1500:]}")
    return out


def _task_uuid(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("Task ") and ":" in line and "started" in line:
            return line.split()[1].rstrip(":")
        if line.startswith("Using task:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("no task uuid in rally's output")
