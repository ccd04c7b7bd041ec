"""
States for incus-fleet: Incus cluster membership and Compose stacks with HA.

Each state builds one incus-fleet protocol request through the ``incus``
execution module and maps the response onto Salt's return:

- ``test=True`` sends ``test: true``: result None with the predicted changes
  (the plan) when something would change, nothing is changed;
- nothing to do: result True, changes {};
- failure: result False, the binary's error message as the comment.

Secrets are never written into SLS files: pass the pillar key that holds
them (``trust_pillar: incus:trust``, ``cluster_token_pillar: ...``) or an
``sdb://`` URI. Their values are masked as ``<redacted>`` in every return.

Example::

    incus-member:
      incus.cluster_member_present:
        - name: node2
        - address: 198.51.100.12:8443
        - cluster: https://198.51.100.11:8443
        - trust_pillar: incus:trust
        - labels: {storage: ssd}

    incus-stack-web:
      incus.compose_stack_present:
        - name: web
        - compose_files: [salt://stacks/web/compose.yaml]
        - watch:
          - incus: incus-member    # a new member gets its global services
"""

__virtualname__ = "incus"


def __virtual__():
    if "incus.call" in __salt__:
        return __virtualname__
    return (False, "incus: the incus execution module is not available (incus-fleet binary missing?)")


# --------------------------------------------------------------------------
# helpers


def _test():
    return bool(__opts__.get("test", False))


