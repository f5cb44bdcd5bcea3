"""The `overcast` command: up | agent compute|network|volume | status | manage ... | policy-sample."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import time

from overcast.common.config import ConfigError, load
from overcast.common.policy import PolicyError


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file (or $OVERCAST_CONFIG)")
    parser.add_argument("--data-dir", help="directory holding everything the cloud writes")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in the data dir)")
    parser.add_argument("--bus-url", help="memory:// (default) or amqp://user:pass@host:5672/")


def _config(args):
    return load(
        args.config,
        server__data_dir=args.data_dir,
        server__host=getattr(args, "host", None),
        server__port=getattr(args, "port", None),
        server__public_url=getattr(args, "public_url", None),
        database__url=args.database_url,
        bus__url=args.bus_url,
        identity__admin_password=getattr(args, "admin_password", None),
    )


def cmd_up(args) -> int:
    started = time.monotonic()
    import uvicorn

    from overcast import clientconfig
    from overcast.server import Cloud

    config = _config(args)
    cloud = Cloud(config)
    cloud.prepare()
    default_dir = config.data_path == load(environ={}).data_path and not args.data_dir
    hint = f"export OS_CLIENT_CONFIG_FILE={cloud.clouds_file}; export OS_CLOUD=overcast"
    if default_dir or args.merge_clouds:
        clientconfig.merge_user_clouds(cloud.clouds_file)
        hint = "export OS_CLOUD=overcast"
    data = config.data_path
    print(
        "\n".join(
            [
                f"overcast is starting on {config.public_url} (data in {data})",
                *[f"  {kind:<10} {url}" for kind, url in cloud.endpoints().items()],
                f"  admin      user admin, password {cloud.passwords['admin']}, project admin",
                f"  demo       user demo, password {cloud.passwords['demo']}, project demo",
                f"  use it     {hint}",
                f"             or: source {data / 'admin-openrc.sh'}",
                *[f"  {'drivers' if i == 0 else '':<10} {line}" for i, line in enumerate(cloud.drivers)],
                f"  prepared in {time.monotonic() - started:.2f}s; Ctrl-C stops it",
            ]
        ),
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            cloud.app(),
            host=config.server.host,
            port=config.server.port,
            log_level=args.log_level.lower(),
            access_log=False,
            lifespan="on",
            server_header=False,
        )
    )
    # what start-up allocated lives as long as the process: keep it out of the collector's way,
    # and collect less often (the default thresholds made 1 in 3 large listings pay ~100 ms)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50000, 20, 100)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal with the
    # handler that was installed before it: make that a plain, successful exit
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_cleanly)
    server.run()
    print("overcast stopped", flush=True)
    return 0


def _exit_cleanly(signum, frame):
    print("overcast stopped", flush=True)
    raise SystemExit(0)


def cmd_agent(args) -> int:
    """An agent for this host (compute, network or volume) joining a controller over the bus (RabbitMQ)."""
    import asyncio

    section = args.kind  # [compute], [network] or [volume]: host, driver, availability_zone
    flags = {f"{section}__host": args.host, f"{section}__driver": args.driver, f"{section}__availability_zone": args.zone}
    if section == "network":
        flags["network__l2_only"] = args.l2_only
    config = load(args.config, bus__url=args.bus_url, server__data_dir=args.data_dir, **flags)
    if config.bus.url.startswith("memory:"):
        print("overcast agent: the agent joins a controller over a shared bus; give --bus-url amqp://...",
              file=sys.stderr)
        return 2
    return asyncio.run(_run_agent(config, args.kind))


async def _run_agent(config, kind: str) -> int:
    import asyncio
    import socket

    from overcast.common.bus import Bus, make_transport

    from overcast import driver_choice

    section = getattr(config, kind)
    host = section.host or socket.gethostname()
    for line in driver_choice.choose(config):
        if line.startswith(kind):
            print(f"overcast agent {kind}: {line}", flush=True)
    bus = Bus(make_transport(config.bus.url), host=host)
    await bus.start()
    if kind == "compute":
        from overcast.compute.service import make_agent

        agent = make_agent(config, bus, host)
    elif kind == "volume":
        from overcast.volume.agent import ClusterNotSupported
        from overcast.volume.service import make_agent

        try:
            agent = make_agent(config, bus, host)
        except ClusterNotSupported as refused:
            print(f"overcast agent volume: {refused}", file=sys.stderr, flush=True)
            await bus.stop()
            return 2
    else:
        from overcast.network.agent import make_agent
        from overcast.network.agent_source import BusSource

        agent = make_agent(config, bus, BusSource(bus, asyncio.get_running_loop()))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    try:
        await agent.start()
        describe = getattr(agent.driver, "describe", None)
        print(f"overcast agent {kind} on {host}: driver {section.driver}"
              + (f" ({describe()})" if describe else "") + f", joined over {bus_name(config)}", flush=True)
        await stop.wait()
    finally:
        await agent.stop()
        await bus.stop()
    print("overcast agent stopped", flush=True)
    return 0


def bus_name(config) -> str:
    """The bus URL without its password, for messages."""
    import re

    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", config.bus.url)


def cmd_status(args) -> int:
    from overcast.common import heartbeats
    from overcast.common.db import Database

    config = _config(args)
    db = Database(config.database_url)
    rows = heartbeats.list_services(db)
    if not rows:
        print("no service has reported yet (is `overcast up` running on this data dir?)")
        return 1
    print(f"{'service':<28} {'host':<24} {'state':<6} last seen (UTC)")
    for row in rows:
        print(f"{row['binary']:<28} {row['host']:<24} {row['state']:<6} {row['last_seen']:%Y-%m-%d %H:%M:%S}")
    return 0 if all(row["state"] == "up" for row in rows) else 2


def cmd_manage(args) -> int:
    from overcast.server import Cloud

    config = _config(args)
    cloud = Cloud(config)
    if args.action == "db-sync":
        from overcast.common.db.migrate import upgrade

        upgrade(cloud.db)
    elif args.action == "bootstrap":
        cloud.prepare()
    elif args.action == "rotate-keys":
        cloud.identity.token_keys.rotate()
        print("token keys rotated; running servers pick up the new primary within a few seconds")
    return 0


def cmd_tls(args) -> int:
    """Certificates for live migration in TLS (``compute.tls_dir``) for a test or small cloud."""
    from overcast.compute.drivers.qemu import tls

    try:
        if args.action == "ca":
            print(f"CA in {tls.make_ca(args.dir)} (keep ca-key.pem; give hosts only ca-cert.pem)")
        else:
            if not args.ca or not args.ip:
                print("overcast: tls host needs --ca and at least one --ip", file=sys.stderr)
                return 2
            made = tls.make_host(args.ca, args.dir, args.name or args.ip[0], args.ip)
            print(f"certificates for {args.name or args.ip[0]} in {made}: set compute.tls_dir to it on that host")
    except (tls.TLSError, OSError, ValueError) as error:
        print(f"overcast: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_doctor(args) -> int:
    from overcast import doctor

    return doctor.main(_config(args))


def cmd_policy_sample(args) -> int:
    from overcast.common.policy import Enforcer
    from overcast.services import SERVICES

    rules = [rule for spec in SERVICES for rule in spec.policies()]
    sys.stdout.write(Enforcer(rules).rules_as_yaml(commented=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="overcast", description="An OpenStack-compatible cloud in one command.")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the all-in-one cloud in the foreground")
    _common(up)
    up.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    up.add_argument("--port", type=int, help="port to listen on (default 8600)")
    up.add_argument("--public-url", help="base URL put in the catalog (default http://HOST:PORT)")
    up.add_argument("--admin-password", help="admin's password on first start (default: random, saved)")
    up.add_argument("--merge-clouds", action="store_true", help="also add the entries to ~/.config/openstack/clouds.yaml")
    up.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    up.set_defaults(func=cmd_up)
    agent = commands.add_parser("agent", help="run an agent for this host (compute, network or volume) that joins a "
                                              "controller")
    agent.add_argument("kind", choices=["compute", "network", "volume"])
    agent.add_argument("--config", help="TOML configuration file (or $OVERCAST_CONFIG)")
    agent.add_argument("--bus-url", help="the controller's bus, amqp://user:pass@host:5672/")
    agent.add_argument("--host", help="name this host reports (default: the machine's hostname)")
    agent.add_argument("--driver", help="hypervisor, network or volume driver (default: the section's driver)")
    agent.add_argument("--zone", help="availability zone of this host (default: the section's availability_zone)")
    agent.add_argument("--l2-only", action="store_true", default=None,
                       help="network agent: only plug and filter this host's ports (no DHCP, routers or metadata here)")
    agent.add_argument("--data-dir", help="where the agent keeps its files (a volume agent's volumes: DATA_DIR/volumes)")
    agent.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    agent.set_defaults(func=cmd_agent)
    status = commands.add_parser("status", help="every service and agent, up or down")
    _common(status)
    status.set_defaults(func=cmd_status)
    manage = commands.add_parser("manage", help="maintenance: db-sync, bootstrap, rotate-keys")
    _common(manage)
    manage.add_argument("action", choices=["db-sync", "bootstrap", "rotate-keys"])
    manage.set_defaults(func=cmd_manage)
    certs = commands.add_parser("tls", help="make a CA (tls ca DIR) or a host's live migration certificates "
                                             "(tls host DIR --ca CA_DIR --name HOST --ip MY_IP)")
    certs.add_argument("action", choices=["ca", "host"])
    certs.add_argument("dir", help="the directory to write (compute.tls_dir of the host for `host`)")
    certs.add_argument("--ca", help="host: the CA's directory (ca-cert.pem, ca-key.pem)")
    certs.add_argument("--name", help="host: its name (default: its first --ip)")
    certs.add_argument("--ip", action="append", help="host: an address other hosts reach it on (its compute.my_ip)")
    certs.set_defaults(func=cmd_tls)
    doctor = commands.add_parser("doctor", help="what this host can do for real guests and networks")
    _common(doctor)
    doctor.set_defaults(func=cmd_doctor)
    sample = commands.add_parser("policy-sample", help="print every default policy rule as policy.yaml")
    sample.set_defaults(func=cmd_policy_sample)
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(args, "log_level", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return args.func(args)
    except ConfigError as error:
        print(f"overcast: configuration error: {error}", file=sys.stderr)
        return 2
    except PolicyError as error:
        print(f"overcast: policy error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
