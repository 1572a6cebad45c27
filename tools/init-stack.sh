#!/usr/bin/env bash
# First-time setup of one stack, run once per stack by a person (CI never creates stacks):
# logs in to the state backend, creates the stack with its secrets provider (or selects it if
# it exists), records the Google Cloud project in the stack file, shows what to commit and
# prints the next steps. Safe to run again: an existing stack is selected, not re-created.
#
#   tools/init-stack.sh <stack> [--backend <url>] [--secrets-provider <url>] [--project <id>]
#
#   <stack>             dev, prod, local, or any name (Pulumi.<stack>.yaml holds its settings)
#   --backend           state backend, e.g. gs://my-state-bucket
#                       (default: $PULUMI_BACKEND_URL, else the backend you are logged in to)
#   --secrets-provider  how the stack encrypts its secrets, e.g.
#                       gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K
#                       (default: $PULUMI_SECRETS_PROVIDER, else the backend's default: a
#                       passphrase for gs:// and file:// backends, read from
#                       $PULUMI_CONFIG_PASSPHRASE or prompted for)
#   --project           Google Cloud project ID, stored as gcp:project in Pulumi.<stack>.yaml
#                       (default: $GOOGLE_CLOUD_PROJECT, $GOOGLE_PROJECT, $GCLOUD_PROJECT or
#                       $CLOUDSDK_CORE_PROJECT; stacks with gcp: settings only)
#
# It changes nothing but the backend login, the stack and Pulumi.<stack>.yaml; it never runs
# preview or up. Docs: "First deploy on a new Google Cloud project", docs/first-deploy.md.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo pipefail$/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

die() {
  echo "init-stack: $*" >&2
  exit 1
}

stack=""
backend="${PULUMI_BACKEND_URL:-}"
secrets_provider="${PULUMI_SECRETS_PROVIDER:-}"
project="${GOOGLE_CLOUD_PROJECT:-${GOOGLE_PROJECT:-${GCLOUD_PROJECT:-${CLOUDSDK_CORE_PROJECT:-}}}}"

while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --backend | --secrets-provider | --project)
      if [ $# -lt 2 ] || [ -z "$2" ]; then
        die "$1 needs a value (see --help)"
      fi
      case "$1" in
        --backend) backend="$2" ;;
        --secrets-provider) secrets_provider="$2" ;;
        --project) project="$2" ;;
      esac
      shift 2
      ;;
    --backend=* | --secrets-provider=* | --project=*)
      value="${1#*=}"
      [ -n "$value" ] || die "${1%%=*} needs a value (see --help)"
      case "$1" in
        --backend=*) backend="$value" ;;
        --secrets-provider=*) secrets_provider="$value" ;;
        --project=*) project="$value" ;;
      esac
      shift
      ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
      [ -z "$stack" ] || die "one stack at a time (got '$stack' and '$1')"
      stack="$1"
      shift
      ;;
  esac
done

[ -n "$stack" ] || {
  usage >&2
  exit 2
}
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || die "stack name '$stack': use letters, digits, '-', '_' or '.'"
if [ -n "$project" ] && ! [[ "$project" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]]; then
  die "'$project' is not a Google Cloud project ID (6-30 characters: lower-case letters, digits, '-'; starts with a letter)"
fi
command -v pulumi >/dev/null 2>&1 || die "the Pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/)"

cd "$(dirname "$0")/.."
stack_file="Pulumi.$stack.yaml"
[ -f Pulumi.yaml ] || die "no Pulumi.yaml in $(pwd)"

# A stack that deploys to Google Cloud (its file sets gcp:*) needs gcp:project: fail before
# touching anything when it has none and none was given.
on_gcp=false
if [ -f "$stack_file" ] && grep -q '^[[:space:]]*gcp:' "$stack_file"; then
  on_gcp=true
  if [ -z "$project" ] && ! grep -q '^[[:space:]]*gcp:project:' "$stack_file"; then
    die "$stack deploys to Google Cloud: pass --project <id> or set GOOGLE_CLOUD_PROJECT"
  fi
fi

# 1. The state backend.
if [ -n "$backend" ]; then
  echo "==> pulumi login $backend"
  pulumi login "$backend"
else
  pulumi whoami --verbose >/dev/null 2>&1 ||
    die "not logged in to a backend: pass --backend gs://<bucket> or set PULUMI_BACKEND_URL"
