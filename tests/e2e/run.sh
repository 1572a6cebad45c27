#!/usr/bin/env bash
# The end-to-end suite: builds (or reuses) the tools, starts a control plane on loopback,
# installs the Kubernetes plugin into a throwaway PULUMI_HOME, runs the e2e tests, and stops
# everything on the way out, whether the tests pass, fail or are interrupted.
set -euo pipefail
cd "$(dirname "$0")/../.."
env_dir=tests/e2e/env
start=$SECONDS

bin=$("$env_dir/tools.sh")
echo "E2E STEP tools-ready                             $((SECONDS - start))s"

scratch=$(mktemp -d)
export E2E_STATE="$scratch/control-plane" E2E_BIN="$bin"
cleanup() {
  "$env_dir/down.sh" || true
  rm -rf "$scratch"
}
trap cleanup EXIT INT TERM

t=$SECONDS
"$env_dir/up.sh"
echo "E2E STEP control-plane-up                        $((SECONDS - t))s"

export KUBECONFIG="$E2E_STATE/kubeconfig"
export PATH="$bin:$PATH"
export PULUMI_HOME="$scratch/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
pulumi plugin install resource kubernetes v4.32.0 --file "$bin/pulumi-resource-kubernetes" >/dev/null

status=0
go test -tags e2e -count=1 -timeout 40m -v -run TestLocalStackLifecycle ./tests/e2e/ >"$scratch/e2e.log" 2>&1 || status=$?
# The steps, their timings and the rollout traces; everything on failure.
if [ "$status" = 0 ]; then
  grep -E '^(E2E STEP|ROLLOUT TRACE|  +[0-9.]+s desired|up:|--- |PASS|ok)' "$scratch/e2e.log"
else
  cat "$scratch/e2e.log"
fi
if [ "$status" != 0 ]; then
  echo "e2e failed; control plane logs:" >&2
  tail -n 20 "$E2E_STATE"/logs/*.log >&2 || true
fi
echo "E2E total $((SECONDS - start))s"
exit "$status"
