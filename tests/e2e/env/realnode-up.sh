#!/usr/bin/env bash
# Starts the real-pods tier's cluster: a control plane (etcd, kube-apiserver with the
# aggregation layer, kube-controller-manager, kube-scheduler) and metrics-server in a private
# network namespace (the hub), and two real nodes in two zones (realnode-node.sh: containerd,
# runc, bridge CNI, kubelet, kube-proxy), each in a namespace of its own joined to the hub by
# one bridge; every file under $E2E_STATE. Writes $E2E_STATE/kubeconfig and $E2E_STATE/env.
# Stop it with realnode-down.sh (same E2E_STATE), which also proves nothing is left.
#
#   hub namespace: control plane and metrics-server on 10.99.0.1 (bridge rpnodes0), the tests
#     and their clients, and a kube-proxy of their own so that ClusterIPs work from there
#   realnode-a (zone-a): 10.99.0.11, pods 10.244.1.0/24    realnode-b (zone-b): 10.99.0.12,
#     pods 10.244.2.0/24; pod CIDRs routed by node address; Services 10.96.0.0/16
#
#   E2E_STATE=/tmp/x E2E_BIN=<tools.sh output> tests/e2e/env/realnode-up.sh
#
# Needs root and Debian's containerd, runc, containernetworking-plugins, iptables, conntrack,
# busybox-static and etcd-server (tests/e2e/realpods/run.sh installs them). What the sandbox
# needs and why is in the comments below; see also ../../../docs/testing.md (the test tiers).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${E2E_STATE:?set E2E_STATE to a directory for the cluster state}"
bin="${E2E_BIN:?set E2E_BIN to the tools bin directory (tests/e2e/env/tools.sh)}"
log() { echo "[realnode $(date +%H:%M:%S)] $*" >&2; }
[ "$(id -u)" = 0 ] || { echo "realnode-up.sh needs root (network namespace, containerd, kubelet)" >&2; exit 1; }

# Addresses inside the private namespaces; nothing here is visible outside them.
netns="${REALNODE_NETNS:-wso2rp-$$}"
hub_ip=10.99.0.1
bridge=rpnodes0
svc_cidr=10.96.0.0/16
cluster_cidr=10.244.0.0/16
region=realpods
# NAME=ZONE for each node (at most 9).
read -ra nodes <<<"${REALNODE_NODES:-realnode-a=zone-a realnode-b=zone-b}"
# The node-lifecycle controller's timings, shortened so that a lost zone's pods are moved in
# about a minute: Kubernetes 1.37's defaults are a 50 s grace period (--node-monitor-grace-
# period), a 5 s check (--node-monitor-period) and 300 s before pods on a not-ready or
# unreachable node are evicted (kube-apiserver's --default-{not-ready,unreachable}-toleration-
# seconds). The fault tests read these from $E2E_STATE/env and state both.
grace=${REALNODE_NODE_MONITOR_GRACE_SECONDS:-20}
monitor=${REALNODE_NODE_MONITOR_PERIOD_SECONDS:-2}
toleration=${REALNODE_TOLERATION_SECONDS:-15}

mkdir -p "$state"/{logs,certs,metrics-server,nodes,volume-plugins}
state="$(cd "$state" && pwd)"
: >"$state/pids"
cat >"$state/env" <<ENV
REALNODE_NETNS=$netns
REALNODE_HUB_NETNS=$netns
REALNODE_HUB_IP=$hub_ip
REALNODE_NODES_BRIDGE=$bridge
REALNODE_SERVICE_CIDR=$svc_cidr
REALNODE_CLUSTER_CIDR=$cluster_cidr
REALNODE_REGION=$region
REALNODE_NODE_NAMES="${nodes[*]%%=*}"
REALNODE_NODE_MONITOR_GRACE_SECONDS=$grace
REALNODE_NODE_MONITOR_PERIOD_SECONDS=$monitor
REALNODE_TOLERATION_SECONDS=$toleration
ENV