fi
echo "==> backend: $(pulumi whoami --verbose 2>/dev/null | sed -n 's/^Backend URL: *//p')"

# What the stack file says about its secrets today ("" when nothing yet).
current_provider() {
  [ -f "$stack_file" ] || return 0
  if grep -q '^encryptionsalt:' "$stack_file"; then
    echo passphrase
  else
    sed -n 's/^secretsprovider: *//p' "$stack_file"
  fi
}

# 2. The stack, created with its secrets provider, or selected.
[ -f "$stack_file" ] || echo "note: no $stack_file yet: the stack starts with no settings"
if pulumi stack select --non-interactive "$stack" >/dev/null 2>&1; then
  echo "==> stack $stack exists: selected"
  now="$(current_provider)"
  if [ -n "$secrets_provider" ] && [ "$secrets_provider" != "$now" ]; then
    echo "==> pulumi stack change-secrets-provider $secrets_provider (was: ${now:-unknown})"
    pulumi stack change-secrets-provider --stack "$stack" "$secrets_provider"
  fi
else
  init=(pulumi stack init "$stack")
  [ -z "$secrets_provider" ] || init+=(--secrets-provider "$secrets_provider")
  echo "==> ${init[*]}"
  "${init[@]}"
fi
if [ "$(current_provider)" = passphrase ] && $on_gcp; then
  echo "note: $stack encrypts its secrets with a passphrase: everyone who runs it, CI included,"
  echo "      needs PULUMI_CONFIG_PASSPHRASE, and anyone with it can decrypt the state. A Cloud"
  echo "      KMS key (--secrets-provider gcpkms://...) leaves that decision to IAM."
fi

# 3. The Google Cloud project.
if $on_gcp; then
  if [ -n "$project" ]; then
    echo "==> pulumi config set gcp:project $project"
    pulumi config set --stack "$stack" gcp:project "$project"
  fi
  echo "==> gcp:project = $(pulumi config get --stack "$stack" gcp:project)"
fi

# 4. What to commit.
echo
echo "==> $stack_file now records the stack's secrets provider and its encrypted data key"
echo "    (secretsprovider: + encryptedkey: for Cloud KMS, encryptionsalt: for a passphrase)"
if $on_gcp; then
  echo "    and gcp:project. None of it is secret: commit it, or CI cannot decrypt the stack."
elif [ "$stack" = local ]; then
  echo "    Keep these lines out of git: the end-to-end suite copies Pulumi.local.yaml into a"
  echo "    workspace of its own with its own passphrase, and would fail to decrypt them."
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git status --short -- "$stack_file"
  if git ls-files --error-unmatch "$stack_file" >/dev/null 2>&1; then
    git --no-pager diff -- "$stack_file"
  elif [ -f "$stack_file" ]; then
    cat "$stack_file"
  fi
fi

# 5. Next steps.
echo
echo "Next steps for $stack:"
if $on_gcp; then
  echo "  git add $stack_file && git commit -m 'Stack $stack: secrets provider and project'"
  echo "  pulumi preview -s $stack      # as the deployer (its roles: docs/first-deploy.md, step 4)"
  if grep -Eq '^[[:space:]]+privateEndpoint:[[:space:]]*true' "$stack_file" || [ "$stack" = prod ]; then
    echo "  The control plane's endpoint is private: the first 'pulumi up' builds everything but the"
    echo "  cluster from here, then the runner inside the VPC does the rest (docs/first-deploy.md:"
    echo "  '9. The self-hosted runner for prod')."
  else
    echo "  pulumi up -s $stack           # the first up also generates the passwords, in-cluster"
  fi
  echo "  GitHub repository variables (Settings > Secrets and variables > Actions > Variables):"
  echo "    PULUMI_BACKEND_URL=$(pulumi whoami --verbose 2>/dev/null | sed -n 's/^Backend URL: *//p')"
  echo "    GCP_WORKLOAD_IDENTITY_PROVIDER, GCP_SERVICE_ACCOUNT_PREVIEW, GCP_SERVICE_ACCOUNT_$(echo "$stack" | tr '[:lower:]' '[:upper:]')"
else
  echo "  pulumi up -s $stack           # into the current kubeconfig context"
fi
