"""
Execution module for incus-fleet: Compose stacks with HA on Incus clusters.

Every function here is a thin wrapper around one request of the incus-fleet
JSON protocol (PROTOCOL.md): build the request, run ``incus-fleet call`` with
the request on stdin, and return the response dict. The binary does all the
work; nothing here talks to Incus.

Configuration (minion config, or pillar ``incus_fleet``)::

    incus_fleet.bin: /usr/local/bin/incus-fleet     # default: incus-fleet on PATH
    incus_fleet.connection:                         # default: local unix socket
      socket: /var/lib/incus/unix.socket
    incus_fleet.timeout: 3600                       # seconds per call; default none
    incus_fleet.secret_pillar_keys:                 # pillar keys whose values are
      - incus:trust:client_key                      # masked in every return
      - incus:cluster_token

The nested form (``incus_fleet: {bin: ..., connection: ...}``) works too.

Secrets (private keys, join tokens, passwords, and the values of the pillar
keys listed above) never leave this module in clear: they are replaced by
``<redacted>`` in every return, comment and log line, in test mode and on
errors too.

CLI examples::

    salt-call incus.status
    salt-call incus.plan web compose_files='["salt://stacks/web/compose.yaml"]'
    salt-call incus.deploy web compose_yaml='{services: {web: {image: busybox, deploy: {replicas: 3}}}}'
    salt-call incus.call stack.status '{"name": "web"}'
"""

import json
import logging
import os
import posixpath
import shutil

try:  # PyYAML ships with Salt; without it only explicit support_files are cached.
    import yaml
except ImportError:  # pragma: no cover
    yaml = None

log = logging.getLogger(__name__)

__virtualname__ = "incus"

PROTOCOL_VERSION = 1
REDACTED = "<redacted>"

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


# --------------------------------------------------------------------------
# configuration and binary lookup


def _conf(key, default=None):
    """Look KEY up as ``incus_fleet.KEY`` or ``incus_fleet: {KEY: ..}`` in the
    minion config, then in pillar."""
    opts = globals().get("__opts__") or {}
    pillar = globals().get("__pillar__") or {}
    for source in (opts, pillar):
        flat = source.get("incus_fleet." + key)
        if flat not in (None, ""):
            return flat
        nested = source.get("incus_fleet")
        if isinstance(nested, dict) and nested.get(key) not in (None, ""):
            return nested[key]
    return default


def _binary():
    """Path of the incus-fleet binary, or None when it cannot be found."""
    configured = _conf("bin")
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        return shutil.which(configured)  # a bare name is looked up on PATH
    return shutil.which("incus-fleet")


def __virtual__():
    if _binary():
        return __virtualname__
    configured = _conf("bin")
    if configured:
        return (
            False,
            "incus: incus_fleet.bin is set to {!r}, which is not an executable file".format(
                configured
            ),
        )
    return (
        False,
        "incus: the incus-fleet binary is not on PATH; install it on the minion or "
        "set incus_fleet.bin in the minion config",
    )


# --------------------------------------------------------------------------
# secrets


def _secret_strings(value):
    """The strings to mask for one secret value: the value itself and, for a
    multi-line value such as a PEM key, each substantial line of it, so a
    partial echo is caught too."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, dict):
        out = []
        for v in value.values():
            out.extend(_secret_strings(v))
        return out
    if isinstance(value, (list, tuple, set)):
        out = []
        for v in value:
            out.extend(_secret_strings(v))
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


def _find_secrets(obj):
    """Collect the values of secret-named keys anywhere in OBJ."""
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str) and k.lower() in SECRET_KEYS:
                found.extend(_secret_strings(v))
            else:
                found.extend(_find_secrets(v))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            found.extend(_find_secrets(v))
    return found


def _pillar_path(path):
    """Value at a colon-delimited pillar PATH ('incus:trust'), or None.

    Reads __pillar__ directly: since Salt 3008 pillar.get called from a
    module returns masked placeholders ('**********') unless unmask=True,
    a keyword older Salt versions do not have."""
    node = globals().get("__pillar__") or {}
    for part in path.split(":"):
        # __pillar__ is a loader context object, not a dict: duck-type it.
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif hasattr(node, "keys") and part in node:
            node = node[part]
        else:
            return None
    return node


def _marked_secrets():
    """Values of the pillar keys listed in incus_fleet.secret_pillar_keys."""
    keys = _conf("secret_pillar_keys") or []
    if isinstance(keys, str):
        keys = [keys]
    found = []
    for key in keys:
        found.extend(_secret_strings(_pillar_path(key)))
    return found


def _mask(obj, secrets):
    """Return a copy of OBJ with every secret string replaced by <redacted>,
    in keys, values and inside longer strings; values under secret-named keys
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