# What exists before we start, so that realnode-down.sh removes exactly what this run added and
# can prove it. Paths are the ones containerd, CNI and the kubelet write outside their
# configured directories; sysctls are the ones the kubelet sets on start.
"$here/realnode-snapshot.sh" >"$state/before"

in_ns() { nsenter --net="/run/netns/$netns" -- "$@"; }
# start NAME CMD...: runs CMD inside the namespace in the background, logging to
# logs/NAME.log; its pid is recorded for realnode-down.sh.
start() {
  local name=$1; shift
  nsenter --net="/run/netns/$netns" -- "$@" >"$state/logs/$name.log" 2>&1 &
  echo "$! $name" >>"$state/pids"
}
wait_for() {
  local what=$1 tries=$2; shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  log "$what did not come up"; return 1
}

log "hub network namespace $netns: $hub_ip on $bridge, services $svc_cidr"
ip netns add "$netns"
echo "$netns" >"$state/netns"
in_ns ip link set lo up
# The bridge is the switch joining the machines; the hub reaches ClusterIPs through its own
# kube-proxy (below), so the service range is routed onto the bridge. No default route:
# nothing in the namespaces reaches beyond them. br_netfilter stays off on this bridge: it is a
# plain switch, and each node filters its own traffic.
in_ns ip link add "$bridge" type bridge
in_ns ip addr add "$hub_ip/24" dev "$bridge"
in_ns ip link set "$bridge" up
in_ns ip route add "$svc_cidr" dev "$bridge" src "$hub_ip"
in_ns sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
i=0
for n in "${nodes[@]}"; do
  i=$((i + 1))
  "$here/realnode-node.sh" setup "${n%%=*}" "${n#*=}" "$i"
done

# Certificates: the service-account key, a front-proxy CA and client certificate for the
# aggregation layer (the API server proxies metrics.k8s.io to metrics-server with it), and a
# client CA that signs nothing (without one, metrics-server logs an error every few seconds).
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl genrsa -out "$state/certs/sa.key" 2048 2>/dev/null
openssl rsa -in "$state/certs/sa.key" -pubout -out "$state/certs/sa.pub" 2>/dev/null
openssl req -x509 "${ec[@]}" -days 1 -subj /CN=client-ca \
  -keyout "$state/certs/client-ca.key" -out "$state/certs/client-ca.crt" 2>/dev/null
openssl req -x509 "${ec[@]}" -days 1 -subj /CN=front-proxy-ca \
  -keyout "$state/certs/front-proxy-ca.key" -out "$state/certs/front-proxy-ca.crt" 2>/dev/null
openssl req "${ec[@]}" -subj /CN=front-proxy-client \
  -keyout "$state/certs/front-proxy-client.key" -out "$state/certs/front-proxy-client.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$state/certs/client.ext"
openssl x509 -req -in "$state/certs/front-proxy-client.csr" -days 1 -CA "$state/certs/front-proxy-ca.crt" \
  -CAkey "$state/certs/front-proxy-ca.key" -CAcreateserial -extfile "$state/certs/client.ext" \
  -out "$state/certs/front-proxy-client.crt" 2>/dev/null
token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token,admin,admin,system:masters" >"$state/certs/tokens.csv"
cat >"$state/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: realpods
  cluster:
    server: https://$hub_ip:6443
    insecure-skip-tls-verify: true
contexts:
- name: realpods
  context: {cluster: realpods, user: admin}
current-context: realpods
users:
- name: admin
  user:
    token: $token
KC

log "starting etcd and kube-apiserver"
start etcd "$bin/etcd" --name realpods --data-dir "$state/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster realpods=http://127.0.0.1:2380 --unsafe-no-fsync
start kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers http://127.0.0.1:2379 \
  --bind-address 0.0.0.0 --advertise-address "$hub_ip" --secure-port 6443 \
  --cert-dir "$state/certs/apiserver" --token-auth-file "$state/certs/tokens.csv" \
  --client-ca-file "$state/certs/client-ca.crt" \
  --authorization-mode Node,RBAC --allow-privileged=true \
  --service-cluster-ip-range "$svc_cidr" --endpoint-reconciler-type none \
  --service-account-issuer https://kubernetes.default.svc \
  --service-account-key-file "$state/certs/sa.pub" --service-account-signing-key-file "$state/certs/sa.key" \
  --requestheader-client-ca-file "$state/certs/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$state/certs/front-proxy-client.crt" --proxy-client-key-file "$state/certs/front-proxy-client.key" \
  --enable-aggregator-routing=true --kubelet-preferred-address-types InternalIP \
  --default-not-ready-toleration-seconds "$toleration" --default-unreachable-toleration-seconds "$toleration"
