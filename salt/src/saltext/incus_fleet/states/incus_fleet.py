"""
States for incus-fleet: Incus cluster membership and Compose stacks with HA.

Each state builds one incus-fleet protocol request through the
``incus_fleet`` execution module and maps the response onto Salt's return:

- ``test=True`` sends ``test: true``: result None with the predicted changes
  (the plan) when something would change, nothing is changed;
- nothing to do: result True, changes {};
- failure: result False, the binary's error message and code as the comment.

Secrets are never written into SLS files: pass the pillar key that holds
them (``trust_pillar: incus:trust``, ``cluster_token_pillar: ...``,
``env_pillar: ...``) or an ``sdb://`` URI. Their values are masked as
``<redacted>`` in every return.

The states load as ``incus_fleet``, and also as ``incus`` (the seed's
spelling) while saltext-incus, which owns that name, is not installed.

.. code-block:: yaml

    incus-member:
      incus_fleet.cluster_member_present:
        - name: node2
        - address: 198.51.100.12:8443
        - cluster: https://198.51.100.11:8443
        - trust_pillar: incus:trust
        - labels: {storage: ssd}

    incus-stack-web:
      incus_fleet.compose_stack_present:
        - name: web
        - compose_files: [salt://stacks/web/compose.yaml]
        - watch:
          - incus_fleet: incus-member    # a new member gets its global services
"""

from saltext.incus_fleet.utils import protocol as _protocol

__virtualname__ = "incus_fleet"
# Read by Salt's loader when the file is imported, before __virtual__.
__virtual_aliases__ = _protocol.seed_aliases()


def __virtual__():
    if "incus_fleet.call" in __salt__:
        return __virtualname__
    return (
        False,
        "incus_fleet: the incus_fleet execution module is not available (incus-fleet binary missing?)",
    )


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
    """Value of pillar KEY (colon-delimited) or None, read from __pillar__
    itself: since Salt 3008, pillar.get called from a module returns masked
    placeholders ('**********') instead of the values."""
    return _protocol.pillar_path(__pillar__, key)


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
        if step.get("old_instance") and step["old_instance"] != step.get("instance"):
            # start-first replaces web-1 by a new instance web-1-b
            line = "{} {} by {} on {}".format(
                step.get("op"), step["old_instance"], step.get("instance"), step.get("member")
            )
        if step.get("old_member") and step.get("old_member") != step.get("member"):
            line += " (from {})".format(step["old_member"])
        if step.get("reason"):
            line += " ({})".format(step["reason"])
        lines.append(line)
    return lines


def _named_replacements(changes, response):
    """Changes with the plan's replace/update steps spelled out: which
    instance was replaced by which, and why, so `changes` reads old -> new."""
    steps = {s.get("instance"): s for s in (response.get("plan") or {}).get("steps") or []}
    out = {}
    for key, change in changes.items():
        step = steps.get(key)
        if step and step.get("op") in ("replace", "update") and isinstance(change, dict):
            change = dict(change)
            if isinstance(change.get("old"), dict):
                change["old"] = dict(change["old"], instance=step.get("old_instance") or key)
            if isinstance(change.get("new"), dict):
                change["new"] = dict(change["new"], instance=key)
                if step.get("reason"):
                    change["new"]["reason"] = step["reason"]
        out[key] = change
    return out


