#!/usr/bin/env bash
# Run Tempest 47.0.0 against overcast.
#
#   tools/tempest.sh [--start] [-v] [REGEX]
#
#   REGEX    stestr/tempest test regex (default: the identity smoke tests,
#            '^tempest\.api\.identity\..*\[.*\bsmoke\b.*\]'); e.g. 'tempest.api.identity'
#   --start  start a private `overcast up` (temp data dir, free port) and stop it at the end;
#            otherwise use the running cloud from OS_AUTH_URL/OS_* or $OVERCAST_DATA_DIR
#            (default ~/.local/share/overcast). The private cloud hashes passwords with bcrypt
#            cost 4 instead of 12 (~7x faster runs; Tempest creates ~90 users and ~150
#            password tokens for the identity tests) unless $OVERCAST_CONFIG names a config.
#   -v       stream Tempest's own output (it always goes to .tempest/workspace/last-run.log)
#
# Tempest lives in .tempest/venv (created once), the workspace in .tempest/workspace; the
# HTTP exchanges are in .tempest/workspace/logs/tempest.log. The last line printed is
#   tempest: N passed, N failed, N skipped
# followed by the failed test ids. Exit status: 0 all passed, 1 a test failed, 2 setup error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TDIR=$ROOT/.tempest
VENV=$TDIR/venv
WS=${TEMPEST_WORKSPACE:-$TDIR/workspace}  # another path lets two runs go side by side
TEMPEST_PIN=${TEMPEST_PIN:-tempest==47.0.0}
OVERCAST=${OVERCAST:-$ROOT/.venv/bin/overcast}
DEFAULT_REGEX='^tempest\.api\.identity\..*\[.*\bsmoke\b.*\]'

START=0
VERBOSE=0
REGEX=
while [ $# -gt 0 ]; do
    case $1 in
        --start) START=1 ;;
        -v|--verbose) VERBOSE=1 ;;
        -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "tempest.sh: unknown option $1" >&2; exit 2 ;;
        *) [ -z "$REGEX" ] || { echo "tempest.sh: one REGEX only" >&2; exit 2; }; REGEX=$1 ;;
    esac
    shift
done
REGEX=${REGEX:-$DEFAULT_REGEX}
# TEMPEST_EXCLUDE: tests to leave out (a regex), e.g. ones that need a service not built yet
EXCLUDE_ARGS=()
[ -n "${TEMPEST_EXCLUDE:-}" ] && EXCLUDE_ARGS=(--exclude-regex "$TEMPEST_EXCLUDE")
SECONDS=0

# 1. Tempest's own venv, created once and reused while the pin is unchanged.
mkdir -p "$TDIR"
if [ ! -x "$VENV/bin/tempest" ] || [ "$(cat "$VENV/.pin" 2>/dev/null)" != "$TEMPEST_PIN stestr" ]; then
    echo "tempest.sh: installing $TEMPEST_PIN + stestr into $VENV ..."
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "$TEMPEST_PIN" stestr >"$TDIR/install.log" 2>&1 \
        || { echo "tempest.sh: pip install failed, see $TDIR/install.log" >&2; exit 2; }
    echo "$TEMPEST_PIN stestr" >"$VENV/.pin"
fi
PY=$VENV/bin/python

