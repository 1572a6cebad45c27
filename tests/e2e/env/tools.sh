#!/usr/bin/env bash
# Installs, once, every tool the end-to-end suite and the demo need into a cache outside the
# clone, keyed by version ($cache/<name>-<version>/<name>), links them into $cache/bin and
# prints that directory on stdout. Versions are pinned once, in versions.env.
#
#   tests/e2e/env/tools.sh [NAME...]     the named tools (default: every tool below)
#
# Each tool comes from the first of:
#   1. the cache;
#   2. its official release (dl.k8s.io, the GitHub releases of Pulumi, pulumi-yaml, pulumi-kubernetes and
#      controller-tools' envtest), taken only if it matches the checksum the release publishes
#      next to it; an archive that does not match is refused and deleted;
#   3. a build from the Go module proxy at the same version (tests/e2e/tools/<module>); the
#      tools of one module build in one `go build`, the modules in parallel.
# E2E_TOOLS_SOURCE=auto (default) | release (never build) | build (never download).
# E2E_TOOLS_JOBS: how many modules build at once (default: all; 1 to build one at a time).
# E2E_TOOLS_GCFLAGS: -gcflags for the fallback builds (default none: optimised, like the
# releases); 'all=-N -l' compiles about 30% faster, for slower binaries.
# With the releases reachable this takes a minute or two; without (this repository's CI
# machines), the builds take about 50 minutes cold on 2 cores (see docs/testing.md).
#
# For tests (tests/toolchain): E2E_RELEASE_* replace the release base URLs, and
# E2E_TOOLS_BUILD replaces `go build`: it is run in the module directory as
# `$E2E_TOOLS_BUILD OUT PACKAGE...` (OUT is a file for one package, a directory ending in /
# for several, as go build -o).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tools="$(cd "$here/../tools" && pwd)"
. "$here/versions.env"
. "$here/lib.sh"

log() { echo "[tools $(date +%H:%M:%S)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

cache=$E2E_CACHE
bin="$cache/bin"
mode="${E2E_TOOLS_SOURCE:-auto}"
case $mode in auto | release | build) ;; *) die "E2E_TOOLS_SOURCE must be auto, release or build, not $mode" ;; esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 pulumi_arch=x64 ;;
  aarch64 | arm64) arch=arm64 pulumi_arch=arm64 ;;
  *) arch=$(uname -m) pulumi_arch=$arch ;;
esac

# Release locations (official download pages of each project).
k8s_dl="${E2E_RELEASE_K8S:-https://dl.k8s.io/release}/$KUBE_VERSION/bin/linux/$arch"
envtest_dl="${E2E_RELEASE_ENVTEST:-https://github.com/kubernetes-sigs/controller-tools/releases/download}/envtest-$KUBE_VERSION/envtest-$KUBE_VERSION-linux-$arch.tar.gz"
envtest_index="${E2E_RELEASE_ENVTEST_INDEX:-https://raw.githubusercontent.com/kubernetes-sigs/controller-tools/HEAD/envtest-releases.yaml}"
pulumi_dl="${E2E_RELEASE_PULUMI:-https://github.com/pulumi/pulumi/releases/download}/$PULUMI_VERSION"
yaml_dl="${E2E_RELEASE_PULUMI_YAML:-https://github.com/pulumi/pulumi-yaml/releases/download}/$PULUMI_YAML_VERSION"
provider_dl="${E2E_RELEASE_PULUMI_KUBERNETES:-https://github.com/pulumi/pulumi-kubernetes/releases/download}/$K8S_PROVIDER_VERSION"
# fakekubelet is ours and small: keyed by its source's hash so an edit rebuilds it.
fakekubelet_version=$(cat "$tools/kube/fakekubelet/"*.go "$tools/kube/go.sum" | sha256sum | cut -c1-12)

# One line per tool:
#   tool NAME VERSION RELEASE_URL CHECKSUM_URL FILE_IN_ARCHIVE MODULE PACKAGE
# RELEASE_URL -: no release, always built. CHECKSUM_URL: a file that lists the release's
# sha256 or sha512 (a bare .sha256, a "<hash>  <file>" list, or envtest's index); {url} stands
# for RELEASE_URL. FILE_IN_ARCHIVE -: the download is the binary itself, else the path inside
# the .tar.gz. MODULE and PACKAGE: the fallback, `go build PACKAGE` in tests/e2e/tools/MODULE
# (a package of a module with several tools must end in /NAME).
names=()
declare -A V URL SUM FILE MOD PKG
tool() { names+=("$1"); V[$1]=$2 URL[$1]=$3 SUM[$1]=$4 FILE[$1]=$5 MOD[$1]=$6 PKG[$1]=$7; }

