#!/usr/bin/env bash
# Installs what the incus-fleet test bed needs on Debian 12 (bookworm):
#   incus-base      Incus 6.0 daemon + client, containers only (bookworm-backports)
#   busybox-static  the one binary the test image is built from
#   curl, jq        used by the scripts and tests to talk to the cluster
#   haproxy         the reverse proxy of the zero-downtime update test
#   dnsmasq-base    DHCP server of the test bed's isolated stand-in LAN (lan.sh)
#   mmdebstrap      builds the Debian image from Debian's packages (debian-image.sh)
# Idempotent and fast when everything is present: apt is only touched when a
# command is missing.
set -euo pipefail

BACKPORTS_FILE=/etc/apt/sources.list.d/backports.sources

[[ $(id -u) -eq 0 ]] || {
	echo "install.sh: must run as root" >&2
	exit 1
}

# Commands we need, mapped to the package that ships them.
declare -A NEED=(
	[/usr/libexec/incus/incusd]=incus-base
	[/usr/bin/incus]=incus-base
	[/bin/busybox]=busybox-static
	[/usr/bin/curl]=curl
	[/usr/bin/jq]=jq
	[/usr/sbin/haproxy]=haproxy
	[/usr/sbin/dnsmasq]=dnsmasq-base
	[/usr/bin/mmdebstrap]=mmdebstrap
)

missing=()
for path in "${!NEED[@]}"; do
	[[ -x $path ]] || missing+=("${NEED[$path]}")
done
# /bin/busybox may also come from the dynamic "busybox" package; the image
# needs the static build, so check that the binary is really static.
if [[ -x /bin/busybox ]] && ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
	missing+=(busybox-static)
fi

if ((${#missing[@]} == 0)); then
	echo "install.sh: everything already installed ($(incus --version 2>/dev/null || echo '?'))"
	exit 0
fi

# De-duplicate the package list.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "install.sh: installing ${missing[*]}"

# Incus is only packaged for bookworm in backports; add the suite once.
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	cat >"$BACKPORTS_FILE" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps out qemu/ovmf etc. that VMs would need.
backports=()
plain=()
for pkg in "${missing[@]}"; do
	case $pkg in
	incus-base) backports+=("$pkg") ;;
	*) plain+=("$pkg") ;;
	esac
done
if ((${#backports[@]})); then
	# -t prefers backports for these packages and their dependencies only;
	# the other packages are installed separately so that e.g. curl is not
	# upgraded to its backports version as a side effect.
	apt-get install -y -qq --no-install-recommends -t bookworm-backports "${backports[@]}"
fi
if ((${#plain[@]})); then
	apt-get install -y -qq --no-install-recommends "${plain[@]}"
fi

# The package's postinst may try to start the stock daemon via systemd; there
# is no systemd here and that daemon (INCUS_DIR=/var/lib/incus) is not used.
echo "install.sh: done ($(incus --version))"
