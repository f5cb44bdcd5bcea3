"""Nova's task log, as os-instance_usage_audit_log reports it.

Nova's compute hosts can run a periodic "instance usage audit" that emits one usage
notification per instance per audit period and logs each run in ``task_log``. overcast
runs no such task (Nova's ``[DEFAULT] instance_usage_audit`` is off by default too), so a
report is what Nova gives with an empty task log: every compute host counted, none run.
"""

from __future__ import annotations

import datetime

from overcast.common.db import utcnow
from overcast.compute.service.hosts import COMPUTE, Hosts

AUDIT_PERIOD = "month"  # Nova's [DEFAULT] instance_usage_audit_period default


def _month_back(moment: datetime.datetime, day: int) -> datetime.datetime:
    year, month = (moment.year - 1, 12) if moment.month == 1 else (moment.year, moment.month - 1)
    return datetime.datetime(year, month, day)


def last_completed_period(before: datetime.datetime | None = None,
                          unit: str = AUDIT_PERIOD) -> tuple[datetime.datetime, datetime.datetime]:
    """(begin, end) of the newest audit period that ended before ``before`` (default now, UTC).

    ``unit`` is hour, day, month or year, optionally with an offset (``day@18`` starts days
    at 18:00, ``month@15`` months on the 15th, ``year@3`` years on March 1st)."""
    now = before if before is not None else utcnow()
    unit, _, offset_text = unit.partition("@")
    offset = int(offset_text or 0)
    if unit == "month":
        day = offset or 1
        end = datetime.datetime(now.year, now.month, day)
        if end >= now:
            end = _month_back(end, day)
        return _month_back(end, day), end
    if unit == "year":
        month = offset or 1
        end = datetime.datetime(now.year, month, 1)
        if end >= now:
            end = datetime.datetime(now.year - 1, month, 1)
        return datetime.datetime(end.year - 1, month, 1), end
    if unit == "day":
        end = datetime.datetime(now.year, now.month, now.day, offset)
        if end >= now:
            end -= datetime.timedelta(days=1)
        return end - datetime.timedelta(days=1), end
    end = now.replace(minute=offset, second=0, microsecond=0)
    if end >= now:
        end -= datetime.timedelta(hours=1)
    return end - datetime.timedelta(hours=1), end


class TaskLog:
    def __init__(self, hosts: Hosts):
        self.hosts = hosts

    def instance_usage_audit(self, before: datetime.datetime | None = None) -> dict:
        """The audit report for the last completed period before ``before``: compute hosts
        (disabled ones too, as Nova counts them), which ran, and the errors and instances
        the runs logged. Keys and value forms are Nova's (periods as ``str(datetime)``)."""
        begin, end = last_completed_period(before)
        hosts = sorted({state.row.host for state in self.hosts.list_services(binary=COMPUTE)})
        runs: list[dict] = []  # no audit task runs here, so there are no task log entries
        done = {run["host"] for run in runs if run["state"] == "DONE"}
        running = {run["host"] for run in runs if run["state"] == "RUNNING"}
        not_run = [host for host in hosts if host not in {run["host"] for run in runs}]
        errors = sum(run["errors"] for run in runs)
        status = "ALL" if len(done) == len(hosts) else f"{len(done)} of {len(hosts)}"
        return {
            "period_beginning": str(begin),
            "period_ending": str(end),
            "num_hosts": len(hosts),
            "num_hosts_done": len(done),
            "num_hosts_running": len(running),
            "num_hosts_not_run": len(not_run),
            "hosts_not_run": not_run,
            "total_instances": sum(run["instances"] for run in runs),
            "total_errors": errors,
            "overall_status": f"{status} hosts done. {errors} errors.",
            "log": {run["host"]: {key: run[key] for key in ("state", "instances", "errors", "message")}
                    for run in runs},
        }
