#!/usr/bin/env bash
# Starts the real-pods tier's cluster: a control plane (etcd, kube-apiserver with the
# aggregation layer, kube-controller-manager, kube-scheduler), one real node (containerd, runc,
# bridge CNI, kubelet, kube-proxy) and metrics-server, every process inside a private network
# namespace, every file under $E2E_STATE. Writes $E2E_STATE/kubeconfig and $E2E_STATE/env.
# Stop it with realnode-down.sh (same E2E_STATE), which also proves nothing is left.
#
#   E2E_STATE=/tmp/x E2E_BIN=<tools.sh output> tests/e2e/env/realnode-up.sh
#
# Needs root and Debian's containerd, runc, containernetworking-plugins, iptables, conntrack,
# busybox-static and etcd-server (tests/e2e/realpods/run.sh installs them). What the sandbox
# needs and why is in the comments below; see also ../../../README.md (three tiers).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${E2E_STATE:?set E2E_STATE to a directory for the cluster state}"
bin="${E2E_BIN:?set E2E_BIN to the tools bin directory (tests/e2e/env/tools.sh)}"
log() { echo "[realnode $(date +%H:%M:%S)] $*" >&2; }
[ "$(id -u)" = 0 ] || { echo "realnode-up.sh needs root (network namespace, containerd, kubelet)" >&2; exit 1; }

# Addresses inside the private namespace; nothing here is visible outside it.
netns="${REALNODE_NETNS:-wso2rp-$$}"
node_ip=10.99.0.1            # on lo: this namespace has no dummy links
pod_cidr=10.244.0.0/24
pod_gw=10.244.0.1
svc_cidr=10.96.0.0/16
node_name=realnode
bridge=rpbr0

mkdir -p "$state"/{logs,certs,cni/net.d,cni/ipam,containerd,kubelet,pod-logs,volume-plugins,metrics-server}
state="$(cd "$state" && pwd)"
: >"$state/pids"
cat >"$state/env" <<ENV
REALNODE_NETNS=$netns
REALNODE_NODE_IP=$node_ip
REALNODE_NODE_NAME=$node_name
REALNODE_POD_CIDR=$pod_cidr
REALNODE_SERVICE_CIDR=$svc_cidr
REALNODE_CONTAINERD_ADDRESS=$state/containerd/containerd.sock
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

log "network namespace $netns: node $node_ip on lo, pods $pod_cidr on $bridge, services $svc_cidr"
ip netns add "$netns"
echo "$netns" >"$state/netns"
in_ns ip link set lo up
in_ns ip addr add "$node_ip/32" dev lo
# The bridge CNI plugin adopts this bridge; made here so the service route can name it. No
# default route: nothing in the namespace reaches beyond it.
in_ns ip link add "$bridge" type bridge
in_ns ip addr add "$pod_gw/24" dev "$bridge"
in_ns ip link set "$bridge" up
in_ns ip route add "$svc_cidr" dev "$bridge" src "$pod_gw"
in_ns sysctl -qw net.ipv4.ip_forward=1
in_ns sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true

