"""The README's Salt walk-through with a real salt-master and three
salt-minions (pytest-salt-factories), one per fresh, empty incusd, driven
only from the master:

1. `salt-run state.orchestrate incus.orch.cluster` bootstraps salt-m1 and
   joins salt-m2 and salt-m3, the fleet certificate and key from pillar,
   and creates the storage pool (the default profile's root disk) and a
   macvlan network from pillar: no manual `incus` command;
2. labels and failure domains come from pillar;
3. a highstate on the manager deploys a stack from the `stacks` pillar;
4. test=True shows the exact plan of a pillar change and changes nothing;
5. the pillar change rolls the update, `changes` showing old and new;
6. a member moved to `absent_members` is evacuated and removed;
and, all along: onchanges/watch on the stack fire only when it changed, and
neither the key nor any join token is in a log, job cache or return.

The pillar is pillars.example/cluster.sls, stacks.sls and
storage-networks.sls (its `local` pool and `lan` network), rendered for these
machines: members node1..3 become salt-m1..3 with their loopback addresses,
the trust is a freshly made fleet certificate (no pin: the joins take it
from the Salt mine), and the rolling stack waits 1 s between replicas
instead of 10 s.
"""

import copy
import os
import subprocess
import time

import pytest

import saltrun

try:
    import yaml  # ships with Salt
except ImportError:  # pragma: no cover
    yaml = None

EXAMPLES = os.path.join(saltrun.REPO, "pillars.example")
STACK = "web-rolling"
STACK_STATE = "incus-stack-" + STACK
# Any Incus join token is base64 JSON starting with {"server_name":
JOIN_TOKEN_PREFIX = "eyJzZXJ2ZXJfbmFtZSI6"

TOP = """\
base:
  '*':
    - incus
  salt-m1:
    - walk
"""

# States that react to the stack: onchanges runs only after a change, watch
# runs always but fires its mod_watch only after a change.
WALK = """\
walk-after-stack-change:
  test.succeed_without_changes:
    - onchanges:
      - incus_fleet: incus-stack-web-rolling

walk-watching-stack:
  test.succeed_without_changes:
    - watch:
      - incus_fleet: incus-stack-web-rolling
"""


def load_example(name):
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def render_pillar(fleet, cert, key, parents):
    """pillars.example/cluster.sls + stacks.sls + storage-networks.sls for
    these machines."""
    cluster = load_example("cluster.sls")
    stacks = load_example("stacks.sls")["incus"]["stacks"]
    incus = copy.deepcopy(cluster["incus"])
    rename = dict(zip(sorted(incus["cluster_members"]), fleet.ids))
    incus["cluster"]["bootstrap"] = rename[incus["cluster"]["bootstrap"]]
    incus["cluster_members"] = {
        rename[name]: dict(member, address=fleet.address(rename[name]))
        for name, member in incus["cluster_members"].items()
    }
    incus["trust"] = {"client_cert": cert, "client_key": key}
    # Storage from pillar in seed 001's format: the manager creates the
    # pool after the bootstrap, the joins get it, and stack instances take
    # their root disk from it (default_root). Only its `dir` pool: Ceph and
    # OVN need kernel features this machine lacks.
    resources = load_example("storage-networks.sls")["incus"]
    incus["storage_pools"] = {"local": dict(resources["storage_pools"]["local"], config={})}
    # The example's macvlan network, each member's parent its own veth (it
    # creates no host interface and carries no traffic here).
    incus["networks"] = {"lan": dict(resources["networks"]["lan"], config={},
                                     member_config={m: {"parent": p} for m, p in parents.items()})}
    stack = copy.deepcopy(stacks[STACK])
    stack["compose_yaml"] = stack["compose_yaml"].replace("delay: 10s", "delay: 1s")
    incus["stacks"] = {STACK: stack}
    pillar = {k: v for k, v in cluster.items() if k != "incus"}  # mine_functions
    pillar["incus"] = incus
    return pillar


def veth_parents(members):
    """One veth pair per member for the macvlan network's parent."""
    parents = {}
    for i, member in enumerate(members, 1):
        name, peer = "fs{}n{}".format(os.getpid() % 100000, i), "fs{}p{}".format(os.getpid() % 100000, i)
        subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)
        subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", peer], check=True)
        parents[member] = name
    return parents


class Walk:
    """State shared by the steps (tests run in file order)."""


