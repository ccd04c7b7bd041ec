"""The README's Salt walk-through, for real: three empty Incus daemons (test
bed spares, loopback only) become a 3-member cluster through the formula
(bootstrap, then joins with the fleet certificate pinned to the cluster's
fingerprint), then the manager deploys an HA stack on it.

Needs the test bed env, salt-call and a binary with the cluster.member.*
actions (skips naming the missing ones otherwise).
"""

import json
import os
import re

import pytest

import saltrun

STACK = """\
services:
  web:
    image: busybox
    deploy:
      replicas: 3
  agent:
    image: busybox
    deploy:
      mode: global
"""


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    salt_call, binary = saltrun.require_salt()
    saltrun.require_testbed()
    saltrun.require_actions(binary, "cluster.member.present")
    fleet = saltrun.Fleet(tmp_path_factory.mktemp("walk"), salt_call, binary)
    base = os.environ["INCUS_FLEET_TESTBED"]
    node1 = saltrun.incus("node1", "config", "get", "core.https_address").stdout.strip()
    port = saltrun.free_port(int(node1.rsplit(":", 1)[1]) + 25)
    machines = {}
    try:
        for i in (1, 2, 3):
            name = "salt-w{}".format(i)
            port = saltrun.free_port(port + 1)
            out = saltrun.testbed_script("spare.sh", "start", name, str(port))
            assert out.returncode == 0, out.stderr
            machines[name] = {"address": "127.0.0.1:{}".format(port), "dir": os.path.join(base, name)}
        yield fleet, machines
    finally:
        for name in machines:
            saltrun.testbed_script("spare.sh", "remove", name)


def test_empty_machines_to_three_node_cluster_with_ha_stack(walk, tmp_path):
    fleet, machines = walk
    cert, key = saltrun.client_cert(fleet.binary, str(tmp_path))
    pillar = {
        "incus": {
            "cluster": {
                "bootstrap": "salt-w1",
                "trust_pillar": "fleet:trust",
                "config": {"cluster.offline_threshold": "120"},
            },
            "cluster_members": {
                name: {"address": m["address"], "labels": {"zone": name[-1]}, "description": "walk " + name}
                for name, m in machines.items()
            },
            "stacks": {"salt-walk": {"compose_yaml": STACK}},
        },
        "fleet": {"trust": {"client_cert": cert, "client_key": key}},
        "incus_fleet": {"secret_pillar_keys": ["fleet:trust:client_key"]},
    }
    fleet.set_pillar(pillar)
    minions = {
        name: fleet.minion(name, socket=os.path.join(m["dir"], "unix.socket"))
        for name, m in machines.items()
    }

    # 1. Bootstrap: the first machine creates the cluster and trusts the
    #    fleet certificate; its comment names the fingerprint to pin.
    code, rets = minions["salt-w1"].apply("incus.cluster")
    ret = rets["incus-member"]
    assert code == 0 and ret["result"] is True and ret["changes"], ret
    fingerprint = re.search(r"\b[0-9a-f]{64}\b", ret["comment"]).group(0)
    pillar["fleet"]["trust"]["server_fingerprint"] = fingerprint
    fleet.set_pillar(pillar)
    # Storage is the operator's (not this formula's): a `dir` pool and a root
    # disk in the default profile, created once on the new cluster; joining
    # members get the pool filled in by incus-fleet.
    w1 = machines["salt-w1"]["dir"]
    for args in (("storage", "create", "local", "dir"),
                 ("profile", "device", "add", "default", "root", "disk", "path=/", "pool=local")):
        out = saltrun.incus("", *args, incus_dir=w1)
        assert out.returncode == 0, out.stderr

    # 2. The others join through it.
    for name in ("salt-w2", "salt-w3"):
        code, rets = minions[name].apply("incus.cluster", test=True)
        assert rets["incus-member"]["result"] is None, rets["incus-member"]
        code, rets = minions[name].apply("incus.cluster")
        assert code == 0 and rets["incus-member"]["result"] is True, rets["incus-member"]
    w1_socket = os.path.join(machines["salt-w1"]["dir"], "unix.socket")
    status = saltrun.fleet_call(fleet.binary, "cluster.status", socket=w1_socket)
    members = {m["name"]: m for m in status["members"]}
    assert sorted(members) == ["salt-w1", "salt-w2", "salt-w3"]
    assert all(m["status"] == "Online" for m in members.values())
    assert members["salt-w2"]["labels"]["zone"] == "2"
    out = saltrun.incus("", "config", "get", "cluster.offline_threshold", incus_dir=w1)
    assert out.stdout.strip() == "120"

    # Images come from your image server; here, the test bed's busybox.
    image = os.path.join(os.environ["INCUS_FLEET_TESTBED"], "image")
    out = saltrun.incus("", "image", "import", os.path.join(image, "meta.tar.gz"),
                        os.path.join(image, "rootfs.tar.gz"), "--alias", "busybox", incus_dir=w1)
    assert out.returncode == 0, out.stderr

    # 3. The manager (the bootstrap member) deploys the stack: three web
    #    replicas on three members, one agent per member.
    code, rets = minions["salt-w1"].apply("incus")
    assert code == 0, json.dumps(rets, indent=1)[:3000]
    assert rets["incus-stack-salt-walk"]["result"] is True
    assert len(rets["incus-stack-salt-walk"]["changes"]) == 6
    resp = saltrun.fleet_call(fleet.binary, "stack.status", {"name": "salt-walk"}, socket=w1_socket)
    where = sorted((i["service"], i["member"]) for i in resp["instances"])
    assert where == sorted((svc, m) for svc in ("web", "agent") for m in machines)

    # 4. Converged: every member and the stack report no changes.
    for name, minion in minions.items():
        code, rets = minion.apply("incus")
        for state_id, ret in rets.items():
            assert ret["result"] is True and ret["changes"] == {}, (name, state_id, ret)

    # The client key was in pillar for every run: never in any output.
    body = [l for l in key.splitlines() if l and not l.startswith("-----")]
    for root, _, names in os.walk(fleet.base):
        for n in names:
            path = os.path.join(root, n)
            if path.startswith(fleet.outputs) or n.endswith(".log"):
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                assert not [l for l in body if l in text], path