def _to_ret(name, response, test):
    """Map a protocol response onto a Salt state return."""
    changes = _named_replacements(response.get("changes") or {}, response)
    ret = {"name": name, "changes": changes, "result": response.get("result")}
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
    server_fingerprint=None,
    labels=None,
    groups=None,
    failure_domain=None,
    config=None,
    description=None,
    member_config=None,
    storage_pools=None,
    networks=None,
    connection=None,
    **kwargs
):
    """
    Ensure this minion's Incus daemon is cluster member NAME, with its
    labels, groups and failure domain. Run it ON the
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
    server_fingerprint
        sha256 of the cluster certificate to pin when joining, when the
        trust does not carry one (the formula takes it from the Salt mine)
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
    storage_pools / networks
        the cluster's pool and network definitions (pillar
        ``incus:storage_pools`` / ``incus:networks``): a join takes this
        member's member-specific keys (``source``, ``parent``, ...) from them
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        incus-member:
          incus_fleet.cluster_member_present:
            - name: node2
            - address: 198.51.100.12:8443
            - cluster: https://198.51.100.11:8443
            - trust_pillar: incus:trust
            - labels: {storage: ssd, zone: b}
            - groups: [compute]
            - failure_domain: rack-b
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
    if server_fingerprint and cluster and hasattr(trust, "get") and not trust.get("server_fingerprint"):
        trust = dict(trust)
        trust["server_fingerprint"] = server_fingerprint
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
        "storage_pools": storage_pools,
        "networks": networks,
    }
    response = __salt__["incus_fleet.member_present"](
        name, test=_test(), connection=connection, secrets=secrets, **params
    )
    return _to_ret(name, response, _test())


def cluster_member_absent(name, force=False, evacuate=True, connection=None, **kwargs):
    """
    Ensure NAME is not a cluster member: evacuate it (default) and remove it.
    Run it on any member that stays (the formula uses the manager).

    name
        member name
    force
        remove even when the member is offline (seed 001)
    evacuate
        move its instances away first (default True)
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        retire-node4:
          incus_fleet.cluster_member_absent:
            - name: node4
            - force: true
    """
    response = __salt__["incus_fleet.member_absent"](
        name, force=force, evacuate=evacuate, test=_test(), connection=connection
    )
    return _to_ret(name, response, _test())


def cluster_member_evacuated(name, mode=None, check=False, connection=None, **kwargs):
    """
    Maintenance: ensure member NAME is evacuated (its instances moved to the
    other members). Pair with cluster_member_restored afterwards.

    name
        member name
    mode
        auto, live-migrate, migrate or stop: overrides each instance's
        cluster.evacuate
    check
        first check that evacuating it keeps every stack's running replicas
        at or above what update_config / max_replicas_per_node allow, and
        refuse (naming the services) otherwise
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        node3-maintenance:
          incus_fleet.cluster_member_evacuated:
            - name: node3
            - mode: stop
    """
    response = __salt__["incus_fleet.member_evacuate"](
        name, mode=mode, check=check or None, test=_test(), connection=connection
    )
    return _to_ret(name, response, _test())


def cluster_member_restored(name, connection=None, **kwargs):
    """
    Ensure member NAME is back in service after an evacuation.

    name
        member name
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        node3-back:
          incus_fleet.cluster_member_restored:
            - name: node3
    """
    response = __salt__["incus_fleet.member_restore"](name, test=_test(), connection=connection)
    return _to_ret(name, response, _test())


def status(name, healthy=True, member=None, connection=None, **kwargs):
    """
    Check the cluster's health (``cluster.status``): the state comment
    carries the member count and every health warning (even member count,
    voters short of cluster.max_voters, replicas concentrated on one failure
    domain, pools not created everywhere). Changes nothing. With the
    ``retry`` state option it waits for a healthy cluster, as the
    maintenance orchestration does.

    name
        an ID for the check (free text)
    healthy
        fail unless every member is ONLINE and every storage pool is
        created on every member (default True; False: only report)
    member
        fail unless this member is in the cluster and reachable (ONLINE or
        EVACUATED)
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        incus-cluster-healthy:
          incus_fleet.status:
            - name: cluster health
            - retry:
                attempts: 30
                interval: 10
    """
    response = __salt__["incus_fleet.status"](connection=connection)
    if response.get("error") or response.get("result") is False:
        return _to_ret(name, response, False)
    ret = {"name": name, "changes": {}, "result": True, "comment": response.get("comment") or ""}
    warnings = list(response.get("warnings") or [])
    if warnings:
        ret["warnings"] = warnings
    problems = []
    members = {m.get("name"): m for m in response.get("members") or []}
    if member:
        status_ = str((members.get(member) or {}).get("status") or "")
        if member not in members:
            problems.append("member {} is not in the cluster".format(member))
        elif status_.lower() not in ("online", "evacuated"):
            problems.append("member {} is {}".format(member, status_ or "unreachable"))
    if healthy and response.get("healthy") is not True:
        down = sorted(
            "{} {}".format(n, m.get("status")) for n, m in members.items()
            if str(m.get("status") or "").lower() != "online"
        )
        problems.append(
            "cluster is not healthy" + (" (members: {})".format(", ".join(down)) if down else "")
        )
    if problems:
        ret["result"] = False
        ret["comment"] = "; ".join(problems) + "\n" + ret["comment"]
    return ret


# --------------------------------------------------------------------------
# storage pools and networks


def storage_pool_present(
    name,
    driver,
    config=None,
    member_config=None,
    description=None,
    default_root=False,
    connection=None,
    **kwargs,
):
    """
    Ensure storage pool NAME exists on every cluster member with this
    config. On a cluster it is created in Incus's two phases (pending on
    each member with its member-specific keys, then cluster-wide); a run
    killed in between is finished by the next. Changed cluster-wide keys
    are updated in place; a different driver is a conflict.

    name
        pool name
    driver
        dir, zfs, btrfs, lvm, ceph, ...
    config
        pool config; member-specific keys (``source``, ``size``, ...) here
        apply to every member member_config does not override
    member_config
        ``{member: {key: value}}``: member-specific keys per member
    description
        pool description
    default_root
        ``True``: stack instances take their root disk from this pool: the
        default profile gets a root disk on it when it has none (a fresh
        Incus has none, and no instance can start without it); one already
        on another pool is a conflict, checked before anything changes
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        incus-pool-local:
          incus_fleet.storage_pool_present:
            - name: local
            - driver: dir
            - config:
                source: /var/lib/incus/storage-pools/local
            - member_config:
                node3: {source: /srv/incus/local}
            - description: Local storage pool
            - default_root: true
    """
    response = __salt__["incus_fleet.storage_pool_present"](
        name,
        driver,
        config=config,
        member_config=member_config,
        description=description,
        default_root=default_root,
        test=_test(),
        connection=connection,
    )
    return _to_ret(name, response, _test())


def storage_pool_absent(name, connection=None, **kwargs):
    """
    Ensure storage pool NAME is gone from every member. Refused, naming
    them, while instances, volumes or profiles use it.

    name
        pool name
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        incus-pool-old:
          incus_fleet.storage_pool_absent:
            - name: old-pool
    """
    response = __salt__["incus_fleet.storage_pool_absent"](name, test=_test(), connection=connection)
    return _to_ret(name, response, _test())


def network_present(
    name,
    type=None,  # pylint: disable=redefined-builtin
    network_type=None,
    config=None,
    member_config=None,
    description=None,
    connection=None,
    **kwargs
):
    """
    Ensure managed network NAME exists on every cluster member with this
    config (two-phase create on a cluster; ovn: cluster-wide only). A
    different type is a conflict.

    name
        network name
    type
        bridge, macvlan, physical, ovn, ...
    network_type
        seed 001's spelling of ``type`` (give one of them)
    config
        network config; member-specific keys (``parent``,
        ``bridge.external_interfaces``, ...) here apply to every member
        member_config does not override
    member_config
        ``{member: {key: value}}``: member-specific keys per member
    description
        network description
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        incus-network-lan:
          incus_fleet.network_present:
            - name: lan
            - network_type: macvlan
            - config: {parent: eth1}
            - member_config:
                node3: {parent: eth2}
    """
    response = __salt__["incus_fleet.network_present"](
        name,
        type=type,
        network_type=network_type,
        config=config,
        member_config=member_config,
        description=description,
        test=_test(),
        connection=connection,
    )
    return _to_ret(name, response, _test())


def network_absent(name, connection=None, **kwargs):
    """
    Ensure managed network NAME is gone from every member. Refused, naming
    them, while instances or profiles use it.

    name
        network name
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        incus-network-old:
          incus_fleet.network_absent:
            - name: lan
    """
    response = __salt__["incus_fleet.network_absent"](name, test=_test(), connection=connection)
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
    wait_timeout=None,
    member=None,
    connection=None,
    move_volumes=False,
    prune_volumes=False,
    resume=False,
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
    wait_timeout
        seconds to wait after the apply until every replica runs and passes
        its healthcheck (``stack up --wait-timeout``); past it the state
        fails with ``timeout`` naming each replica not ready. Default: no wait
    move_volumes
        move a slot whose volume lives on a member it cannot run on now
        (offline excepted) to another member, with its volume
    prune_volumes
        delete the stack's volumes no slot uses any more
    resume
        continue an update that stands paused, or was rolled back, at this
        same spec (without it that spec changes nothing and the state fails
        with ``update_paused`` / ``rolled_back``). A one-shot decision: pass
        it for one run (``state.apply ... pillar=...``), not in an SLS every
        highstate applies, or each run retries the failed update
    member
        the cluster member this minion runs, when the stack is reconciled
        from a member (the formula sets it). In test mode, while that member
        has not joined yet, the stack is reported as pending instead of being
        planned against a daemon that is not part of the cluster.
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        incus-stack-shop:
          incus_fleet.compose_stack_present:
            - name: shop
            - compose_files: [salt://stacks/shop/compose.yaml]
            - env: {TAG: "1.4"}
            - env_pillar: shop:secrets       # DB passwords etc., masked

        reload-proxy:
          cmd.run:
            - name: /usr/local/bin/reload-proxy
            - onchanges:                     # only when the stack changed
              - incus_fleet: incus-stack-shop
    """
    if member and _test():
        status = __salt__["incus_fleet.status"](connection=connection)
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
    response = __salt__["incus_fleet.deploy"](
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
        wait_timeout=wait_timeout,
        saltenv=globals().get("__env__") or None,
        move_volumes=move_volumes,
        prune_volumes=prune_volumes,
        resume=True if resume else None,
    )
    return _to_ret(name, response, _test())


