#!/usr/bin/env bash
# Builds a small Debian 12 (bookworm) system-container image from Debian's
# packages only (mmdebstrap) and imports it into the test cluster under the
# alias `debian-app`. It is what the example application of
# testdata/examples/ runs on: systemd as init, a DHCP client that works in a
# container, nginx, python3 and redis-server.
#
#   debian-image.sh          build (unless cached) and import the alias
#   debian-image.sh build    only build (fills the cache)
#
# The tarballs are cached by the hash of the recipe (RECIPE_ARGS below) under
# $DEBIAN_IMAGE_CACHE (default /var/cache/incus-fleet-testbed), outside
# $TESTBED_DIR, so down.sh keeps them and a warm bed skips the build. Two
# beds building at once share one build (flock on the cache).
#
# Recipe notes (measured on this test bed):
#   - systemd-networkd waits forever for udev in a container ("link pending
#     udev initialization"), so the image uses ifupdown + isc-dhcp-client:
#     `auto eth0` / `iface eth0 inet dhcp` gives a lease on the stand-in LAN
#     within seconds. In a container without eth0 networking.service only
#     reports the missing device.
#   - A service with `command:` or `user:` runs without systemd;
#     incus-fleet's start hook then runs `dhclient -nw` (there is no udhcpc).
#   - nginx stays enabled (a service without `command:` boots systemd and
#     gets nginx); Debian's default site is removed, so a project's server
#     block in /etc/nginx/conf.d/ is the only one on port 80.
#     redis-server is disabled: the example runs it with `command:` on its
#     own volume, and no other service should start a stray one.
#   - usrmerge (installed for init-system-helpers; /usr is merged by then)
#     is purged with the perl it pulled in (perl-base, which is essential,
#     stays): about 50 MiB of 190 MiB.
#   - Documentation, man pages and locales are left out (dpkg path-exclude).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

ALIAS=${DEBIAN_IMAGE_ALIAS:-debian-app}
CACHE=${DEBIAN_IMAGE_CACHE:-/var/cache/incus-fleet-testbed}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
export SOURCE_DATE_EPOCH

[[ $(id -u) -eq 0 ]] || die "must run as root"
command -v mmdebstrap >/dev/null || die "mmdebstrap missing: run install.sh"

# The recipe: suite, packages, dpkg options and customize hooks (each hook
# runs on the host with the rootfs path as $1). Its hash is the cache key.
SUITE=bookworm
PACKAGES=systemd,systemd-sysv,ifupdown,isc-dhcp-client,iproute2,nginx-light,python3,redis-server
# shellcheck disable=SC2016 # $1 is expanded by mmdebstrap's hook shell
RECIPE_ARGS=(
	--variant=minbase
	--include="$PACKAGES"
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-exclude=/usr/share/info/*'
	--customize-hook='printf "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n" >"$1/etc/network/interfaces"'
	--customize-hook='chroot "$1" apt-get purge -y -q usrmerge libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl perl perl-modules-5.36 libperl5.36'
	--customize-hook='rm -f "$1/etc/nginx/sites-enabled/default"'
	--customize-hook='chroot "$1" systemctl disable redis-server.service'
	--customize-hook='echo debian-app >"$1/etc/hostname"'
	--customize-hook='rm -f "$1/etc/resolv.conf" "$1/var/log/"*.log "$1/var/cache/ldconfig/aux-cache"'
)
RECIPE=$(printf '%s\n' "$SUITE" "${RECIPE_ARGS[@]}" | sha256sum | cut -c1-16)
OUT=$CACHE/debian-app-$RECIPE

build() {
	local start=$SECONDS
	WORK=$(mktemp -d "$CACHE/.build.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	log "building Debian $SUITE image ($PACKAGES) into $OUT; takes 1-3 minutes"
	mmdebstrap --mode=root --format=tar "${RECIPE_ARGS[@]}" \
		"$SUITE" "$WORK/rootfs.tar" "$MIRROR" >"$WORK/mmdebstrap.log" 2>&1 || {
		tail -n 30 "$WORK/mmdebstrap.log" >&2
		die "mmdebstrap failed"
	}
	gzip -6 -n "$WORK/rootfs.tar"
	cat >"$WORK/metadata.yaml" <<EOF
architecture: x86_64
creation_date: $SOURCE_DATE_EPOCH
properties:
  architecture: x86_64
  description: Debian $SUITE minbase + nginx, python3, redis-server (incus-fleet testbed, recipe $RECIPE)
  os: debian
  release: $SUITE
  variant: app
EOF
	tar -C "$WORK" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
		-cf - metadata.yaml | gzip -9 -n >"$WORK/meta.tar.gz"
	rm -rf "$OUT.tmp"
	mkdir -p "$OUT.tmp"
	mv "$WORK/meta.tar.gz" "$WORK/rootfs.tar.gz" "$OUT.tmp/"
	mv "$OUT.tmp" "$OUT"
	log "built $OUT in $((SECONDS - start))s ($(du -ch "$OUT"/*.tar.gz | tail -n 1 | cut -f1) compressed)"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [[ -s $OUT/rootfs.tar.gz ]]; then
	log "cached: $OUT"
else
	build
fi
flock -u 9

if [[ ${1:-} == build ]]; then
	exit 0
fi

daemon_running node1 || die "node1 is not running: run up.sh"

# The fingerprint Incus gives a split image: sha256 of metadata then rootfs.
want=$(cat "$OUT/meta.tar.gz" "$OUT/rootfs.tar.gz" | sha256sum | cut -d' ' -f1)
have=$(inc node1 image alias list --format csv --columns a,f 2>/dev/null |
	awk -F, -v a="$ALIAS" '$1 == a {print $2}')
if [[ -n $have && $want == "$have"* ]]; then
	exit 0
fi
log "importing $OUT as $ALIAS (${want:0:12})"
if ! inc node1 image info "$want" >/dev/null 2>&1; then
	inc node1 image import "$OUT/meta.tar.gz" "$OUT/rootfs.tar.gz" >/dev/null
fi
if [[ -n $have ]]; then
	inc node1 image alias delete "$ALIAS"
	# The old image may still back other aliases; only drop it if not.
	if ! inc node1 image alias list --format csv --columns f 2>/dev/null | grep -q "^$have"; then
		inc node1 image delete "$have" || true
	fi
fi
inc node1 image alias create "$ALIAS" "$want"
