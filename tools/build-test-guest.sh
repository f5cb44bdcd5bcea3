#!/usr/bin/env bash
# build-test-guest.sh - overcast's tiny test guest, built from Debian packages.
#
# The guest is Debian's kernel (linux-image-amd64) plus an initramfs holding a static
# busybox, the few kernel modules a QEMU guest needs and an /init written below. It
# stands in for cirros in tests and demos: it boots in seconds under TCG and says what
# it does on its serial console in lines starting with "OVERCAST-".
#
# Usage:  tools/build-test-guest.sh [OUTDIR]      (default ~/.cache/overcast/test-guest)
# Env:    FORCE=1       rebuild even when up to date
#         KVER=...      kernel version (default: the newest /boot/vmlinuz-*-amd64 with its
#                       modules, else the one linux-image-amd64 depends on, downloaded
#                       with `apt-get download` and unpacked; no root needed)
# Needs:  busybox-static cpio gzip fdisk dosfstools mtools syslinux syslinux-common
#         qemu-utils (run.sh installs them)
#
# Output in OUTDIR:
#   vmlinuz, initramfs.cpio.gz   direct boot (-kernel/-initrd, AMI-style kernel/ramdisk)
#   disk.qcow2 (and disk.raw)    a bootable disk image: MBR + one FAT16 partition with
#                                SYSLINUX, the kernel and the initramfs. Made without
#                                loop devices or mounts.
#   manifest.txt                 what was built, from which package versions
#
# Console markers (ttyS0):
#   OVERCAST-INIT-START uptime=S      first line of /init
#   OVERCAST-MODULES loaded=N failed=...
#   OVERCAST-BOOTCOUNT n              booted from the disk: a counter kept on its FAT
#                                     partition (persistence across reboots)
#   OVERCAST-CONFIGDRIVE uuid= name=  a config drive (label config-2) was found
#   OVERCAST-NICS eth0 ...            network interfaces seen (or "none")
#   OVERCAST-DHCP bound iface= ip= ...  / OVERCAST-NET-FAIL iface=
#   OVERCAST-METADATA instance-id= / hostname= / uuid=   from http://169.254.169.254
#   OVERCAST-PUBKEY <key>             public-keys/0/openssh-key
#   OVERCAST-USERDATA bytes=N         user data; a "#!" script is run and each line it
#                                     prints comes back as "OVERCAST-UD <line>"
#   OVERCAST-READY uptime=S hostname= boot finished; httpd on TCP :80 serves the
#                                     instance id
#   OVERCAST-DISKS ..., OVERCAST-DISK-ADD vdb size_kb= head=..., OVERCAST-NIC-ADD eth1
#   OVERCAST-POWEROFF                 ACPI power button (QMP system_powerdown)
#
# Kernel command line knobs (direct boot): overcast.md=http://IP[:PORT] (metadata URL),
# overcast.net=none (no DHCP), overcast.mdtries=N (metadata attempts, 1 s apart).
#
# Idempotent: OUTDIR/.stamp hashes this script and the inputs; a re-run with nothing
# changed only prints the manifest.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

OUT=$(realpath -m "${1:-${OVERCAST_GUEST_DIR:-$HOME/.cache/overcast/test-guest}}")
SELF=$(realpath "$0")
CACHE="$OUT/.cache"
mkdir -p "$OUT" "$CACHE"
START=$(date +%s.%N)
say() { echo "[build-test-guest] $*" >&2; }
die() { say "error: $*"; exit 1; }

missing=()
for tool in cpio gzip sfdisk mkfs.fat mcopy syslinux qemu-img; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
[ -r /usr/lib/syslinux/mbr/mbr.bin ] || missing+=("syslinux-common (mbr.bin)")
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]} (apt-get install busybox-static cpio fdisk dosfstools mtools syslinux syslinux-common qemu-utils)"

