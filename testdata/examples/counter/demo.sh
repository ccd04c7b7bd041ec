#!/usr/bin/env bash
# Deploys the counter example onto the running test bed (the image
# debian-app must be there: make testbed-debian) and shows the placement and
# requests through the proxy answered by api replicas on different members,
# with the counter kept in redis. `make demo` runs it after the busybox
# stack; by hand:
#   make testbed-debian build && . /tmp/incus-fleet-testbed/env &&
#   BIN=bin/incus-fleet bash testdata/examples/counter/demo.sh
# Remove it with: make demo-down (or stack rm --name counter --volumes)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${BIN:-bin/incus-fleet}"
stack="${STACK:-counter}"

echo "== deploy (redis, then api x3 once redis is healthy, then the proxy)"
"$bin" stack up -f "$here/compose.yaml" --name "$stack"
echo
echo "== where each replica runs"
"$bin" stack ps --name "$stack"
echo
# The published port listens on the loopback address of proxy-1's member.
member=$(incus list --project "$stack" proxy-1 -c L --format csv)
addr=$(incus cluster get "$member" user.publish_address)
echo "== requests through the proxy ($addr:8088, proxy-1 on $member)"
for _ in $(seq 30); do
	curl -fsS --max-time 3 "http://$addr:8088/" >/dev/null 2>&1 && break
	sleep 1 # nginx starts once the proxy has its DHCP lease
done
for _ in 1 2 3 4 5 6; do
	curl -fsS --max-time 3 "http://$addr:8088/" |
		python3 -c 'import json,sys; a=json.load(sys.stdin); print("count %(count)4d from %(host)s" % a)' ||
		echo "(no answer)"
done
echo
echo "== api replicas by member"
incus list --project "$stack" api -c nL --format csv | sed 's/,/ on /'