@pytest.fixture(scope="module")
def walk(master_fleet, tmp_path_factory):
    saltrun.need(yaml, "PyYAML missing: run pytest from the Salt venv")
    w = Walk()
    w.fleet = master_fleet
    w.started = time.monotonic()
    w.cert, w.key = saltrun.client_cert(master_fleet.binary, str(tmp_path_factory.mktemp("cert")))
    w.parents = veth_parents(master_fleet.ids)
    w.pillar = render_pillar(master_fleet, w.cert, w.key, w.parents)
    w.m1, w.m2, w.m3 = master_fleet.ids
    master_fleet.add_file("top.sls", TOP)
    master_fleet.add_file("walk.sls", WALK)
    master_fleet.set_pillar(w.pillar)
    yield w
    for parent in w.parents.values():
        subprocess.run(["ip", "link", "del", parent], capture_output=True, check=False)
    print("master walk-through: {} salt runs in {:.0f}s".format(
        master_fleet.runs, time.monotonic() - w.started))


def status(w, member=None):
    resp = w.fleet.fleet_call(member or w.m1, "cluster.status")
    assert resp["result"] is True, resp
    return {m["name"]: m for m in resp["members"]}


def stack_instances(w):
    resp = w.fleet.fleet_call(w.m1, "stack.status", {"name": STACK})
    assert resp["result"] is True, resp
    return {i["instance"]: i for i in resp["instances"]}


def test_machines_prepared_through_the_master(walk):
    """The machines are empty: no pool, no root disk in the default profile
    (pillar brings both). The image stands in for an image server, which
    cannot be reached here: imported on the first machine, through the
    master (cmd.run)."""
    image = os.path.join(os.environ["INCUS_FLEET_TESTBED"], "image")
    incus = "env -u INCUS_SOCKET INCUS_DIR={} incus --force-local".format(walk.fleet.incus_dir(walk.m1))
    script = incus + " image import {}/meta.tar.gz {}/rootfs.tar.gz --alias busybox".format(image, image)
    result = walk.fleet.salt(walk.m1, "cmd.run", script, python_shell=True)
    assert result.returncode == 0, result.stdout
    result = walk.fleet.salt(walk.m1, "cmd.run", incus + " storage list -f csv -c n", python_shell=True)
    assert result.returncode == 0 and "local" not in str(result.data), result.stdout


def test_orchestrate_bootstraps_and_joins_from_pillar(walk):
    result = walk.fleet.salt_run("state.orchestrate", "incus.orch.cluster", timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]
    members = status(walk)
    assert sorted(members) == walk.fleet.ids
    assert all(m["status"] == "Online" for m in members.values()), members
    # Joined members answer on their own daemon too: one cluster.
    assert sorted(status(walk, walk.m3)) == walk.fleet.ids
    # The pool from pillar is on every member, each with its own source.
    resp = walk.fleet.fleet_call(walk.m1, "cluster.status")
    pools = {p["name"]: p["members"] for p in resp["storage_pools"]}
    assert pools["local"] == {m: "Created" for m in walk.fleet.ids}, pools
    # The network from pillar too: the manager defined it, the joins gave
    # each member its own parent.
    for member, parent in walk.parents.items():
        out = walk.fleet.incus(member, "network", "get", "lan", "parent", "--target", member)
        assert out.stdout.strip() == parent, (member, out.stdout, out.stderr)


def test_labels_and_failure_domains_from_pillar(walk):
    members = status(walk)
    for name, want in walk.pillar["incus"]["cluster_members"].items():
        got = members[name]
        for key, value in want["labels"].items():
            assert got["labels"][key] == value, (name, got)
        assert got["failure_domain"] == want["failure_domain"], (name, got)
    # A second orchestration converges: nothing changes anywhere.
    result = walk.fleet.salt_run("state.orchestrate", "incus.orch.cluster", timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]
    for step in result.data["data"].values():
        for run in step.values():
            assert run["result"] is True, run
            for minion, states in (run["changes"].get("ret") or {}).items():
                for state_id, ret in states.items():
                    assert ret["changes"] == {}, (minion, state_id, ret)


def test_highstate_on_the_manager_deploys_the_stack(walk):
    code, rets = walk.fleet.state(walk.m1, "state.highstate")
    assert code == 0, rets
    stack = rets[STACK_STATE]
    assert stack["result"] is True and sorted(stack["changes"]) == ["web-1", "web-2", "web-3"], stack
    where = {i["member"] for i in stack_instances(walk).values()}
    assert where == set(walk.fleet.ids)  # spread over the three members
    # onchanges and watch fired: the stack changed.
    assert rets["walk-after-stack-change"]["comment"] == "Success!", rets["walk-after-stack-change"]
    assert rets["walk-watching-stack"]["comment"] == "Watch statement fired."

    # Converged: no changes, and neither requisite fires.
    code, rets = walk.fleet.state(walk.m1, "state.highstate")
    assert rets[STACK_STATE]["result"] is True and rets[STACK_STATE]["changes"] == {}, rets[STACK_STATE]
    assert "onchanges" in rets["walk-after-stack-change"]["comment"].lower(), rets["walk-after-stack-change"]
    assert rets["walk-watching-stack"]["comment"] != "Watch statement fired."


