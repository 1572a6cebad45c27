#!/usr/bin/env bash
# The real-pods tier: gets (or reuses) the tools, compiles the test and the stand-in, starts a
# real node in a private network namespace (../env/realnode-up.sh), runs TestRealPods inside
# it, and tears everything down however the run ends, proving nothing is left
# (../env/realnode-down.sh). The node, the test and the teardown run as root (directly, or
# through sudo); tools and compilation run as the caller, in the caller's caches.
#
#   tests/e2e/realpods/run.sh        (make e2e-realpods; make e2e runs it after the simulated suite)
#
# Step timings and measurements go to the log and, one JSON object per line (suite
# "realpods"), to the file named by E2E_TIMINGS (default: a file in the scratch directory),
# kept as $cache/timings/<UTC time>-realpods.jsonl, with the test's whole log beside it
# (<UTC time>-realpods.log). With E2E_ARTIFACTS_DIR set (.ci/run sets it), both are copied
# there too, with the nodes' logs when the run failed.
# shellcheck source-path=SCRIPTDIR/../../..
set -euo pipefail
cd "$(dirname "$0")/../../.."
env_dir=tests/e2e/env
. tests/e2e/env/versions.env
. tests/e2e/env/lib.sh
# Debian's container runtime, CNI plugins, iptables and conntrack for kube-proxy, nsenter, and a
# static busybox for the images' shell (checked again by the test: it must be static).
# mmdebstrap builds the Debian root filesystem of the MySQL and API Manager stand-ins; the
# restore drill runs tools/restore-mysql.sh with this machine's mysql client and gzip.
ensure_commands curl openssl tar containerd runc iptables conntrack nsenter:util-linux busybox:busybox-static mmdebstrap \
  mysql:mariadb-client gzip
[ -x /usr/lib/cni/bridge ] || ensure_commands /usr/lib/cni/bridge:containernetworking-plugins
command -v go >/dev/null 2>&1 || { echo "Go is required (see go.mod for the version)" >&2; exit 1; }
start=$(now)

# A run killed outright (SIGKILL: no trap runs, and its watchdog killed too) leaves its node
# behind: tear down the node of every earlier run whose run.sh is gone.
for old in /tmp/wso2-apim-realpods.*/; do
  [ -d "$old" ] || continue
  owner=$(cat "$old/owner" 2>/dev/null || true)
  if [ -n "$owner" ] && tr '\0' ' ' <"/proc/$owner/cmdline" 2>/dev/null | grep -q 'realpods/run.sh'; then continue; fi
  echo "tearing down what an earlier run left: $old" >&2
  as_root env E2E_STATE="$old/node" E2E_BIN="$E2E_CACHE/bin" "$env_dir/realnode-down.sh" || true
  as_root rm -rf "$old"
done

