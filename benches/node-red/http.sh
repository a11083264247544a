#!/usr/bin/env bash
# tinyhost's HTTP echo flow and Node-RED 4's http in → change → http response side by side
# (README.md beside this file): both answer POST /hello?name=Ada with the same JSON, and
# wrk drives each at 1, 16 and 128 connections. Prints requests/s, p50/p99 latency, the
# server's peak RSS and the ratio tinyhost/Node-RED; fails when the two answers differ or
# wrk saw an answer other than 200 or a socket error.
#
#   benches/node-red/http.sh                   # 10 s per run after 5 s of warm-up
#   benches/node-red/http.sh --quick           # 1 s per run: a smoke run
#   DURATION=30s TINYHOST=target/release/tinyhost benches/node-red/http.sh --json
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=common.sh
. "$here/common.sh"

usage() {
    cat <<'EOF'
usage: http.sh [--quick] [--duration D] [--warmup D] [--threads N] [--connections LIST]
               [--rounds N] [--json]

  --quick             1 s per run and 1 s of warm-up: checks that everything runs
  --duration D        length of each measured wrk run (env DURATION, default 10s)
  --warmup D          wrk run at 16 connections before the measured ones, per server
                      (env WARMUP, default 5s, 1s with --quick)
  --threads N         wrk threads (env THREADS, default 2; never more than the connections)
  --connections LIST  connection counts, comma- or space-separated (env CONNECTIONS,
                      default "1 16 128")
  --rounds N          measure both engines N times, alternating, and report the median
                      of each figure with the range of requests/s (env ROUNDS, default 1);
                      on a machine whose speed drifts, rounds keep the drift out of the ratio
  --json              print one JSON object instead of the table

env TINYHOST=path: use this tinyhost binary instead of building it (cargo build --release)
env TINYHOST_ARGS="...": more arguments for `tinyhost run` (e.g. --http-max-in-flight 64)
EOF
}

