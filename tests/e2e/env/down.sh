#!/usr/bin/env bash
# Stops what up.sh started (E2E_STATE) and removes its state, leaving no process or port.
set -uo pipefail
state="${E2E_STATE:?set E2E_STATE to the directory given to up.sh}"
[ -f "$state/pids" ] || { rm -rf "$state"; exit 0; }
# Reverse order: the kubelet and controllers before the API server, etcd last.
tac "$state/pids" | while read -r pid name; do
  kill "$pid" 2>/dev/null && echo "[env] stopped $name ($pid)" >&2
done
for _ in $(seq 1 60); do
  alive=0
  while read -r pid _; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$state/pids"
  [ "$alive" = 0 ] && break
  sleep 0.5
done
while read -r pid name; do kill -9 "$pid" 2>/dev/null && echo "[env] killed $name ($pid)" >&2; done <"$state/pids"
rm -rf "$state"
