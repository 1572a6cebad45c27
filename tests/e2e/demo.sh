#!/usr/bin/env bash
# A newcomer's demo with no cloud account: `demo.sh up` gets the tools, starts a control
# plane on loopback, deploys the local stack with the real Pulumi CLI and prints what it made;
# `demo.sh down` destroys the stack and stops the control plane.
# shellcheck source-path=SCRIPTDIR/../..
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/env/versions.env
. tests/e2e/env/lib.sh
case "${1:-}" in
  up | down) ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
ensure_commands curl openssl tar
command -v go >/dev/null 2>&1 || { echo "Go is required (see go.mod for the version)" >&2; exit 1; }

cache=$E2E_CACHE
export E2E_STATE="$cache/demo/control-plane"
work="$cache/demo/work"
export PULUMI_HOME="$cache/demo/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true

case "$1" in
  up)
    # The demo program compiles while the tools come.
    mkdir -p "$cache/demo"
    go -C tests/e2e build -o "$cache/demo/demo" ./demo 2>"$cache/demo/compile.log" &
    compile_pid=$!
    # shellcheck disable=SC2086 # a list of names
    bin=$(tests/e2e/env/tools.sh $E2E_DEMO_TOOLS)
    wait "$compile_pid" || { cat "$cache/demo/compile.log" >&2; exit 1; }
    export E2E_BIN="$bin" KUBECONFIG="$E2E_STATE/kubeconfig" PATH="$bin:$PATH"
    [ -f "$E2E_STATE/pids" ] || tests/e2e/env/up.sh
    pulumi plugin install resource kubernetes "$K8S_PROVIDER_VERSION" --file "$bin/pulumi-resource-kubernetes" >/dev/null
    "$cache/demo/demo" up "$work"
    echo
    kubectl get namespaces,pods,deployments,statefulsets,services,hpa,pdb,networkpolicies,pvc,configmaps -n wso2-apim
    kubectl get pv
    echo
    echo "The control plane keeps running: export KUBECONFIG=$KUBECONFIG PATH=$bin:\$PATH to look around; 'make demo-down' to stop."
    ;;
  down)
    if [ -f "$E2E_STATE/pids" ]; then
      bin=$(tests/e2e/env/tools.sh pulumi pulumi-resource-kubernetes)
      export E2E_BIN="$bin" KUBECONFIG="$E2E_STATE/kubeconfig" PATH="$bin:$PATH"
      [ -x "$cache/demo/demo" ] || go -C tests/e2e build -o "$cache/demo/demo" ./demo
      "$cache/demo/demo" down "$work" || true
    fi
    tests/e2e/env/down.sh
    rm -rf "$cache/demo"
    ;;
esac
