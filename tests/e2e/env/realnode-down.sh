#!/usr/bin/env bash
# Stops what realnode-up.sh started (same E2E_STATE), however far it got, and removes
# everything it made: pods' processes, containerd and its shims, the control plane, mounts,
# the network namespaces, cgroups, the files containerd/CNI/kubelet write outside $E2E_STATE,
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
netns=$(cat "$state/netns" 2>/dev/null || true)
sock="$state/containerd/containerd.sock"
before=$(cat "$state/before" 2>/dev/null || true)

pid_of() { awk -v n="$1" '$2 == n {print $1}' "$state/pids" 2>/dev/null | tail -n 1; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
# stop NAME...: SIGTERM, up to 15 s, then SIGKILL (kube-apiserver may ignore SIGTERM).
stop() {
  local name pid pids=()
  for name in "$@"; do
    pid=$(pid_of "$name")
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
ctr_() { in_ns ctr --address "$sock" --namespace k8s.io "$@"; }

# 1. Pods first, while the kubelet can still stop them properly (CNI DEL, netns removal):
# controllers stop so that nothing replaces them.
stop metrics-server kube-controller-manager kube-scheduler
if alive "$(pid_of kubelet)" && alive "$(pid_of kube-apiserver)" && [ -x "$bin/kubectl" ]; then
  k() { in_ns "$bin/kubectl" --kubeconfig "$state/kubeconfig" --request-timeout 10s "$@"; }
  if [ -n "$(k get pods -A -o name 2>/dev/null)" ]; then
    log "deleting the pods still running"
    k delete pods --all -A --grace-period 2 --wait=false >/dev/null 2>&1
    for _ in $(seq 1 45); do
      [ -z "$(k get pods -A -o name 2>/dev/null)" ] && [ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] && break
      sleep 1
    done
  fi
fi
stop kubelet kube-proxy

# 2. Whatever is still running in containerd: kill and delete the tasks (the shims unmount
# their root filesystems and exit), then stop containerd.
if alive "$(pid_of containerd)"; then
  for t in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks kill --all --signal SIGKILL "$t" >/dev/null 2>&1
  done
  sleep 1
  for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete --force "$t" >/dev/null 2>&1; done
fi
stop containerd
# Shims of this containerd (their command line names our socket) and every process in the
# pods' cgroups: only this tier's.
for p in /proc/[0-9]*; do
  if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$sock"; then kill -9 "${p#/proc/}" 2>/dev/null; fi
done
new_cgroups() { comm -13 <(grep '^cgroup ' <<<"$before" | sort) <("$here/realnode-snapshot.sh" | grep '^cgroup ' | sort) | cut -d' ' -f2-; }
for procs in $(new_cgroups | while read -r cg; do find "$cg" -name cgroup.procs; done); do
  xargs -r kill -9 <"$procs" 2>/dev/null
done

# 3. The control plane, and anything left in the namespace (all of it ours).
stop kube-apiserver etcd
if [ -n "$netns" ] && [ -e "/run/netns/$netns" ]; then
  for pid in $(ip netns pids "$netns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
fi
sleep 0.5

# 4. Mounts under the state directory and pods' network namespaces (deepest first), then the
# tier's namespace and cgroups.
mounts() { awk '{print $5}' /proc/self/mountinfo | sed 's/\\040/ /g' | grep -E "^$state/|^/run/netns/cni-" | sort -r; }
for m in $(mounts); do
  grep -qx "mount $m" <<<"$before" || umount -l "$m" 2>/dev/null
done
if [ -n "$netns" ] && [ -e "/run/netns/$netns" ]; then ip netns delete "$netns" 2>/dev/null; fi
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
[ -n "$netns" ] && [ -e "/run/netns/$netns" ] && left+=("network namespace $netns")
[ -e "$state" ] && left+=("$state")
if [ ${#left[@]} -gt 0 ]; then
  log "LEFT BEHIND (diff against the machine before the tier started: < before, > now):"
  printf '  %s\n' "${left[@]}" >&2
  exit 1
fi
log "nothing left behind: no process, mount, network namespace, cgroup, file or sysctl of the tier remains"
