"""The audit period arithmetic (Nova's last_completed_audit_period) and the empty report."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from overcast.compute.service.task_log import TaskLog, last_completed_period


def at(*parts) -> datetime.datetime:
    return datetime.datetime(*parts)


def test_month_periods_end_on_the_first_and_wrap_the_year():
    assert last_completed_period(at(2024, 3, 15, 10)) == (at(2024, 2, 1), at(2024, 3, 1))
    assert last_completed_period(at(2024, 3, 1)) == (at(2024, 1, 1), at(2024, 2, 1))  # the 1st itself: not ended
    assert last_completed_period(at(2024, 1, 10)) == (at(2023, 12, 1), at(2024, 1, 1))
    assert last_completed_period(at(2024, 1, 1)) == (at(2023, 11, 1), at(2023, 12, 1))
    assert last_completed_period(at(2024, 2, 10), "month@15") == (at(2023, 12, 15), at(2024, 1, 15))


def test_year_day_and_hour_periods():
    assert last_completed_period(at(2024, 6, 1), "year") == (at(2023, 1, 1), at(2024, 1, 1))
    assert last_completed_period(at(2024, 2, 1), "year@3") == (at(2022, 3, 1), at(2023, 3, 1))
    assert last_completed_period(at(2024, 6, 1, 12), "day") == (at(2024, 5, 31), at(2024, 6, 1))
    assert last_completed_period(at(2024, 6, 1, 12), "day@18") == (at(2024, 5, 30, 18), at(2024, 5, 31, 18))
    assert last_completed_period(at(2024, 6, 1, 12, 30), "hour") == (at(2024, 6, 1, 11), at(2024, 6, 1, 12))
    assert last_completed_period(at(2024, 6, 1, 12, 30), "hour@45") == (at(2024, 6, 1, 10, 45),
                                                                       at(2024, 6, 1, 11, 45))


def test_report_without_hosts_says_all_done():
    hosts = SimpleNamespace(list_services=lambda binary=None: [])
    report = TaskLog(hosts).instance_usage_audit(at(2024, 3, 15))
    assert report["overall_status"] == "ALL hosts done. 0 errors." and report["hosts_not_run"] == []
    assert report["period_beginning"] == "2024-02-01 00:00:00" and report["num_hosts"] == 0
