#!/usr/bin/env bash
# End-to-end test against a real Kubernetes cluster: builds the image, installs the chart
# into a fresh namespace, applies the hello flow and checks that the operator runs it.
#
#   KUBECONFIG=~/.kube/config tests/e2e/cluster.sh
#
# Skips (exit 0, "SKIP: <reason>") when KUBECONFIG is unset, the cluster does not answer,
# or docker/helm/kubectl are missing. With a kind, k3d or minikube context the image is
# loaded into the cluster; any other cluster must be able to pull E2E_IMAGE.
#
# Environment:
#   E2E_IMAGE        image to build and run (default tinyhost:e2e; repository:tag)
#   E2E_SKIP_BUILD   1: do not build the image (it exists already)
#   E2E_KEEP         1: keep the namespace afterwards, for inspection
#   TINYHOST_BIN     a tinyhost binary for `tinyhost export` (default: cargo run)
#   E2E_TIMEOUT      seconds to wait for the rollout and the flow (default 300)
set -euo pipefail

cd "$(dirname "$0")/../.."

image="${E2E_IMAGE:-tinyhost:e2e}"
timeout="${E2E_TIMEOUT:-300}"
module="common-module"
release="tinyhost"
namespace="tinyhost-e2e-$(date +%s)-$$"
namespace_created=""

skip() {
  echo "SKIP: $*"
  exit 0
}

pass() {
  echo "PASS: $*"
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Waits until the command succeeds, at most $1 seconds, every 2 seconds.
wait_for() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 2
  done
}

# --- preconditions -----------------------------------------------------------------------
[[ -n "${KUBECONFIG:-}" ]] || skip "KUBECONFIG is not set"
command -v kubectl >/dev/null 2>&1 || skip "kubectl is not installed"
kubectl cluster-info --request-timeout=10s >/dev/null 2>&1 ||
  skip "kubectl cluster-info fails (no cluster reachable through KUBECONFIG=$KUBECONFIG)"
command -v docker >/dev/null 2>&1 || skip "docker is not installed"
command -v helm >/dev/null 2>&1 || skip "helm is not installed"
if [[ -n "${TINYHOST_BIN:-}" ]]; then
  tinyhost=("$TINYHOST_BIN")
elif command -v cargo >/dev/null 2>&1; then
  tinyhost=(cargo run -q -p tinyhost --)
else
  skip "neither TINYHOST_BIN nor cargo is available (needed for \`tinyhost export\`)"
fi

context="$(kubectl config current-context)"
case "$context" in
  kind-*) command -v kind >/dev/null 2>&1 || skip "context $context needs kind to load the image" ;;
  k3d-*) command -v k3d >/dev/null 2>&1 || skip "context $context needs k3d to load the image" ;;
  minikube*) command -v minikube >/dev/null 2>&1 || skip "context $context needs minikube to load the image" ;;
esac

# --- clean-up ----------------------------------------------------------------------------
cleanup() {
  local status=$?
  set +e
  if [[ -n "$namespace_created" ]]; then
    if ((status != 0)); then
      echo "--- diagnostics for namespace $namespace"
      kubectl get all,tinynodes,tinymodules,tinysignals,leases -n "$namespace" -o wide
      kubectl describe pods -n "$namespace" | tail -n 60
      kubectl logs -n "$namespace" "deployment/$release" --tail=100
    fi
    if [[ "${E2E_KEEP:-}" == "1" ]]; then
      echo "keeping namespace $namespace (E2E_KEEP=1)"
    else
      # Nodes carry the operator's finalizer: delete them while the operator runs, and
      # drop the finalizer of any it did not release, or the namespace never goes away.
      kubectl delete tinynodes --all -n "$namespace" --timeout=60s >/dev/null 2>&1
      for node in $(kubectl get tinynodes -n "$namespace" -o name 2>/dev/null); do
        kubectl patch -n "$namespace" "$node" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
      done
      helm uninstall "$release" -n "$namespace" >/dev/null 2>&1
      kubectl delete namespace "$namespace" --wait=false >/dev/null 2>&1
      echo "deleted namespace $namespace"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT

# --- image -------------------------------------------------------------------------------
if [[ "${E2E_SKIP_BUILD:-}" != "1" ]]; then
  echo "building $image"
  DOCKER_BUILDKIT=1 docker build -t "$image" . || fail "docker build"
  pass "image $image built"
fi
case "$context" in
  kind-*) kind load docker-image "$image" --name "${context#kind-}" || fail "kind load docker-image" ;;
  k3d-*) k3d image import "$image" --cluster "${context#k3d-}" || fail "k3d image import" ;;
  minikube*) minikube image load "$image" --profile "$context" || fail "minikube image load" ;;
  *) echo "context $context is not kind/k3d/minikube: the cluster must be able to pull $image" ;;