cat >"$state/cni/net.d/10-realpods.conflist" <<CNI
{
  "cniVersion": "0.4.0",
  "name": "realpods",
  "plugins": [
    {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$state/cni/ipam", "ranges": [[{"subnet": "$pod_cidr", "gateway": "$pod_gw"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "loopback"}
  ]
}
CNI

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
    server: https://127.0.0.1:6443
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
  --bind-address 127.0.0.1 --advertise-address "$node_ip" --secure-port 6443 \
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
  --enable-aggregator-routing=true
kubectl() { in_ns "$bin/kubectl" --kubeconfig "$state/kubeconfig" "$@"; }
readyz() { in_ns curl -sk --max-time 2 -H "Authorization: Bearer $token" https://127.0.0.1:6443/readyz | grep -q '^ok$'; }
wait_for kube-apiserver 120 readyz || { tail -20 "$state/logs/kube-apiserver.log" >&2; exit 1; }

log "starting containerd"
# restrict_oom_score_adj: this sandbox lacks CAP_SYS_RESOURCE, and without it every pod
# sandbox fails ("can't get final child's PID from pipe: EOF"). Every path containerd writes
# is under $state except the shims' sockets (/run/containerd/s), which it hard-codes.
cat >"$state/containerd/config.toml" <<TOML
version = 2
root = "$state/containerd/root"
state = "$state/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$state/containerd/containerd.sock"
[ttrpc]
  address = "$state/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$state/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/wso2-standin/pause:1"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$state/containerd/runc"
        SystemdCgroup = false
TOML
start containerd containerd --config "$state/containerd/config.toml"
wait_for containerd 30 in_ns ctr --address "$state/containerd/containerd.sock" version ||
  { tail -20 "$state/logs/containerd.log" >&2; exit 1; }

log "starting kubelet, kube-proxy, kube-scheduler, kube-controller-manager"
: >"$state/resolv.conf"
# failCgroupV1: false because this machine has cgroup v1; cgroupfs because there is no systemd.
# The API server and metrics-server reach the kubelet inside the namespace only, so it allows
# anonymous reads. Image GC and disk eviction are off: the stand-in images cannot be pulled
# again, and the disk is shared with other work.
cat >"$state/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$state/containerd/containerd.sock
address: $node_ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
clusterDNS: [$node_ip]
clusterDomain: cluster.local
resolvConf: $state/resolv.conf
podLogsDir: $state/pod-logs
volumePluginDir: $state/volume-plugins
failSwapOn: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
nodeStatusUpdateFrequency: 4s
serializeImagePulls: false
YAML
start kubelet "$bin/kubelet" --config "$state/kubelet/config.yaml" --kubeconfig "$state/kubeconfig" \
  --root-dir "$state/kubelet" --cert-dir "$state/kubelet/pki" --hostname-override "$node_name" --node-ip "$node_ip"
# masqueradeAll: a pod reaching a Service backed by a pod on the same bridge must see replies
# come back through the namespace, whatever br_netfilter does here. Conntrack limits are the
# host's (kube-proxy would otherwise raise nf_conntrack_max for the whole machine).
cat >"$state/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $state/kubeconfig}
hostnameOverride: $node_name
mode: iptables
clusterCIDR: $pod_cidr
iptables: {masqueradeAll: true}
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
YAML
start kube-proxy "$bin/kube-proxy" --config "$state/kube-proxy.yaml"
start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$state/kubeconfig" \
  --authentication-kubeconfig "$state/kubeconfig" --authorization-kubeconfig "$state/kubeconfig" \
  --leader-elect=false --bind-address 127.0.0.1 --secure-port 10259
# With a real kubelet the node-lifecycle controller stays on: it lifts the not-ready taint.
start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig "$state/kubeconfig" --authentication-kubeconfig "$state/kubeconfig" \
  --authorization-kubeconfig "$state/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false \
  --service-account-private-key-file "$state/certs/sa.key" --root-ca-file "$state/certs/apiserver/apiserver.crt" \
  --controllers '*,-node-ipam-controller' --flex-volume-plugin-dir "$state/volume-plugins"

log "starting metrics-server"
start metrics-server "$bin/metrics-server" --kubeconfig "$state/kubeconfig" \
  --authentication-kubeconfig "$state/kubeconfig" --authorization-kubeconfig "$state/kubeconfig" \
  --bind-address "$node_ip" --secure-port 4443 --cert-dir "$state/metrics-server" \
  --kubelet-insecure-tls --kubelet-preferred-address-types InternalIP --kubelet-use-node-status-port \
  --metric-resolution 15s
# metrics-server runs beside the kubelet, not as a pod; the API server reaches it through a
# Service without selector whose endpoint is the node address.
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
endpoints: [{addresses: ["$node_ip"], conditions: {ready: true}}]
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

node_ready() { kubectl get node "$node_name" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True; }
wait_for "node $node_name" 90 node_ready || { tail -30 "$state/logs/kubelet.log" >&2; exit 1; }
log "node $node_name Ready; export KUBECONFIG=$state/kubeconfig and run inside: nsenter --net=/run/netns/$netns"