# 2. The cloud: our own (--start) or the one described by the environment / data dir.
OVERCAST_PID=
FILES_PID=
cleanup() {
    if [ -n "$FILES_PID" ]; then kill "$FILES_PID" 2>/dev/null || true; fi
    if [ -n "$OVERCAST_PID" ] && kill -0 "$OVERCAST_PID" 2>/dev/null; then
        kill -TERM "$OVERCAST_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$OVERCAST_PID" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$OVERCAST_PID" 2>/dev/null && kill -KILL "$OVERCAST_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CONF_SET=()
if [ "$START" = 1 ]; then
    DATA=$(mktemp -d "${TMPDIR:-/tmp}/overcast-tempest.XXXXXX")
    PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if [ -z "${OVERCAST_CONFIG:-}" ]; then
        printf '[identity]\npassword_hash_rounds = 4\n' >"$DATA/tempest-overcast.toml"
        export OVERCAST_CONFIG=$DATA/tempest-overcast.toml
    fi
    # container sync: realm1 with this cloud as its cluster name1 (Tempest's defaults), a
    # round every second
    printf '[realm1]\nkey = tempest-realm-key\ncluster_name1 = http://127.0.0.1:%s/swift/v1/\n' "$PORT" \
        >"$DATA/container-sync-realms.conf"
    # Tempest makes hundreds of servers and networks: they run on the fake drivers unless
    # asked (TEMPEST_COMPUTE_DRIVER=qemu boots real guests, far slower; TEMPEST_NETWORK_DRIVER=linux
    # plumbs every network on the host). TEMPEST_FAKE_HOSTS fake compute hosts (default 2)
    # let the migration and multinode tests run. A fake snapshot takes a second, as a small
    # real disk's copy does: Tempest asks for a second image while the first is being saved
    # and expects 409, which an instant snapshot would race.
    OVERCAST_COMPUTE_FAKE_SNAPSHOT_SECONDS=${TEMPEST_FAKE_SNAPSHOT_SECONDS:-1} \
    OVERCAST_COMPUTE_DRIVER=${TEMPEST_COMPUTE_DRIVER:-fake} OVERCAST_NETWORK_DRIVER=${TEMPEST_NETWORK_DRIVER:-fake} \
    OVERCAST_COMPUTE_FAKE_HOSTS=${TEMPEST_FAKE_HOSTS:-2} \
    OVERCAST_OBJECTSTORE_SYNC_REALMS=$DATA/container-sync-realms.conf OVERCAST_OBJECTSTORE_SYNC_INTERVAL=1 \
    OVERCAST_OBJECTSTORE_SYNC_CURRENT=//realm1/name1 \
        "$OVERCAST" up --data-dir "$DATA" --port "$PORT" >"$DATA/overcast.log" 2>&1 &
    OVERCAST_PID=$!
    URL=http://127.0.0.1:$PORT/identity/v3
    for _ in $(seq 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL" || true)" = 200 ] && break
        kill -0 "$OVERCAST_PID" 2>/dev/null || { echo "tempest.sh: overcast died:" >&2; tail -20 "$DATA/overcast.log" >&2; exit 2; }
        sleep 0.2
    done
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL" || true)" = 200 ] \
        || { echo "tempest.sh: $URL never answered 200" >&2; exit 2; }
    echo "tempest.sh: overcast up on port $PORT (pid $OVERCAST_PID, data $DATA, log $DATA/overcast.log) after ${SECONDS}s"
    for v in $(env | sed -n 's/^\(OS_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
    export OVERCAST_DATA_DIR=$DATA
    # a loopback web server with a small qcow2, for the web-download import tests
    mkdir -p "$DATA/www"
    qemu-img create -q -f qcow2 "$DATA/www/tempest.qcow2" 16M
    FILES_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$PY" -m http.server --bind 127.0.0.1 --directory "$DATA/www" "$FILES_PORT" >"$DATA/www.log" 2>&1 &
    FILES_PID=$!
    CONF_SET+=(--set "image.http_qcow2_image=http://127.0.0.1:$FILES_PORT/tempest.qcow2"
               --set "image.http_image=http://127.0.0.1:$FILES_PORT/tempest.qcow2")
fi

# 3. Workspace and tempest.conf.
if [ ! -f "$WS/.stestr.conf" ]; then
    rm -rf "$WS"
    "$VENV/bin/tempest" init --workspace-path "$WS.yaml" "$WS" >/dev/null
fi
"$PY" "$ROOT/tools/tempest_conf.py" --workspace "$WS" "${CONF_SET[@]}" || exit 2
mkdir -p "$WS/logs"
: >"$WS/logs/tempest.log"

# 4. Run.
echo "tempest.sh: tempest run --regex '$REGEX' --concurrency 2"
cd "$WS"
BEFORE=$(cat .stestr/next-stream 2>/dev/null || echo 0)
set +e
if [ "$VERBOSE" = 1 ]; then
    "$VENV/bin/tempest" run --regex "$REGEX" "${EXCLUDE_ARGS[@]}" --concurrency 2 2>&1 | tee "$WS/last-run.log"
else
    "$VENV/bin/tempest" run --regex "$REGEX" "${EXCLUDE_ARGS[@]}" --concurrency 2 >"$WS/last-run.log" 2>&1
fi
set -e

# 5. Summary from the last stestr run's subunit stream. A class whose setUpClass failed
#    (or skipped) counts each of its selected tests as failed (skipped), so the totals
#    always add up to the number of selected tests.
rm -f "$WS/.summary"
if [ "$(cat .stestr/next-stream 2>/dev/null || echo 0)" = "$BEFORE" ]; then
    echo "tempest.sh: tempest recorded no run; its output:" >&2; tail -30 "$WS/last-run.log" >&2
    echo "tempest: 0 passed, 0 failed, 0 skipped"; exit 2
fi
"$VENV/bin/stestr" list "${EXCLUDE_ARGS[@]}" "$REGEX" >"$WS/.selected" 2>/dev/null || true
"$VENV/bin/stestr" last --subunit 2>/dev/null | "$PY" -c '
import re, sys, subunit, testtools
status, fixture = {}, {}
def record(test):
    if test["status"] in ("inprogress", "exists"):
        return
    match = re.match(r"(setUpClass|tearDownClass) \((.*)\)$", test["id"])
    if match:
        fixture[match.group(2)] = (match.group(1), test["status"])
    else:
        status[re.sub(r"\[.*\]$", "", test["id"])] = test["status"]
result = testtools.StreamToDict(record)
result.startTestRun()
subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout").run(result)
result.stopTestRun()
selected = [re.sub(r"\[.*\]$", "", line.strip()) for line in open(".selected") if line.startswith("tempest.")]
passed, failed, skipped = [], [], []
for test in dict.fromkeys(selected + list(status)):
    state, why = status.get(test), ""
    if state is None or state == "success":
        kind, fstate = fixture.get(test.rpartition(".")[0], ("", ""))
        if fstate in ("fail", "skip"):
            state, why = fstate, f"  ({kind})"
        elif state is None:
            state, why = "fail", "  (did not run)"
    if state in ("success", "xfail"):
        passed.append(test)
    elif state == "skip":
        skipped.append(test)
    else:
        failed.append(test + why)
for cls, (kind, fstate) in fixture.items():
    if fstate == "fail" and not any(t.startswith(cls + ".") for t in selected):
        failed.append(f"{kind} ({cls})")
lines = [f"tempest: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped"]
lines += [f"  FAILED {test}" for test in sorted(failed)]
open(".summary", "w").write(f"{len(passed)} {len(failed)}\n" + "\n".join(lines) + "\n")
'
read -r NPASS NFAIL <"$WS/.summary" || { NPASS=0; NFAIL=0; echo "0 0" >"$WS/.summary"; }
if [ "$START" = 1 ]; then
    if [ "$NFAIL" = 0 ]; then cleanup; rm -rf "$DATA"; else echo "tempest.sh: server log kept in $DATA/overcast.log"; fi
fi
echo "tempest.sh: ${SECONDS}s wall; details in $WS/last-run.log, HTTP log in $WS/logs/tempest.log"
tail -n +2 "$WS/.summary"
if [ "$NFAIL" != 0 ]; then exit 1; fi
if [ "$NPASS" = 0 ]; then echo "tempest.sh: no test passed (does the regex match anything?)" >&2; exit 1; fi
exit 0