duration="${DURATION:-10s}"
warmup="${WARMUP:-}"
threads="${THREADS:-2}"
connections="${CONNECTIONS:-1 16 128}"
rounds="${ROUNDS:-1}"
json=0
quick=0
while (($# > 0)); do
    case "$1" in
    --quick) quick=1 ;;
    --json) json=1 ;;
    --duration | --warmup | --threads | --connections | --rounds)
        (($# >= 2)) || die "$1 needs a value"
        declare "${1#--}=$2"
        shift
        ;;
    --duration=* | --warmup=* | --threads=* | --connections=* | --rounds=*)
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
    duration=1s
    warmup="${warmup:-1s}"
fi
warmup="${warmup:-5s}"
# wrk's durations: a number with an optional unit.
[[ "$duration" =~ ^[1-9][0-9]*[smh]?$ ]] || die "the duration must look like 10s, 2m or 10, not '$duration'"
[[ "$warmup" =~ ^[0-9]+[smh]?$ ]] || die "the warm-up must look like 5s, 0 or 1m, not '$warmup'"
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "the number of wrk threads must be a whole number above 0, not '$threads'"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "the number of rounds must be a whole number above 0, not '$rounds'"
read -r -a connection_counts <<<"${connections//,/ }"
((${#connection_counts[@]} > 0)) || die "no connection counts given"
for c in "${connection_counts[@]}"; do
    [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "a connection count must be a whole number above 0, not '$c'"
done
tinyhost_args=()
if [[ -n "${TINYHOST_ARGS:-}" ]]; then
    read -r -a tinyhost_args <<<"$TINYHOST_ARGS"
fi

# The request both servers answer, and the path of the flow tinyhost runs.
path='/hello?name=Ada'
body='hi there'
flow="$root/examples/http-echo/flow.yaml"
[[ -f "$flow" ]] || die "the flow $flow is missing"

need_node

work="$(mktemp -d "${TMPDIR:-/tmp}/tinyhost-node-red-http.XXXXXX")"
# The servers and the wrk this script started (their process ids, empty once stopped).
node_red_pid=
tinyhost_pid=
wrk_pid=
# stop_server PID: SIGTERM, up to 5 s to exit, then SIGKILL.
stop_server() {
    local pid="$1" i
    [[ -n "$pid" ]] || return 0
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop_server "$wrk_pid"
    stop_server "$node_red_pid"
    stop_server "$tinyhost_pid"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wrk: installed with apt-get when missing (as root, or through sudo without a password).
if ! command -v wrk >/dev/null; then
    command -v apt-get >/dev/null || die "wrk is needed and not installed, and there is no apt-get here to install it"
    apt=(apt-get)
    if ((EUID != 0)); then
        if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then
            die "wrk is needed and not installed; install it as root (apt-get install wrk) or allow sudo without a password"
        fi
        apt=(sudo -n apt-get)
    fi
    echo "installing wrk (${apt[*]} install -y wrk) ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! "${apt[@]}" install -y wrk >"$work/apt.log" 2>&1; then
        # The package lists may be missing or stale.
        if ! { "${apt[@]}" update && "${apt[@]}" install -y wrk; } >>"$work/apt.log" 2>&1; then
            cat "$work/apt.log" >&2
            die "installing wrk failed"
        fi
    fi
    command -v wrk >/dev/null || die "wrk is still not found after installing it"
fi

# tinyhost: the given binary, or a release build of this checkout.
find_tinyhost

# Node-RED 4, in a folder of its own.
install_node_red "$work/node-red" "$work/npm.log"
node_red_version="$(node -p 'require(process.argv[1]).version' "$work/node-red/node_modules/node-red/package.json")"
tinyhost_version="$("$tinyhost" --version 2>/dev/null | head -n1 || true)"
tinyhost_version="${tinyhost_version:-tinyhost}"

free_port() {
    node -e 'const s = require("node:net").createServer();
        s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# start_node_red and start_tinyhost set <engine>_pid and <engine>_url.
start_node_red() {
    local port
    port="$(free_port)"
    node "$here/http.mjs" --node-red "$work/node-red" --user-dir "$work/node-red-user" \
        --port "$port" >"$work/node-red.log" 2>&1 &
    node_red_pid=$!
    node_red_url="http://127.0.0.1:$port$path"
}

start_tinyhost() {
    local port
    port="$(free_port)"
    # A copy of the example on a free port; its .tinyhost/state stays in the copy.
    mkdir -p "$work/http-echo"
    sed "s/\\bport: 8080\\b/port: $port/" "$flow" >"$work/http-echo/flow.yaml"
    [[ "$(grep -c "port: $port\\b" "$work/http-echo/flow.yaml")" == 1 ]] ||
        die "could not set the port in a copy of $flow (it no longer has 'port: 8080' once)"
    "$tinyhost" run "$work/http-echo" "${tinyhost_args[@]}" >"$work/tinyhost.log" 2>&1 &
    tinyhost_pid=$!
    tinyhost_url="http://127.0.0.1:$port$path"
}

# await_answer ENGINE PID URL LOG: the server answers the request with 200 and JSON.
await_answer() {
    local engine="$1" pid="$2" url="$3" log="$4"
    if ! node "$here/http-check.mjs" --url "$url" --body "$body" --pid "$pid" --timeout 60 \
        --out "$work/answer-$engine.json"; then
        echo "--- $log" >&2
        tail -n 40 "$log" >&2
        die "$engine did not answer"
    fi
}

# rss_of PID: the process's peak RSS in bytes; fails once it has exited.
rss_of() {
    awk '/^VmHWM:/ { print $2 * 1024; found = 1 } END { exit !found }' "/proc/$1/status"
}

# wrk_run ENGINE LABEL PID URL CONNECTIONS DURATION WARMUP(0|1) FILE: one wrk run, written
# as a run file for http-report.mjs. The peak RSS is the run's own when the kernel lets the
# high-water mark be reset (clear_refs 5), else the process's since it started.
wrk_run() {
    local engine="$1" label="$2" pid="$3" url="$4" c="$5" d="$6" is_warmup="$7" file="$8"
    local t=$((threads < c ? threads : c)) out="${8%.json}.wrk.txt" peak_of=process
    if { echo 5 >"/proc/$pid/clear_refs"; } 2>/dev/null; then
        peak_of=run
    fi
    # A timeout above the flow's writeTimeout (10 s): a slow answer is measured, not dropped.
    # wrk runs in the background and is waited for: on Ctrl-C it stops and exits 0, and only
    # an interrupted `wait` lets the INT trap end this script.
    wrk -t"$t" -c"$c" -d"$d" --timeout 15s --latency -s "$here/http-post.lua" "$url" \
        -- "$body" >"$out" 2>&1 &
    wrk_pid=$!
    local status=0
    wait "$wrk_pid" || status=$?
    wrk_pid=
    if ((status != 0)); then
        cat "$out" >&2
        die "wrk failed against $engine (exit status $status)"
    fi
    local result rps peak warm=false
    peak="$(rss_of "$pid" 2>/dev/null)" || {
        cat "$out" >&2
        die "$engine exited during the run with $c connections"
    }
    if ((is_warmup)); then
        warm=true
    fi
    result="$(sed -n 's/^wrk-result //p' "$out")"
    [[ -n "$result" ]] || {
        cat "$out" >&2
        die "wrk printed no result (http-post.lua's done) against $engine"
    }
    rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    printf '{"engine":"%s","label":"%s","connections":%d,"threads":%d,"duration":"%s","warmup":%s,"peak_rss_bytes":%d,"peak_rss_of":"%s","wrk_requests_per_second":%s,"wrk":%s}\n' \
        "$engine" "$label" "$c" "$t" "$d" "$warm" "$peak" "$peak_of" "${rps:-null}" "$result" >"$file"
}

# measure ENGINE LABEL PID URL INDEX ROUND: the warm-up (first round only), then one run
# per connection count.
measure() {
    local engine="$1" label="$2" pid="$3" url="$4" index="$5" round="$6" c i=0
    mkdir -p "$work/runs"
    if ((round == 1)) && [[ ! "$warmup" =~ ^0+[smh]?$ ]]; then
        echo "$label: warm-up, $warmup at 16 connections ..." >&2
        wrk_run "$engine" "$label" "$pid" "$url" 16 "$warmup" 1 "$work/runs/$index-000-warmup.json"
    fi
    for c in "${connection_counts[@]}"; do
        i=$((i + 1))
        echo "$label: $duration at $c connection(s) (round $round of $rounds) ..." >&2
        wrk_run "$engine" "$label" "$pid" "$url" "$c" "$duration" 0 \
            "$work/runs/$index-$(printf %03d "$round")-$(printf %03d "$i")-c$c.json"
    done
}

# Both servers up, and the same answer from both, before anything is measured.
echo "starting Node-RED $node_red_version and $tinyhost_version ..." >&2
start_node_red
start_tinyhost
await_answer node-red "$node_red_pid" "$node_red_url" "$work/node-red.log"
await_answer tinyhost "$tinyhost_pid" "$tinyhost_url" "$work/tinyhost.log"
node "$here/http-check.mjs" --same "Node-RED=$work/answer-node-red.json" \
    --same "tinyhost=$work/answer-tinyhost.json" || die "the answers differ; nothing was measured"

load_before="$(loadavg)"
# One server at a time, round after round: the other one waits idle; both are stopped at
# the end.
for ((round = 1; round <= rounds; round++)); do
    measure node-red "Node-RED $node_red_version" "$node_red_pid" "$node_red_url" 1 "$round"
    measure tinyhost "$tinyhost_version" "$tinyhost_pid" "$tinyhost_url" 2 "$round"
done
stop_server "$node_red_pid"
node_red_pid=
stop_server "$tinyhost_pid"
tinyhost_pid=
load_after="$(loadavg)"

cores="$(nproc 2>/dev/null || echo '?')"
report=(node "$here/http-report.mjs" --runs "$work/runs"
    --meta "request=POST $path ($body)" --meta "duration=$duration" --meta "warmup=$warmup"
    --meta "wrk_threads=$threads" --meta "rounds=$rounds" --meta "cores=$cores" --meta "node_red=$node_red_version"
    --meta "node=$(node --version)" --meta "tinyhost=$tinyhost_version"
    --meta "tinyhost_args=${tinyhost_args[*]}" --meta "load_before=$load_before"
    --meta "load_after=$load_after")
if ((json)); then
    "${report[@]}" --json
    exit
fi
echo
echo "HTTP echo (POST $path, body '$body' → {method, uri, name, body, from} as JSON)"
echo "wrk: $duration per run, up to $threads threads, after $warmup of warm-up; $rounds round(s), medians; the server and wrk share the machine"
echo "machine: $cores cores; load average (1/5/15 min) before $load_before, after $load_after"
echo "answer: $(node -p 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).body' "$work/answer-tinyhost.json")"
echo
"${report[@]}"