def change_greeting(w, greeting):
    w.pillar["incus"]["stacks"][STACK]["env"]["GREETING"] = greeting
    w.fleet.set_pillar(w.pillar)


def test_test_mode_shows_the_exact_plan_and_changes_nothing(walk):
    before = stack_instances(walk)
    change_greeting(walk, "hello from the new pillar")
    code, rets = walk.fleet.state(walk.m1, "state.highstate", "test=True")
    pending = rets[STACK_STATE]
    assert pending["result"] is None, pending
    # Every replica is replaced where it runs (start-first: by a new name).
    assert len(pending["changes"]) == len(before), pending
    for inst, change in pending["changes"].items():
        old = before[[n for n, i in before.items() if i["slot"] == change["old"]["slot"]][0]]
        assert change["old"]["member"] == change["new"]["member"] == old["member"], change
        assert "replace {} by {} on {}".format(old["instance"], inst, old["member"]) in pending["comment"], \
            pending["comment"]
    walk.plan = pending
    # Nothing ran for real: the same instances where they were, old config.
    placed = lambda insts: {n: (i["slot"], i["member"]) for n, i in insts.items()}  # noqa: E731
    assert placed(stack_instances(walk)) == placed(before)
    out = walk.fleet.incus(walk.m1, "config", "get", "--project", STACK, "web-1", "environment.GREETING")
    assert out.stdout.strip() == "hello"


def test_pillar_change_rolls_the_update_with_old_and_new(walk):
    code, rets = walk.fleet.state(walk.m1, "state.highstate")
    ret = rets[STACK_STATE]
    assert code == 0 and ret["result"] is True, ret
    # What test mode predicted is what happened.
    predicted = {k: v["new"]["member"] for k, v in walk.plan["changes"].items()}
    assert {k: v["new"]["member"] for k, v in ret["changes"].items()} == predicted, ret["changes"]
    for inst, change in ret["changes"].items():
        assert change["old"] and change["new"] and change["old"] != change["new"], change
    for inst, i in stack_instances(walk).items():
        out = walk.fleet.incus(walk.m1, "config", "get", "--project", STACK, i["instance"], "environment.GREETING")
        assert out.stdout.strip() == "hello from the new pillar", (inst, out.stdout)
    assert rets["walk-watching-stack"]["comment"] == "Watch statement fired."
    assert rets["walk-after-stack-change"]["comment"] == "Success!", rets["walk-after-stack-change"]


def test_member_moved_to_absent_members_is_evacuated_and_removed(walk):
    incus = walk.pillar["incus"]
    del incus["cluster_members"][walk.m3]
    incus["absent_members"] = {walk.m3: {}}
    walk.fleet.set_pillar(walk.pillar)
    code, rets = walk.fleet.state(walk.m1, "state.highstate", "test=True")
    assert rets["incus-member-absent-" + walk.m3]["result"] is None
    assert sorted(status(walk)) == walk.fleet.ids
    code, rets = walk.fleet.state(walk.m1, "state.highstate")
    ret = rets["incus-member-absent-" + walk.m3]
    assert ret["result"] is True and ret["changes"], ret
    assert sorted(status(walk)) == [walk.m1, walk.m2]
    # The stack is whole again on the members that stay.
    instances = stack_instances(walk)
    assert len(instances) == 3 and {i["member"] for i in instances.values()} <= {walk.m1, walk.m2}
    code, rets = walk.fleet.state(walk.m1, "state.highstate")
    assert rets["incus-member-absent-" + walk.m3]["changes"] == {}


def test_no_key_or_join_token_in_logs_job_cache_or_returns(walk):
    files = walk.fleet.files_to_grep()
    names = " ".join(files)
    assert "master.log" in names and "minion.log" in names, names
    assert "/jobs/" in names, "no job cache found to grep"
    key_lines = [l for l in walk.key.splitlines() if l and not l.startswith("-----")]
    leaks = walk.fleet.grep(key_lines + [JOIN_TOKEN_PREFIX])
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)
    # The grep does see the returns: a state function name is in them.
    assert walk.fleet.grep(["incus_fleet_|-incus-member_|-"]), "grep found no state return at all"
