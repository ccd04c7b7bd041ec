"""
salt:// Compose files and the files next to them that they need, fetched
into the minion cache with their relative layout kept, so the binary finds
``./greeting.env`` or ``./nginx.conf`` where the Compose file says.

Plain Python: the fetchers (``cp.cache_file`` / ``cp.cache_dir``) are passed in.
"""

import os
import posixpath

try:  # PyYAML ships with Salt; without it only explicit support_files are cached.
    import yaml
except ImportError:  # pragma: no cover
    yaml = None


def is_salt_url(path):
    return isinstance(path, str) and path.startswith("salt://")


def referenced_files(compose_text):
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


def cache_stack_files(compose_files, support_files, saltenv, cache_file, cache_dir):
    """
    Fetch salt:// COMPOSE_FILES and the files they need into the minion
    cache; CACHE_FILE(url, saltenv) returns a local path or '' and
    CACHE_DIR(url, saltenv) a truthy value when anything was cached.

    Returns ``(local_compose_files, project_dir, problems)``; ``project_dir``
    is the cached directory of the first compose file (None when the files
    are local paths), ``problems`` a list of messages (empty on success).
    Support files are the ``.env`` beside the compose file (if any), the
    files the compose files reference (see :py:func:`referenced_files`) and
    SUPPORT_FILES (paths relative to the first compose file's directory, or
    salt:// URLs; a trailing '/' names a directory).
    """
    local, problems = [], []
    for path in compose_files:
        if not is_salt_url(path):
            local.append(path)
            continue
        cached = cache_file(path, saltenv)
        if not cached:
            problems.append("compose file {} not found on the fileserver (saltenv {})".format(path, saltenv))
        local.append(cached)
    if problems or not is_salt_url(compose_files[0]):
        return local, None, problems

    base_url = posixpath.dirname(compose_files[0])
    project_dir = os.path.dirname(local[0])
    wanted = []  # (relative path or url, required?)
    for path in local:
        try:
            with open(path, encoding="utf-8") as fh:
                wanted.extend(referenced_files(fh.read()))
        except OSError as exc:
            problems.append("cannot read cached {}: {}".format(path, exc))
    wanted.extend((rel, True) for rel in support_files or [])
    wanted.append((".env", False))  # optional, like in Compose

    for rel, required in wanted:
        url = rel if is_salt_url(rel) else base_url + "/" + posixpath.normpath(rel)
        if rel.endswith("/"):
            if not cache_dir(url, saltenv) and required:
                problems.append("support directory {} not found on the fileserver".format(url))
            continue
        if cache_file(url, saltenv):
            continue
        # A bind mount source may be a directory: try that before giving up.
        if cache_dir(url, saltenv):
            continue
        if required:
            problems.append("support file {} not found on the fileserver".format(url))
    return local, project_dir, problems
