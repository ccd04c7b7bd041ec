#!/usr/bin/env bash
# Smoke test of a running test bed (after up.sh): on every member, launch a
# busybox container pinned there, check its web page from inside (incus exec
# + wget) and from the host through a proxy device on the member's
# user.publish_address, time a clean stop, delete it.
#
#   smoke.sh [PORT]     host port for the proxy device, default 18080
#
# Cleans up after itself (also on failure). Exit status 0 = all good.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

port=${1:-18080}
greeting="smoke-$$"
created=()

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local c
	for c in "${created[@]}"; do
		inc node1 delete --force "$c" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }

fail=0
for m in "${MEMBERS[@]}"; do
	c="smoke-$m-$$"
	addr=$(inc node1 cluster get "$m" user.publish_address)
	t=$(now)
	inc node1 launch busybox "$c" --target "$m" -c "environment.GREETING=$greeting" \
		--quiet >/dev/null 2>&1
	created+=("$c")
	t_launch=$(elapsed "$t")

	# httpd starts right after init; give it a moment.
	want="$greeting from $c"
	got=""
	for ((i = 0; i < 50; i++)); do
		# NB: busybox 1.35's `wget -T` segfaults; bound it from outside.
		got=$(timeout 5 env -u INCUS_SOCKET INCUS_DIR="$(member_dir node1)" \
			incus --force-local exec "$c" -- wget -qO- http://127.0.0.1/ </dev/null 2>/dev/null || true)
		[[ $got == "$want" ]] && break
		sleep 0.1
	done

	inc node1 config device add "$c" web proxy "listen=tcp:$addr:$port" \
		connect=tcp:127.0.0.1:80 >/dev/null
	host_got=""
	for ((i = 0; i < 50; i++)); do
		host_got=$(curl -fsS --max-time 2 "http://$addr:$port/" 2>/dev/null || true)
		[[ $host_got == "$want" ]] && break
		sleep 0.1
	done

	t=$(now)
	inc node1 stop "$c"
	t_stop=$(elapsed "$t")
	inc node1 delete "$c"

	status=ok
	[[ $got == "$want" && $host_got == "$want" ]] || {
		status=FAIL
		fail=1
	}
	printf '%s %s launch=%ss stop=%ss exec=%q proxy(%s:%s)=%q\n' \
		"$m" "$status" "$t_launch" "$t_stop" "$got" "$addr" "$port" "$host_got"
done
created=()
exit "$fail"
