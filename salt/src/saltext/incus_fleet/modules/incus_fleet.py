"""
Execution module for incus-fleet: Compose stacks with HA on Incus clusters.

Every function is a thin wrapper around one request of the incus-fleet JSON
protocol: it names the action and its params and hands them to
:py:mod:`saltext.incus_fleet.utils.protocol`, which runs ``incus-fleet call``
with the request on stdin and masks every secret in the response. The binary
does all the work; nothing here talks to Incus.

:depends: the ``incus-fleet`` binary on the minion
:configuration: in the minion config, or pillar ``incus_fleet``:

    .. code-block:: yaml

        incus_fleet.bin: /usr/local/bin/incus-fleet     # default: incus-fleet on PATH
        incus_fleet.connection:                         # default: local unix socket
          socket: /var/lib/incus/unix.socket
        incus_fleet.timeout: 3600                       # seconds per call; default none
        incus_fleet.secret_pillar_keys:                 # pillar keys whose values are
          - incus:trust:client_key                      # masked in every return

    The nested form (``incus_fleet: {bin: ..., connection: ...}``) works too.

Secrets (private keys, join tokens, passwords, and the values of the pillar
keys listed above) never leave this module in clear: they are replaced by
``<redacted>`` in every return, comment and log line, in test mode and on
errors too.

The module loads as ``incus_fleet``, and also as ``incus`` (the seed's
spelling) while saltext-incus, which owns that name, is not installed.
"""

import json
import logging

from saltext.incus_fleet.utils import protocol as _protocol
from saltext.incus_fleet.utils import stackfiles as _stackfiles

log = logging.getLogger(__name__)

__virtualname__ = "incus_fleet"
# Read by Salt's loader when the file is imported, before __virtual__.
__virtual_aliases__ = _protocol.seed_aliases()


def _opts():
    return globals().get("__opts__") or {}


def _pillar():
    return globals().get("__pillar__") or {}


def _binary():
    """Path of the incus-fleet binary, or None when it cannot be found."""
    return _protocol.find_binary(_opts(), _pillar())


def __virtual__():
    if _binary():
        return __virtualname__
    return (False, _protocol.missing_binary_reason(_opts(), _pillar()))


def call(action, params=None, test=None, connection=None, secrets=None):
    """
    Run one protocol request and return the response dict, secrets masked.
    Any action of ``incus-fleet schema --list`` works, also ones this module
    has no function for yet.

    action
        protocol action, e.g. ``stack.present``, ``cluster.member.present``
    params
        dict (or its JSON) of action params (see ``incus-fleet schema ACTION``)
    test
        dry run (protocol ``test: true``); default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection`` config
    secrets
        extra strings to mask in the response (values taken from pillar)

    CLI Example:

    .. code-block:: bash

        salt '*' incus_fleet.call cluster.status
        salt '*' incus_fleet.call stack.absent '{"name": "web"}' test=True

    In an SLS:

    .. code-block:: yaml

        stack-web-status:
          module.run:
            - incus_fleet.call:
              - action: stack.status
              - params: {name: web}
    """
    if test is None:
        test = bool(_opts().get("test", False))
    run_all = (globals().get("__salt__") or {}).get("cmd.run_all")
    return _protocol.call(
        action, params, test, connection, secrets, opts=_opts(), pillar=_pillar(), run_all=run_all
    )


# --------------------------------------------------------------------------
# cluster


def status(connection=None):
    """
    Cluster members with status, roles, labels, groups and failure domain,
    voters/standbys, pool state and instances per member (``cluster.status``).

    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.status

    In a template:

    .. code-block:: yaml

        {% set members = salt['incus_fleet.status']()['members'] %}
    """
    return call("cluster.status", {}, test=False, connection=connection)


def member_list(connection=None):
    """
    Same response as :py:func:`status`; its ``members`` list is the member list.

    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.member_list

    In a template:

    .. code-block:: yaml

        {% for m in salt['incus_fleet.member_list']()['members'] %}
    """
    return status(connection=connection)