# unpack PKG: a Debian package extracted into $CACHE/PKG without installing it
unpack() {
    local pkg=$1 dir="$CACHE/$1"
    if [ ! -e "$dir/.done" ]; then
        rm -rf "$dir" && mkdir -p "$dir"
        (cd "$CACHE" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
        dpkg-deb -x "$CACHE/$pkg"_*.deb "$dir"
        rm -f "$CACHE/$pkg"_*.deb
        touch "$dir/.done"
    fi
    echo "$dir"
}

# -- kernel: an installed one with its modules, else the package unpacked -----------------
if [ -z "${KVER:-}" ]; then
    for k in $(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -rV); do
        [ -d "/lib/modules/$k/kernel" ] && { KVER=$k; break; }
    done
fi
if [ -n "${KVER:-}" ] && [ -r "/boot/vmlinuz-$KVER" ] && [ -d "/lib/modules/$KVER/kernel" ]; then
    KROOT=
    KPKG=$(dpkg-query -W -f='${Version}' "linux-image-$KVER" 2>/dev/null || echo installed)
else
    [ -n "${KVER:-}" ] || KVER=$(apt-cache depends linux-image-amd64 2>/dev/null \
        | sed -n 's/.*Depends: linux-image-\(.*-amd64\)$/\1/p' | head -1)
    [ -n "$KVER" ] || die "no Debian kernel found (apt-cache depends linux-image-amd64 is empty)"
    KROOT=$(unpack "linux-image-$KVER")
    KPKG=unpacked
fi
VMLINUZ="$KROOT/boot/vmlinuz-$KVER"
MODDIR="$KROOT/lib/modules/$KVER"
[ -r "$VMLINUZ" ] || die "no kernel at $VMLINUZ"
# an unpacked package has no modules.dep (depmod writes it at install): make the same
# "path: dep-path ..." lines from each module's own "depends=" field
MODDEP="$MODDIR/modules.dep"
if [ ! -f "$MODDEP" ]; then
    MODDEP="$CACHE/modules.dep.$KVER"
    if [ ! -s "$MODDEP" ]; then
        declare -A BYNAME=()
        while read -r ko; do
            n=$(basename "$ko" .ko); BYNAME[${n//-/_}]=${ko#"$MODDIR/"}
        done < <(find "$MODDIR/kernel" -name '*.ko')
        for n in "${!BYNAME[@]}"; do
            deps=$(tr '\0' '\n' < "$MODDIR/${BYNAME[$n]}" | sed -n 's/^depends=//p' | head -1 | tr ',' ' ')
            line="${BYNAME[$n]}:"
            for d in $deps; do line="$line ${BYNAME[${d//-/_}]:-}"; done
            echo "$line"
        done > "$MODDEP.tmp"
        mv "$MODDEP.tmp" "$MODDEP"
    fi
fi

# -- busybox: the static one from busybox-static ------------------------------------------
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
    BUSYBOX=/bin/busybox
    BBVER=$(dpkg-query -W -f='${Version}' busybox-static)
else
    BUSYBOX="$(unpack busybox-static)/bin/busybox"
    BBVER=unpacked
fi

STAMP=$({ sha256sum "$SELF"; echo "$KVER $KPKG $BBVER"; sha256sum "$VMLINUZ" "$BUSYBOX"; } | sha256sum | cut -c1-16)
if [ -z "${FORCE:-}" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$STAMP" ] && [ -f "$OUT/disk.qcow2" ]; then
    say "up to date ($OUT)"
    cat "$OUT/manifest.txt"
    exit 0
fi
rm -f "$OUT/.stamp"

# -- modules: what the guest needs, dependencies first (from modules.dep) -------------------
WANT="virtio_pci virtio_net virtio_blk virtio_scsi sd_mod sr_mod ata_piix e1000 isofs vfat \
      nls_cp437 nls_ascii nls_utf8 button evdev virtio_rng"
declare -A KO=() DEPS=() DONE=()
while IFS=: read -r path deps; do
    name=$(basename "$path" .ko); name=${name//-/_}
    KO[$name]=$path; DEPS[$name]=$deps
done < "$MODDEP"
ORDER=()
add_module() {
    local name=${1//-/_} dep
    [ -n "${DONE[$name]:-}" ] && return 0
    DONE[$name]=1
    [ -n "${KO[$name]:-}" ] || return 0   # built into the kernel
    for dep in ${DEPS[$name]}; do add_module "$(basename "$dep" .ko)"; done
    ORDER+=("$name")
}
for m in $WANT; do add_module "$m"; done

# -- the initramfs tree ----------------------------------------------------------------------
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R="$WORK/root"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc/acpi/PWRF,proc,sys,dev,run,tmp,mnt,www,root,var/log,lib/modules}
cp "$BUSYBOX" "$R/bin/busybox"
for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$R/bin/$applet"
done
for m in "${ORDER[@]}"; do
    cp "$MODDIR/${KO[$m]}" "$R/lib/modules/$m.ko"
    echo "$m"
done > "$R/lib/modules/order"

# udhcpc's hook: address, MTU, routes (option 121 too: the way a DHCP server points
# 169.254.169.254 at the metadata proxy), DNS and hostname.
cat > "$R/etc/udhcpc.sh" <<'EOF'
#!/bin/sh
case "$1" in
deconfig)
    ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
    [ "$1" = bound ] && ip -4 addr flush dev "$interface"
    ip addr replace "$ip/${mask:-24}" dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    set -- $staticroutes
    while [ $# -ge 2 ]; do
        if [ "$2" = 0.0.0.0 ]; then ip route replace "$1" dev "$interface"
        else ip route replace "$1" via "$2" dev "$interface"; fi
        shift 2
    done
    [ -n "$router" ] && ! ip route | grep -q '^default' && ip route add default via "${router%% *}" dev "$interface"
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    [ -n "$hostname" ] && hostname "$hostname"
    echo "OVERCAST-DHCP bound iface=$interface ip=$ip mask=$mask router=$router mtu=$mtu routes=$staticroutes" > /dev/console ;;
esac
exit 0
EOF

# the ACPI power button powers the guest off cleanly
cat > "$R/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
echo OVERCAST-POWEROFF > /dev/console
sync
poweroff -f
EOF

cat > "$R/init" <<'EOF'
#!/bin/sh
# overcast test guest: PID 1 (busybox sh); never exits
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc; mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp
mark() { echo "OVERCAST-$*"; }
# busybox 1.35's "wget -T" crashes when the connection fails: bound it with timeout
get() { timeout 5 wget -q -O - "$1" 2>/dev/null; }
mark "INIT-START uptime=$(cut -d' ' -f1 /proc/uptime)"
# the first "KEY": "value" of a JSON document on stdin (the top level comes first)
field() { grep -o "\"$1\": *\"[^\"]*\"" | head -1 | sed 's/.*: *"\(.*\)"/\1/'; }

MD=http://169.254.169.254 NET=dhcp TRIES=10
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        overcast.md=*) MD=${arg#*=} ;;
        overcast.net=*) NET=${arg#*=} ;;
        overcast.mdtries=*) TRIES=${arg#*=} ;;
    esac
done

n=0 failed=
for m in $(cat /lib/modules/order); do
    if insmod "/lib/modules/$m.ko" 2>/dev/null; then n=$((n+1)); else failed="$failed $m"; fi
done
mark "MODULES loaded=$n failed=${failed:-none}"
echo 1 > /proc/sys/kernel/printk
mdev -s
acpid -c /etc/acpi -l /var/log/acpid.log
ip link set lo up
hostname overcast-guest

# the boot disk's FAT partition (label OVERCAST) keeps a boot counter
sleep 0.3
part=$(findfs LABEL=OVERCAST 2>/dev/null || true)
if [ -n "$part" ] && mkdir -p /mnt/boot && mount -t vfat "$part" /mnt/boot 2>/dev/null; then
    count=$(( $(cat /mnt/boot/bootcount 2>/dev/null || echo 0) + 1 ))
    echo "$count" > /mnt/boot/bootcount
    umount /mnt/boot
    # vfat sends no flush on sync(2); an fsync of the whole disk does
    sync "$(echo "$part" | sed 's/p\?[0-9]*$//')"
    mark "BOOTCOUNT $count dev=$part"
fi

# an OpenStack config drive (iso9660 or vfat labelled config-2)
cd_dev=$(findfs LABEL=config-2 2>/dev/null || findfs LABEL=CONFIG-2 2>/dev/null || true)
if [ -n "$cd_dev" ] && mkdir -p /mnt/config && mount -o ro "$cd_dev" /mnt/config 2>/dev/null; then
    md=/mnt/config/openstack/latest/meta_data.json
    mark "CONFIGDRIVE uuid=$(field uuid < "$md") name=$(field name < "$md")"
    [ -f /mnt/config/openstack/latest/user_data ] && cp /mnt/config/openstack/latest/user_data /run/user-data.cd
fi

dhcp() {
    ip link set "$1" up
    udhcpc -i "$1" -s /etc/udhcpc.sh -t 6 -T 2 -A 3 -b -O staticroutes -O mtu -x hostname:overcast-guest \
        -p "/run/udhcpc.$1.pid" >/dev/null 2>&1 || mark "NET-FAIL iface=$1"
}
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.2; done
nics=$(ls /sys/class/net | grep -v '^lo$' | tr '\n' ' ')
mark "NICS ${nics:-none}"
[ "$NET" = dhcp ] && for nic in $nics; do dhcp "$nic"; done

# the metadata service: EC2 paths, then the OpenStack document
if [ "$NET" != none ] && [ -n "$nics" ]; then
    iid= i=0
    while [ $i -lt "$TRIES" ]; do
        iid=$(get "$MD/latest/meta-data/instance-id") && [ -n "$iid" ] && break
        i=$((i+1)); sleep 1
    done
    if [ -n "$iid" ]; then
        mark "METADATA instance-id=$iid"
        echo "$iid" > /run/instance-id
        h=$(get "$MD/latest/meta-data/hostname") && [ -n "$h" ] && { hostname "${h%%.*}"; mark "METADATA hostname=$h"; }
        u=$(get "$MD/openstack/latest/meta_data.json" | field uuid)
        [ -n "$u" ] && mark "METADATA uuid=$u"
        key=$(get "$MD/latest/meta-data/public-keys/0/openssh-key") && [ -n "$key" ] && mark "PUBKEY $key"
        get "$MD/latest/user-data" > /run/user-data && [ -s /run/user-data ] || rm -f /run/user-data
    else
        mark "METADATA-FAIL url=$MD"
    fi
fi
[ -f /run/user-data ] || { [ -f /run/user-data.cd ] && mv /run/user-data.cd /run/user-data; }

# TCP :80 answers with the instance id (floating IP and security group tests)
{ cat /run/instance-id 2>/dev/null || hostname; } > /www/index.html
httpd -p 80 -h /www

if [ -f /run/user-data ]; then
    mark "USERDATA bytes=$(wc -c < /run/user-data)"
    if [ "$(head -c 2 /run/user-data)" = "#!" ]; then
        chmod +x /run/user-data
        ( /run/user-data 2>&1 | while IFS= read -r line; do echo "OVERCAST-UD $line"; done; mark UD-EXIT ) &
    fi
fi
# a root shell on ttyS1 when QEMU gives the guest a second serial port
if grep -q '^1: uart:16550A' /proc/tty/driver/serial 2>/dev/null; then
    ( while true; do setsid sh -c 'exec sh -i </dev/ttyS1 >/dev/ttyS1 2>&1'; sleep 1; done ) &
    mark "SHELL ttyS1"
fi
mark "READY uptime=$(cut -d' ' -f1 /proc/uptime) hostname=$(hostname)"

# report disks and NICs that come and go (volume and interface hot-plug)
disks=- 
while true; do
    now=$(awk 'NR>2 && $4 != "" {print $4}' /proc/partitions | tr '\n' ' ')
    if [ "$now" != "$disks" ]; then
        mark "DISKS $now"
        for d in $now; do
            case " $disks " in *" $d "*) ;; *)
                [ "$disks" != - ] && mark "DISK-ADD $d size_kb=$(awk -v d="$d" '$4 == d {print $3}' /proc/partitions) head=$(dd if="/dev/$d" bs=32 count=1 2>/dev/null | tr -cd 'A-Za-z0-9 ._:=-')" ;;
            esac
        done
        disks=$now
    fi
    now=$(ls /sys/class/net | grep -v '^lo$' | tr '\n' ' ')
    if [ "$now" != "$nics" ]; then
        for n in $now; do
            case " $nics " in *" $n "*) ;; *) mark "NIC-ADD $n"; [ "$NET" = dhcp ] && dhcp "$n" & ;; esac
        done
        nics=$now
    fi
    sleep 1
done
EOF
chmod 755 "$R/init" "$R/etc/udhcpc.sh" "$R/etc/acpi/PWRF/00000080"
echo "root::0:0:root:/root:/bin/sh" > "$R/etc/passwd"
echo "root:x:0:" > "$R/etc/group"

# cpio (newc, owners forced to root so a non-root build works) + gzip
(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 -n > "$WORK/initramfs.cpio.gz"
CMDLINE="console=ttyS0,115200 panic=-1 quiet"

# -- the disk: MBR + FAT16 partition at 1 MiB with SYSLINUX, kernel and initramfs --------
# Debian's "syslinux" installs into an image file through mtools, so no loop device.
DISK="$WORK/disk.raw"
SIZE_MB=64 OFFSET=$((2048 * 512))
truncate -s ${SIZE_MB}M "$DISK"
printf 'label: dos\nstart=2048, type=e, bootable\n' | sfdisk -q "$DISK" >/dev/null
mkfs.fat -F 16 -n OVERCAST --offset 2048 "$DISK" $(( (SIZE_MB * 1048576 - OFFSET) / 1024 )) >/dev/null
cat > "$WORK/syslinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT overcast
PROMPT 0
TIMEOUT 1
LABEL overcast
  LINUX /vmlinuz
  INITRD /initrd.gz
  APPEND $CMDLINE
EOF
export MTOOLS_SKIP_CHECK=1
mcopy -o -i "$DISK@@$OFFSET" "$VMLINUZ" ::/vmlinuz
mcopy -o -i "$DISK@@$OFFSET" "$WORK/initramfs.cpio.gz" ::/initrd.gz
mcopy -o -i "$DISK@@$OFFSET" "$WORK/syslinux.cfg" ::/syslinux.cfg
syslinux --install --offset $OFFSET "$DISK"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$DISK" bs=440 count=1 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$DISK" "$WORK/disk.qcow2"

cp "$VMLINUZ" "$WORK/vmlinuz"
echo "$CMDLINE" > "$WORK/cmdline"
for f in vmlinuz initramfs.cpio.gz cmdline disk.raw disk.qcow2; do mv "$WORK/$f" "$OUT/$f"; done
{
    echo "overcast test guest, built $(date -u +%FT%TZ)"
    echo "kernel:  linux-image-$KVER ($KPKG)"
    echo "busybox: busybox-static $BBVER"
    echo "modules: ${ORDER[*]}"
    echo "cmdline: $CMDLINE"
    for f in vmlinuz initramfs.cpio.gz disk.raw disk.qcow2; do
        printf '  %-18s %7s KiB\n' "$f" $(( $(stat -c %s "$OUT/$f") / 1024 ))
    done
} > "$OUT/manifest.txt"
echo "$STAMP" > "$OUT/.stamp"
cat "$OUT/manifest.txt"
say "built in $(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s -> $OUT"
