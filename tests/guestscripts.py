"""User-data scripts for the test guest (run from its config drive; each output line is
printed as ``OVERCAST-UD <line>`` on its console)."""

from __future__ import annotations

MARK = "GUEST-WROTE-IT"
#: prints vdb's size in sectors whenever it changes; writes MARK at 1 MiB the first time
WATCH_VDB = f"""#!/bin/sh
last=
while true; do
    if [ -e /sys/block/vdb/size ]; then
        s=$(cat /sys/block/vdb/size)
        if [ "$s" != "$last" ]; then
            if [ -z "$last" ]; then
                echo {MARK} | dd of=/dev/vdb bs=512 seek=2048 conv=notrunc,fsync 2>/dev/null
                echo "VDB-READ $(dd if=/dev/vdb bs=512 skip=2048 count=1 2>/dev/null | head -c 14)"
            fi
            echo "VDB-SIZE $s"
            last=$s
        fi
    else
        last=
    fi
    sleep 1
done
"""