def compose_stack_absent(name, volumes=None, connection=None, **kwargs):
    """
    Ensure stack NAME is gone: every instance and its Incus project.

    name
        stack name
    volumes
        also delete its named volumes (default false: kept, as ``compose down``)
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    .. code-block:: yaml

        incus-stack-old:
          incus_fleet.compose_stack_absent:
            - name: old
    """
    response = __salt__["incus_fleet.remove"](name, volumes=volumes, test=_test(), connection=connection)
    return _to_ret(name, response, _test())


def mod_watch(name, sfun=None, **kwargs):
    """
    Called when a watched state changed (e.g. a member joined). Stacks are
    reconciled, so global services get an instance on the new member; member
    states simply run again.

    name
        the watching state's name
    sfun
        the watching state's function

    .. code-block:: yaml

        incus-stack-web:
          incus_fleet.compose_stack_present:
            - name: web
            - compose_files: [salt://stacks/web/compose.yaml]
            - watch:
              - incus_fleet: incus-member
    """
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    funcs = {
        "compose_stack_present": compose_stack_present,
        "compose_stack_absent": compose_stack_absent,
        "cluster_member_present": cluster_member_present,
        "cluster_member_absent": cluster_member_absent,
        "cluster_member_evacuated": cluster_member_evacuated,
        "cluster_member_restored": cluster_member_restored,
        "storage_pool_present": storage_pool_present,
        "storage_pool_absent": storage_pool_absent,
        "network_present": network_present,
        "network_absent": network_absent,
    }
    if sfun not in funcs:
        return _fail(name, "incus_fleet.{} does not support watch".format(sfun))
    ret = funcs[sfun](name, **kwargs)
    ret["comment"] = "Reconciled after a watched state changed. " + ret.get("comment", "")
    return ret