def _resolve(value, secrets):
    """Resolve an sdb:// URI (recursively in dicts); resolved values are secrets."""
    if isinstance(value, dict):
        return {k: _resolve(v, secrets) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("sdb://"):
        resolved = __salt__["sdb.get"](value)
        if resolved is None or resolved == value:
            raise ValueError("sdb URI {} did not resolve".format(value))
        secrets.append(resolved)
        return resolved
    return value


def _pillar_value(key):
    """Value of pillar KEY (colon-delimited) or None. Read from __pillar__
    itself: since Salt 3008, pillar.get called from a module returns masked
    placeholders ('**********') instead of the values."""
    node = __pillar__
    for part in key.split(":"):
        # __pillar__ is a loader context object, not a dict: duck-type it.
        if not hasattr(node, "keys") or part not in node:
            return None
        node = node[part]
    return node


def _from_pillar(key, secrets, what):
    """Value of pillar KEY (colon-delimited), sdb:// URIs in it resolved."""
    value = _pillar_value(key)
    if value in (None, "", {}):
        raise ValueError("pillar key {} ({}) is empty or missing".format(key, what))
    return _resolve(value, secrets)


def _plan_lines(response):
    """One line per non-trivial plan step: 'create web-1 on node2 (missing)'."""
    lines = []
    for step in (response.get("plan") or {}).get("steps") or []:
        if step.get("op") == "keep":
            continue
        line = "{} {} on {}".format(step.get("op"), step.get("instance"), step.get("member"))
        if step.get("old_member") and step.get("old_member") != step.get("member"):
            line += " (from {})".format(step["old_member"])
        if step.get("reason"):
            line += " ({})".format(step["reason"])
        lines.append(line)
    return lines


def _to_ret(name, response, test):
    """Map a protocol response onto a Salt state return."""
    ret = {"name": name, "changes": response.get("changes") or {}, "result": response.get("result")}
    comment = [response.get("comment") or ""]
    error = response.get("error")
    if error or ret["result"] is False:
        ret["result"] = False
        error = error or {}
        message = error.get("message") or response.get("comment") or "incus-fleet failed"
        comment = ["{} [{}]".format(message, error.get("code", "internal"))]
        for detail in error.get("details") or []:
            if isinstance(detail, dict) and detail.get("message") and detail["message"] not in message:
                comment.append("- " + detail["message"])
    elif test:
        # Pending changes in test mode are None, a clean check is True.
        ret["result"] = None if ret["changes"] else True
    elif ret["result"] is None:
        ret["result"] = False
        comment.append("incus-fleet reported pending changes outside test mode")
    else:
        ret["result"] = True
    comment.extend(_plan_lines(response))
    ret["comment"] = "\n".join(c for c in comment if c)
    if response.get("warnings"):
        ret["warnings"] = list(response["warnings"])
    return ret


def _fail(name, message):
    return {"name": name, "result": False, "changes": {}, "comment": message}


# --------------------------------------------------------------------------
# cluster members


def cluster_member_present(
    name,
    address=None,
    cluster=None,
    trust=None,
    trust_pillar=None,
    cluster_token=None,
    cluster_token_pillar=None,
    cluster_password=None,
    labels=None,
    groups=None,
    failure_domain=None,
    config=None,
    description=None,
    member_config=None,
    connection=None,
    **kwargs
):
    """
    Ensure this minion's Incus daemon is cluster member NAME. Run it ON the
    member: without ``cluster`` it bootstraps the cluster, with ``cluster``
    (URL of an existing member) it joins.

    name
        member name
    address
        this member's address (IP:PORT), used for core/cluster.https_address
    cluster
        https URL of an existing member to join through; absent = bootstrap
    trust / trust_pillar
        ``{client_cert, client_key, server_fingerprint}`` of the fleet client
        certificate, or the pillar key holding it (recommended)
    cluster_token / cluster_token_pillar
        a join token instead of certificate trust (or its pillar key)
    cluster_password
        seed-era trust password: passed through so incus-fleet can explain
        the token/certificate way (Incus 6 has no trust password)
    labels, groups, failure_domain
        converged on every run when given (labels become ``user.<key>``
        member config). Omitted (None) means not managed: left as they are;
        ``labels: {}`` means none (labels incus-fleet set are removed);
        ``groups: []`` is refused (Incus keeps a member in at least one
        group) and ``failure_domain: default`` is Incus's none.
        A member already in a cluster whose certificate does not match
        ``trust.server_fingerprint`` fails (``conflict``) and changes nothing
    config
        cluster.* server settings, applied when bootstrapping
    description
        member description
    member_config
        per-member storage pool / network settings for the join (list of
        ``{entity, name, key, value}``); default: filled in by incus-fleet
    """
    secrets = []
    try:
        if trust_pillar:
            trust = _from_pillar(trust_pillar, secrets, "trust")
        if cluster_token_pillar:
            cluster_token = _from_pillar(cluster_token_pillar, secrets, "cluster_token")
        trust = _resolve(trust, secrets)
        cluster_token = _resolve(cluster_token, secrets)
        cluster_password = _resolve(cluster_password, secrets)
    except ValueError as exc:
        return _fail(name, str(exc))
    if isinstance(trust, dict) and trust.get("client_key"):
        secrets.append(trust["client_key"])
    secrets.extend(s for s in (cluster_token, cluster_password) if s)
    params = {
        "address": address,
        "cluster": cluster,
        "trust": trust,
        "cluster_token": cluster_token,
        "cluster_password": cluster_password,
        "labels": labels,
        "groups": groups,
        "failure_domain": failure_domain,
        "config": config,
        "description": description,
        "member_config": member_config,
    }
    response = __salt__["incus.member_present"](
        name, test=_test(), connection=connection, secrets=secrets, **params
    )
    return _to_ret(name, response, _test())


def cluster_member_absent(name, force=False, evacuate=True, connection=None, **kwargs):
    """
    Ensure NAME is not a cluster member: evacuate it (default) and remove it.

    force
        remove even when the member is offline (seed 001)
    evacuate
        move its instances away first (default True)
    """
    response = __salt__["incus.member_absent"](
        name, force=force, evacuate=evacuate, test=_test(), connection=connection
    )
    return _to_ret(name, response, _test())


def cluster_member_evacuated(name, mode=None, connection=None, **kwargs):
    """
    Maintenance: ensure member NAME is evacuated (its instances moved to the
    other members). Pair with cluster_member_restored afterwards.

    mode
        auto, live-migrate, migrate or stop: overrides each instance's
        cluster.evacuate
    """
    response = __salt__["incus.member_evacuate"](name, mode=mode, test=_test(), connection=connection)
    return _to_ret(name, response, _test())


def cluster_member_restored(name, connection=None, **kwargs):
    """Ensure member NAME is back in service after an evacuation."""
    response = __salt__["incus.member_restore"](name, test=_test(), connection=connection)
    return _to_ret(name, response, _test())


# --------------------------------------------------------------------------
# stacks


def compose_stack_present(
    name,
    compose_files=None,
    compose_yaml=None,
    bundle=None,
    project_dir=None,
    env=None,
    profiles=None,
    services=None,
    force_recreate=False,
    support_files=None,
    env_pillar=None,
    lock_timeout=None,
    member=None,
    connection=None,
    **kwargs
):
    """
    Ensure Compose stack NAME is deployed as described: creates, updates
    (rolling, per its deploy.update_config), scales and reconciles replicas.

    compose_files
        ``salt://`` or local paths; salt:// files are cached together with
        the files they reference (bind mounts, env_file, configs/secrets
        files, .env) and SUPPORT_FILES, keeping their relative layout, and
        project_dir defaults to the cached directory
    compose_yaml
        inline Compose YAML instead of files (a string, or the mapping itself)
    bundle
        a compose bundle (salt:// or local path)
    env
        interpolation variables (win over .env and the process environment);
        ``sdb://`` values are resolved and treated as secrets
    env_pillar
        pillar key of a dict of further variables (e.g. passwords), merged
        over ``env``; its values are secrets: masked in every return and log
    profiles, services
        active Compose profiles; subset of services to deploy
    force_recreate
        replace every instance even if its config is unchanged
    support_files
        extra paths (relative to the first compose file) to cache with it
    lock_timeout
        seconds to wait for another run on the same stack (e.g. a member's
        reconcile) before failing with ``conflict``; incus-fleet's default 60
    member
        the cluster member this minion runs, when the stack is reconciled
        from a member (the formula sets it). In test mode, while that member
        has not joined yet, the stack is reported as pending instead of being
        planned against a daemon that is not part of the cluster.
    """
    if member and _test():
        status = __salt__["incus.status"](connection=connection)
        names = [m.get("name") for m in status.get("members") or []]
        if status.get("result") is not True or member not in names:
            return {
                "name": name,
                "result": None,
                "changes": {},
                "comment": "member {} is not in the cluster yet: stack {} is reconciled "
                "once it has joined".format(member, name),
            }
    secrets = []
    try:
        env = _resolve(dict(env or {}), secrets)
        if env_pillar:
            extra = _from_pillar(env_pillar, secrets, "env")
            if not isinstance(extra, dict):
                raise ValueError("pillar key {} (env) must be a dict".format(env_pillar))
            secrets.extend(str(v) for v in extra.values())
            env.update(extra)
    except ValueError as exc:
        return _fail(name, str(exc))
    response = __salt__["incus.deploy"](
        name,
        test=_test(),
        connection=connection,
        secrets=secrets,
        compose_files=compose_files,
        compose_yaml=compose_yaml,
        bundle=bundle,
        project_dir=project_dir,
        env=env or None,
        profiles=profiles,
        services=services,
        force_recreate=force_recreate,
        support_files=support_files,
        lock_timeout=lock_timeout,
        saltenv=globals().get("__env__") or None,
    )
    return _to_ret(name, response, _test())


def compose_stack_absent(name, connection=None, **kwargs):
    """Ensure stack NAME is gone: every instance and its Incus project."""
    response = __salt__["incus.remove"](name, test=_test(), connection=connection)
    return _to_ret(name, response, _test())


def mod_watch(name, sfun=None, **kwargs):
    """
    Called when a watched state changed (e.g. a member joined). Stacks are
    reconciled, so global services get an instance on the new member; member
    states simply run again.
    """
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    funcs = {
        "compose_stack_present": compose_stack_present,
        "compose_stack_absent": compose_stack_absent,
        "cluster_member_present": cluster_member_present,
        "cluster_member_absent": cluster_member_absent,
        "cluster_member_evacuated": cluster_member_evacuated,
        "cluster_member_restored": cluster_member_restored,
    }
    if sfun not in funcs:
        return _fail(name, "incus.{} does not support watch".format(sfun))
    ret = funcs[sfun](name, **kwargs)
    ret["comment"] = "Reconciled after a watched state changed. " + ret.get("comment", "")
    return ret