def _build_request(action, params=None, test=False, connection=None):
    """The protocol request for ACTION. Empty/None params are dropped so the
    binary's schema sees only what the caller meant to set."""
    request = {"version": PROTOCOL_VERSION, "action": action, "test": bool(test)}
    if connection is None:
        connection = _conf("connection")
    if isinstance(connection, str):  # from the CLI
        connection = json.loads(connection)
    if connection:
        request["connection"] = dict(connection)
    request["params"] = _clean(params or {})
    return request


def _clean(params):
    """Drop None values (Salt passes every optional argument), keep False/0."""
    return {k: v for k, v in params.items() if v is not None}


def _failure(action, code, message):
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


def _execute(argv, stdin):
    """Run ARGV with STDIN; returns (retcode, stdout, stderr). Uses Salt's
    cmd.run_all when loaded by Salt (quiet: neither the command's output nor
    its input is logged), plain subprocess otherwise."""
    timeout = _conf("timeout")
    run_all = (globals().get("__salt__") or {}).get("cmd.run_all")
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
    import subprocess  # pylint: disable=import-outside-toplevel

    proc = subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _stderr_tail(stderr, lines=5):
    tail = [l for l in (stderr or "").strip().splitlines() if l.strip()][-lines:]
    return "\n".join(tail)


def call(action, params=None, test=None, connection=None, secrets=None):
    """
    Run one protocol request and return the response dict, secrets masked.

    action
        protocol action, e.g. ``stack.present``, ``cluster.member.present``
    params
        dict of action params (see ``incus-fleet schema ACTION``)
    test
        dry run (protocol ``test: true``); default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection`` config
    secrets
        extra strings to mask in the response (values taken from pillar)

    CLI example::

        salt-call incus.call cluster.status
        salt-call incus.call stack.absent '{"name": "web"}' test=True
    """
    if test is None:
        test = bool((globals().get("__opts__") or {}).get("test", False))
    if isinstance(params, str):  # from the CLI
        params = json.loads(params)
    request = _build_request(action, params, test=test, connection=connection)
    hidden = _find_secrets(request) + _marked_secrets()
    for s in secrets or []:
        hidden.extend(_secret_strings(s))

    binary = _binary()
    if not binary:
        return _mask(_failure(action, "internal", __virtual__()[1]), hidden)
    log.debug("incus-fleet request: %s", json.dumps(_mask(request, hidden), sort_keys=True))
    try:
        retcode, stdout, stderr = _execute([binary, "call"], json.dumps(request))
    except Exception as exc:  # pylint: disable=broad-except
        return _mask(
            _failure(action, "internal", "could not run {}: {}".format(binary, exc)), hidden
        )
    try:
        response = json.loads(stdout)
        if not isinstance(response, dict):
            raise ValueError("not a JSON object")
    except ValueError:
        detail = _stderr_tail(stderr) or "no output"
        response = _failure(
            action,
            "internal",
            "incus-fleet exited {} without a JSON response: {}".format(retcode, detail),
        )
    response = _mask(response, hidden)
    log.debug(
        "incus-fleet %s: exit %s, result %s", action, retcode, response.get("result")
    )
    return response


# --------------------------------------------------------------------------
# cluster


def status(connection=None):
    """
    Cluster members with status, roles, labels, groups, failure domain.

    CLI example: ``salt-call incus.status``
    """
    return call("cluster.status", {}, test=False, connection=connection)


def member_list(connection=None):
    """
    Same response as :py:func:`status`; its ``members`` list is the member list.

    CLI example: ``salt-call incus.member_list``
    """
    return status(connection=connection)


def snapshot(connection=None):
    """
    The cluster as the planner sees it; usable as ``cluster`` for offline plans.

    CLI example: ``salt-call incus.snapshot``
    """
    return call("cluster.snapshot", {}, test=False, connection=connection)


