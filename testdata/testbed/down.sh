#!/usr/bin/env bash
# Tears the test bed down completely so up.sh can start from scratch:
#   1. deletes every instance in every project (incus delete --force) and every
#      non-default project, through node1's API, while the cluster is up;
#   2. stops every incusd under $TESTBED_DIR (members and spares): SIGTERM,
#      then SIGKILL;
#   3. kills whatever they left behind (lxc monitors, container processes,
#      forkproxy listeners), e.g. after member.sh kill;
#   4. unmounts everything mounted under $TESTBED_DIR (shmounts, guestapi,
#      devIncus, storage pools) and removes $TESTBED_DIR.
# Idempotent: does nothing if $TESTBED_DIR is already gone.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root"
# rm -rf below: refuse obviously wrong directories.
case $TESTBED_DIR in
"" | / | /tmp | /root | /home | /usr | /var | /etc | /work | /work/main) die "refusing TESTBED_DIR=$TESTBED_DIR" ;;
esac

# The stand-in LAN (bridge, namespace, dnsmasq) goes whatever else happens.
"$HERE/lan.sh" down || log "warning: lan.sh down failed"

if [[ ! -e $TESTBED_DIR ]]; then
	# Still sweep: a previous run may have died after removing the directory.
	kill_under "$TESTBED_DIR"
	umount_under "$TESTBED_DIR"
	echo "down.sh: nothing to do ($TESTBED_DIR absent)"
	exit 0
fi

# All daemon directories: the three members plus any spares.
mapfile -t names < <(find "$TESTBED_DIR" -mindepth 2 -maxdepth 2 -name incusd.log -printf '%h\n' |
	xargs -r -n1 basename | sort)

# 1. Delete instances and projects via the API, best effort and bounded in
#    time: members may be down (member.sh kill), then step 3 cleans up.
api=""
for n in node1 "${names[@]}"; do
	if daemon_running "$n" && timeout 5 env -u INCUS_SOCKET INCUS_DIR="$(member_dir "$n")" \
		incus --force-local query /1.0 >/dev/null 2>&1; then
		api=$n
		break
	fi
done
if [[ -n $api ]]; then
	mapfile -t projects < <(timeout 10 env -u INCUS_SOCKET INCUS_DIR="$(member_dir "$api")" \
		incus --force-local project list --format csv --columns n 2>/dev/null |
		sed 's/ (current)$//' || true)
	for p in "${projects[@]}"; do
		mapfile -t instances < <(timeout 10 env -u INCUS_SOCKET INCUS_DIR="$(member_dir "$api")" \
			incus --force-local list --project "$p" --format csv --columns n 2>/dev/null || true)
		for i in "${instances[@]}"; do
			[[ -n $i ]] || continue
			log "deleting instance $p/$i"
			if ! err=$(timeout 30 env -u INCUS_SOCKET INCUS_DIR="$(member_dir "$api")" \
				incus --force-local delete --force --project "$p" "$i" 2>&1); then
				log "could not delete $p/$i (${err:-timeout}); killing it below"
			fi
		done
		if [[ $p != default && -n $p ]]; then
			# A project can only go once it's empty: images, volumes and
			# profiles of the project would block it; ignore, the whole
			# directory goes anyway.
			if ! err=$(timeout 30 env -u INCUS_SOCKET INCUS_DIR="$(member_dir "$api")" \
				incus --force-local project delete "$p" 2>&1); then
				log "could not delete project $p (${err:-timeout})"
			fi
		fi
	done
fi

# 2. Stop the daemons. They are independent processes, so signal all at once
#    and then wait, rather than one by one.
for n in "${names[@]}"; do
	if pid=$(daemon_pid "$n"); then
		log "stopping incusd $n (pid $pid)"
		kill -s TERM "$pid" 2>/dev/null || true
	fi
done
for n in "${names[@]}"; do
	# A member without database quorum may ignore SIGTERM: bounded wait.
	signal_daemon "$n" TERM 10
done

# 3. Leftovers: lxc monitors, containers, forkproxy; then the cgroups of
#    containers that were killed rather than stopped.
kill_under "$TESTBED_DIR"
mapfile -t lxc_names < <(find "$TESTBED_DIR" -mindepth 3 -maxdepth 3 -path '*/containers/*' \
	-printf '%f\n' 2>/dev/null | sort -u)
remove_stale_cgroups "${lxc_names[@]}"

# 4. Mounts and files.
umount_under "$TESTBED_DIR"
rm -rf --one-file-system "$TESTBED_DIR"
[[ ! -e $TESTBED_DIR ]] || die "could not remove $TESTBED_DIR"
echo "down.sh: removed $TESTBED_DIR"