def snapshot(connection=None):
    """
    The cluster as the planner sees it (``cluster.snapshot``); its
    ``snapshot`` is usable as ``cluster`` for offline plans.

    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.snapshot

    In a template:

    .. code-block:: yaml

        {% set snap = salt['incus_fleet.snapshot']()['snapshot'] %}
    """
    return call("cluster.snapshot", {}, test=False, connection=connection)


def _local_member():
    """This minion's member name: the entry of pillar incus:cluster_members
    whose ``minion`` (default: its name) is this minion's id."""
    minion_id = _opts().get("id")
    members = _protocol.pillar_path(_pillar(), "incus:cluster_members") or {}
    for name in sorted(members.keys()) if hasattr(members, "keys") else []:
        entry = members[name] if hasattr(members[name], "get") else {}
        if (entry.get("minion") or name) == minion_id:
            return name
    return minion_id


def cluster_fingerprint(name=None, connection=None):
    """
    sha256 of the cluster certificate, the pin joining members need; ``None``
    while this minion's daemon is not a cluster member. Not a secret: the
    formula publishes it through the Salt mine, so members can join a cluster
    bootstrapped in the same orchestration.

    name
        this member's name; default: its entry in pillar
        ``incus:cluster_members`` (or the minion id)
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.cluster_fingerprint

    As a mine function (pillar):

    .. code-block:: yaml

        mine_functions:
          incus_fleet.cluster_fingerprint: []
    """
    response = call(
        "cluster.member.present", {"name": name or _local_member()}, test=True, connection=connection
    )
    if response.get("result") is False:
        return None
    return response.get("cluster_fingerprint") or None


def _no_dunders(params):
    return {k: v for k, v in params.items() if not k.startswith("__")}


def member_present(name, test=None, connection=None, secrets=None, **params):
    """
    Ensure this minion's Incus daemon is cluster member NAME
    (``cluster.member.present``; run it on that member).

    name
        member name
    params
        the protocol params: address, cluster, trust, cluster_token, labels,
        groups, failure_domain, config, description, member_config,
        storage_pools, networks.
        ``labels``, ``groups`` and ``failure_domain``: omitted = not managed
        (left as they are); ``labels: {}`` = none
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``
    secrets
        extra strings to mask in the response

    CLI Example:

    .. code-block:: bash

        salt node2 incus_fleet.member_present node2 address=127.0.0.1:8444 labels='{zone: b}' test=True

    In an SLS (prefer the state ``incus_fleet.cluster_member_present``):

    .. code-block:: yaml

        node2-labels:
          module.run:
            - incus_fleet.member_present:
              - name: node2
              - labels: {zone: b}
    """
    params = _no_dunders(params)
    params["name"] = name
    return call("cluster.member.present", params, test, connection, secrets)


def member_absent(name, force=None, evacuate=None, test=None, connection=None):
    """
    Evacuate (default) and remove member NAME (``cluster.member.absent``).

    name
        member name
    force
        remove it even when it is offline
    evacuate
        move its instances away first (default true)
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.member_absent node4 force=True

    In an SLS (prefer the state ``incus_fleet.cluster_member_absent``):

    .. code-block:: yaml

        retire-node4:
          module.run:
            - incus_fleet.member_absent:
              - name: node4
    """
    params = {"name": name, "force": force, "evacuate": evacuate}
    return call("cluster.member.absent", params, test, connection)


def member_evacuate(name, mode=None, check=None, test=None, connection=None):
    """
    Move the instances off member NAME for maintenance (``cluster.member.evacuate``).

    name
        member name
    mode
        auto, live-migrate, migrate or stop: overrides each instance's
        ``cluster.evacuate``
    check
        run :py:func:`maintenance_check` first and evacuate only if it passes
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.member_evacuate node3 mode=stop

    In an SLS (prefer the state ``incus_fleet.cluster_member_evacuated``):

    .. code-block:: yaml

        node3-maintenance:
          module.run:
            - incus_fleet.member_evacuate:
              - name: node3
    """
    return call("cluster.member.evacuate", {"name": name, "mode": mode, "check": check}, test, connection)