def member_present(name, test=None, connection=None, secrets=None, **params):
    """
    cluster.member.present for member NAME (run on that member). PARAMS:
    address, cluster, trust, cluster_token, labels, groups, failure_domain,
    config, ... as in the protocol. labels, groups, failure_domain: omitted
    (None) = not managed; ``labels: {}`` = none.
    """
    params = {k: v for k, v in params.items() if not k.startswith("__")}
    params["name"] = name
    return call("cluster.member.present", params, test, connection, secrets)


def member_absent(name, force=None, evacuate=None, test=None, connection=None):
    """cluster.member.absent: evacuate (default) and remove member NAME."""
    params = {"name": name, "force": force, "evacuate": evacuate}
    return call("cluster.member.absent", params, test, connection)


def member_evacuate(name, mode=None, test=None, connection=None):
    """cluster.member.evacuate: move instances off NAME for maintenance
    (MODE: auto, live-migrate, migrate or stop)."""
    return call("cluster.member.evacuate", {"name": name, "mode": mode}, test, connection)


def member_restore(name, test=None, connection=None):
    """cluster.member.restore: bring NAME back after maintenance."""
    return call("cluster.member.restore", {"name": name}, test, connection)


# --------------------------------------------------------------------------
# stacks


def _is_salt_url(path):
    return isinstance(path, str) and path.startswith("salt://")


def _cache_file(url, saltenv):
    """Cache one salt:// file; returns the local path or '' when missing."""
    return __salt__["cp.cache_file"](url, saltenv=saltenv) or ""


def _cache_dir(url, saltenv):
    """Cache a salt:// directory; True when anything was cached."""
    return bool(__salt__["cp.cache_dir"](url, saltenv=saltenv))


def _referenced_files(compose_text):
    """Relative paths a compose file refers to and that must sit next to it:
    bind mount sources, env_file entries, file-based configs and secrets.
    Returns sorted ``(path, required)`` pairs; ``env_file`` entries with
    ``required: false`` are optional. Paths with ${interpolation}, absolute
    paths, paths outside the stack's directory and named volumes are skipped."""
    if yaml is None:
        return []
    try:
        doc = yaml.safe_load(compose_text) or {}
    except yaml.YAMLError:
        return []  # the binary reports syntax errors in its own words
    if not isinstance(doc, dict):
        return []
    found = {}

    def add(path, required=True):
        if not isinstance(path, str) or not path or "$" in path:
            return
        if path.startswith(("/", "~")):
            return
        norm = posixpath.normpath(path)
        if norm.startswith("..") or norm == ".":
            return
        found[norm] = found.get(norm, False) or required

    services = doc.get("services") or {}
    for svc in services.values() if isinstance(services, dict) else []:
        if not isinstance(svc, dict):
            continue
        for vol in svc.get("volumes") or []:
            if isinstance(vol, str):
                source = vol.split(":", 1)[0]
                if source.startswith("."):  # else a named volume or absolute path
                    add(source)
            elif isinstance(vol, dict) and vol.get("type") == "bind":
                add(vol.get("source"))
        env_files = svc.get("env_file") or []
        if isinstance(env_files, (str, dict)):
            env_files = [env_files]
        for entry in env_files:
            if isinstance(entry, dict):
                add(entry.get("path"), entry.get("required", True) is not False)
            else:
                add(entry)
    for section in ("configs", "secrets"):
        entries = doc.get(section) or {}
        for entry in entries.values() if isinstance(entries, dict) else []:
            if isinstance(entry, dict):
                add(entry.get("file"))
    return sorted(found.items())


