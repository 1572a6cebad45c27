# shellcheck shell=bash
# Shared by the e2e scripts and .ci/run (source it; it defines functions and E2E_CACHE only).

# The tool cache, outside the clone so fresh clones reuse it.
# shellcheck disable=SC2034 # used by the scripts that source this file
E2E_CACHE="${WSO2_APIM_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wso2-apim-e2e}"

# The tools the end-to-end suite runs (tools.sh NAME...); the demo also uses kubectl.
# shellcheck disable=SC2034
E2E_SUITE_TOOLS="etcd kube-apiserver kube-controller-manager fakekubelet pulumi pulumi-language-yaml pulumi-resource-kubernetes"
# The tools `make demo` runs (tests/e2e/demo.sh): the simulated control plane, the Pulumi CLI
# and provider, and kubectl to show what was made. None of the real-pods tier's node tools:
# the demo never starts them, and cold they are most of the build (tests/toolchain checks).
# shellcheck disable=SC2034
E2E_DEMO_TOOLS="etcd kube-apiserver kube-controller-manager fakekubelet kubectl pulumi pulumi-resource-kubernetes"
# The tools the real-pods tier (tests/e2e/realpods) runs: a control plane, a real node and
# metrics-server.
# shellcheck disable=SC2034
E2E_REALPODS_TOOLS="etcd kube-apiserver kube-controller-manager kubectl kubelet kube-scheduler kube-proxy metrics-server pulumi pulumi-resource-kubernetes"

# as_root CMD...: runs CMD as root: directly when root, else through sudo (non-interactive
# when there is no terminal), and says what is missing if neither is possible.
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
  else
    echo "need root for: $*; run it as root or install sudo" >&2
    return 1
  fi
}

# ensure_commands CMD[:DEBIAN_PACKAGE]...: installs, from Debian's packages, the package of
# each command that is not on PATH (the package defaults to the command's name).
ensure_commands() {
  local want=() spec cmd pkg
  for spec in "$@"; do
    cmd=${spec%%:*}
    pkg=${spec#*:}
    command -v "$cmd" >/dev/null 2>&1 || want+=("$pkg")
  done
  [ ${#want[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing: ${want[*]}; install them with your package manager" >&2
    return 1
  fi
  echo "installing ${want[*]} (Debian packages)" >&2
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >&2
}

# now: seconds since the epoch, with a fraction.
now() { date +%s.%N; }

# since T0: seconds elapsed since T0 (from now), one decimal.
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# record_timing STEP SECONDS OK [EXTRA_JSON_FIELDS]: appends one line to the JSON Lines file
# named by E2E_TIMINGS (nothing if unset): {"suite":...,"step":...,"seconds":...,"ok":...}.
# The suite is E2E_SUITE (default e2e); EXTRA is more fields, e.g. '"source":"release"'.
record_timing() {
  [ -n "${E2E_TIMINGS:-}" ] || return 0
  local extra=${4:+,$4}
  printf '{"suite":"%s","step":"%s","seconds":%s,"ok":%s%s}\n' \
    "${E2E_SUITE:-e2e}" "$1" "$2" "$3" "$extra" >>"$E2E_TIMINGS"
}