def maintenance_check(name, connection=None):
    """
    May member NAME be evacuated now (``cluster.member.maintenance_check``)?
    ``ok`` false (result False, code ``conflict``) names each service that
    would fall below its floor; changes nothing.

    name
        member name
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.maintenance_check node3

    In a template:

    .. code-block:: yaml

        {% set ok = salt['incus_fleet.maintenance_check']('node3').get('ok') %}
    """
    return call("cluster.member.maintenance_check", {"name": name}, test=False, connection=connection)


def member_restore(name, test=None, connection=None):
    """
    Bring member NAME back after maintenance (``cluster.member.restore``).

    name
        member name
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.member_restore node3

    In an SLS (prefer the state ``incus_fleet.cluster_member_restored``):

    .. code-block:: yaml

        node3-back:
          module.run:
            - incus_fleet.member_restore:
              - name: node3
    """
    return call("cluster.member.restore", {"name": name}, test, connection)


# --------------------------------------------------------------------------
# storage pools and networks


def storage_pool_present(name, driver, config=None, member_config=None, description=None,
                         default_root=False, test=None, connection=None):
    """
    Ensure storage pool NAME exists on every member (``storage_pool.present``;
    on a cluster Incus's two phases: pending per member, then cluster-wide).

    name
        pool name
    driver
        dir, zfs, btrfs, lvm, ceph, ...; fixed once created
    config
        pool config; a member-specific key (``source``, ``size``, ...) here
        is every member's value unless member_config overrides it
    member_config
        ``{member: {key: value}}`` member-specific keys per member
    description
        pool description
    default_root
        ``True``: stack instances take their root disk from this pool (the
        default profile gets a root disk on it when it has none; one on
        another pool is a conflict, checked before anything changes)
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.storage_pool_present local dir config='{source: /srv/local}' default_root=True

    In an SLS (prefer the state ``incus_fleet.storage_pool_present``):

    .. code-block:: yaml

        pool-local:
          module.run:
            - incus_fleet.storage_pool_present:
              - name: local
              - driver: dir
    """
    params = {
        "name": name,
        "driver": driver,
        "config": config,
        "member_config": member_config,
        "description": description,
    }
    if default_root:
        params["default_root"] = True
    return call("storage_pool.present", params, test, connection)


def storage_pool_absent(name, test=None, connection=None):
    """
    Delete storage pool NAME from every member (``storage_pool.absent``);
    refused, naming them, while anything uses it.

    name
        pool name
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.storage_pool_absent old-pool test=True

    In an SLS (prefer the state ``incus_fleet.storage_pool_absent``):

    .. code-block:: yaml

        pool-old:
          module.run:
            - incus_fleet.storage_pool_absent:
              - name: old-pool
    """
    return call("storage_pool.absent", {"name": name}, test, connection)


def network_present(
    name,
    type=None,  # pylint: disable=redefined-builtin
    network_type=None,
    config=None,
    member_config=None,
    description=None,
    test=None,
    connection=None,
):
    """
    Ensure managed network NAME exists on every member (``network.present``).

    name
        network name
    type
        bridge, macvlan, physical, ovn, ...; fixed once created
    network_type
        seed 001's spelling of ``type`` (give one of them)
    config
        network config; a member-specific key (``parent``,
        ``bridge.external_interfaces``, ...) here is every member's value
        unless member_config overrides it
    member_config
        ``{member: {key: value}}`` member-specific keys per member
    description
        network description
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.network_present lan type=macvlan config='{parent: eth1}'

    In an SLS (prefer the state ``incus_fleet.network_present``):

    .. code-block:: yaml

        net-lan:
          module.run:
            - incus_fleet.network_present:
              - name: lan
              - type: macvlan
    """
    params = {
        "name": name,
        "type": type,
        "network_type": network_type,
        "config": config,
        "member_config": member_config,
        "description": description,
    }
    return call("network.present", params, test, connection)