tool etcd "$ETCD_VERSION" "$envtest_dl" "$envtest_index" controller-tools/envtest/etcd kube ./etcd
tool kube-apiserver "$KUBE_VERSION" "$k8s_dl/kube-apiserver" "{url}.sha256" - kube k8s.io/kubernetes/cmd/kube-apiserver
tool kube-controller-manager "$KUBE_VERSION" "$k8s_dl/kube-controller-manager" "{url}.sha256" - kube k8s.io/kubernetes/cmd/kube-controller-manager
tool kubectl "$KUBE_VERSION" "$k8s_dl/kubectl" "{url}.sha256" - kube k8s.io/kubernetes/cmd/kubectl
tool fakekubelet "$fakekubelet_version" - - - kube ./fakekubelet
tool pulumi "$PULUMI_VERSION" "$pulumi_dl/pulumi-$PULUMI_VERSION-linux-$pulumi_arch.tar.gz" "$pulumi_dl/pulumi-${PULUMI_VERSION#v}-checksums.txt" pulumi/pulumi pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
tool pulumi-language-yaml "$PULUMI_YAML_VERSION" "$yaml_dl/pulumi-language-yaml-$PULUMI_YAML_VERSION-linux-$arch.tar.gz" "$yaml_dl/pulumi-yaml-${PULUMI_YAML_VERSION#v}-checksums.txt" pulumi-language-yaml pulumi-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
tool pulumi-resource-kubernetes "$K8S_PROVIDER_VERSION" "$provider_dl/pulumi-resource-kubernetes-$K8S_PROVIDER_VERSION-linux-$arch.tar.gz" "$provider_dl/pulumi-kubernetes_${K8S_PROVIDER_VERSION#v}_checksums.txt" pulumi-resource-kubernetes kubernetes-provider .

# --- The real-pods tier's tools (tests/e2e/realpods; E2E_REALPODS_TOOLS in lib.sh) ----------
# The node's kubelet, kube-scheduler and kube-proxy: same release and module as kube-apiserver,
# so a build mostly reuses its Go build cache. metrics-server publishes no binaries: always
# built, from tools/metrics-server, at its own dependency versions (see its go.mod).
tool kubelet "$KUBE_VERSION" "$k8s_dl/kubelet" "{url}.sha256" - kube k8s.io/kubernetes/cmd/kubelet
tool kube-scheduler "$KUBE_VERSION" "$k8s_dl/kube-scheduler" "{url}.sha256" - kube k8s.io/kubernetes/cmd/kube-scheduler
tool kube-proxy "$KUBE_VERSION" "$k8s_dl/kube-proxy" "{url}.sha256" - kube k8s.io/kubernetes/cmd/kube-proxy
tool metrics-server "$METRICS_SERVER_VERSION" - - - metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server
# --- end of the real-pods tier's tools -----------------------------------------------------

# Per fallback module: the version stamps the official builds carry, the pins its go.mod must
# have (the same versions as versions.env), and anything to prepare before building.
module_ldflags() {
  case $1 in
    kube)
      local minor=${KUBE_VERSION#v*.}
      minor=${minor%%.*}
      echo "-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1" \
        "-X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
      ;;
    pulumi) echo "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" ;;
    pulumi-yaml) echo "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$PULUMI_YAML_VERSION" ;;
    kubernetes-provider) echo "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION" ;;
    metrics-server) echo "-X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION" ;; # real-pods tier
  esac
}
module_pins() {
  case $1 in
    kube) echo "k8s.io/kubernetes $KUBE_VERSION go.etcd.io/etcd/server/v3 $ETCD_VERSION" ;;
    pulumi) echo "github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION" ;;
    pulumi-yaml) echo "github.com/pulumi/pulumi-yaml $PULUMI_YAML_VERSION" ;;
    kubernetes-provider) echo "github.com/pulumi/pulumi-kubernetes/provider/v4 $K8S_PROVIDER_MODULE" ;;
    metrics-server) echo "sigs.k8s.io/metrics-server $METRICS_SERVER_VERSION" ;; # real-pods tier
  esac
}
# The provider module's own main embeds a generated file it does not ship; ours embeds the
# schema and mapping copied from the module. `go list -m` does not download, so download first.
prepare_module() {
  [ "$1" = kubernetes-provider ] || return 0
  local mod=github.com/pulumi/pulumi-kubernetes/provider/v4 dir src
  go mod download "$mod" || die "cannot download $mod"
  dir=$(go list -m -f '{{.Dir}}' "$mod")
  src="$dir/cmd/pulumi-resource-kubernetes"
  if [ -z "$dir" ] || [ ! -f "$src/schema.json" ] || [ ! -f "$src/terraform-mapping.json" ]; then
    die "$mod has no schema.json/terraform-mapping.json (module directory: '${dir}')"
  fi
  install -m 644 "$src/schema.json" "$src/terraform-mapping.json" .
}

