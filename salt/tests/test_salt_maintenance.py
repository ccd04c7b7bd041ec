"""Cluster storage and rolling maintenance with a real salt-master and three
salt-minions (salt-m1..3), each with a fresh, empty incusd, driven only from
the master:

1. pillar in seed 001's format with a `dir` pool (per-member `source`):
   `salt-run state.orchestrate incus.orch.cluster` bootstraps salt-m1,
   whose manager state creates the pool, and the joins of salt-m2 and
   salt-m3 carry it: the pool is CREATED on all three, each with its source,
   no `incus` command by hand;
2. `salt-run state.orchestrate incus.maintenance` takes the members one at a
   time in the pillar's order: evacuate (checked), a trivial maintenance
   state on that minion, restore, wait for a healthy cluster;
3. a failing maintenance state stops the run at that member, named in the
   return, and leaves the members after it untouched;
4. a member whose evacuation would take a stack below its deploy section's
   floor is refused by the maintenance check, named, and not evacuated.
"""

import copy
import os

import pytest

import saltrun

try:
    import yaml  # ships with Salt
except ImportError:  # pragma: no cover
    yaml = None

EXAMPLES = os.path.join(saltrun.REPO, "pillars.example")

TOP = """\
base:
  '*':
    - incus
"""

# The user's maintenance state: leaves a mark per minion, in run order.
MAINT = """\
maintenance-mark:
  file.append:
    - name: {log}
    - text: {{{{ grains.id }}}}
    - makedirs: true
"""

BROKEN = """\
maintenance-broken:
  test.fail_without_changes:
    - name: the upgrade failed
"""


class Bed:
    """State shared by the steps (tests run in file order)."""


@pytest.fixture(scope="module")
def bed(master_fleet, tmp_path_factory):
    saltrun.need(yaml, "PyYAML missing: run pytest from the Salt venv")
    b = Bed()
    b.fleet = master_fleet
    b.m1, b.m2, b.m3 = master_fleet.ids
    b.tmp = tmp_path_factory.mktemp("maint")
    b.log = str(b.tmp / "maintenance.log")
    cert, key = saltrun.client_cert(master_fleet.binary, str(tmp_path_factory.mktemp("cert")))
    with open(os.path.join(EXAMPLES, "cluster.sls"), encoding="utf-8") as fh:
        cluster = yaml.safe_load(fh)
    incus = copy.deepcopy(cluster["incus"])
    rename = dict(zip(sorted(incus["cluster_members"]), b.fleet.ids))
    incus["cluster"]["bootstrap"] = rename[incus["cluster"]["bootstrap"]]
    incus["cluster_members"] = {
        rename[name]: dict(member, address=b.fleet.address(rename[name]))
        for name, member in incus["cluster_members"].items()
    }
    incus["trust"] = {"client_cert": cert, "client_key": key}
    # Seed 001's `local` dir pool; one host, so each member its own source.
    b.sources = {m: str(b.tmp / "pool-{}".format(m)) for m in b.fleet.ids}
    for source in b.sources.values():
        os.makedirs(source)  # Incus's dir driver wants an existing, empty source
    incus["storage_pools"] = {"local": {
        "driver": "dir", "description": "Local storage pool", "default_root": True,
        "member_config": {m: {"source": src} for m, src in b.sources.items()}}}
    incus["maintenance"] = {"order": [b.m3, b.m1, b.m2], "states": ["maint"],
                            "wait_attempts": 30, "wait_interval": 2}
    b.pillar = {k: v for k, v in cluster.items() if k != "incus"}  # mine_functions
    b.pillar["incus"] = incus
    master_fleet.add_file("top.sls", TOP)
    master_fleet.add_file("maint.sls", MAINT.format(log=b.log))
    master_fleet.add_file("broken.sls", BROKEN)
    master_fleet.set_pillar(b.pillar)
    return b


def status(b):
    resp = b.fleet.fleet_call(b.m1, "cluster.status")
    assert resp["result"] is True, resp
    return resp


def test_cluster_and_its_pool_from_pillar(bed):
    result = bed.fleet.salt_run("state.orchestrate", "incus.orch.cluster", timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]
    resp = status(bed)
    assert sorted(m["name"] for m in resp["members"]) == bed.fleet.ids
    pools = {p["name"]: p for p in resp["storage_pools"]}
    assert pools["local"]["members"] == {m: "Created" for m in bed.fleet.ids}, pools
    assert resp["healthy"] is True, resp
    for member, source in bed.sources.items():
        out = bed.fleet.incus(member, "storage", "get", "local", "source", "--target", member)
        assert out.stdout.strip() == source, (member, out.stdout, out.stderr)


def run_states(result):
    """The orchestration's steps in run order: [(state id, result, comment)]."""
    steps = result.data["data"]
    steps = next(iter(steps.values())) if len(steps) == 1 else steps
    rows = sorted(steps.values(), key=lambda r: r["__run_num__"])
    return [(r["__id__"], r["result"], r["comment"], r) for r in rows]