def network_absent(name, test=None, connection=None):
    """
    Delete managed network NAME from every member (``network.absent``);
    refused, naming them, while anything uses it.

    name
        network name
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.network_absent lan test=True

    In an SLS (prefer the state ``incus_fleet.network_absent``):

    .. code-block:: yaml

        net-old:
          module.run:
            - incus_fleet.network_absent:
              - name: lan
    """
    return call("network.absent", {"name": name}, test, connection)


# --------------------------------------------------------------------------
# stacks


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
    move_volumes=None,
    prune_volumes=None,
    **extra
):
    """stack.present params, with salt:// inputs cached; returns (params, problems).
    EXTRA protocol params (e.g. resume, move_volumes) pass through unchanged."""
    saltenv = saltenv or _opts().get("saltenv") or "base"

    def cache_file(url, env_name):
        return __salt__["cp.cache_file"](url, saltenv=env_name) or ""

    def cache_dir(url, env_name):
        return bool(__salt__["cp.cache_dir"](url, saltenv=env_name))

    problems = []
    if isinstance(compose_yaml, dict):
        # Compose written as a mapping in SLS or on the CLI: JSON is YAML.
        compose_yaml = json.dumps(compose_yaml)
    if isinstance(compose_files, str):
        compose_files = [compose_files]
    if compose_files:
        compose_files, cached_dir, problems = _stackfiles.cache_stack_files(
            compose_files, support_files, saltenv, cache_file, cache_dir
        )
        project_dir = project_dir or cached_dir
    if _stackfiles.is_salt_url(bundle):
        cached = cache_file(bundle, saltenv)
        if not cached:
            problems.append("bundle {} not found on the fileserver".format(bundle))
        bundle = cached
    params = dict(extra)
    params.update(
        {
            "name": name,
            "compose_files": compose_files or None,
            "compose_yaml": compose_yaml,
            "bundle": bundle,
            "project_dir": project_dir,
            "env": {str(k): str(v) for k, v in env.items()} if env else None,
            "profiles": list(profiles) if profiles else None,
            "services": list(services) if services else None,
            "force_recreate": bool(force_recreate) if force_recreate is not None else None,
            "move_volumes": True if move_volumes else None,
            "prune_volumes": True if prune_volumes else None,
            "lock_timeout": lock_timeout,
        }
    )
    return _protocol.clean(params), problems


def deploy(name, test=None, connection=None, secrets=None, **kwargs):
    """
    Deploy, update, scale or reconcile stack NAME (``stack.present``);
    returns the response with its ``plan`` and ``changes`` (old/new per
    instance).

    name
        stack name (its Incus project)
    compose_files
        list of ``salt://`` or local paths; salt:// files are cached with the
        files they reference
    compose_yaml
        inline Compose: a YAML string, or the mapping itself
    bundle
        a compose bundle (``salt://`` or local path)
    project_dir, env, profiles, services, force_recreate, support_files, saltenv
        as for the state ``incus_fleet.compose_stack_present``
    move_volumes, prune_volumes
        as for the state: move a slot with its volume / delete unused volumes;
        further protocol params (``resume``, ...) pass through
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``
    secrets
        extra strings to mask in the response

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.deploy web compose_files='[salt://stacks/web/compose.yaml]'

    In an SLS (prefer the state ``incus_fleet.compose_stack_present``):

    .. code-block:: yaml

        deploy-web:
          module.run:
            - incus_fleet.deploy:
              - name: web
              - compose_files: [salt://stacks/web/compose.yaml]
    """
    kwargs = _no_dunders(kwargs)
    params, problems = _stack_params(name, **kwargs)
    if problems:
        return _protocol.failure("stack.present", "not_found", "; ".join(problems))
    return call("stack.present", params, test, connection, secrets)


