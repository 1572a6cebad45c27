#!/usr/bin/env bash
# One node of the real-pods tier's cluster. Its "machine" is a network namespace joined to the
# other nodes by one bridge (realnode-up.sh makes the bridge and the control plane), with its
# own containerd, kubelet and kube-proxy, its own pod bridge and pod CIDR, its own cgroup root,
# and its files under $E2E_STATE/nodes/NAME.
#
#   realnode-node.sh setup NAME ZONE INDEX  the namespace, its link to the bridge, routes, configs
#   realnode-node.sh start NAME             containerd, kubelet and kube-proxy (also after stop)
#   realnode-node.sh stop NAME              the machine is lost: its link goes down first (what
#                                           it had in flight is never answered, as in a zone
#                                           outage), then its kubelet, kube-proxy, containerd,
#                                           shims and every process of its pods die by SIGKILL
#
# E2E_STATE and E2E_BIN as for realnode-up.sh (which writes $E2E_STATE/env first); root.
# realnode-down.sh removes everything this makes.
set -euo pipefail
state="${E2E_STATE:?set E2E_STATE to the cluster state directory (realnode-up.sh)}"
state="$(cd "$state" && pwd)"
[ "$(id -u)" = 0 ] || { echo "realnode-node.sh needs root" >&2; exit 1; }
# shellcheck disable=SC1091 # written by realnode-up.sh
. "$state/env"
cmd=${1:?usage: realnode-node.sh setup NAME ZONE INDEX | start NAME | stop NAME}
name=${2:?node name}
dir="$state/nodes/$name"
log() { echo "[realnode $name $(date +%H:%M:%S)] $*" >&2; }
in_hub() { nsenter --net="/run/netns/$REALNODE_HUB_NETNS" -- "$@"; }

if [ "$cmd" = setup ]; then
  zone=${3:?zone}
  index=${4:?index, 1 to 9}
  mkdir -p "$dir"/{cni/net.d,cni/ipam,containerd,kubelet,pod-logs,volume-plugins}
  # Node i: 10.99.0.1i on the nodes' bridge, pods in 10.244.i.0/24 on its own bridge.
  cat >"$dir/node.env" <<ENV
NODE_NAME=$name
NODE_ZONE=$zone
NODE_INDEX=$index
NODE_IP=10.99.0.1$index
NODE_POD_CIDR=10.244.$index.0/24
NODE_POD_GW=10.244.$index.1
NODE_NETNS=$REALNODE_HUB_NETNS-$index
NODE_UPLINK=rpnode$index
NODE_CGROUP=/$name
NODE_CONTAINERD=$dir/containerd/containerd.sock
ENV
fi
# shellcheck disable=SC1091 # written by setup
. "$dir/node.env"
in_node() { nsenter --net="/run/netns/$NODE_NETNS" -- "$@"; }

