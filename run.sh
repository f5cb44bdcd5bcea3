#!/usr/bin/env bash
# overcast's two commands on a fresh Debian machine:
#   ./run.sh up [overcast up options]   install what is missing, start the all-in-one cloud
#   ./run.sh test [pytest options]      install the test tools, run the test suite (+ Tempest smoke)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=$ROOT/.venv

need_debian() {
  # Debian packages, installed with apt-get only when missing:
  # python3 with venv and pip; qemu-utils (qemu-img reads image formats and sizes);
  # qemu-system-x86 (the qemu compute driver); iproute2, dnsmasq-base and iptables (the
  # linux network driver; conntrack ends the connections a removed rule let in); iputils-ping (tests ping guests); novnc (the pages of the VNC
  # console proxy); what tools/build-test-guest.sh builds the test guest with
  # (busybox-static, cpio, fdisk, dosfstools, mtools, syslinux); tgt (iSCSI exports of volumes,
  # volume.target_helper = tgtadm) and qemu-block-extra (QEMU's iSCSI initiator)
  local missing=() tool
  python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || missing+=(python3 python3-venv python3-pip)
  for tool in ip:iproute2 dnsmasq:dnsmasq-base iptables:iptables conntrack:conntrack ping:iputils-ping qemu-img:qemu-utils qemu-system-x86_64:qemu-system-x86 cpio:cpio sfdisk:fdisk \
      mkfs.fat:dosfstools mcopy:mtools syslinux:syslinux tgtd:tgt; do
    PATH=$PATH:/usr/sbin:/sbin command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
  done
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
  [ -r /usr/lib/syslinux/mbr/mbr.bin ] || missing+=(syslinux-common)
  [ -r /usr/share/novnc/vnc_lite.html ] || missing+=(novnc)
  dpkg-query -W -f='${Status}' qemu-block-extra 2>/dev/null | grep -q 'ok installed' || missing+=(qemu-block-extra)
  # for the tests only: chromium (the browser console test loads noVNC in it)
  [ "${1:-}" = test ] && ! command -v chromium >/dev/null && missing+=(chromium)
  # and a throw-away Ceph cluster (the rbd volume driver's tests, tools/ceph-one-node.sh;
  # qemu-block-extra, above, has QEMU's rbd block driver)
  if [ "${1:-}" = test ]; then
    for tool in ceph-mon:ceph-mon ceph-osd:ceph-osd ceph-mgr:ceph-mgr rbd:ceph-common; do
      PATH=$PATH:/usr/sbin:/sbin command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
    done
  fi
  [ ${#missing[@]} -eq 0 ] && return
  if ! command -v apt-get >/dev/null; then
    echo "overcast needs: ${missing[*]}; install them and retry" >&2
    exit 1
  fi
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

venv() {
  local extras=$1 stamp=$VENV/.installed-$1
  need_debian "$extras"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check -e ".[$extras]"
    touch "$stamp"
  fi
}

cmd=${1:-up}
[ $# -gt 0 ] && shift
case "$cmd" in
  up)
    venv postgres,mysql,client  # client: the openstack CLI the quick start uses
    exec "$VENV/bin/overcast" up "$@"
    ;;
  test)
    venv test
    unset PYTHONDONTWRITEBYTECODE  # cached bytecode: pytest's assert rewriting, every `overcast up`
    status=0
    # Tempest first (against a fresh cloud), so pytest's summary is the last line: identity,
    # image, compute, network, volume and object storage
    if [ "${OVERCAST_SKIP_TEMPEST:-0}" != 1 ] && [ $# -eq 0 ]; then
      # Left out: the one test that logs into its guest over SSH without checking that
      # [validation] run_validation is on (the fake guests have no SSH; it fails in
      # get_server_ip before it rebuilds anything).
      TEMPEST_EXCLUDE=${TEMPEST_EXCLUDE-'ServerActionsV293TestJSON\.test_rebuild_volume_backed_server'} \
      tools/tempest.sh --start \
        '^tempest\.api\.(identity|image|compute|network|volume|object_storage)|^tempest\.serial_tests\.api\.compute' \
        || status=$?
    fi
    # pytest-xdist: OVERCAST_TEST_WORKERS processes (the whole suite: 4 by default, as most
    # tests wait on clouds, guests and subprocesses, not on the 2 cores), each taking whole
    # files, the slowest first, the QEMU and Ceph files in two lanes (tests/conftest.py);
    # 0 (the default when tests are named) runs them in this process
    default_workers=4
    [ $# -gt 0 ] && default_workers=0
    workers=${OVERCAST_TEST_WORKERS:-$default_workers}
    xdist=()
    [ "$workers" != 0 ] && xdist=(-n "$workers" --dist loadscope --no-loadscope-reorder)
    "$VENV/bin/python" -m pytest "${xdist[@]}" "$@" || status=$?
    exit $status
    ;;
  *)
    echo "usage: $0 up [overcast up options] | test [pytest options]" >&2
    exit 2
    ;;
esac
