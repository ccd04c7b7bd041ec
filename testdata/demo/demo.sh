#!/usr/bin/env bash
# Deploys the demo stack onto the running loopback cluster and shows where
# each replica runs and that every member answers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${BIN:-bin/incus-fleet}"

echo "== cluster"
"$bin" cluster status
echo
echo "== plan"
"$bin" stack plan -f "$here/compose.yaml" --name demo
echo
echo "== deploy"
"$bin" stack up -f "$here/compose.yaml" --name demo
echo
echo "== where each replica runs"
"$bin" stack ps --name demo
echo
echo "== web answers on every member's address"
p="${TESTBED_PUBLISH_PREFIX:-127.0.0}"
for addr in "$p.1" "$p.2" "$p.3"; do
  printf '%s:8080 -> ' "$addr"
  curl -fsS --max-time 3 "http://$addr:8080/" || echo "(no answer)"
done
echo
echo "== caller (on node1) calls web by name, across members"
# From inside the caller instance: the host never talks to instance addresses.
for name in web web-1 web-2 web-3; do
  printf 'caller-1 -> http://%s/ -> ' "$name"
  incus exec --project demo caller-1 -- timeout 5 wget -qO- "http://$name/" || echo "(no answer)"
done
echo
echo "== the names caller-1 sees (/etc/hosts, written by incus-fleet)"
incus exec --project demo caller-1 -- sed -n '/BEGIN incus-fleet/,/END incus-fleet/p' /etc/hosts
echo
echo "== re-apply: nothing to do"
"$bin" stack up -f "$here/compose.yaml" --name demo
echo
echo "Remove it with: make demo-down"