def _cache_stack_files(compose_files, support_files=None, saltenv=None):
    """
    Fetch salt:// compose files and the files they need into the minion
    cache, keeping their layout relative to the first compose file.

    Returns ``(local_compose_files, project_dir, problems)``; ``project_dir``
    is the cached directory of the first compose file (None when the files
    are local paths), ``problems`` a list of messages (empty on success).
    Support files are the ``.env`` beside the compose file (if any), the
    files the compose files reference (see :py:func:`_referenced_files`) and
    SUPPORT_FILES (paths relative to the first compose file's directory, or
    salt:// URLs; a trailing '/' names a directory).
    """
    saltenv = saltenv or (globals().get("__opts__") or {}).get("saltenv") or "base"
    local, problems = [], []
    for path in compose_files:
        if not _is_salt_url(path):
            local.append(path)
            continue
        cached = _cache_file(path, saltenv)
        if not cached:
            problems.append("compose file {} not found on the fileserver (saltenv {})".format(path, saltenv))
        local.append(cached)
    if problems or not _is_salt_url(compose_files[0]):
        return local, None, problems

    base_url = posixpath.dirname(compose_files[0])
    project_dir = os.path.dirname(local[0])
    wanted = []  # (relative path or url, required?)
    for path in local:
        try:
            with open(path, encoding="utf-8") as fh:
                wanted.extend(_referenced_files(fh.read()))
        except OSError as exc:
            problems.append("cannot read cached {}: {}".format(path, exc))
    wanted.extend((rel, True) for rel in support_files or [])
    wanted.append((".env", False))  # optional, like in Compose

    for rel, required in wanted:
        url = rel if _is_salt_url(rel) else base_url + "/" + posixpath.normpath(rel)
        if rel.endswith("/"):
            if not _cache_dir(url, saltenv) and required:
                problems.append("support directory {} not found on the fileserver".format(url))
            continue
        if _cache_file(url, saltenv):
            continue
        # A bind mount source may be a directory: try that before giving up.
        if _cache_dir(url, saltenv):
            continue
        if required:
            problems.append("support file {} not found on the fileserver".format(url))
    return local, project_dir, problems


def _stack_params(
    name,
    compose_files=None,
    compose_yaml=None,
    bundle=None,
    project_dir=None,
    env=None,
    profiles=None,
    services=None,
    force_recreate=None,
    support_files=None,
    lock_timeout=None,
    saltenv=None,
):
    """stack.present params, with salt:// inputs cached; returns (params, problems)."""
    problems = []
    if isinstance(compose_yaml, dict):
        # Compose written as a mapping in SLS or on the CLI: JSON is YAML.
        compose_yaml = json.dumps(compose_yaml)
    if isinstance(compose_files, str):
        compose_files = [compose_files]
    if compose_files:
        compose_files, cached_dir, problems = _cache_stack_files(
            compose_files, support_files, saltenv
        )
        project_dir = project_dir or cached_dir
    if _is_salt_url(bundle):
        cached = _cache_file(bundle, saltenv)
        if not cached:
            problems.append("bundle {} not found on the fileserver".format(bundle))
        bundle = cached
    params = {
        "name": name,
        "compose_files": compose_files or None,
        "compose_yaml": compose_yaml,
        "bundle": bundle,
        "project_dir": project_dir,
        "env": {str(k): str(v) for k, v in env.items()} if env else None,
        "profiles": list(profiles) if profiles else None,
        "services": list(services) if services else None,
        "force_recreate": bool(force_recreate) if force_recreate is not None else None,
        "lock_timeout": lock_timeout,
    }
    return _clean(params), problems


def deploy(name, test=None, connection=None, secrets=None, **kwargs):
    """
    stack.present: deploy, update, scale or reconcile stack NAME.

    Keyword arguments: compose_files (list of salt:// or local paths),
    compose_yaml (inline: a YAML string, or the Compose mapping), bundle, project_dir, env (dict), profiles,
    services, force_recreate, support_files, saltenv.

    CLI example::

        salt-call incus.deploy web compose_files='[salt://stacks/web/compose.yaml]'
    """
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    params, problems = _stack_params(name, **kwargs)
    if problems:
        return _failure("stack.present", "not_found", "; ".join(problems))
    return call("stack.present", params, test, connection, secrets)


def plan(name, connection=None, secrets=None, **kwargs):
    """
    stack.present in test mode: the plan for stack NAME, nothing changed.

    CLI example::

        salt-call incus.plan web compose_files='[salt://stacks/web/compose.yaml]'
    """
    return deploy(name, test=True, connection=connection, secrets=secrets, **kwargs)


def remove(name, test=None, connection=None):
    """stack.absent: remove every instance of stack NAME and its project."""
    return call("stack.absent", {"name": name}, test, connection)


def stack_status(name, connection=None):
    """stack.status: instances of NAME per service, member, state, hash."""
    return call("stack.status", {"name": name}, False, connection)


def rollback(name, test=None, connection=None):
    """
    stack.rollback: return stack NAME to its previously deployed spec.

    CLI example: ``salt-call incus.rollback web``
    """
    return call("stack.rollback", {"name": name}, test, connection)
