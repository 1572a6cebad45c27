#!/usr/bin/env bash
# Stops what realnode-up.sh started (same E2E_STATE), however far it got, and removes
# everything it made: pods' processes, every node's containerd and its shims (running or
# stopped by a fault test), the control plane, mounts, the network namespaces (the hub's and
# every node's), cgroups, the files containerd/CNI/kubelet write outside $E2E_STATE,
# the sysctls the kubelet changed, and $E2E_STATE itself. Then proves it: the machine must
# look as realnode-up.sh found it (realnode-snapshot.sh), no process may refer to the state
# directory, and none may be left in the namespace. Exit status 1 lists what was left.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${E2E_STATE:?set E2E_STATE to the directory given to realnode-up.sh}"
[ -d "$state" ] || exit 0
state="$(cd "$state" && pwd)"
bin="${E2E_BIN:-}"
log() { echo "[realnode-down $(date +%H:%M:%S)] $*" >&2; }
# The hub's namespace first, then each node's.
mapfile -t namespaces < <(cat "$state/netns" 2>/dev/null || true)
netns=${namespaces[0]:-}
# Every node's containerd socket.
socks=()
for f in "$state"/nodes/*/node.env; do
  [ -f "$f" ] && socks+=("$(sed -n 's/^NODE_CONTAINERD=//p' "$f")")
done
before=$(cat "$state/before" 2>/dev/null || true)

# pids_of NAME...: every pid recorded under NAME (a node started again has several).
pids_of() { local n; for n in "$@"; do awk -v n="$n" '$2 == n {print $1}' "$state/pids" 2>/dev/null; done; }
# names PREFIX: the recorded names that start with PREFIX (kubelet-realnode-a, ...).
names() { awk -v p="$1" 'index($2, p) == 1 {print $2}' "$state/pids" 2>/dev/null | sort -u; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
# stop NAME...: SIGTERM, up to 15 s, then SIGKILL (kube-apiserver may ignore SIGTERM).
stop() {
  local pid pids=()
  for pid in $(pids_of "$@"); do
    if alive "$pid"; then kill "$pid" 2>/dev/null; pids+=("$pid"); fi
  done
  for _ in $(seq 1 30); do
    local any=0
    for pid in "${pids[@]}"; do alive "$pid" && any=1; done
    [ "$any" = 0 ] && return 0
    sleep 0.5
  done
  for pid in "${pids[@]}"; do alive "$pid" && kill -9 "$pid" 2>/dev/null; done
  sleep 0.5
}
in_ns() { [ -n "$netns" ] && [ -e "/run/netns/$netns" ] && nsenter --net="/run/netns/$netns" -- "$@"; }
ctr_() { local sock=$1; shift; [ -S "$sock" ] && ctr --address "$sock" --namespace k8s.io "$@"; }
# tasks: the containers still running under every node's containerd.
tasks() { local s; for s in "${socks[@]}"; do ctr_ "$s" tasks ls -q 2>/dev/null; done; }
any_alive() { local p; for p in $(pids_of "$@"); do alive "$p" && return 0; done; return 1; }

# 1. Pods first, while the kubelets can still stop them properly (CNI DEL, netns removal):
# controllers stop so that nothing replaces them. Pods of a node a fault test stopped have no
# kubelet to stop them; step 2 and 4 clean up after them.
stop metrics-server kube-controller-manager kube-scheduler
# shellcheck disable=SC2046 # a list of names
if any_alive $(names kubelet) && any_alive kube-apiserver && [ -x "$bin/kubectl" ]; then
  k() { in_ns "$bin/kubectl" --kubeconfig "$state/kubeconfig" --request-timeout 10s "$@"; }
  if [ -n "$(k get pods -A -o name 2>/dev/null)" ]; then
    log "deleting the pods still running"
    k delete pods --all -A --grace-period 2 --wait=false >/dev/null 2>&1
    for _ in $(seq 1 45); do
      [ -z "$(tasks)" ] && break
      sleep 1
    done
  fi
fi
# shellcheck disable=SC2046
stop $(names kubelet) $(names kube-proxy)

# 2. Whatever is still running in each containerd: kill and delete the tasks (the shims
# unmount their root filesystems and exit), then stop containerd.
for sock in "${socks[@]}"; do
  for t in $(ctr_ "$sock" tasks ls -q 2>/dev/null); do
    ctr_ "$sock" tasks kill --all --signal SIGKILL "$t" >/dev/null 2>&1
  done
done
sleep 1
for sock in "${socks[@]}"; do
  for t in $(ctr_ "$sock" tasks ls -q 2>/dev/null); do ctr_ "$sock" tasks delete --force "$t" >/dev/null 2>&1; done
done
# shellcheck disable=SC2046
stop $(names containerd)
# Shims of these containerds (their command line names one of our sockets) and every process
# in the pods' cgroups: only this tier's.
for p in /proc/[0-9]*; do
  for sock in "${socks[@]}"; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$sock"; then kill -9 "${p#/proc/}" 2>/dev/null; fi
  done
done
new_cgroups() { comm -13 <(grep '^cgroup ' <<<"$before" | sort) <("$here/realnode-snapshot.sh" | grep '^cgroup ' | sort) | cut -d' ' -f2-; }
for procs in $(new_cgroups | while read -r cg; do find "$cg" -name cgroup.procs; done); do
  xargs -r kill -9 <"$procs" 2>/dev/null
done

# 3. The control plane, and anything left in the namespaces (all of it ours).
# shellcheck disable=SC2046
stop kube-apiserver etcd $(names kube-proxy)
for ns in "${namespaces[@]}"; do
  if [ -e "/run/netns/$ns" ]; then
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  fi
done
sleep 0.5

# 4. Mounts under the state directory and pods' network namespaces (deepest first), then the
# tier's namespace and cgroups.
mounts() { awk '{print $5}' /proc/self/mountinfo | sed 's/\\040/ /g' | grep -E "^$state/|^/run/netns/cni-" | sort -r; }
for m in $(mounts); do
  grep -qx "mount $m" <<<"$before" || umount -l "$m" 2>/dev/null
done
for ns in "${namespaces[@]}"; do
  if [ -e "/run/netns/$ns" ]; then ip netns delete "$ns" 2>/dev/null; fi
done
for f in /run/netns/cni-*; do
  [ -e "$f" ] && ! grep -qx "entry $f" <<<"$before" && rm -f "$f"
done
if ! grep -qx 'path /run/netns' <<<"$before" && [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ]; then
  # `ip netns add` bind-mounted /run/netns onto itself the first time.
  while awk '{print $5}' /proc/self/mountinfo | grep -qx /run/netns; do umount /run/netns 2>/dev/null || break; done
  rmdir /run/netns 2>/dev/null
fi
for cg in $(new_cgroups); do
  find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
done

# 5. Files written outside the state directory: whole paths that did not exist before, or the
# entries added to paths that did.
while read -r kind p; do
  case $kind in
    path) grep -qxF "path $p" <<<"$before" || rm -rf "$p" ;;
    entry) grep -qxF "entry $p" <<<"$before" || rm -rf "$p" ;;
  esac
done < <("$here/realnode-snapshot.sh" | grep -E '^(entry|path) ' | sort -r)
# The kubelet's kernel tunables back to what they were.
grep '^sysctl ' <<<"$before" | while read -r _ kv; do
  [ -n "${kv#*=}" ] && sysctl -qw "$kv" 2>/dev/null
done
rm -rf "$state"

# 6. Proof.
left=()
if [ -n "$before" ]; then
  while read -r line; do left+=("$line"); done < <(diff <(echo "$before") <("$here/realnode-snapshot.sh") | grep '^[<>]')
else
  left+=("no snapshot from realnode-up.sh: the machine could not be compared")
fi
for p in /proc/[0-9]*; do
  if { tr '\0' ' ' <"$p/cmdline"; readlink "$p/exe"; } 2>/dev/null | grep -qF -- "$state"; then
    left+=("process ${p#/proc/}: $(tr '\0' ' ' 2>/dev/null <"$p/cmdline")")
  fi
done
for ns in "${namespaces[@]}"; do
  [ -e "/run/netns/$ns" ] && left+=("network namespace $ns")
done
[ -e "$state" ] && left+=("$state")
if [ ${#left[@]} -gt 0 ]; then
  log "LEFT BEHIND (diff against the machine before the tier started: < before, > now):"
  printf '  %s\n' "${left[@]}" >&2
  exit 1
fi
log "nothing left behind: no process, mount, network namespace, cgroup, file or sysctl of the tier remains"