# version_check NAME FILE: the binary must report the pinned version (both sources).
version_check() {
  local args
  case $1 in
    etcd | kube-apiserver | kube-controller-manager | kubelet | kube-scheduler | kube-proxy | metrics-server) args=(--version) ;;
    kubectl) args=(version --client) ;;
    pulumi) args=(version) ;;
    *) return 0 ;;
  esac
  local pinned=${V[$1]#v} got
  got=$("$2" "${args[@]}" 2>&1 | head -n 5) || true
  case $got in
    *"$pinned"*) return 0 ;;
    *) log "$1 reports '${got%%$'\n'*}', not $pinned"; return 1 ;;
  esac
}

# --- Release path ------------------------------------------------------------------------

declare -A unreachable   # hosts that refused or timed out in this run: not tried again
# fetch URL FILE: downloads URL to FILE; returns 1 (and remembers the host) if unreachable.
fetch() {
  local url=$1 host=${1#*://} rc=0
  host=${host%%/*}
  [ -z "${unreachable[$host]:-}" ] || return 1
  curl -fsSL --connect-timeout "${E2E_TOOLS_CONNECT_TIMEOUT:-10}" --retry 2 --retry-delay 1 \
    --speed-limit 1024 --speed-time 60 -o "$2" "$url" 2>/dev/null || rc=$?
  case $rc in
    0) return 0 ;;
    5 | 6 | 7 | 28 | 35 | 52 | 56) unreachable[$host]=1; log "$host unreachable (curl exit $rc)" ;;
    *) log "cannot download $url (curl exit $rc)" ;;
  esac
  return 1
}

# expected_sum FILE NAME: the sha256 or sha512 that checksum FILE lists for NAME: a bare hash,
# "<hash>  NAME" lines, or NAME followed by "hash: <hash>" (controller-tools' envtest index).
expected_sum() {
  awk -v name="$2" '
    function ishash(s) { return s ~ /^[0-9a-fA-F]+$/ && (length(s) == 64 || length(s) == 128) }
    function hashon(   i) { for (i = 1; i <= NF; i++) if (ishash($i)) return tolower($i); return "" }
    done { next }
    NR == 1 && NF == 1 && ishash($1) { bare = tolower($1) }
    after > 0 { h = hashon(); if (h != "") { print h; done = 1; next } if (--after == 0) done = 1; next }
    {
      for (i = 1; i <= NF; i++) {
        t = $i; sub(/^\*/, "", t); sub(/:$/, "", t)
        if (t == name) { h = hashon(); if (h != "") { print h; done = 1 } else after = 2; next }
      }
    }
    END { if (!done && NR == 1 && bare != "") print bare }
  ' "$1"
}

# sum_of FILE LENGTH: sha256 (64 hex digits) or sha512 (128) of FILE.
sum_of() { if [ "$2" = 128 ]; then sha512sum "$1"; else sha256sum "$1"; fi | cut -d' ' -f1; }