def plan(name, connection=None, secrets=None, **kwargs):
    """
    The plan for stack NAME: ``stack.present`` in test mode, nothing changed.
    Takes the arguments of :py:func:`deploy`.

    name
        stack name
    connection
        protocol connection dict; default: ``incus_fleet.connection``
    secrets
        extra strings to mask in the response

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.plan web compose_files='[salt://stacks/web/compose.yaml]'

    In a template:

    .. code-block:: yaml

        {% set steps = salt['incus_fleet.plan']('web', compose_yaml=compose)['plan']['steps'] %}
    """
    return deploy(name, test=True, connection=connection, secrets=secrets, **kwargs)


def remove(name, volumes=None, test=None, connection=None):
    """
    Remove every instance of stack NAME and its project (``stack.absent``).

    name
        stack name
    volumes
        also delete its named volumes (default false, as ``compose down``)
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.remove web

    In an SLS (prefer the state ``incus_fleet.compose_stack_absent``):

    .. code-block:: yaml

        remove-web:
          module.run:
            - incus_fleet.remove:
              - name: web
    """
    params = {"name": name}
    if volumes:  # kept unless asked for, as `compose down` without -v
        params["volumes"] = True
    return call("stack.absent", params, test, connection)


def stack_status(name, connection=None):
    """
    Instances of stack NAME per service: slot, member, state, health, config
    hash (``stack.status``).

    name
        stack name
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.stack_status web

    In a template:

    .. code-block:: yaml

        {% set instances = salt['incus_fleet.stack_status']('web')['instances'] %}
    """
    return call("stack.status", {"name": name}, False, connection)


def rollback(name, test=None, connection=None):
    """
    Return stack NAME to the spec that ran before its last update
    (``stack.rollback``).

    name
        stack name
    test
        dry run; default: the minion's test setting
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.rollback web

    In an SLS:

    .. code-block:: yaml

        rollback-web:
          module.run:
            - incus_fleet.rollback:
              - name: web
    """
    return call("stack.rollback", {"name": name}, test, connection)


# -- day-2 operations (stack.list, stack.status, stack.logs) ----------------


def stack_ls(connection=None):
    """
    Every stack on the cluster with its services, running/desired replicas,
    update state (ok, updating, paused, rolled_back, rollback_failed) and last
    change time (``stack.list``; a constant number of Incus requests).

    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.stack_ls

    In a state (for example, to record the stacks after an orchestration):

    .. code-block:: yaml

        fleet-stacks:
          module.run:
            - incus_fleet.stack_ls: []
    """
    return call("stack.list", {}, False, connection)


def stack_ps(name, connection=None):
    """
    The instances of stack NAME: service, slot, member, state, config hash
    (``stack.status``; the same as ``stack_status``, under Docker's verb).

    name
        stack name
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.stack_ps web

    In a state:

    .. code-block:: yaml

        web-instances:
          module.run:
            - incus_fleet.stack_ps:
              - name: web
    """
    return call("stack.status", {"name": name}, False, connection)


def stack_logs(name, targets=None, tail=None, since=None, connection=None):
    """
    The console output (stdout and stderr of the main process) of the
    replicas of stack NAME, merged in time order; no follow (``stack.logs``).
    Each line has ``replica`` (SERVICE.SLOT), ``instance``, ``member``,
    ``time`` and ``line``.

    name
        stack name
    targets
        list of service names, SERVICE.SLOT or instance names; default: all
    tail
        only the last N lines of each replica
    since
        RFC 3339 time or duration (``10m``): only lines drained since then
    connection
        protocol connection dict; default: ``incus_fleet.connection``

    CLI Example:

    .. code-block:: bash

        salt node1 incus_fleet.stack_logs web targets='[api]' tail=20

    In a state:

    .. code-block:: yaml

        web-api-logs:
          module.run:
            - incus_fleet.stack_logs:
              - name: web
              - targets: [api]
              - tail: 20
    """
    params = {"name": name}
    if targets:
        params["targets"] = list(targets) if isinstance(targets, (list, tuple)) else [targets]
    if tail is not None:
        params["tail"] = int(tail)
    if since:
        params["since"] = since
    return call("stack.logs", params, False, connection)
