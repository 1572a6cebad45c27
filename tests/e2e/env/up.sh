#!/usr/bin/env bash
# Starts a real Kubernetes control plane on loopback for the end-to-end suite: etcd,
# kube-apiserver, kube-controller-manager (with its host-path volume provisioner) and
# fakekubelet (one simulated node that makes pods Ready). Writes $E2E_STATE/kubeconfig. Stop it with down.sh (the same E2E_STATE).
#
#   E2E_STATE=/tmp/wso2-apim-e2e tests/e2e/env/up.sh
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
state="${E2E_STATE:?set E2E_STATE to a directory for the control plane state}"
ensure_commands openssl curl
bin="${E2E_BIN:-$("$here/tools.sh" etcd kube-apiserver kube-controller-manager fakekubelet)}"
api_port="${E2E_API_PORT:-26443}"
etcd_port="${E2E_ETCD_PORT:-23790}"
log() { echo "[env $(date +%H:%M:%S)] $*" >&2; }

for port in "$api_port" "$etcd_port" "$((etcd_port + 10))"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is in use; set E2E_API_PORT/E2E_ETCD_PORT or run down.sh" >&2
    exit 1
  fi
done

mkdir -p "$state/certs" "$state/logs"
: >"$state/pids"

# start NAME CMD...: runs CMD in the background, logging to logs/NAME.log, pid recorded.
start() {
  local name=$1; shift
  "$@" >"$state/logs/$name.log" 2>&1 &
  echo "$! $name" >>"$state/pids"
}

# The service account signing key and an admin token; certificates for serving are made by
# the API server itself (self-signed, in certs/).
[ -f "$state/sa.key" ] || openssl genrsa -out "$state/sa.key" 2048 2>/dev/null
openssl rsa -in "$state/sa.key" -pubout -out "$state/sa.pub" 2>/dev/null
token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token,admin,admin,system:masters" >"$state/tokens.csv"
cat >"$state/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://127.0.0.1:$api_port
    insecure-skip-tls-verify: true
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
users:
- name: admin
  user:
    token: $token
KC

log "starting etcd on 127.0.0.1:$etcd_port"
start etcd "$bin/etcd" --name e2e --data-dir "$state/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$((etcd_port + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 10))" \
  --initial-cluster "e2e=http://127.0.0.1:$((etcd_port + 10))" --unsafe-no-fsync

log "starting kube-apiserver on 127.0.0.1:$api_port"
start kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
  --cert-dir "$state/certs" --token-auth-file "$state/tokens.csv" \
  --authorization-mode RBAC --allow-privileged=true \
  --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
  --service-account-issuer https://kubernetes.default.svc \
  --service-account-key-file "$state/sa.pub" --service-account-signing-key-file "$state/sa.key"

# api PATH: GETs PATH from the API server; fails unless it answers 200.
api() {
  curl -sk --max-time 2 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    "https://127.0.0.1:$api_port$1" 2>/dev/null | grep -q '^200$'
}

for i in $(seq 1 120); do
  if api /readyz; then
    break
  fi
  if [ "$i" = 120 ]; then log "kube-apiserver did not become ready"; tail -30 "$state/logs/kube-apiserver.log" >&2; exit 1; fi
  sleep 1
done
log "kube-apiserver ready"

# The default StorageClass: the controller manager's own host-path provisioner
# (--enable-hostpath-provisioner) makes and deletes the volumes, under /tmp/hostpath_pv on this
# machine, as a cloud's provisioner would on a real cluster.
code=$(curl -sk --max-time 5 -o "$state/logs/storageclass.json" -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  "https://127.0.0.1:$api_port/apis/storage.k8s.io/v1/storageclasses" -d '{
    "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
    "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
    "provisioner": "kubernetes.io/host-path", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}')
case $code in
  201 | 409) ;;
  *) log "cannot create the StorageClass (HTTP $code)"; cat "$state/logs/storageclass.json" >&2; exit 1 ;;
esac

log "starting kube-controller-manager"
start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig "$state/kubeconfig" --authentication-skip-lookup \
  --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
  --service-account-private-key-file "$state/sa.key" --root-ca-file "$state/certs/apiserver.crt" \
  --controllers '*,-node-lifecycle-controller,-node-ipam-controller' --enable-hostpath-provisioner

log "starting fakekubelet"
start fakekubelet "$bin/fakekubelet" --kubeconfig "$state/kubeconfig" --ready-after 2s

# Ready when the node is Ready and the default namespace has its service account.
for i in $(seq 1 90); do
  if api /api/v1/namespaces/default/serviceaccounts/default && api /api/v1/nodes/e2e-node; then
    log "control plane ready: export KUBECONFIG=$state/kubeconfig"
    exit 0
  fi
  sleep 1
done
log "controllers did not come up"; tail -20 "$state/logs/kube-controller-manager.log" >&2
exit 1
