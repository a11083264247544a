#!/usr/bin/env bash
# tinyhost and Node-RED 4 side by side on the same flow (README.md beside this file):
# installs Node-RED into a temporary folder, builds tinyhost in release, runs both on N
# messages, prints msgs/s, the ratio tinyhost/Node-RED and every sink's count, and fails
# when a sink did not receive what it should.
#
#   benches/node-red/compare.sh                  # 100000 messages
#   benches/node-red/compare.sh --quick          # 1000 messages (a smoke run)
#   MESSAGES=20000 TINYHOST=target/release/tinyhost benches/node-red/compare.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=common.sh
. "$here/common.sh"

usage() {
    cat <<'EOF'
usage: compare.sh [--quick] [--messages N] [--warmup N] [--window N]

  --quick        1000 messages and 100 warm-up messages: checks that everything runs
  --messages N   messages to measure (env MESSAGES, default 100000)
  --warmup N     messages sent first and not measured, by both engines
                 (env WARMUP, default 10000, 100 with --quick)
  --window N     Node-RED: messages in flight at most (env WINDOW, default 100)

env TINYHOST=path: use this tinyhost binary instead of building it (cargo build --release)
EOF
}

messages="${MESSAGES:-100000}"
warmup="${WARMUP:-}"
window="${WINDOW:-100}"
quick=0
while (($# > 0)); do
    case "$1" in
    --quick) quick=1 ;;
    --messages | --warmup | --window)
        (($# >= 2)) || die "$1 needs a value"
        declare "${1#--}=$2"
        shift
        ;;
    --messages=* | --warmup=* | --window=*)
        name="${1%%=*}"
        declare "${name#--}=${1#*=}"
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        die "unknown argument '$1'"
        ;;
    esac
    shift
done
if ((quick)); then
    messages=1000
    warmup="${warmup:-100}"
fi
warmup="${warmup:-10000}"
[[ "$messages" =~ ^[1-9][0-9]*$ ]] || die "the number of messages must be a whole number above 0, not '$messages'"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "the number of warm-up messages must be a whole number, not '$warmup'"
[[ "$window" =~ ^[1-9][0-9]*$ ]] || die "the window must be a whole number above 0, not '$window'"

need_node

work="$(mktemp -d "${TMPDIR:-/tmp}/tinyhost-node-red.XXXXXX")"
cleanup() {
    # Nothing runs in the background; this only catches what an interrupt left behind.
    local pids
    pids="$(jobs -p)"
    if [[ -n "$pids" ]]; then
        # shellcheck disable=SC2086
        kill $pids 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# tinyhost: the given binary, or a release build of this checkout.
find_tinyhost

# Node-RED 4, in a folder of its own.
install_node_red "$work/node-red" "$work/npm.log"

load_before="$(loadavg)"

echo "Node-RED: $messages messages after $warmup warm-up ..." >&2
if ! node "$here/run.mjs" --node-red "$work/node-red" --user-dir "$work/user" \
    --out "$work/node-red.json" --messages "$messages" --warmup "$warmup" \
    --window "$window" >"$work/node-red.log" 2>&1; then
    cat "$work/node-red.log" >&2
    die "the Node-RED run failed"
fi

data='{"context": {"name": "World", "count": "{{$.i}}"}}'
results=()
for concurrency in 1 2; do
    echo "tinyhost: $messages messages after $warmup warm-up, concurrency $concurrency ..." >&2
    out="$work/tinyhost-c$concurrency.json"
    if ! "$tinyhost" bench "$root/examples/compare" 00000001.compare.transform-in:in \
        --messages "$messages" --warmup "$warmup" --concurrency "$concurrency" \
        --data "$data" --json >"$out" 2>"$work/tinyhost.log"; then
        cat "$work/tinyhost.log" >&2
        # A run with failed messages still wrote its numbers; the report names the failure.
        [[ -s "$out" ]] || die "the tinyhost run (concurrency $concurrency) failed"
    fi
    results+=(--tinyhost "$out")
done

load_after="$(loadavg)"

echo
echo "the same flow (greeting + counter → switch on parity → two counting sinks), $messages messages"
echo "machine: $(nproc 2>/dev/null || echo '?') cores; load average (1/5/15 min) before $load_before, after $load_after"
echo
node "$here/report.mjs" --messages "$messages" --node-red "$work/node-red.json" "${results[@]}"
