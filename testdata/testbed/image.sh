#!/usr/bin/env bash
# Builds the ~1 MiB busybox system-container image used by the tests and
# imports it into the test cluster.
#
#   image.sh          build (if needed) and import aliases `busybox` and
#                     `busybox-alt` (only those that are missing)
#   image.sh build    only build the tarballs
#
# Output (split image format: metadata tarball + rootfs tarball):
#   $TESTBED_DIR/image/{meta.tar.gz,rootfs.tar.gz}      alias busybox
#   $TESTBED_DIR/image-alt/{meta.tar.gz,rootfs.tar.gz}  alias busybox-alt
# The two differ only in /etc/image-version ("1" vs "2"), so tests can check
# that a changed image is detected.
#
# The tarballs are reproducible (fixed mtimes/owners, gzip -n), so the image
# fingerprints are stable across rebuilds and hosts with the same busybox.
#
# Container behaviour (busybox init):
#   - sysinit: mounts /proc and /sys if LXC didn't, brings `lo` up, runs
#     `udhcpc` on eth0 when there is one (the stand-in LAN of lan.sh), writes
#     /srv/www/index.html = "$GREETING from $(hostname)"
#     (GREETING from the instance environment, e.g. `-c environment.GREETING=hi`,
#     default "hello")
#   - respawns `httpd -f -p 80 -h /srv/www`
#   - shutdown: Incus stops a container by sending SIGPWR to its init; busybox
#     init treats SIGPWR as "halt", runs the ::shutdown: action, then spends
#     ~2-3s in fixed sleeps (TERM all, sleep, KILL all, sleep, reboot(), sleep).
#     Our ::shutdown: action (/etc/init.d/rcK) runs `poweroff -f`, i.e.
#     reboot(POWER_OFF) right away; inside a PID namespace the kernel turns
#     that into killing the namespace's init, so `incus stop` takes < 1s.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

BUSYBOX=${BUSYBOX:-/bin/busybox}
# Fixed timestamp for reproducible tarballs and creation_date.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}

[[ -x $BUSYBOX ]] || die "$BUSYBOX missing: run install.sh"
# A dynamic busybox would not run inside the image (there is no libc there);
# ldd succeeds only on dynamic executables.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked; install busybox-static"
fi

