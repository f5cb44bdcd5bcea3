"""Typed configuration: defaults, then a TOML file, then OVERCAST_* environment, then flags.

Every option lives in one section named after the package that reads it. The defaults
are the all-in-one cloud on loopback; nothing here reads a file at import time.

    [server]   host, port, public_url, data_dir
    [database] url
    [bus]      url
    [identity] token_expiration, password_hash_rounds, max_active_keys, ...
    [image]    store, max_images_per_project, max_bytes_per_project, ...
    [network]  agent, driver, host, availability_zone, local_ip, vxlan_port, ...
    [volume]   driver, file_format, agent, host, quota_volumes, ...
    [policy]   file

An environment variable ``OVERCAST_<SECTION>_<OPTION>`` (upper case) overrides the file,
and keyword overrides given to :func:`load` (the CLI flags) override both.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"  # address the API listens on
    port: int = 8600  # TCP port of the single API listener, 1-65535
    public_url: str = ""  # base URL put in the catalog; empty: http://host:port
    data_dir: str = "~/.local/share/overcast"  # everything the cloud writes lives here
    worker_threads: int = 16  # threads running blocking handler work (DB, bcrypt), 2-256


@dataclass
class DatabaseConfig:
    url: str = ""  # SQLAlchemy URL; empty: SQLite file overcast.db in the data directory


@dataclass
class BusConfig:
    url: str = "memory://"  # memory:// (one process) or amqp://user:pass@host:5672/


@dataclass
class IdentityConfig:
    token_expiration: int = 3600  # seconds a token lives, 60-604800
    password_hash_rounds: int = 12  # bcrypt cost factor, 4-31 (each +1 doubles the work)
    max_active_keys: int = 3  # fernet keys kept by rotation, 2-100
    admin_password: str = ""  # bootstrap password of 'admin'; empty: random, saved in the data dir
    demo_password: str = ""  # bootstrap password of 'demo'; empty: random, saved in the data dir
    region: str = "RegionOne"  # region of the bootstrap endpoints


@dataclass
class ImageConfig:
    store: str = "file"  # where image data lives: file (DATA_DIR/images) or memory
    max_images_per_project: int = 1000  # images one project may own, -1 for no limit
    max_bytes_per_project: int = 1 << 40  # bytes of image data one project may store, -1 for no limit
    max_image_size: int = 1 << 40  # largest single image in bytes, 1-2**53
    web_download_timeout: int = 600  # seconds a web-download import may take, 1-86400


@dataclass
class ComputeConfig:
    quota_key_pairs: int = 100  # keypairs one user may hold, 0-100000
    driver: str = "auto"  # hypervisor driver of the in-process agent: qemu (real guests), fake (guests in memory) or auto (qemu where it and the linux network driver can run)
    agent: bool = True  # run a compute agent for this host inside the all-in-one process
    host: str = ""  # name the compute agent reports; empty: the machine's hostname
    availability_zone: str = "nova"  # zone of this host's compute agent
    cpu_allocation_ratio: float = 4.0  # virtual CPUs scheduled per host CPU, 0.1-1000
    ram_allocation_ratio: float = 1.0  # RAM scheduled per MB of host RAM, 0.1-1000
    disk_allocation_ratio: float = 1.0  # disk scheduled per GB of host disk, 0.1-1000
    reserved_host_memory_mb: int = 512  # host RAM never given to guests, 0-1048576
    fake_vcpus: int = 16  # what the fake driver reports: CPUs, 1-100000
    fake_memory_mb: int = 65536  # RAM in MB, 1-2**40
    fake_local_gb: int = 1000  # disk in GB, 1-2**40
    fake_snapshot_seconds: float = 0.0  # how long the fake driver takes to copy a disk for a snapshot, 0-60
    fake_live_migration_seconds: float = 0.0  # how long the fake driver's live migration runs unless aborted or forced, 0-3600
    fake_hosts: int = 1  # compute hosts the all-in-one runs with the fake driver: HOST, HOST-2, ... HOST-N, 1-64 (tests, Tempest's migrations)
    allow_resize_to_same_host: bool = True  # a resize may stay on its host (Nova's default is False; one host needs True)
    sync_power_state_interval: int = 10  # seconds between checks that guests still run as recorded (0: never)
    qemu_accel: str = "auto"  # qemu driver: auto (KVM if a test boot works, else TCG), kvm or tcg
    qemu_state_dir: str = ""  # qemu driver: image cache and instance disks; empty: DATA_DIR/compute/qemu
    qemu_soft_reboot_seconds: int = 60  # qemu driver: wait for an ACPI shutdown before a hard reset, 0-3600
    qemu_tcg_tb_size_mb: int = 10  # qemu driver: MiB of translated code each TCG guest keeps (all of it resident): less memory per guest, more CPU to run it, 4-1024
    reimage_timeout_per_gb: int = 20  # seconds per GiB of the image a 2.93 rebuild of a volume-backed server waits for its volume's reimage (volume-reimaged), 1-3600
    my_ip: str = ""  # the address other hosts reach this compute host on (live migration, os-hypervisors host_ip, os-migrations dest_host); empty: 127.0.0.1 with a memory or loopback bus, else the local address that routes to the bus host
    migration_transport: str = "auto"  # qemu driver: how guests move to another host: local (files by path, unix sockets: one machine or a shared filesystem), tcp (disks pulled over the bus, live migration over TCP to my_ip), auto (local when both hosts are on one machine)
    live_migration_ports: str = "49152-49215"  # qemu driver: TCP ports (first-last, 1024-65535) a destination listens on for a live migration over tcp
    live_migration_tls: bool = False  # qemu driver: live migrations over tcp in TLS (stream and NBD disks), both hosts verified against a CA (Nova's live_migration_with_native_tls)
    tls_dir: str = ""  # qemu driver: this host's migration certificates (ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem, client-key.pem); empty: DATA_DIR/compute/tls
    live_migration_permit_post_copy: bool = False  # qemu driver: force-complete switches a live migration to post-copy instead of pausing the guest (both hosts must permit it)
    console_token_ttl: int = 600  # seconds a remote console URL (its one-time token) stays usable, 10-86400
    novncproxy_base_url: str = ""  # the noVNC page console URLs point at; empty: PUBLIC_URL/vnc/vnc_lite.html
    novnc_dir: str = "/usr/share/novnc"  # noVNC's files (Debian package novnc), served under /vnc

    def host_name(self) -> str:
        """The name this process's compute agent reports: ``host``, else the hostname."""
        import socket

        return self.host or socket.gethostname()

    def port_range(self) -> tuple[int, int]:
        """``live_migration_ports`` as (first, last); ValueError when it is not one."""
        first, _, last = self.live_migration_ports.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise ValueError(f"{self.live_migration_ports!r} is not FIRST-LAST") from None
        if not 1024 <= low <= high <= 65535:
            raise ValueError(f"{self.live_migration_ports!r} is not within 1024-65535, first <= last")
        return low, high

    def extra_fake_hosts(self) -> list[str]:
        """The extra fake hosts ``fake_hosts`` asks for: HOST-2 ... HOST-N (none for 1)."""
        return [f"{self.host_name()}-{n}" for n in range(2, self.fake_hosts + 1)]


