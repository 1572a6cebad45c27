#!/usr/bin/env bash
# A newcomer's demo with no cloud account: `demo.sh up` builds the tools, starts a control
# plane on loopback, deploys the local stack with the real Pulumi CLI and prints what it made;
# `demo.sh down` destroys the stack and stops the control plane.
set -euo pipefail
cd "$(dirname "$0")/../.."
cache="${WSO2_APIM_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wso2-apim-e2e}"
export E2E_STATE="$cache/demo/control-plane"
work="$cache/demo/work"
bin=$(tests/e2e/env/tools.sh)
export E2E_BIN="$bin" KUBECONFIG="$E2E_STATE/kubeconfig" PATH="$bin:$PATH"
export PULUMI_HOME="$cache/demo/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true

case "${1:-}" in
  up)
    [ -f "$E2E_STATE/pids" ] || tests/e2e/env/up.sh
    pulumi plugin install resource kubernetes v4.32.0 --file "$bin/pulumi-resource-kubernetes" >/dev/null
    go run ./tests/e2e/demo up "$work"
    echo
    kubectl get namespaces,pods,deployments,statefulsets,services,hpa,pdb,networkpolicies,pvc,configmaps -n wso2-apim
    kubectl get pv
    echo
    echo "The control plane keeps running: export KUBECONFIG=$KUBECONFIG PATH=$bin:\$PATH to look around; 'make demo-down' to stop."
    ;;
  down)
    if [ -f "$E2E_STATE/pids" ]; then
      go run ./tests/e2e/demo down "$work" || true
    fi
    tests/e2e/env/down.sh
    rm -rf "$cache/demo"
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
