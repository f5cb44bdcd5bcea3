"""Scheduler filters: each takes a HostState and the RequestSpec and says whether the host
may take the instance. Nova's names are kept in the docstrings for whoever reads both."""

from __future__ import annotations


def compute_filter(host, spec) -> bool:
    """ComputeFilter: the host's nova-compute service is enabled and up."""
    return host.enabled and host.up


def resources_filter(host, spec) -> bool:
    """The core, RAM and disk the flavor needs fit in what is unclaimed (with ratios)."""
    return (host.free_vcpus >= spec.vcpus and host.free_ram_mb >= spec.memory_mb
            and host.free_disk_gb >= spec.disk_gb)


def availability_zone_filter(host, spec) -> bool:
    """AvailabilityZoneFilter: the requested zone, when one was asked for."""
    return not spec.availability_zone or host.zone == spec.availability_zone


def requested_host_filter(host, spec) -> bool:
    """``zone:host`` and ``host`` requests (admin only, checked by the API) and ignore lists."""
    if spec.force_host and host.host != spec.force_host:
        return False
    return host.host not in spec.ignore_hosts


def affinity_filter(host, spec) -> bool:
    """ServerGroupAffinityFilter: every member of an affinity group on one host."""
    group = spec.group
    if group is None or group.policy != "affinity" or not group.hosts:
        return True
    return host.host in group.hosts


def anti_affinity_filter(host, spec) -> bool:
    """ServerGroupAntiAffinityFilter: at most ``max_server_per_host`` members per host (1)."""
    group = spec.group
    if group is None or group.policy != "anti-affinity":
        return True
    return group.hosts.count(host.host) < group.max_server_per_host


def same_host_filter(host, spec) -> bool:
    """SameHostFilter: with the ``same_host`` hint, a host holding one of those instances."""
    return spec.same_host is None or host.host in spec.same_host


def different_host_filter(host, spec) -> bool:
    """DifferentHostFilter: with the ``different_host`` hint, none of those instances here."""
    return host.host not in spec.different_host


DEFAULT_FILTERS = [compute_filter, requested_host_filter, availability_zone_filter, resources_filter,
                   affinity_filter, anti_affinity_filter, same_host_filter, different_host_filter]
