"""os-instance_usage_audit_log: the report Nova gives when no audit task has run."""

from __future__ import annotations

import datetime
from urllib.parse import quote

KEYS = {"period_beginning", "period_ending", "num_hosts", "num_hosts_done", "num_hosts_running", "num_hosts_not_run",
        "hosts_not_run", "total_instances", "total_errors", "overall_status", "log"}


def test_list_counts_every_compute_host_as_not_run(api, admin, spare):
    with api(admin) as compute:
        answer = compute.get("/os-instance_usage_audit_log")
        services = compute.get("/os-services", params={"binary": "nova-compute"}).json()["services"]
    assert answer.status_code == 200
    report = answer.json()["instance_usage_audit_logs"]
    assert set(report) == KEYS
    hosts = {service["host"] for service in services}
    assert spare.name in hosts and set(report["hosts_not_run"]) == hosts
    assert report["num_hosts"] == report["num_hosts_not_run"] == len(hosts)
    assert report["num_hosts_done"] == report["num_hosts_running"] == 0
    assert report["total_instances"] == report["total_errors"] == 0 and report["log"] == {}
    assert report["overall_status"] == f"0 of {len(hosts)} hosts done. 0 errors."
    now = datetime.datetime.now(datetime.UTC)
    end = datetime.datetime.strptime(report["period_ending"], "%Y-%m-%d %H:%M:%S")
    assert (end.year, end.month, end.day, end.hour) == (now.year, now.month, 1, 0)  # the month that ended last


def test_show_reports_the_period_before_a_timestamp(api, admin):
    with api(admin) as compute:
        for stamp in ("2024-03-15 10:00:00", "2024-03-15 10:00:00.250000"):
            report = compute.get(f"/os-instance_usage_audit_log/{quote(stamp)}").json()["instance_usage_audit_log"]
            assert report["period_beginning"] == "2024-02-01 00:00:00"
            assert report["period_ending"] == "2024-03-01 00:00:00"
        report = compute.get(f"/os-instance_usage_audit_log/{quote('2024-01-01 00:00:00')}").json()
        assert report["instance_usage_audit_log"]["period_beginning"] == "2023-11-01 00:00:00"
        for bad in ("invalid_time", "2024-03-15", "2024-13-01 00:00:00", "2024-03-15T10:00:00"):
            answer = compute.get(f"/os-instance_usage_audit_log/{quote(bad)}")
            assert answer.status_code == 400, bad
            assert answer.json()["badRequest"]["message"] == f"Invalid timestamp for date {bad}"


def test_audit_log_is_admin_only(api, demo):
    with api(demo) as compute:
        assert compute.get("/os-instance_usage_audit_log").status_code == 403
        assert compute.get(f"/os-instance_usage_audit_log/{quote('2024-03-15 10:00:00')}").status_code == 403
        assert compute.get("/os-instance_usage_audit_log/invalid_time").status_code == 403  # policy first, as Nova