setup() {
  log "network namespace $NODE_NETNS: $NODE_IP on the nodes' bridge, pods $NODE_POD_CIDR on cbr0, zone $NODE_ZONE"
  ip netns add "$NODE_NETNS"
  echo "$NODE_NETNS" >>"$state/netns"
  in_node ip link set lo up
  # A veth pair: one end in the bridge of the hub namespace (a switch joining the machines),
  # the other the node's eth0.
  in_hub ip link add "$NODE_UPLINK" type veth peer name eth0 netns "$NODE_NETNS"
  in_hub ip link set "$NODE_UPLINK" master "$REALNODE_NODES_BRIDGE"
  in_hub ip link set "$NODE_UPLINK" up
  in_node ip addr add "$NODE_IP/24" dev eth0
  in_node ip link set eth0 up
  # The pod bridge; the bridge CNI plugin adopts it.
  in_node ip link add cbr0 type bridge
  in_node ip addr add "$NODE_POD_GW/24" dev cbr0
  in_node ip link set cbr0 up
  in_node sysctl -qw net.ipv4.ip_forward=1
  in_node sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
  # Pod CIDRs are routed by node address, as a cloud network's routes do: the hub (control
  # plane, metrics-server, the tests' clients) reaches every node's pods, and each node the
  # pods of the nodes set up before it (the later ones add their route to this one below).
  in_hub ip route add "$NODE_POD_CIDR" via "$NODE_IP"
  local other o_ip o_cidr o_ns
  for other in "$state"/nodes/*/node.env; do
    [ "$other" = "$dir/node.env" ] && continue
    # shellcheck disable=SC1090
    o_ip=$(. "$other"; echo "$NODE_IP") o_cidr=$(. "$other"; echo "$NODE_POD_CIDR") o_ns=$(. "$other"; echo "$NODE_NETNS")
    in_node ip route add "$o_cidr" via "$o_ip"
    nsenter --net="/run/netns/$o_ns" -- ip route add "$NODE_POD_CIDR" via "$NODE_IP"
  done

  # Its own cgroup root in every hierarchy: two kubelets under one root would each take the
  # other's pods for orphans and kill them. cpuset needs its CPUs and memory nodes set before
  # anything can join.
  local h
  for h in /sys/fs/cgroup/*/; do
    case $h in */unified/) continue ;; esac
    mkdir -p "$h${NODE_CGROUP#/}"
  done
  if [ -d /sys/fs/cgroup/cpuset ]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset$NODE_CGROUP/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset$NODE_CGROUP/cpuset.mems"
  fi

  cat >"$dir/cni/net.d/10-realpods.conflist" <<CNI
{
  "cniVersion": "0.4.0",
  "name": "realpods",
  "plugins": [
    {"type": "bridge", "bridge": "cbr0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$dir/cni/ipam", "ranges": [[{"subnet": "$NODE_POD_CIDR", "gateway": "$NODE_POD_GW"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "loopback"}
  ]
}
CNI

  # restrict_oom_score_adj: this sandbox lacks CAP_SYS_RESOURCE, and without it every pod
  # sandbox fails ("can't get final child's PID from pipe: EOF"). Every path containerd writes
  # is under $dir except the shims' sockets (/run/containerd/s), which it hard-codes.
  cat >"$dir/containerd/config.toml" <<TOML
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$NODE_CONTAINERD"
[ttrpc]
  address = "$NODE_CONTAINERD.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/wso2-standin/pause:1"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$dir/containerd/runc"
        SystemdCgroup = false
TOML

  : >"$dir/resolv.conf"
  # failCgroupV1: false because this machine has cgroup v1; cgroupfs because there is no
  # systemd. The API server and metrics-server reach the kubelet over the nodes' bridge only,
  # so it allows anonymous reads. Image GC and disk eviction are off: the stand-in images cannot
  # be pulled again, and the disk is shared with other work. The pods' DNS is the tests' own
  # server on the hub. Status every 4 s and a 10 s lease (renewed every 2.5 s): the heartbeats
  # the node-lifecycle controller's shortened grace period (realnode-up.sh) is measured against.
  cat >"$dir/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $NODE_CGROUP
containerRuntimeEndpoint: unix://$NODE_CONTAINERD
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
clusterDNS: [$REALNODE_HUB_IP]
clusterDomain: cluster.local
resolvConf: $dir/resolv.conf
podLogsDir: $dir/pod-logs
volumePluginDir: $dir/volume-plugins
failSwapOn: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
nodeStatusUpdateFrequency: 4s
nodeLeaseDurationSeconds: 10
serializeImagePulls: false
YAML
  # masqueradeAll: a pod reaching a Service backed by a pod on the same bridge must see replies
  # come back through the node, whatever br_netfilter does here. Conntrack limits are the
  # host's (kube-proxy would otherwise raise nf_conntrack_max for the whole machine).
  cat >"$dir/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $state/kubeconfig}
hostnameOverride: $name
mode: iptables
clusterCIDR: $REALNODE_CLUSTER_CIDR
iptables: {masqueradeAll: true}
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
YAML
}

# daemon NAME CMD...: runs CMD in the node's namespace, in a session of its own (the caller may
# be the test, which must not wait for it), logging to logs/NAME.log; its pid is recorded for
# realnode-down.sh.
daemon() {
  local n=$1; shift
  setsid nsenter --net="/run/netns/$NODE_NETNS" -- "$@" </dev/null >>"$state/logs/$n.log" 2>&1 &
  echo "$! $n" >>"$state/pids"
}

start() {
  log "starting containerd, kubelet and kube-proxy"
  in_hub ip link set "$NODE_UPLINK" up
  daemon "containerd-$name" containerd --config "$dir/containerd/config.toml"
  local i
  for i in $(seq 1 30); do
    ctr --address "$NODE_CONTAINERD" version >/dev/null 2>&1 && break
    [ "$i" = 30 ] && { log "containerd did not come up"; tail -20 "$state/logs/containerd-$name.log" >&2; exit 1; }
    sleep 1
  done
  # Zone and region are labels a kubelet may set on its own node; kubernetes.io/hostname
  # follows --hostname-override.
  daemon "kubelet-$name" "$E2E_BIN/kubelet" --config "$dir/kubelet/config.yaml" --kubeconfig "$state/kubeconfig" \
    --root-dir "$dir/kubelet" --cert-dir "$dir/kubelet/pki" --hostname-override "$name" --node-ip "$NODE_IP" \
    --node-labels "topology.kubernetes.io/zone=$NODE_ZONE,topology.kubernetes.io/region=$REALNODE_REGION"
  daemon "kube-proxy-$name" "$E2E_BIN/kube-proxy" --config "$dir/kube-proxy.yaml"
}

# pids_of NAME: the live pids recorded under NAME.
pids_of() { awk -v n="$1" '$2 == n {print $1}' "$state/pids" | while read -r p; do kill -0 "$p" 2>/dev/null && echo "$p"; done; true; }

stop() {
  log "stopping the whole node: link down, then SIGKILL to every process of it"
  in_hub ip link set "$NODE_UPLINK" down
  local p
  for p in $(pids_of "kubelet-$name") $(pids_of "kube-proxy-$name") $(pids_of "containerd-$name"); do
    kill -9 "$p" 2>/dev/null || true
  done
  # The shims of its containerd (their command line names its socket) and every process in
  # its pods' cgroups: the containers and the pods' pause processes.
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$NODE_CONTAINERD"; then kill -9 "${p#/proc/}" 2>/dev/null || true; fi
  done
  for _ in 1 2 3; do
    find /sys/fs/cgroup/*"$NODE_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null |
      while read -r p; do kill -9 "$p" 2>/dev/null || true; done
    sleep 0.3
  done
}

case $cmd in
  setup) setup ;;
  start) : "${E2E_BIN:?set E2E_BIN to the tools bin directory}"; start ;;
  stop) stop ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