scratch=$(mktemp -d /tmp/wso2-apim-realpods.XXXXXX)
echo $$ >"$scratch/owner"
export E2E_SUITE=realpods
export E2E_TIMINGS="${E2E_TIMINGS:-$scratch/timings.jsonl}"
case $E2E_TIMINGS in /*) ;; *) E2E_TIMINGS="$PWD/$E2E_TIMINGS" ;; esac
stamp=$(date -u +%Y%m%dT%H%M%SZ)
kept="$E2E_CACHE/timings/$stamp-realpods.jsonl"
export E2E_STATE="$scratch/node"
status=0
# shellcheck disable=SC2317 # called by the traps
cleanup() {
  local rc=$? t clean=0
  trap - EXIT INT TERM
  [ "$status" != 0 ] || status=$rc
  t=$(now)
  if ! as_root env E2E_STATE="$E2E_STATE" E2E_BIN="${E2E_BIN:-}" "$env_dir/realnode-down.sh"; then
    echo "real-pods tier: the teardown left something behind (listed above)" >&2
    status=1 clean=1
  fi
  printf 'E2E STEP %-40s %8ss %s\n' teardown-and-leak-check "$(since "$t")" "$([ "$clean" = 0 ] && echo ok || echo FAILED)"
  record_timing teardown-and-leak-check "$(since "$t")" "$([ "$clean" = 0 ] && echo true || echo false)"
  record_timing total "$(since "$start")" "$([ "$status" = 0 ] && echo true || echo false)"
  if [ -s "$E2E_TIMINGS" ]; then
    mkdir -p "$(dirname "$kept")"
    cp "$E2E_TIMINGS" "$kept"
    echo "E2E timings (JSON Lines): $kept"
  fi
  if [ -s "$scratch/realpods.log" ]; then
    mkdir -p "$(dirname "$kept")"
    cp "$scratch/realpods.log" "${kept%.jsonl}.log"
    echo "real-pods test log: ${kept%.jsonl}.log"
  fi
  if [ -n "${E2E_ARTIFACTS_DIR:-}" ]; then
    mkdir -p "$E2E_ARTIFACTS_DIR"
    [ -s "$scratch/realpods.log" ] && cp "$scratch/realpods.log" "$E2E_ARTIFACTS_DIR/realpods.log"
    [ -s "$E2E_TIMINGS" ] && cp "$E2E_TIMINGS" "$E2E_ARTIFACTS_DIR/realpods-timings.jsonl"
    [ -s "$scratch/node-logs.tar.gz" ] && cp "$scratch/node-logs.tar.gz" "$E2E_ARTIFACTS_DIR/realpods-node-logs.tar.gz"
    echo "real-pods artifacts: $E2E_ARTIFACTS_DIR"
  fi
  as_root rm -rf "$scratch"
  echo "E2E realpods total $(since "$start")s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The watchdog: if this script dies without its trap (SIGKILL), tears the node down at once.
# In its own session, so that killing this script's process group does not take it too.
root=
[ "$(id -u)" = 0 ] || root="sudo -n"
# shellcheck disable=SC2016 # $1..$5 are the inner shell's
setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
  [ -d "$2" ] || exit 0
  echo "real-pods tier: run.sh was killed; tearing down" >&2
  $5 env E2E_STATE="$2/node" E2E_BIN="$4" "$3/realnode-down.sh"; $5 rm -rf "$2"' \
  watchdog $$ "$scratch" "$PWD/$env_dir" "$E2E_CACHE/bin" "$root" </dev/null &

# timed STEP CMD...: runs CMD, printing and recording its time under STEP.
timed() {
  local step=$1 t rc=0
  shift
  t=$(now)
  "$@" || rc=$?
  printf 'E2E STEP %-40s %8ss %s\n' "$step" "$(since "$t")" "$([ "$rc" = 0 ] && echo ok || echo FAILED)"
  record_timing "$step" "$(since "$t")" "$([ "$rc" = 0 ] && echo true || echo false)"
  return "$rc"
}

# shellcheck disable=SC2317 # called through timed
get_tools() {
  # shellcheck disable=SC2086 # a list of names
  bin=$("$env_dir/tools.sh" $E2E_REALPODS_TOOLS)
}
# The test binary and the stand-in are built here, outside the namespace (it has no route to
# the module proxy), as the caller.
# shellcheck disable=SC2317 # called through timed
compile() {
  go -C tests/e2e test -c -tags realpods -o "$scratch/realpods.test" ./realpods &&
    CGO_ENABLED=0 go -C tests/e2e build -trimpath -ldflags '-s -w' -o "$scratch/standin" ./realpods/standin
}
# The stand-ins' Debian root filesystem (cached by its package list and apt sources), built
# here too: apt's sources are out of the namespace's reach.
# shellcheck disable=SC2317 # called through timed
base_rootfs() {
  base=$(go -C tests/e2e run ./rootfs/cmd/rootfs "$E2E_CACHE/images" 2>"$scratch/rootfs.log") ||
    { cat "$scratch/rootfs.log" >&2; return 1; }
}
timed tools get_tools
export E2E_BIN="$bin"
timed compile compile
timed base-rootfs base_rootfs
timed node-up as_root env E2E_STATE="$E2E_STATE" E2E_BIN="$bin" "$env_dir/realnode-up.sh"
# shellcheck disable=SC1091
. "$E2E_STATE/env"

mkdir -p "$scratch/tmp" "$scratch/work"
: >>"$E2E_TIMINGS"
as_root env PULUMI_HOME="$scratch/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true \
  "$bin/pulumi" plugin install resource kubernetes "$K8S_PROVIDER_VERSION" --file "$bin/pulumi-resource-kubernetes" >/dev/null
t=$(now)
# The test runs in the hub's namespace (it reaches Services through the hub's kube-proxy) and
# stops and starts nodes with realnode-node.sh for the zone fault.
(cd tests/e2e/realpods && as_root nsenter --net="/run/netns/$REALNODE_HUB_NETNS" -- env \
  PATH="$bin:$PATH" HOME="$scratch" TMPDIR="$scratch/tmp" PULUMI_HOME="$scratch/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true \
  KUBECONFIG="$E2E_STATE/kubeconfig" REALPODS_WORK="$scratch/work" REALPODS_STANDIN="$scratch/standin" REALPODS_BASE_LAYER="$base" \
  REALNODE_HUB_IP="$REALNODE_HUB_IP" REALNODE_STATE="$E2E_STATE" REALNODE_SCRIPTS="$PWD/../env" E2E_BIN="$bin" \
  E2E_TIMINGS="$E2E_TIMINGS" \
  "$scratch/realpods.test" -test.v -test.count=1 -test.timeout 80m -test.run '^TestRealPods$') \
  >"$scratch/realpods.log" 2>&1 || status=$?
if [ "$status" = 0 ]; then
  grep -E '^(E2E STEP|ROLLOUT TRACE|  +[0-9.]+s |[A-Z -]+:|FAULT |NEGATIVE CONTROL|PLACEMENT|HPA |  (allowed|failures|HPA|the gateway.s HPA|placement|node NotReady|timings here|out of the endpoints|kubectl drain|from |through the gateway|control plane.s token|gateway on|apim.replicas|the [a-z ]+.s pods were)|    +[0-9.]+s |--- |PASS)' "$scratch/realpods.log" || true
else
  cat "$scratch/realpods.log"
  echo "real-pods tier failed; node logs:" >&2
  as_root sh -c "tail -n 15 '$E2E_STATE'/logs/*.log" >&2 || true
  as_root tar -czf "$scratch/node-logs.tar.gz" -C "$E2E_STATE" logs 2>/dev/null || true
fi
printf 'E2E STEP %-40s %8ss %s\n' realpods-test "$(since "$t")" "$([ "$status" = 0 ] && echo ok || echo FAILED)"
record_timing realpods-test "$(since "$t")" "$([ "$status" = 0 ] && echo true || echo false)"
