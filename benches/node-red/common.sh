# Helpers shared by compare.sh and http.sh (sourced, not run). They expect `root` (the
# checkout) to be set, and report errors under the name of the script that sources them.
# shellcheck shell=bash
# shellcheck disable=SC2154 # root is the sourcing script's

die() {
    echo "${0##*/}: $*" >&2
    exit 1
}

loadavg() {
    if [[ -r /proc/loadavg ]]; then
        cut -d' ' -f1-3 /proc/loadavg
    else
        uptime | sed 's/.*load average[s]*: //'
    fi
}

# Node.js 18 or newer and npm: what Node-RED 4 needs.
need_node() {
    command -v node >/dev/null || die "node (Node.js 18 or newer) is needed for Node-RED 4 and was not found"
    command -v npm >/dev/null || die "npm is needed to install Node-RED 4 and was not found"
    local node_major
    node_major="$(node -p 'process.versions.node.split(".")[0]')"
    ((node_major >= 18)) || die "Node-RED 4 needs Node.js 18 or newer; this is $(node --version)"
}

# Sets `tinyhost`: the binary named by TINYHOST, or a release build of this checkout.
find_tinyhost() {
    if [[ -n "${TINYHOST:-}" ]]; then
        tinyhost="$TINYHOST"
        [[ -x "$tinyhost" ]] || die "TINYHOST=$tinyhost is not an executable file"
        return
    fi
    command -v cargo >/dev/null || die "cargo is needed to build tinyhost (or set TINYHOST to a binary)"
    echo "building tinyhost (cargo build --release -p tinyhost) ..." >&2
    (cd "$root" && cargo build --release -p tinyhost) || die "building tinyhost failed"
    local target_dir
    target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps |
        node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
    tinyhost="$target_dir/release/tinyhost"
    [[ -x "$tinyhost" ]] || die "the build did not produce $tinyhost"
}

# install_node_red DIR LOG: Node-RED 4 in DIR/node_modules (a package.json in DIR keeps npm
# from looking upwards); npm's output goes to LOG and is shown when it fails.
install_node_red() {
    local dir="$1" log="$2"
    echo "installing Node-RED 4 (npm install node-red@4) ..." >&2
    mkdir -p "$dir"
    echo '{"private": true}' >"$dir/package.json"
    if ! (cd "$dir" && npm install --no-audit --no-fund --loglevel=error node-red@4) >"$log" 2>&1; then
        cat "$log" >&2
        die "installing Node-RED failed"
    fi
}
