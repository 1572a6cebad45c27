#!/usr/bin/env bash
# Pins the MySQL JDBC driver of a stack: downloads the jar the stack would use (its
# apim.jdbcDriver.url, else Maven Central's for apim.jdbcDriver.version or the default
# version), checks it against the SHA-1 file the repository publishes beside it, and sets
# apim.jdbcDriver.sha256 so that every pod verifies that exact jar from then on.
#
#   tools/pin-jdbc-driver.sh <stack>
#
# Needs curl, sha1sum, sha256sum and the pulumi CLI (logged in to the stack's backend).
# MAVEN_CENTRAL and PULUMI override the repository and the CLI (tests use both).
set -euo pipefail

stack="${1:?usage: tools/pin-jdbc-driver.sh <stack>}"
pulumi="${PULUMI:-pulumi}"
central="${MAVEN_CENTRAL:-https://repo1.maven.org/maven2}"
root="$(cd "$(dirname "$0")/.." && pwd)"

config() { "$pulumi" config get --path "$1" --stack "$stack" 2>/dev/null || true; }

url="$(config apim.jdbcDriver.url)"
if [ -z "$url" ]; then
  version="$(config apim.jdbcDriver.version)"
  if [ -z "$version" ]; then
    # The one place the default is written: components/apim/args.go.
    version="$(sed -n 's/^const DefaultJDBCDriverVersion = "\(.*\)"$/\1/p' "$root/components/apim/args.go")"
  fi
  url="$central/com/mysql/mysql-connector-j/$version/mysql-connector-j-$version.jar"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "downloading $url" >&2
curl -fsSL --retry 3 -o "$work/driver.jar" "$url"
curl -fsSL --retry 3 -o "$work/driver.jar.sha1" "$url.sha1"
want="$(tr -d '\r\n' <"$work/driver.jar.sha1" | cut -c1-40)"
got="$(sha1sum "$work/driver.jar" | cut -d' ' -f1)"
if [ "$want" != "$got" ]; then
  echo "the jar's SHA-1 ($got) does not match $url.sha1 ($want); nothing pinned" >&2
  exit 1
fi
sha256="$(sha256sum "$work/driver.jar" | cut -d' ' -f1)"
"$pulumi" config set --path apim.jdbcDriver.sha256 "$sha256" --stack "$stack"
echo "pinned apim.jdbcDriver.sha256 = $sha256 for $url (checked against its .sha1); commit Pulumi.$stack.yaml"
