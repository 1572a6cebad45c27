#!/usr/bin/env bash
# Prints, one item a line, what the real-pods tier may leave on this machine outside its state
# directory: the paths containerd, CNI, runc, iptables and the kubelet write by default (and
# their entries), network namespaces, top-level cgroups of every hierarchy, mounts of the
# kinds they make, the root namespace's Kubernetes iptables chains and the sysctls the kubelet
# sets. realnode-up.sh records it before starting; realnode-down.sh compares after stopping.
set -uo pipefail
# Not /usr/libexec/kubernetes (the default FlexVolume directory): the tier points its kubelets
# and controller manager elsewhere, so what appears there is another run's (the simulated
# tier's controller manager creates it, maybe while this tier runs), not this tier's to delete.
paths=(/run/containerd /run/containerd/s /run/netns /var/run/netns /var/lib/cni /var/lib/cni/results
  /var/lib/containerd /var/lib/kubelet /var/log/pods /var/log/containers /opt/containerd /opt/cni
  /etc/cni /run/runc /run/xtables.lock /etc/kubernetes /var/lib/kube-proxy)
for p in "${paths[@]}"; do
  if [ -e "$p" ] || [ -L "$p" ]; then
    echo "path $p"
    if [ -d "$p" ] && [ ! -L "$p" ]; then
      find "$p" -mindepth 1 -maxdepth 1 -printf "entry %p\n" 2>/dev/null | sort
    fi
  fi
done
for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
  find "$d" -mindepth 1 -maxdepth 1 -type d -printf "cgroup %p\n" 2>/dev/null
done | sort -u
awk '{print $5}' /proc/self/mountinfo | grep -E 'netns|containerd|kubelet|/var/lib/cni|kubepods' | sed 's/^/mount /' | sort
if command -v iptables-save >/dev/null 2>&1; then
  echo "root-netns-kube-iptables-rules $(iptables-save 2>/dev/null | grep -c 'KUBE-' || true)"
fi
for s in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes; do
  echo "sysctl $s=$(sysctl -n "$s" 2>/dev/null)"
done