def test_rolling_maintenance_one_member_at_a_time(bed):
    result = bed.fleet.salt_run("state.orchestrate", "incus.maintenance", timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]
    order = [bed.m3, bed.m1, bed.m2]
    assert [s[0] for s in run_states(result)] == [
        "incus-maintenance-{}-{}".format(m, step) for m in order for step in ("evacuate", "states", "restore")]
    with open(bed.log, encoding="utf-8") as fh:
        assert fh.read().split() == order  # the user's state ran on each, in order
    resp = status(bed)
    assert resp["healthy"] is True and {m["status"] for m in resp["members"]} == {"Online"}, resp


def test_failing_step_stops_at_that_member(bed):
    bed.pillar["incus"]["maintenance"].update(order=[bed.m2, bed.m3], states=["broken"])
    bed.fleet.set_pillar(bed.pillar)
    try:
        result = bed.fleet.salt_run("state.orchestrate", "incus.maintenance", timeout=600)
        assert result.returncode != 0
        steps = {s[0]: s for s in run_states(result)}
        assert steps["incus-maintenance-{}-evacuate".format(bed.m2)][1] is True
        failed = steps["incus-maintenance-{}-states".format(bed.m2)]
        assert failed[1] is False and bed.m2 in failed[2], failed
        for later in ("incus-maintenance-{}-restore".format(bed.m2), "incus-maintenance-{}-evacuate".format(bed.m3)):
            assert steps[later][1] is False and "requisite" in steps[later][2].lower(), steps[later]
        members = {m["name"]: m["status"] for m in status(bed)["members"]}
        # The failed member stays evacuated for the operator; the next one was never touched.
        assert members == {bed.m1: "Online", bed.m2: "Evacuated", bed.m3: "Online"}, members
    finally:
        bed.fleet.fleet_call(bed.m1, "cluster.member.restore", {"name": bed.m2})


PINNED = """\
services:
  app:
    image: busybox
    x-incus: {{image: busybox}}
    deploy:
      replicas: 2
      update_config: {{parallelism: 1}}
      placement:
        constraints: [node.hostname == {member}]
"""


def test_maintenance_check_refuses_and_stops_the_run(bed):
    # The operator's part: an image (it stands in for an image server;
    # the root disk came from pillar, default_root).
    image = os.path.join(os.environ["INCUS_FLEET_TESTBED"], "image")
    incus = "env -u INCUS_SOCKET INCUS_DIR={} incus --force-local".format(bed.fleet.incus_dir(bed.m1))
    script = incus + " image import {}/meta.tar.gz {}/rootfs.tar.gz --alias busybox".format(image, image)
    result = bed.fleet.salt(bed.m1, "cmd.run", script, python_shell=True)
    assert result.returncode == 0, result.stdout
    # Both replicas pinned to m3: evacuating it would leave 0 of 2 running,
    # below 2 - parallelism 1.
    bed.pillar["incus"]["stacks"] = {"pinned": {"compose_yaml": PINNED.format(member=bed.m3)}}
    bed.pillar["incus"]["maintenance"].update(order=[bed.m1, bed.m3, bed.m2], states=["maint"])
    bed.fleet.set_pillar(bed.pillar)
    code, rets = bed.fleet.state(bed.m1, "state.apply", "incus.stacks")
    assert code == 0 and rets["incus-stack-pinned"]["result"] is True, rets
    open(bed.log, "w").close()
    result = bed.fleet.salt_run("state.orchestrate", "incus.maintenance", timeout=600)
    assert result.returncode != 0
    steps = {s[0]: s for s in run_states(result)}
    assert steps["incus-maintenance-{}-restore".format(bed.m1)][1] is True  # before it: done
    # The failed step is named after the member; the manager's state in it
    # carries the refusal, naming the member and the service.
    refused = steps["incus-maintenance-{}-evacuate".format(bed.m3)]
    assert refused[1] is False, refused
    inner = {r["__id__"]: r for r in refused[3]["changes"]["ret"][bed.m1].values()}
    evacuated = inner["incus-maintenance-{}-evacuated".format(bed.m3)]
    assert evacuated["result"] is False and evacuated["changes"] == {}, evacuated
    assert bed.m3 in evacuated["comment"] and "pinned" in evacuated["comment"], evacuated["comment"]
    assert "[conflict]" in evacuated["comment"], evacuated["comment"]
    assert steps["incus-maintenance-{}-evacuate".format(bed.m2)][1] is False
    # The refusal itself, as the manager's state said it: the service named.
    check = bed.fleet.fleet_call(bed.m1, "cluster.member.maintenance_check", {"name": bed.m3})
    assert check["result"] is False and "pinned" in check["error"]["message"], check
    with open(bed.log, encoding="utf-8") as fh:
        assert fh.read().split() == [bed.m1]  # m3 and m2 never got their maintenance
    members = {m["name"]: m["status"] for m in status(bed)["members"]}
    assert members == {m: "Online" for m in bed.fleet.ids}, members