kubectl() { in_ns "$bin/kubectl" --kubeconfig "$state/kubeconfig" "$@"; }
readyz() { in_ns curl -sk --max-time 2 -H "Authorization: Bearer $token" https://127.0.0.1:6443/readyz | grep -q '^ok$'; }
wait_for kube-apiserver 120 readyz || { tail -20 "$state/logs/kube-apiserver.log" >&2; exit 1; }

for n in "${nodes[@]}"; do
  E2E_BIN="$bin" "$here/realnode-node.sh" start "${n%%=*}"
done
# The hub's own kube-proxy: the tests' clients reach ClusterIPs from there, as traffic from a
# load balancer or another cluster node would. It runs no pods, so it names no node.
cat >"$state/kube-proxy-hub.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $state/kubeconfig}
hostnameOverride: realpods-hub
mode: iptables
clusterCIDR: $cluster_cidr
iptables: {masqueradeAll: true}
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
YAML
start kube-proxy-hub "$bin/kube-proxy" --config "$state/kube-proxy-hub.yaml"
start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$state/kubeconfig" \
  --authentication-kubeconfig "$state/kubeconfig" --authorization-kubeconfig "$state/kubeconfig" \
  --leader-elect=false --bind-address 127.0.0.1 --secure-port 10259
# With a real kubelet the node-lifecycle controller stays on: it lifts the not-ready taint, and
# taints and evicts the pods of a lost node (timings above).
start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig "$state/kubeconfig" --authentication-kubeconfig "$state/kubeconfig" \
  --authorization-kubeconfig "$state/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false \
  --service-account-private-key-file "$state/certs/sa.key" --root-ca-file "$state/certs/apiserver/apiserver.crt" \
  --controllers '*,-node-ipam-controller' --flex-volume-plugin-dir "$state/volume-plugins" \
  --node-monitor-grace-period "${grace}s" --node-monitor-period "${monitor}s"

log "starting metrics-server"
start metrics-server "$bin/metrics-server" --kubeconfig "$state/kubeconfig" \
  --authentication-kubeconfig "$state/kubeconfig" --authorization-kubeconfig "$state/kubeconfig" \
  --bind-address "$hub_ip" --secure-port 4443 --cert-dir "$state/metrics-server" \
  --kubelet-insecure-tls --kubelet-preferred-address-types InternalIP --kubelet-use-node-status-port \
  --metric-resolution 15s
# metrics-server runs beside the control plane, not as a pod; the API server reaches it through
# a Service without selector whose endpoint is the hub's address.
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system}
spec:
  ports: [{name: https, port: 443, targetPort: 4443, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: metrics-server-node
  namespace: kube-system
  labels: {kubernetes.io/service-name: metrics-server, endpointslice.kubernetes.io/managed-by: realnode-up.sh}
addressType: IPv4
ports: [{name: https, port: 4443, protocol: TCP}]
endpoints: [{addresses: ["$hub_ip"], conditions: {ready: true}}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  service: {name: metrics-server, namespace: kube-system, port: 443}
  group: metrics.k8s.io
  version: v1beta1
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
YAML

node_ready() { kubectl get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True; }
for n in "${nodes[@]}"; do
  wait_for "node ${n%%=*}" 90 node_ready "${n%%=*}" || { tail -30 "$state/logs/kubelet-${n%%=*}.log" >&2; exit 1; }
done
log "nodes ${nodes[*]} Ready; export KUBECONFIG=$state/kubeconfig and run inside: nsenter --net=/run/netns/$netns"
