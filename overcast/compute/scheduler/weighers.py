"""Scheduler weighers: each gives every passing host a number; the scheduler normalises
each weigher's numbers to 0..1, multiplies by its multiplier and sums (Nova's scheme)."""

from __future__ import annotations


def free_ram(host, spec) -> float:
    """RAMWeigher with a positive multiplier: spread, the host with most free RAM first."""
    return float(host.free_ram_mb)


def soft_affinity(host, spec) -> float:
    """ServerGroupSoftAffinityWeigher: members of a soft-affinity group on this host."""
    group = spec.group
    if group is None or group.policy != "soft-affinity":
        return 0.0
    return float(group.hosts.count(host.host))


def soft_anti_affinity(host, spec) -> float:
    """ServerGroupSoftAntiAffinityWeigher: fewer members of the group here is better."""
    group = spec.group
    if group is None or group.policy != "soft-anti-affinity":
        return 0.0
    return -float(group.hosts.count(host.host))


#: (weigher, multiplier); the group weighers outweigh RAM as Nova's defaults make them
DEFAULT_WEIGHERS = [(free_ram, 1.0), (soft_affinity, 2.0), (soft_anti_affinity, 2.0)]


def weigh(hosts: list, spec, weighers=DEFAULT_WEIGHERS) -> list:
    """The hosts, best first."""
    totals = [0.0] * len(hosts)
    for weigher, multiplier in weighers:
        values = [weigher(host, spec) for host in hosts]
        low, high = min(values, default=0.0), max(values, default=0.0)
        if high == low:
            continue
        for index, value in enumerate(values):
            totals[index] += multiplier * (value - low) / (high - low)
    order = sorted(range(len(hosts)), key=lambda i: (-totals[i], hosts[i].host))
    return [hosts[i] for i in order]
