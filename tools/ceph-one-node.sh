#!/usr/bin/env bash
# tools/ceph-one-node.sh: a throw-away Ceph cluster on this machine, for tests and trials.
#
# One monitor, one manager and one BlueStore OSD whose block device is a sparse file, all
# bound to 127.0.0.1 and kept in one directory (config, keyring, data, logs, pid files).
# Debian 12's Ceph 16.2 reaches HEALTH_OK with every PG active+clean in about 6 s.
#
#   tools/ceph-one-node.sh start DIR   # make the cluster if DIR is empty, start it, wait until healthy
#   tools/ceph-one-node.sh stop  DIR   # stop its daemons (by their pid files), OSD first
#   tools/ceph-one-node.sh purge DIR   # SIGKILL its daemons and delete DIR
#
# Clients use DIR/ceph.conf (it names DIR/keyring, which holds client.admin).
# Settings (read when DIR is made):
#   CEPH_PORT   monitor port, v1 (default 16789); v2 is +1, the daemons take +10..+99
#   CEPH_POOLS  pools to make with the rbd application (default "volumes")
#   CEPH_OSD_GB size of the OSD's sparse file in GiB (default 20)
# Needs root and: apt-get install ceph-mon ceph-osd ceph-mgr ceph-common (./run.sh test does).
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
conf=$dir/ceph.conf
export CEPH_CONF=$conf
port=${CEPH_PORT:-16789}
pools=${CEPH_POOLS:-volumes}
osd_gb=${CEPH_OSD_GB:-20}

say() { echo "ceph-one-node: $*" >&2; }
client() { timeout 30 ceph --connect-timeout 10 "$@"; }

