#!/usr/bin/env bash
# Builds (once) every tool the end-to-end suite needs, from the Go module proxy and Debian
# packages, into a cache outside the clone keyed by version, and prints the bin directory.
# Later runs and fresh clones reuse the cache. Cold, on 2 cores, this takes about an hour.
#
#   tests/e2e/env/tools.sh           build what is missing, print the bin dir on stdout
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tools="$(cd "$here/../tools" && pwd)"

PULUMI_VERSION=v3.274.1
K8S_PROVIDER_VERSION=4.32.0   # the version our SDK asks the engine for
KUBE_VERSION=v1.37.2

cache="${WSO2_APIM_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wso2-apim-e2e}"
bin="$cache/bin"
mkdir -p "$bin" "$cache/logs"
log() { echo "[tools $(date +%H:%M:%S)] $*" >&2; }

# build NAME VERSION MODULE_DIR PACKAGE LDFLAGS: go build PACKAGE in MODULE_DIR into
# $cache/NAME-VERSION/NAME and link it into $bin.
build() {
  local name=$1 version=$2 dir=$3 pkg=$4 ldflags=$5
  local out="$cache/$name-$version/$name"
  if [ ! -x "$out" ]; then
    log "building $name $version (cached afterwards in $cache)"
    local start=$SECONDS
    (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg") \
      >"$cache/logs/$name.log" 2>&1 || { cat "$cache/logs/$name.log" >&2; return 1; }
    mv "$out.tmp" "$out"
    log "built $name in $((SECONDS - start))s"
  fi
  ln -sf "$out" "$bin/$name"
}

# etcd: Debian's package works with this API server and installs in seconds.
if ! command -v etcd >/dev/null 2>&1 && [ ! -x /usr/bin/etcd ]; then
  log "installing etcd-server from Debian"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq etcd-server >&2
fi
for tool in openssl curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$tool" >&2
  fi
done

kube_ld="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
build kube-apiserver "$KUBE_VERSION" "$tools/kube" k8s.io/kubernetes/cmd/kube-apiserver "$kube_ld"
build kube-controller-manager "$KUBE_VERSION" "$tools/kube" k8s.io/kubernetes/cmd/kube-controller-manager "$kube_ld"
build kubectl "$KUBE_VERSION" "$tools/kube" k8s.io/kubernetes/cmd/kubectl "$kube_ld"
# fakekubelet is ours and small: keyed by its source's hash so an edit rebuilds it.
fk_hash=$(cat "$tools/kube/fakekubelet/"*.go "$tools/kube/go.sum" | sha256sum | cut -c1-12)
build fakekubelet "$fk_hash" "$tools/kube" ./fakekubelet ""

build pulumi "$PULUMI_VERSION" "$tools/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"

# The provider module's own main embeds a generated file it does not ship; ours embeds the
# schema and mapping copied from the module.
provider_dir=$(cd "$tools/kubernetes-provider" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)
install -m 644 "$provider_dir/cmd/pulumi-resource-kubernetes/schema.json" \
  "$provider_dir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" "$tools/kubernetes-provider/"
build pulumi-resource-kubernetes "v$K8S_PROVIDER_VERSION" "$tools/kubernetes-provider" . \
  "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION"

echo "$bin"