@dataclass
class NetworkConfig:
    agent: bool = True  # run a network agent (DHCP, L3, metadata, bridge) for this host inside the all-in-one process
    driver: str = "auto"  # network driver of the in-process agent: linux (bridges, dnsmasq, iptables; root), fake (nothing on the host) or auto (linux where it can run)
    bridge_mappings: str = "public:br-ex"  # linux driver: physical network -> host bridge (made if missing), comma-separated
    linux_prefix: str = "oc"  # linux driver: starts its iptables chains and link aliases (two clouds on one machine differ)
    local_ip: str = ""  # linux driver: this host's VXLAN tunnel endpoint (an address on the underlay); empty: no VXLAN devices (one host)
    l2_only: bool = False  # the network agent only plugs and filters this host's ports (Neutron's L2 agent on a compute node); DHCP, routers and metadata run on other hosts
    vxlan_port: int = 4789  # linux driver: UDP port of the VXLAN tunnels, the same on every host, 1-65535
    metadata_secret: str = ""  # signs what the metadata proxies forward; empty: made once in DATA_DIR/network/metadata_secret
    host: str = ""  # name the network agents report; empty: the machine's hostname
    availability_zone: str = "nova"  # zone of this host's network agents
    dhcp_agents_per_network: int = 1  # DHCP agents scheduled to serve each network with a DHCP-enabled subnet, 1-64
    allow_automatic_dhcp_failover: bool = True  # move the networks of a DHCP agent dead for agent_failover_seconds to live ones (Neutron's default: on)
    allow_automatic_l3agent_failover: bool = False  # move the routers of an L3 agent dead for agent_failover_seconds to a live one (Neutron's default: off)
    agent_failover_seconds: int = 120  # seconds without a heartbeat before an agent's networks and routers may move (twice the 60 s after which it is down, as Neutron's 2 x agent_down_time), 15-86400
    public_cidr: str = "172.24.4.0/24"  # range of the external network 'public' made at start ("" for none)
    default_subnetpool: str = "10.128.0.0/16"  # prefix of the default pool auto-allocated networks use ("" for none)
    default_prefixlen: int = 26  # size of each auto-allocated project subnet, 8-30


