"""
The incus-fleet JSON protocol seen from Salt: build one request, run
``incus-fleet call`` with it on stdin, parse the one response, and mask every
secret on the way out.

Nothing here knows about particular actions: a new protocol action is a thin
function in the execution module (name its params, call :py:func:`call`) and,
if it has a desired state, a thin state on top. Everything takes the Salt
dunders it needs (``opts``, ``pillar``, ``run_all``) as arguments, so this file
is plain Python: the unit tests run it without Salt, and the salt-ssh build
(``python -m saltext.incus_fleet.ssh``) embeds it in the generated modules.
"""

import importlib.util
import json
import logging
import os
import shutil
import subprocess

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
REDACTED = "<redacted>"

# The name saltext-incus (the official Incus extension) loads as. Our modules
# answer to it too, for pillars written in the seed's spelling, but only
# while that extension is not installed: two modules under one name would
# overwrite each other's functions.
SEED_NAME = "incus"

# Request keys whose values are always secret, wherever they appear.
SECRET_KEYS = frozenset(
    {
        "client_key",
        "private_key",
        "cluster_token",
        "cluster_password",
        "trust_password",
        "password",
        "token",
        "secret",
    }
)
# Substrings shorter than this are only masked where a whole string equals
# them: replacing every "abc" inside unrelated text would mangle output.
MIN_SUBSTRING_SECRET = 6


def seed_aliases():
    """``("incus",)`` unless saltext-incus is installed, then ``()``."""
    try:
        if importlib.util.find_spec("saltext.incus") is not None:
            return ()
    except (ImportError, ValueError):
        pass
    return (SEED_NAME,)


# --------------------------------------------------------------------------
# configuration and binary lookup


def conf(opts, pillar, key, default=None):
    """KEY as ``incus_fleet.KEY`` or ``incus_fleet: {KEY: ..}`` in the minion
    config (OPTS), then in PILLAR."""
    for source in (opts or {}, pillar or {}):
        flat = source.get("incus_fleet." + key)
        if flat not in (None, ""):
            return flat
        nested = source.get("incus_fleet")
        if hasattr(nested, "get") and nested.get(key) not in (None, ""):
            return nested[key]
    return default


def find_binary(opts, pillar):
    """Path of the incus-fleet binary, or None when it cannot be found."""
    configured = conf(opts, pillar, "bin")
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        return shutil.which(configured)  # a bare name is looked up on PATH
    return shutil.which("incus-fleet")


def missing_binary_reason(opts, pillar):
    """Why find_binary found nothing, and how to fix it."""
    configured = conf(opts, pillar, "bin")
    if configured:
        return "incus_fleet: incus_fleet.bin is set to {!r}, which is not an executable file".format(
            configured
        )
    return (
        "incus_fleet: the incus-fleet binary is not on PATH; install it on the minion or "
        "set incus_fleet.bin in the minion config"
    )


# --------------------------------------------------------------------------
# secrets


def secret_strings(value):
    """The strings to mask for one secret value: the value itself and, for a
    multi-line value such as a PEM key, each substantial line of it, so a
    partial echo is caught too."""
    if value is None or isinstance(value, bool):
        return []
    if hasattr(value, "values") and hasattr(value, "keys"):
        out = []
        for v in value.values():
            out.extend(secret_strings(v))
        return out
    if isinstance(value, (list, tuple, set)):
        out = []
        for v in value:
            out.extend(secret_strings(v))
        return out
    text = str(value)
    if not text:
        return []
    out = [text, text.strip()]
    for line in text.splitlines():
        line = line.strip()
        if len(line) >= 16 and not line.startswith("-----"):
            out.append(line)
    return [s for s in out if s]


def find_secrets(obj):
    """The values of secret-named keys anywhere in OBJ."""
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str) and k.lower() in SECRET_KEYS:
                found.extend(secret_strings(v))
            else:
                found.extend(find_secrets(v))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            found.extend(find_secrets(v))
    return found


def pillar_path(pillar, path):
    """Value at a colon-delimited PATH ('incus:trust') in PILLAR, or None.

    Callers pass __pillar__ itself: since Salt 3008 pillar.get called from a
    module returns masked placeholders ('**********') unless unmask=True, a
    keyword older Salt versions do not have."""
    node = pillar or {}
    for part in path.split(":"):
        # __pillar__ is a loader context object, not a dict: duck-type it.
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif hasattr(node, "keys") and part in node:
            node = node[part]
        else:
            return None
    return node


def marked_secrets(opts, pillar):
    """Values of the pillar keys listed in incus_fleet.secret_pillar_keys."""
    keys = conf(opts, pillar, "secret_pillar_keys") or []
    if isinstance(keys, str):
        keys = [keys]
    found = []
    for key in keys:
        found.extend(secret_strings(pillar_path(pillar, key)))
    return found


