#!/usr/bin/env bash
# Creates the Python venv the Salt tests use and installs the pinned Salt and
# pytest (salt/requirements.txt). Idempotent: when the venv already holds
# exactly these pins it returns at once.
#
#   SALT_VENV   venv directory (default /opt/incus-fleet/salt-venv)
#   PYTHON      interpreter for the venv (default python3)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REQS=$(cd "$HERE/../../salt" && pwd)/requirements.txt
SALT_VENV=${SALT_VENV:-/opt/incus-fleet/salt-venv}
PYTHON=${PYTHON:-python3}
STAMP=$SALT_VENV/.requirements.sha256

log() { printf '[salt-install] %s\n' "$*" >&2; }

want=$(sha256sum "$REQS" | cut -d' ' -f1)
if [[ -x $SALT_VENV/bin/salt-call && -x $SALT_VENV/bin/pytest && -f $STAMP &&
	$(cat "$STAMP") == "$want" ]]; then
	exit 0
fi

if [[ ! -x $SALT_VENV/bin/python ]]; then
	log "creating venv $SALT_VENV with $($PYTHON --version 2>&1)"
	mkdir -p "$(dirname "$SALT_VENV")"
	"$PYTHON" -m venv "$SALT_VENV"
fi
log "installing $(grep -v '^#' "$REQS" | xargs) (about a minute)"
"$SALT_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQS"
"$SALT_VENV/bin/salt-call" --version >&2
echo "$want" >"$STAMP"