# build_images VERSION OUTDIR [VERSION OUTDIR...] builds the rootfs once and
# writes OUTDIR/{meta,rootfs}.tar.gz for each VERSION (/etc/image-version).
build_images() {
	local work root version out
	work=$(mktemp -d "${TMPDIR:-/tmp}/testbed-image.XXXXXX")
	# shellcheck disable=SC2064 # expand now: $work is local
	trap "rm -rf '$work'" RETURN
	root=$work/rootfs
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/init.d,proc,sys,dev,tmp,run,var/log,root,srv/www}
	chmod 1777 "$root/tmp"
	chmod 0700 "$root/root"
	install -m 0755 "$BUSYBOX" "$root/bin/busybox"

	# One symlink per applet at its standard path (sh, ip, ifconfig, httpd,
	# hostname, sleep, cat, echo, mount, init, wget, nc, ...).
	# Relative links keep working when the rootfs is looked at from the host
	# (e.g. under the storage pool). Computed in bash, one fork per applet:
	# this loop dominates the build time on a busy 2-core machine.
	local applet dir target depth i
	local -A made=()
	while read -r applet; do
		[[ -n $applet && $applet != bin/busybox ]] || continue
		if [[ $applet != */* ]]; then
			# Top-level applets (linuxrc).
			ln -sf bin/busybox "$root/$applet"
			continue
		fi
		dir=${applet%/*}
		if [[ -z ${made[$dir]:-} ]]; then
			mkdir -p "$root/$dir"
			made[$dir]=1
		fi
		if [[ $dir == bin ]]; then
			target=busybox
		else
			# One "../" per path component of the applet's directory.
			depth=${dir//[!\/]/}
			target=bin/busybox
			for ((i = 0; i <= ${#depth}; i++)); do target=../$target; done
		fi
		ln -sf "$target" "$root/$applet"
	done < <("$BUSYBOX" --list-full)
	# /sbin/init must exist even if the applet list changes.
	ln -sf ../bin/busybox "$root/sbin/init"

	cat >"$root/etc/inittab" <<'EOF'
# busybox init configuration for the incus-fleet test image.
::sysinit:/etc/init.d/rcS
::respawn:/usr/sbin/httpd -f -p 80 -h /srv/www
# Incus stops containers with SIGPWR (busybox init: halt). rcK powers off at
# once instead of going through busybox init's fixed multi-second sleeps.
# NB: busybox init merges inittab lines with the same command, so the
# shutdown and ctrlaltdel commands must differ.
::shutdown:/etc/init.d/rcK
# SIGINT (lxc.signal.reboot): reboot the container.
::ctrlaltdel:/sbin/reboot -f
EOF

	cat >"$root/etc/init.d/rcS" <<'EOF'
#!/bin/sh
# One-time container setup, run by busybox init (::sysinit:).
# LXC normally mounts these already; only mount what's missing.
grep -q ' /proc ' /proc/mounts 2>/dev/null || mount -t proc proc /proc
grep -q ' /sys ' /proc/mounts 2>/dev/null || mount -t sysfs sysfs /sys
ip link set lo up
# On the test bed's stand-in LAN (lan.sh) eth0 gets its address by DHCP.
# udhcpc stays in the background to renew; -b: also when no lease came yet.
if [ -e /sys/class/net/eth0 ]; then
	udhcpc -b -i eth0 -s /usr/share/udhcpc/default.script -t 10 -T 1 -A 1 >/var/log/udhcpc.log 2>&1
fi
mkdir -p /srv/www
echo "${GREETING:-hello} from $(hostname)" >/srv/www/index.html
EOF
	chmod 0755 "$root/etc/init.d/rcS"

	cat >"$root/etc/init.d/rcK" <<'EOF'
#!/bin/sh
# Shutdown action (busybox init ::shutdown:). There is nothing to flush, so
# power off right away: in a PID namespace reboot(POWER_OFF) makes the kernel
# kill this namespace's init, which ends the container immediately.
echo "rcK: powering off"
# Give the DHCP lease back (udhcpc releases on SIGUSR2), so the LAN's small
# pool is not used up by instances that are gone.
if pidof udhcpc >/dev/null 2>&1; then
	kill -USR2 $(pidof udhcpc) 2>/dev/null
	sleep 0.1
fi
exec /sbin/poweroff -f
EOF
	chmod 0755 "$root/etc/init.d/rcK"

	# udhcpc's event script: configure the address it leased (no router,
	# no DNS: the LAN has neither).
	mkdir -p "$root/usr/share/udhcpc"
	cat >"$root/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
case "$1" in
deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
bound | renew) ip -4 addr flush dev "$interface"; ip addr add "$ip/${mask:-24}" dev "$interface" ;;
esac
exit 0
EOF
	chmod 0755 "$root/usr/share/udhcpc/default.script"

	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	echo testbed >"$root/etc/hostname"

	# Metadata is identical for both variants: only the rootfs differs.
	cat >"$work/metadata.yaml" <<EOF
architecture: x86_64
creation_date: $SOURCE_DATE_EPOCH
properties:
  architecture: x86_64
  description: busybox $("$BUSYBOX" | head -n 1 | awk '{print $2}') test image (incus-fleet testbed)
  os: busybox
  release: testbed
  variant: default
EOF

	local -a tarflags=(--sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0
		--numeric-owner --format=gnu)
	while (($# >= 2)); do
		version=$1 out=$2
		shift 2
		echo "$version" >"$root/etc/image-version"
		mkdir -p "$out"
		tar -C "$work" "${tarflags[@]}" -cf - metadata.yaml | gzip -9 -n >"$out/meta.tar.gz.tmp"
		tar -C "$root" "${tarflags[@]}" -cf - . | gzip -9 -n >"$out/rootfs.tar.gz.tmp"
		mv "$out/meta.tar.gz.tmp" "$out/meta.tar.gz"
		mv "$out/rootfs.tar.gz.tmp" "$out/rootfs.tar.gz"
		log "built $out ($(du -ch "$out"/*.tar.gz | tail -n 1 | cut -f1), version $version)"
	done
}

# is_built OUTDIR: tarballs exist and are newer than busybox and this script.
is_built() {
	[[ -s $1/meta.tar.gz && -s $1/rootfs.tar.gz && $1/rootfs.tar.gz -nt $BUSYBOX &&
		$1/rootfs.tar.gz -nt ${BASH_SOURCE[0]} ]]
}

# fingerprint OUTDIR prints the fingerprint Incus gives a split image: the
# sha256 of the metadata tarball followed by the rootfs tarball.
fingerprint() {
	cat "$1/meta.tar.gz" "$1/rootfs.tar.gz" | sha256sum | cut -d' ' -f1
}

# import_alias ALIAS OUTDIR imports the image under ALIAS unless ALIAS already
# points to exactly this build. If ALIAS points to an older build (busybox or
# this script changed), the alias is moved and the old image deleted.
import_alias() {
	local alias=$1 out=$2 want have
	want=$(fingerprint "$out")
	have=$(inc node1 image alias list --format csv --columns a,f 2>/dev/null |
		awk -F, -v a="$alias" '$1 == a {print $2}')
	if [[ -n $have && $want == "$have"* ]]; then
		return 0
	fi
	log "importing $out as $alias (${want:0:12})"
	if ! inc node1 image info "$want" >/dev/null 2>&1; then
		inc node1 image import "$out/meta.tar.gz" "$out/rootfs.tar.gz" >/dev/null
	fi
	if [[ -n $have ]]; then
		inc node1 image alias delete "$alias"
		# The old image may still back other aliases; only drop it if not.
		if ! inc node1 image alias list --format csv --columns f 2>/dev/null | grep -q "^$have"; then
			inc node1 image delete "$have" || true
		fi
	fi
	inc node1 image alias create "$alias" "$want"
}

if ! is_built "$TESTBED_DIR/image" || ! is_built "$TESTBED_DIR/image-alt"; then
	build_images 1 "$TESTBED_DIR/image" 2 "$TESTBED_DIR/image-alt"
fi

if [[ ${1:-} == build ]]; then
	exit 0
fi

daemon_running node1 || die "node1 is not running: run up.sh"
import_alias busybox "$TESTBED_DIR/image"
import_alias busybox-alt "$TESTBED_DIR/image-alt"