@dataclass
class VolumeConfig:
    driver: str = "file"  # volume driver of the in-process agent: file (DATA_DIR/volumes) or fake
    file_format: str = "qcow2"  # how the file driver stores volumes: qcow2 or raw (both sparse)
    rbd_pool: str = "volumes"  # rbd driver: the Ceph pool holding the volumes (it must exist)
    rbd_ceph_conf: str = "/etc/ceph/ceph.conf"  # rbd driver: ceph.conf naming the monitors
    rbd_user: str = "admin"  # rbd driver: the Ceph user (client.<user>) the driver and the guests connect as
    rbd_keyring: str = ""  # rbd driver: keyring file with that user's key; empty: the one ceph.conf names
    rbd_flatten_volume_from_snapshot: bool = False  # rbd driver: volumes from snapshots are full copies, not clones
    rbd_max_clone_depth: int = 5  # rbd driver: clones of clones deeper than this are flattened (0-100)
    target_helper: str = "none"  # file driver: none (hosts open the volume file) or tgtadm (iSCSI targets by tgtd; needs file_format raw)
    target_ip_address: str = "127.0.0.1"  # address of the iSCSI portal tgtd listens on (target_helper tgtadm)
    target_port: int = 3260  # TCP port of that portal, 1-65535
    agent: bool = True  # run a volume agent (cinder-volume) for this host inside the all-in-one process
    host: str = ""  # name the volume agent reports; empty: the machine's hostname
    backend_name: str = "file"  # the backend part of the volume host name (host@backend#pool)
    availability_zone: str = "nova"  # zone of this host's volume agent
    cluster: str = ""  # Cinder's active-active cluster this host's volume agent serves (cluster@backend); empty: none; needs a shared backend (rbd)
    default_type: str = "__DEFAULT__"  # volume type of volumes created without one (made on first start)
    default_group_type: str = "default_group_type"  # group type GET /group_types/default names (made on first start; empty: none)
    quota_volumes: int = 10  # volumes one project may hold by default, -1 for no limit
    quota_snapshots: int = 10  # snapshots one project may hold by default, -1 for no limit
    quota_gigabytes: int = 1000  # GiB of volumes and snapshots one project may hold by default, -1 for no limit
    quota_per_volume_gigabytes: int = -1  # largest single volume in GiB by default, -1 for no limit


@dataclass
class ObjectStoreConfig:
    store: str = "file"  # where object data lives: file (DATA_DIR/objects) or memory
    sync_realms: str = ""  # container sync: a container-sync-realms.conf file (realm -> key, key2, cluster_* URLs)
    sync_current: str = ""  # //REALM/CLUSTER this cloud is, marked "current" in /info
    sync_interval: float = 30.0  # seconds between container sync rounds, 0.1-86400
    sync_allow_full_urls: bool = True  # X-Container-Sync-To may be a full http(s) URL (else realms only)
    sync_allowed_hosts: str = "127.0.0.1"  # comma-separated hosts full URLs may name


@dataclass
class PolicyConfig:
    file: str = ""  # policy.yaml overriding the defaults; empty: DATA_DIR/policy.yaml if it exists