def mask(obj, secrets):
    """A copy of OBJ with every secret string replaced by <redacted>, in
    keys, values and inside longer strings; values under secret-named keys
    are masked whatever they are."""
    # Longest first, so a PEM key is replaced whole before its lines are.
    secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(text):
        for s in secrets:
            if text == s:
                return REDACTED
            if len(s) >= MIN_SUBSTRING_SECRET and s in text:
                text = text.replace(s, REDACTED)
        return text

    def walk(o):
        if isinstance(o, dict):
            out = {}
            for k, v in o.items():
                key = scrub(k) if isinstance(k, str) else k
                if isinstance(k, str) and k.lower() in SECRET_KEYS and v not in (None, "", {}, []):
                    out[key] = REDACTED
                else:
                    out[key] = walk(v)
            return out
        if isinstance(o, (list, tuple)):
            return [walk(v) for v in o]
        if isinstance(o, str):
            return scrub(o)
        return o

    return walk(obj)


# --------------------------------------------------------------------------
# request / response


def clean(params):
    """Drop None values (Salt passes every optional argument), keep False/0."""
    return {k: v for k, v in params.items() if v is not None}


def build_request(action, params=None, test=False, connection=None):
    """The protocol request for ACTION. Empty/None params are dropped so the
    binary's schema sees only what the caller meant to set. CONNECTION may
    be a dict or its JSON (from the command line)."""
    request = {"version": PROTOCOL_VERSION, "action": action, "test": bool(test)}
    if isinstance(connection, str):
        connection = json.loads(connection)
    if connection:
        request["connection"] = dict(connection)
    request["params"] = clean(params or {})
    return request


def failure(action, code, message):
    """A protocol-shaped failure for problems before or around the binary."""
    return {
        "version": PROTOCOL_VERSION,
        "action": action,
        "result": False,
        "changes": {},
        "comment": message,
        "warnings": [],
        "error": {"code": code, "message": message},
    }


def execute(argv, stdin, run_all=None, timeout=None):
    """Run ARGV with STDIN; returns (retcode, stdout, stderr). With RUN_ALL
    (Salt's cmd.run_all) the run is quiet: neither the command's output nor
    its input is logged. Without it, plain subprocess."""
    if run_all is not None:
        out = run_all(
            argv,
            stdin=stdin,
            # Without this Salt turns the "\\n" escapes inside JSON strings
            # into raw newlines, which breaks the JSON.
            stdin_raw_newlines=True,
            python_shell=False,
            output_loglevel="quiet",
            ignore_retcode=True,
            timeout=timeout,
        )
        return out.get("retcode"), out.get("stdout") or "", out.get("stderr") or ""
    proc = subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr


def stderr_tail(stderr, lines=5):
    tail = [l for l in (stderr or "").strip().splitlines() if l.strip()][-lines:]
    return "\n".join(tail)


def call(action, params=None, test=False, connection=None, secrets=None, opts=None, pillar=None, run_all=None):
    """
    Run one protocol request; returns the response dict with every secret
    masked: values of secret-named request keys, the pillar keys listed in
    ``incus_fleet.secret_pillar_keys``, and SECRETS (extra strings).

    CONNECTION defaults to ``incus_fleet.connection`` from OPTS/PILLAR.
    """
    if isinstance(params, str):  # from the command line
        params = json.loads(params)
    if connection is None:
        connection = conf(opts, pillar, "connection")
    request = build_request(action, params, test=test, connection=connection)
    hidden = find_secrets(request) + marked_secrets(opts, pillar)
    for s in secrets or []:
        hidden.extend(secret_strings(s))

    binary = find_binary(opts, pillar)
    if not binary:
        return mask(failure(action, "internal", missing_binary_reason(opts, pillar)), hidden)
    log.debug("incus-fleet request: %s", json.dumps(mask(request, hidden), sort_keys=True))
    try:
        retcode, stdout, stderr = execute(
            [binary, "call"], json.dumps(request), run_all, conf(opts, pillar, "timeout")
        )
    except Exception as exc:  # pylint: disable=broad-except
        return mask(failure(action, "internal", "could not run {}: {}".format(binary, exc)), hidden)
    try:
        response = json.loads(stdout)
        if not isinstance(response, dict):
            raise ValueError("not a JSON object")
    except ValueError:
        detail = stderr_tail(stderr) or "no output"
        response = failure(
            action,
            "internal",
            "incus-fleet exited {} without a JSON response: {}".format(retcode, detail),
        )
    response = mask(response, hidden)
    log.debug("incus-fleet %s: exit %s, result %s", action, retcode, response.get("result"))
    return response
