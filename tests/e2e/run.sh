#!/usr/bin/env bash
# The end-to-end suite: gets (or reuses) the tools, starts a control plane on loopback,
# installs the Kubernetes plugin into a throwaway PULUMI_HOME, runs the e2e tests, and stops
# everything on the way out, whether the tests pass, fail or are interrupted.
#
# Step timings go to the log ("E2E STEP ...") and, one JSON object per line
# ({"suite","step","seconds","ok"}), to the file named by E2E_TIMINGS (default: a file in the
# scratch directory), which is kept as $cache/timings/<UTC time>.jsonl for comparing runs.
# shellcheck source-path=SCRIPTDIR/../..
set -euo pipefail
cd "$(dirname "$0")/../.."
env_dir=tests/e2e/env
. tests/e2e/env/versions.env
. tests/e2e/env/lib.sh
ensure_commands curl openssl tar
command -v go >/dev/null 2>&1 || { echo "Go is required (see go.mod for the version)" >&2; exit 1; }
start=$(now)

scratch=$(mktemp -d)
export E2E_SUITE="${E2E_SUITE:-e2e}"
export E2E_TIMINGS="${E2E_TIMINGS:-$scratch/timings.jsonl}"
case $E2E_TIMINGS in /*) ;; *) E2E_TIMINGS="$PWD/$E2E_TIMINGS" ;; esac
kept="$E2E_CACHE/timings/$(date -u +%Y%m%dT%H%M%SZ).jsonl"
export E2E_STATE="$scratch/control-plane"
# shellcheck disable=SC2317 # called by the traps
cleanup() {
  [ -z "${compile_pid:-}" ] || kill -- "-$compile_pid" 2>/dev/null || true
  "$env_dir/down.sh" || true
  if [ -s "$E2E_TIMINGS" ]; then
    mkdir -p "$(dirname "$kept")"
    cp "$E2E_TIMINGS" "$kept"
    echo "E2E timings (JSON Lines): $kept"
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# timed STEP CMD...: runs CMD, printing and recording its time under STEP.
timed() {
  local step=$1 t ok=true rc=0
  shift
  t=$(now)
  "$@" || rc=$?
  [ "$rc" = 0 ] || ok=false
  printf 'E2E STEP %-40s %8ss %s\n' "$step" "$(since "$t")" "$([ "$rc" = 0 ] && echo ok || echo FAILED)"
  record_timing "$step" "$(since "$t")" "$ok"
  return "$rc"
}

# The suite compiles while the tools come (in its own process group, stopped on failure), and
# so do this commit's plugins: the component package's provider (examples/yaml, from PATH) and
# the policy pack, a binary the CLI runs as it is (`--policy-pack <file>`): this CLI, built from
# source, has no Go language host to build policy/ itself (tests/e2e/policy_test.go).
plugins="$scratch/plugins"
export E2E_POLICY_PACK="$plugins/policy/wso2-apim-policy"
# shellcheck disable=SC2016 # $1 to $3 are the inner shell's arguments
setsid sh -c '
  go -C tests/e2e test -tags e2e -c -o "$1/e2e.test" . &&
  go build -o "$3" ./policy && cp policy/PulumiPolicy.yaml "$(dirname "$3")/" &&
  go -C cmd/pulumi-resource-wso2apim build -o "$2/pulumi-resource-wso2apim" .
' compile "$scratch" "$plugins" "$E2E_POLICY_PACK" >"$scratch/compile.log" 2>&1 &
compile_pid=$!
# shellcheck disable=SC2317 # called through timed
get_tools() {
  # shellcheck disable=SC2086 # a list of names
  bin=$("$env_dir/tools.sh" $E2E_SUITE_TOOLS)
}
# shellcheck disable=SC2317 # called through timed
compiled() {
  wait "$compile_pid" || { cat "$scratch/compile.log" >&2; return 1; }
}
timed tools get_tools
export E2E_BIN="$bin"
timed control-plane "$env_dir/up.sh"
timed compile-suite compiled
compile_pid=

export KUBECONFIG="$E2E_STATE/kubeconfig"
export PATH="$plugins:$bin:$PATH"
export PULUMI_HOME="$scratch/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
pulumi plugin install resource kubernetes "$K8S_PROVIDER_VERSION" --file "$bin/pulumi-resource-kubernetes" >/dev/null

status=0
(cd tests/e2e && "$scratch/e2e.test" -test.count=1 -test.timeout=40m -test.v -test.run 'TestLocalStackLifecycle|TestInitStackAgainstAFileBackend|TestYAMLProgram') \
  >"$scratch/e2e.log" 2>&1 || status=$?
# The steps, their timings and the rollout traces; everything on failure.
if [ "$status" = 0 ]; then
  grep -E '^(E2E STEP|ROLLOUT TRACE|  +[0-9.]+s (LISTED|ADDED|MODIFIED|DELETED) |up:|POLICY PACK|  +(mandatory|advisory) |--- |PASS)' "$scratch/e2e.log"
else
  cat "$scratch/e2e.log"
  echo "e2e failed; control plane logs:" >&2
  tail -n 20 "$E2E_STATE"/logs/*.log >&2 || true
fi
record_timing total "$(since "$start")" "$([ "$status" = 0 ] && echo true || echo false)"
echo "E2E total $(since "$start")s"
exit "$status"