@dataclass
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    bus: BusConfig = field(default_factory=BusConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    image: ImageConfig = field(default_factory=ImageConfig)
    compute: ComputeConfig = field(default_factory=ComputeConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    volume: VolumeConfig = field(default_factory=VolumeConfig)
    objectstore: ObjectStoreConfig = field(default_factory=ObjectStoreConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)

    @property
    def data_path(self) -> Path:
        return Path(self.server.data_dir).expanduser().resolve()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_path / 'overcast.db'}"

    @property
    def public_url(self) -> str:
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        host = self.server.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"http://{host}:{self.server.port}"


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the option."""


def _coerce(section: str, name: str, current, value):
    kind = type(current)
    try:
        if kind is bool:
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes", "on")
            return bool(value)
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"[{section}] {name}: {value!r} is not a valid {kind.__name__}") from None


def _apply(config: Config, section: str, values: dict, source: str) -> None:
    target = getattr(config, section, None)
    if target is None or not dataclasses.is_dataclass(target):
        raise ConfigError(f"{source}: unknown section [{section}]")
    known = {f.name for f in dataclasses.fields(target)}
    for name, value in values.items():
        if name not in known:
            raise ConfigError(f"{source}: unknown option [{section}] {name}")
        setattr(target, name, _coerce(section, name, getattr(target, name), value))


def load(path: str | Path | None = None, environ: dict | None = None, **overrides) -> Config:
    """Build the configuration.

    ``overrides`` use ``section__option`` keys (``server__port=8700``); None values are
    ignored so CLI flags that were not given leave lower layers alone. Raises ConfigError.
    """
    config = Config()
    environ = os.environ if environ is None else environ
    if path is None and environ.get("OVERCAST_CONFIG"):
        path = environ["OVERCAST_CONFIG"]
    if path is not None:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
        for section, values in document.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{path}: '{section}' must be a [section]")
            _apply(config, section, values, str(path))
    for section in dataclasses.fields(config):
        prefix = f"OVERCAST_{section.name.upper()}_"
        values = {
            key[len(prefix):].lower(): value for key, value in environ.items() if key.startswith(prefix)
        }
        if values:
            _apply(config, section.name, values, "environment")
    for key, value in overrides.items():
        if value is None:
            continue
        section, _, name = key.partition("__")
        _apply(config, section, {name: value}, "command line")
    _check_ranges(config)
    return config


def _check_ranges(config: Config) -> None:
    checks = [
        ("server", "port", 1, 65535),
        ("server", "worker_threads", 2, 256),
        ("identity", "token_expiration", 60, 604800),
        ("identity", "password_hash_rounds", 4, 31),
        ("identity", "max_active_keys", 2, 100),
        ("image", "max_images_per_project", -1, 2**31),
        ("objectstore", "sync_interval", 0.1, 86400),
        ("image", "max_bytes_per_project", -1, 2**53),
        ("image", "max_image_size", 1, 2**53),
        ("image", "web_download_timeout", 1, 86400),
        ("compute", "quota_key_pairs", 0, 100000),
        ("compute", "cpu_allocation_ratio", 0.1, 1000),
        ("compute", "ram_allocation_ratio", 0.1, 1000),
        ("compute", "disk_allocation_ratio", 0.1, 1000),
        ("compute", "reserved_host_memory_mb", 0, 1 << 20),
        ("compute", "fake_vcpus", 1, 100000),
        ("compute", "fake_memory_mb", 1, 1 << 40),
        ("compute", "fake_local_gb", 1, 1 << 40),
        ("compute", "fake_hosts", 1, 64),
        ("compute", "fake_snapshot_seconds", 0, 60),
        ("compute", "fake_live_migration_seconds", 0, 3600),
        ("compute", "qemu_soft_reboot_seconds", 0, 3600),
        ("compute", "qemu_tcg_tb_size_mb", 4, 1024),
        ("compute", "reimage_timeout_per_gb", 1, 3600),
        ("compute", "console_token_ttl", 10, 86400),
        ("network", "default_prefixlen", 8, 30),
        ("network", "vxlan_port", 1, 65535),
        ("network", "dhcp_agents_per_network", 1, 64),
        ("network", "agent_failover_seconds", 15, 86400),
        ("volume", "quota_volumes", -1, 2**31),
        ("volume", "quota_snapshots", -1, 2**31),
        ("volume", "quota_gigabytes", -1, 2**31),
        ("volume", "quota_per_volume_gigabytes", -1, 2**31),
        ("volume", "rbd_max_clone_depth", 0, 100),
    ]
    for section, name, low, high in checks:
        value = getattr(getattr(config, section), name)
        if not low <= value <= high:
            raise ConfigError(f"[{section}] {name}: {value} is outside {low}-{high}")
    if config.network.local_ip:
        import ipaddress

        try:
            ipaddress.ip_address(config.network.local_ip)
        except ValueError:
            raise ConfigError(f"[network] local_ip: {config.network.local_ip!r} is not an IP address") from None
    _check_migration(config.compute)
    if config.compute.qemu_accel not in ("auto", "kvm", "tcg"):
        raise ConfigError(f"[compute] qemu_accel: {config.compute.qemu_accel!r} is not auto, kvm or tcg")


def _check_migration(compute: ComputeConfig) -> None:
    import ipaddress

    if compute.my_ip:
        try:
            ipaddress.ip_address(compute.my_ip)
        except ValueError:
            raise ConfigError(f"[compute] my_ip: {compute.my_ip!r} is not an IP address") from None
    if compute.migration_transport not in ("auto", "local", "tcp"):
        raise ConfigError(f"[compute] migration_transport: {compute.migration_transport!r} is not auto, local or tcp")
    try:
        compute.port_range()
    except ValueError as error:
        raise ConfigError(f"[compute] live_migration_ports: {error}") from None
