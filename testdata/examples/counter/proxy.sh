#!/bin/sh
# The proxy's first process: nginx, reloaded (gracefully: old workers
# finish their requests) whenever /etc/hosts changes, because nginx resolves
# `api` only when it loads its configuration, and a replaced api replica
# comes back with a new address. A configuration that does not load (no
# `api` in the names yet) is retried each second; nginx keeps serving with
# the one it has. This process must not exit: it is the container's init.
trap 'nginx -s quit; exit 0' TERM PWR INT
until nginx; do
	echo "proxy.sh: nginx did not start; api resolves to: $(grep -c ' api ' /etc/hosts 2>&1) addresses" >&2
	sleep 1
done
last=$(cksum </etc/hosts 2>/dev/null)
while :; do
	sleep 1 &
	wait $!
	now=$(cksum </etc/hosts 2>/dev/null)
	if [ "$now" != "$last" ]; then
		if nginx -t -q 2>/dev/null; then
			last=$now
			nginx -s reload
		else
			echo "proxy.sh: names changed but the configuration does not load; api resolves to: $(grep -c ' api ' /etc/hosts 2>&1) addresses" >&2
		fi
	fi
done