# from_release NAME: installs NAME from its release if reachable and its checksum matches.
from_release() {
  local name=$1 url=${URL[$1]} version=${V[$1]} t0 dl want got base
  local out="$cache/$name-$version/$name" sum_url=${SUM[$1]//\{url\}/${URL[$1]}}
  t0=$(now)
  base=$(basename "$url")
  dl="$work/dl/$base"
  if [ ! -f "$dl.ok" ]; then
    fetch "$url" "$dl" || return 1
    fetch "$sum_url" "$dl.sum" || { log "REFUSED $name: no checksum file at $sum_url"; rm -f "$dl"; return 1; }
    want=$(expected_sum "$dl.sum" "$base")
    [ -n "$want" ] || { log "REFUSED $name: $sum_url lists no checksum for $base"; rm -f "$dl"; return 1; }
    got=$(sum_of "$dl" "${#want}")
    if [ "$got" != "$want" ]; then
      log "REFUSED $name: $base has checksum $got, the release publishes $want; deleted"
      rm -f "$dl"
      record_timing "tool $name" "$(since "$t0")" false '"source":"release","refused":"checksum"'
      return 1
    fi
    echo "$want" >"$dl.ok"
  fi
  mkdir -p "$(dirname "$out")"
  if [ "${FILE[$name]}" = - ]; then
    cp "$dl" "$out.tmp$$"
  elif ! tar -xzf "$dl" -O "${FILE[$name]}" >"$out.tmp$$"; then
    log "REFUSED $name: $base has no ${FILE[$name]}"
    rm -f "$out.tmp$$"
    return 1
  fi
  chmod 755 "$out.tmp$$"
  version_check "$name" "$out.tmp$$" || { rm -f "$out.tmp$$"; log "REFUSED $name from $url"; return 1; }
  mv "$out.tmp$$" "$out"
  echo "release $url sha$((${#want} * 4)):$(cat "$dl.ok")" >"$cache/$name-$version/SOURCE"
  log "installed $name $version from its release (checksum verified) in $(since "$t0")s"
  record_timing "tool $name" "$(since "$t0")" true '"source":"release"'
}

# --- Build path --------------------------------------------------------------------------

# pin_of GO_MOD MODULE: the version GO_MOD requires of MODULE.
pin_of() {
  awk -v m="$2" '$1 == "require" { $1 = ""; $0 = $0 } $1 == m && $2 ~ /^v/ { print $2; exit }' "$1"
}

# progress WHAT LOG T0 PID: while PID (a build writing LOG) runs, says every
# E2E_TOOLS_PROGRESS_SECONDS (default 30) how long it has taken, how many modules it has
# downloaded and packages compiled, and the last one: a cold build takes tens of minutes, and
# a terminal that says nothing for that long looks hung.
progress() {
  local what=$1 log_file=$2 t0=$3 pid=$4 every=${E2E_TOOLS_PROGRESS_SECONDS:-30} next downloaded compiled last
  while :; do
    # By the clock, not by counting sleeps: on a loaded machine each `sleep 1` takes longer.
    next=$((SECONDS + every))
    while [ "$SECONDS" -lt "$next" ]; do
      sleep 1
      kill -0 "$pid" 2>/dev/null || return 0
    done
    downloaded=$(grep -c '^go: downloading' "$log_file" || true)
    compiled=$(grep -vc '^go: ' "$log_file" || true)
    last=$(grep -v '^go: ' "$log_file" | tail -n 1 || true)
    if [ "$compiled" -gt 0 ]; then
      log "building $what: ${compiled} packages compiled after $(since "$t0")s, last ${last}"
    else
      log "building $what: ${downloaded} modules downloaded after $(since "$t0")s, compiling has not started"
    fi
  done
}

# build_module MODULE NAME...: one go build of the NAMEs' packages in tests/e2e/tools/MODULE.
build_module() {
  local module=$1 t0 out pkgs=() n log_file="$cache/logs/build-$1.log" tmp
  shift
  local dir="$tools/$module" pins i got
  read -r -a pins <<<"$(module_pins "$module")"
  for ((i = 0; i < ${#pins[@]}; i += 2)); do
    got=$(pin_of "$dir/go.mod" "${pins[i]}")
    [ "$got" = "${pins[i + 1]}" ] ||
      die "tests/e2e/tools/$module/go.mod requires ${pins[i]} ${got:-nothing}, versions.env pins ${pins[i + 1]}"
  done
  for n in "$@"; do pkgs+=("${PKG[$n]}"); done
  tmp=$(mktemp -d "$work/build-$module.XXXXXX")
  if [ $# = 1 ]; then out="$tmp/$1"; else out="$tmp/"; fi
  log "building $* from the Go module proxy (tests/e2e/tools/$module; log: $log_file)"
  t0=$(now)
  (
    cd "$dir"
    prepare_module "$module"
    if [ -n "${E2E_TOOLS_BUILD:-}" ]; then
      $E2E_TOOLS_BUILD "$out" "${pkgs[@]}"
    else
      # -v: one line per package compiled, which progress counts.
      CGO_ENABLED=0 go build -v -trimpath ${E2E_TOOLS_GCFLAGS:+"-gcflags=$E2E_TOOLS_GCFLAGS"} \
        -ldflags "-s -w $(module_ldflags "$module")" -o "$out" "${pkgs[@]}"
    fi
  ) >"$log_file" 2>&1 &
  local build_pid=$! progress_pid rc=0
  progress "$module ($*)" "$log_file" "$t0" "$build_pid" &
  progress_pid=$!
  wait "$build_pid" || rc=$?
  kill "$progress_pid" 2>/dev/null || true
  wait "$progress_pid" 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    tail -n 40 "$log_file" >&2
    record_timing "build $module" "$(since "$t0")" false "\"source\":\"build\",\"tools\":\"$*\""
    die "building $* failed (log: $log_file)"
  fi
  for n in "$@"; do
    [ -x "$tmp/$n" ] || die "the build of tests/e2e/tools/$module made no $n (a package of a module with several tools must end in /$n)"
    version_check "$n" "$tmp/$n" || die "the build of $n does not report ${V[$n]}"
    mkdir -p "$cache/$n-${V[$n]}"
    mv "$tmp/$n" "$cache/$n-${V[$n]}/$n"
    echo "build tests/e2e/tools/$module ${PKG[$n]} ($(go env GOVERSION 2>/dev/null || echo go)${E2E_TOOLS_GCFLAGS:+, -gcflags=$E2E_TOOLS_GCFLAGS})" >"$cache/$n-${V[$n]}/SOURCE"
  done
  log "built $* in $(since "$t0")s"
  record_timing "build $module" "$(since "$t0")" true "\"source\":\"build\",\"tools\":\"$*\""
}

# --- Main --------------------------------------------------------------------------------

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${names[@]}")
for n in "${wanted[@]}"; do [ -n "${V[$n]:-}" ] || die "unknown tool $n (known: ${names[*]})"; done

mkdir -p "$bin" "$cache/logs" "$cache/tmp"
# One tools.sh at a time per cache (the demo and the suite may start together).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.lock"
  flock 9
fi
work=$(mktemp -d "$cache/tmp/run.XXXXXX")
mkdir -p "$work/dl"
trap 'rm -rf "$work"' EXIT
if [ "$mode" != build ] && ! command -v curl >/dev/null 2>&1; then
  ensure_commands curl || log "no curl: building instead of downloading"
fi

declare -A pending_by_module
modules=()
for n in "${wanted[@]}"; do
  out="$cache/$n-${V[$n]}/$n"
  if [ ! -x "$out" ] && [ "$mode" != build ] && [ "${URL[$n]}" != - ] && command -v curl >/dev/null 2>&1; then
    from_release "$n" || { [ "$mode" = release ] && die "$n: its release is unreachable or refused and E2E_TOOLS_SOURCE=release"; true; }
  fi
  if [ ! -x "$out" ]; then
    [ "$mode" != release ] || [ "${URL[$n]}" = - ] || die "$n: no release and E2E_TOOLS_SOURCE=release"
    m=${MOD[$n]}
    [ -n "${pending_by_module[$m]:-}" ] || modules+=("$m")
    pending_by_module[$m]="${pending_by_module[$m]:-} $n"
  fi
done

if [ ${#modules[@]} -gt 0 ]; then
  command -v go >/dev/null 2>&1 || die "Go (see go.mod for the version) is needed to build:${pending_by_module[*]}"
  t0=$(now)
  jobs_max=${E2E_TOOLS_JOBS:-${#modules[@]}}
  running=0 failed=0
  for m in "${modules[@]}"; do
    if [ "$running" -ge "$jobs_max" ]; then
      wait -n || failed=1
      running=$((running - 1))
    fi
    # shellcheck disable=SC2086 # a list of names
    build_module "$m" ${pending_by_module[$m]} &
    running=$((running + 1))
  done
  while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
  done
  [ "$failed" = 0 ] || die "a build failed (logs in $cache/logs)"
  log "all builds done in $(since "$t0")s"
fi

for n in "${wanted[@]}"; do
  ln -sfn "$cache/$n-${V[$n]}/$n" "$bin/$n"
  log "$n ${V[$n]}: $(cat "$cache/$n-${V[$n]}/SOURCE" 2>/dev/null || echo cached)"
done
echo "$bin"
