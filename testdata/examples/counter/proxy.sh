#!/bin/sh
# The proxy's first process: nginx, reloaded (gracefully: old workers
# finish their requests) whenever /etc/hosts changes, because nginx resolves
# `api` only when it loads its configuration, and a replaced api replica
# comes back with a new address.
set -e
trap 'nginx -s quit; exit 0' TERM PWR INT
nginx
last=$(cksum </etc/hosts)
while :; do
	sleep 1 &
	wait $! || true
	now=$(cksum </etc/hosts)
	if [ "$now" != "$last" ]; then
		last=$now
		nginx -s reload || true
	fi
done