esac

# --- install -----------------------------------------------------------------------------
kubectl create namespace "$namespace" >/dev/null
namespace_created=1
helm upgrade --install "$release" charts/tinyhost \
  --namespace "$namespace" \
  --set "module.name=$module" \
  --set "image.repository=${image%:*}" \
  --set "image.tag=${image##*:}" \
  --set image.pullPolicy=IfNotPresent \
  --set logLevel=info >/dev/null || fail "helm upgrade --install"
pass "chart installed as $release in $namespace"
kubectl rollout status "deployment/$release" -n "$namespace" --timeout="${timeout}s" ||
  fail "the Deployment did not become ready within ${timeout}s"
pass "Deployment $release is ready"

# --- the hello flow ----------------------------------------------------------------------
flow="$("${tinyhost[@]}" export examples/hello)" || fail "tinyhost export examples/hello"
expected_nodes="$(grep -c '^kind: TinyNode$' <<<"$flow" || true)"
((expected_nodes > 0)) || fail "tinyhost export printed no TinyNode"
kubectl apply -n "$namespace" -f - <<<"$flow" >/dev/null || fail "kubectl apply of the hello flow"
pass "hello flow applied ($expected_nodes nodes)"

# Every node reports status OK with a heartbeat.
nodes_ok() {
  local rows ok
  rows="$(kubectl get tinynodes -n "$namespace" \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.status.status}{"\t"}{.status.lastUpdateTime}{"\n"}{end}')" || return 1
  ok="$(awk -F'\t' '$2 == "OK" && $3 != "" {n++} END {print n + 0}' <<<"$rows")"
  [[ "$ok" == "$expected_nodes" ]]
}
if ! wait_for "$timeout" nodes_ok; then
  kubectl get tinynodes -n "$namespace" -o wide >&2
  fail "not every TinyNode reports status OK with a lastUpdateTime within ${timeout}s"
fi
pass "all $expected_nodes TinyNodes report status OK with a lastUpdateTime"

addr="$(kubectl get tinymodule "$module" -n "$namespace" -o jsonpath='{.status.addr}' 2>/dev/null || true)"
[[ -n "$addr" ]] || fail "TinyModule $module has no status.addr"
[[ "$addr" == "$release.$namespace.svc."* ]] ||
  fail "TinyModule $module advertises $addr, not the Service $release.$namespace.svc.*"
pass "TinyModule $module advertises $addr"

logs_contain() {
  kubectl logs -n "$namespace" "deployment/$release" --tail=-1 2>/dev/null | grep -qF -- "$1"
}
wait_for 60 logs_contain "Hello World!" ||
  fail "the operator's log does not show the debug nodes' \"Hello World!\" messages"
pass "the operator's log shows the debug nodes' messages"

# --- a TinySignal is consumed --------------------------------------------------------------
marker="e2e-signal-$$-$RANDOM"
data="$(printf '{"e2e":"%s"}' "$marker" | base64 | tr -d '\n')"
kubectl apply -n "$namespace" -f - >/dev/null <<EOF || fail "creating a TinySignal"
apiVersion: operator.tinysystems.io/v1alpha1
kind: TinySignal
metadata:
  name: $marker
spec:
  node: 00000004.common-module.debug-even
  port: in
  data: $data
EOF
signal_gone() {
  ! kubectl get tinysignal "$marker" -n "$namespace" >/dev/null 2>&1
}
wait_for 30 signal_gone || fail "TinySignal $marker was not deleted by the operator within 30s"
pass "TinySignal $marker was consumed (deleted) by the operator"
wait_for 30 logs_contain "$marker" || fail "the signal's payload did not reach the debug node"
pass "the signal's payload reached the debug node"

echo "PASS: tests/e2e/cluster.sh"