# A daemon counts as running while its pid is alive and not a zombie (daemons fork away
# from us, and a zombie lingers until whoever adopted it reaps it).
running() { [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
daemon_pid() { local file=$dir/run/ceph-$1.pid; [[ -s $file ]] && running "$(<"$file")" && cat "$file"; }

retry() { # retry SECONDS COMMAND...: run COMMAND until it succeeds or SECONDS pass
  local until=$((SECONDS + $1)); shift
  while ! "$@" >/dev/null 2>&1; do
    if ((SECONDS >= until)); then say "gave up waiting for: $*"; return 1; fi
    sleep 0.3
  done
}

make_conf() {
  cat >"$conf" <<EOF
[global]
fsid = $(uuidgen)
mon host = [v2:127.0.0.1:$((port + 1)),v1:127.0.0.1:$port]
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
ms bind port min = $((port + 10))
ms bind port max = $((port + 99))
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $dir/keyring
run dir = $dir/run
pid file = $dir/run/\$cluster-\$name.pid
log file = $dir/log/\$cluster-\$name.log
crash dir = $dir/crash
# a single copy of everything on the single OSD
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon allow pool delete = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
# nobody else reports a dead OSD: the monitor marks a silent one down after 20 s
mon osd report timeout = 20
osd beacon report interval = 5
# small memory: no cache autotuning, a 64 MiB BlueStore cache
bluestore cache autotune = false
bluestore cache size = 67108864
osd memory target = 939524096
osd op num shards = 1
osd op num threads per shard = 2
# layering, exclusive-lock, object-map, fast-diff, deep-flatten
rbd default features = 61
mgr initial modules = iostat
mgr stats period = 1
mon mgr digest period = 1

[mon]
mon data = $dir/mon/\$cluster-\$id
mon cluster log file = $dir/log/\$cluster.log
admin socket = $dir/run/\$cluster-\$name.asok
# map changes (pools, snapshots, OSD boot) commit after 50 ms instead of 1 s
paxos propose interval = 0.05
paxos min wait = 0.01

[mgr]
mgr data = $dir/mgr/\$cluster-\$id
admin socket = $dir/run/\$cluster-\$name.asok

[osd]
osd data = $dir/osd/\$cluster-\$id
admin socket = $dir/run/\$cluster-\$name.asok
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $((osd_gb << 30))
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mount = false

[client]
# short-lived clients (rbd, qemu-img, QEMU guests) would fight over one socket path
admin socket =
EOF
}

make_cluster() {
  say "making a cluster in $dir"
  mkdir -p "$dir"/{run,log,crash,mon,mgr/ceph-x,osd/ceph-0}
  make_conf
  local keyring=$dir/keyring
  {
    ceph-authtool --create-keyring "$keyring" --gen-key -n mon. --cap mon 'allow *'
    ceph-authtool "$keyring" --gen-key -n client.admin \
      --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *'
    ceph-authtool "$keyring" --gen-key -n mgr.x --cap mon 'allow profile mgr' --cap osd 'allow *'
    ceph-authtool "$keyring" --gen-key -n osd.0 \
      --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd'
  } >/dev/null
  monmaptool --create --fsid "$(ceph-conf --lookup fsid)" \
    --addv a "[v2:127.0.0.1:$((port + 1)),v1:127.0.0.1:$port]" "$dir/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$keyring"
  touch "$dir/made"
}

make_osd() {
  [[ -e $dir/osd/ceph-0/made ]] && return 0
  local uuid; uuid=$(uuidgen)
  [[ $(client osd new "$uuid" 0) == 0 ]] || { say "the monitor did not give OSD id 0"; return 1; }
  ceph-osd -i 0 --mkfs --osd-uuid "$uuid" >>"$dir/log/osd-mkfs.log" 2>&1 ||
    { say "ceph-osd --mkfs failed: see $dir/log/osd-mkfs.log"; return 1; }
  touch "$dir/osd/ceph-0/made"
}

osd_up() { client osd stat -f json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["num_up_osds"] != 1)'; }

clean() { # HEALTH_OK alone is not enough: PGs read "unknown" for a while after the OSD boots
  client health | grep -q HEALTH_OK || return 1
  local pools_json pgs_json
  pools_json=$(client osd pool ls detail -f json)
  pgs_json=$(client pg stat -f json)
  python3 - "$pools_json" "$pgs_json" <<'EOF'
import json, sys
pools, pgs = json.loads(sys.argv[1]), json.loads(sys.argv[2])["pg_summary"]
want = sum(pool["pg_num"] for pool in pools)
ok = pgs["num_pgs"] == want and all(s["name"] == "active+clean" for s in pgs["num_pg_by_state"])
sys.exit(0 if ok else 1)
EOF
}

start() {
  [[ -e $dir/made ]] || make_cluster
  daemon_pid mon.a >/dev/null || ceph-mon -i a
  retry 30 client mon stat
  daemon_pid mgr.x >/dev/null || ceph-mgr -i x
  make_osd
  daemon_pid osd.0 >/dev/null || ceph-osd -i 0
  retry 60 osd_up
  local pool
  for pool in $pools; do
    if ! client osd pool ls | grep -qx "$pool"; then
      client osd pool create "$pool" 8 8 >/dev/null 2>&1
      client osd pool application enable "$pool" rbd >/dev/null 2>&1
    fi
  done
  retry 120 clean || { client -s >&2; return 1; }
  say "healthy: $conf"
}

stop() { # the OSD first (it says goodbye to the monitor), then the manager, then the monitor
  local name pid
  for name in osd.0 mgr.x mon.a; do
    pid=$(daemon_pid "$name") || continue
    kill -TERM "$pid"
    for _ in $(seq 100); do running "$pid" || break; sleep 0.1; done
    running "$pid" && kill -KILL "$pid"
    rm -f "$dir/run/ceph-$name.pid"
  done
  return 0
}

purge() {
  local name pid
  for name in osd.0 mgr.x mon.a; do
    pid=$(daemon_pid "$name") && kill -KILL "$pid"
  done
  rm -rf -- "$dir"
}

case $action in
  start) start ;;
  stop) stop ;;
  purge) purge ;;
  *) usage ;;
esac
