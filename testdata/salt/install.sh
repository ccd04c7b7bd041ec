#!/usr/bin/env bash
# Creates one Python venv per Salt version for the Salt tests, each with that
# Salt from PyPI, the test tools (salt/requirements.txt) and the extension
# from ./salt (`pip install ./salt`, as a user would). The venv of
# SALTEXT_INCUS_VERSION's Salt also gets saltext-incus (the official Incus
# extension, which owns the name `incus`), so the whole suite there runs with
# both extensions installed side by side.
#
# Idempotent: a venv that already holds exactly these pins is kept, and the
# extension is reinstalled only when salt/ changed.
#
#   SALT_VENV_PREFIX      venvs are PREFIX-<version> (default /opt/incus-fleet/salt-venv)
#   SALT_VERSIONS         default "3008.3 3008.4"
#   SALTEXT_INCUS_IN      Salt version whose venv gets saltext-incus (default 3008.4)
#   PYTHON                interpreter for the venvs (default python3)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SALT_SRC=$(cd "$HERE/../../salt" && pwd)
REQS=$SALT_SRC/requirements.txt
SALT_VENV_PREFIX=${SALT_VENV_PREFIX:-/opt/incus-fleet/salt-venv}
SALT_VERSIONS=${SALT_VERSIONS:-3008.3 3008.4}
SALTEXT_INCUS_IN=${SALTEXT_INCUS_IN:-3008.4}
SALTEXT_INCUS_VERSION=1.0.1
PYTHON=${PYTHON:-python3}

log() { printf '[salt-install] %s\n' "$*" >&2; }
pip_q() { "$1/bin/pip" install --quiet --disable-pip-version-check "${@:2}"; }

# The extension's sources: a change reinstalls it.
ext_hash() {
	(cd "$SALT_SRC" && find pyproject.toml README.md src -name '*.egg-info' -prune -o -type f \
		-not -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

for version in $SALT_VERSIONS; do
	venv=$SALT_VENV_PREFIX-$version
	extra=""
	[[ $version == "$SALTEXT_INCUS_IN" ]] && extra="saltext-incus==$SALTEXT_INCUS_VERSION"
	want=$( (cat "$REQS"; echo "salt==$version $extra") | sha256sum | cut -d' ' -f1)
	if ! [[ -x $venv/bin/salt-call && -f $venv/.requirements.sha256 &&
		$(cat "$venv/.requirements.sha256") == "$want" ]]; then
		if [[ ! -x $venv/bin/python ]]; then
			log "creating venv $venv with $($PYTHON --version 2>&1)"
			mkdir -p "$(dirname "$venv")"
			"$PYTHON" -m venv "$venv"
		fi
		log "installing salt==$version $extra and $(grep -v '^#' "$REQS" | xargs) into $venv (about a minute)"
		# shellcheck disable=SC2086
		pip_q "$venv" "salt==$version" -r "$REQS" $extra
		rm -f "$venv/.extension.sha256"
		echo "$want" >"$venv/.requirements.sha256"
	fi
	have=$(cat "$venv/.extension.sha256" 2>/dev/null || true)
	now=$(ext_hash)
	if [[ $have != "$now" ]]; then
		log "installing the extension (pip install ./salt) into $venv"
		# A copy: building in place would leave build/ and *.egg-info in salt/.
		tmp=$(mktemp -d)
		cp -r "$SALT_SRC/pyproject.toml" "$SALT_SRC/README.md" "$SALT_SRC/src" "$tmp/"
		pip_q "$venv" --no-deps --force-reinstall "$tmp"
		rm -rf "$tmp"
		echo "$now" >"$venv/.extension.sha256"
	fi
	"$venv/bin/salt-call" --version >&2
done
