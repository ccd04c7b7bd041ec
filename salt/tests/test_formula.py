"""The formula (salt/*.sls, map.jinja, defaults.yaml) rendered by real Salt
over the pillars in pillars.example/, for several minion ids. Needs Salt but
no cluster: state.show_sls renders without running anything."""

import os

import pytest

import saltrun

EXAMPLES = os.path.join(saltrun.REPO, "pillars.example")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    salt_call, binary = saltrun.require_salt()
    return saltrun.Fleet(tmp_path_factory.mktemp("formula"), salt_call, binary)


def show(fleet, minion_id, sls):
    code, data = fleet.minion(minion_id, sync=False).run("state.show_sls", sls)
    assert code == 0 and isinstance(data, dict), data
    out = {}
    for state_id, body in data.items():
        mod = [k for k in body if not k.startswith("__")][0]
        args = {}
        fun = None
        for item in body[mod]:
            if isinstance(item, dict):
                args.update({k: v for k, v in item.items() if k != "order"})
            else:
                fun = item
        out[state_id] = (mod + "." + fun, args)
    return out


def example(name):
    return os.path.join(EXAMPLES, name)


def test_three_node_cluster_bootstrap_and_joins(fleet):
    fleet.set_pillar({}, example("cluster.sls"), example("stacks.sls"))
    node1 = show(fleet, "node1", "incus")
    fun, args = node1["incus-member"]
    assert fun == "incus_fleet.cluster_member_present"
    assert args["name"] == "node1" and args["address"] == "198.51.100.11:8443"
    assert "cluster" not in args  # bootstrap
    assert args["trust_pillar"] == "incus:trust"
    assert args["labels"] == {"storage": "ssd", "zone": "a"}
    assert args["failure_domain"] == "rack-a"
    # No secret is rendered into the SLS: only the pillar key.
    assert "client_key" not in repr(node1)
    # node1 is the manager: it deploys all five stacks, watching its membership.
    stacks = {k: v for k, v in node1.items() if k.startswith("incus-stack-")}
    assert sorted(stacks) == [
        "incus-stack-db", "incus-stack-monitoring", "incus-stack-web",
        "incus-stack-web-rolling", "incus-stack-worker",
    ]
    for fun, args in stacks.values():
        assert fun == "incus_fleet.compose_stack_present"
        assert args["watch"] == [{"incus_fleet": "incus-member"}]
        assert args["member"] == "node1"
        assert "services:" in args["compose_yaml"]
    assert stacks["incus-stack-web-rolling"][1]["env"] == {"GREETING": "hello"}

    node2 = show(fleet, "node2", "incus")
    fun, args = node2["incus-member"]
    assert args["cluster"] == "https://198.51.100.11:8443"
    assert args["description"] == "Cluster node 2"
    # Other members reconcile the stacks only when their membership changed.
    for state_id, (fun, args) in node2.items():
        if state_id.startswith("incus-stack-"):
            assert args["onchanges"] == [{"incus_fleet": "incus-member"}]


def test_large_cluster_settings_on_bootstrap_only(fleet):
    fleet.set_pillar({}, example("cluster-large.sls"))
    fun, args = show(fleet, "node-01", "incus.cluster")["incus-member"]
    assert args["config"] == {
        "cluster.offline_threshold": "120",
        "cluster.images_minimal_replica": "3",
        "cluster.max_voters": "5",
        "cluster.max_standby": "2",
        "cluster.healing_threshold": "0",
    }
    for n in ("node-02", "node-03", "node-04", "node-05"):
        fun, args = show(fleet, n, "incus.cluster")["incus-member"]
        assert "config" not in args
        assert args["cluster"] == "https://203.0.113.101:8443"


def test_hybrid_roles_as_labels_and_groups(fleet):
    fleet.set_pillar({}, example("cluster-hybrid.sls"))
    fun, args = show(fleet, "storage-02", "incus.cluster")["incus-member"]
    assert args["labels"] == {"role": "storage", "storage": "ssd"}
    assert args["groups"] == ["storage"]
    assert args["cluster"] == "https://198.51.100.101:8443"


def test_maintenance_absent_members_and_minion_mapping(fleet):
    fleet.set_pillar(
        {
            "incus": {
                "cluster": {"bootstrap": "a"},
                "cluster_members": {
                    "a": {"address": "127.0.0.1:8443", "minion": "host-a"},
                    "b": {"address": "127.0.0.1:8444", "minion": "host-b", "evacuated": True,
                          "evacuate_mode": "stop"},
                    "c": {"address": "127.0.0.1:8445", "evacuated": False, "cluster_token_pillar": "tok:c"},
                },
                "absent_members": {"old": {"force": True}},
                "stacks": {"gone": {"absent": True}},
            }
        }
    )
    a = show(fleet, "host-a", "incus")
    assert a["incus-member-absent-old"] == (
        "incus_fleet.cluster_member_absent", {"name": "old", "force": True, "evacuate": True})
    assert a["incus-stack-gone"] == ("incus_fleet.compose_stack_absent", {"name": "gone"})
    assert "trust_pillar" not in a["incus-member"][1]  # no trust in this pillar
    b = show(fleet, "host-b", "incus.cluster")
    assert b["incus-member-maintenance"][0] == "incus_fleet.cluster_member_evacuated"
    assert b["incus-member-maintenance"][1]["mode"] == "stop"
    assert "incus-member-absent-old" not in b
    c = show(fleet, "c", "incus.cluster")
    assert c["incus-member-maintenance"][0] == "incus_fleet.cluster_member_restored"
    assert c["incus-member"][1]["cluster_token_pillar"] == "tok:c"
    # A minion that is not a member gets an explicit no-op, not an error.
    other = show(fleet, "elsewhere", "incus")
    assert [f for f, _ in other.values()] == ["test.nop", "test.nop", "test.nop"]
    assert "incus-watch-nothing-to-do" in other


def test_orchestration_bootstraps_then_joins_one_by_one(fleet):
    fleet.set_pillar({}, example("cluster.sls"))
    orch = show(fleet, "salt-master_master", "incus.orch.cluster")
    fun, args = orch["incus-orch-bootstrap"]
    assert fun == "salt.state" and args["tgt"] == "node1" and args["sls"] == "incus.cluster"
    fun, args = orch["incus-orch-join"]
    assert args["tgt"] == ["node2", "node3"] and args["tgt_type"] == "list" and args["batch"] == 1
    assert args["require"] == [{"salt": "incus-orch-bootstrap"}]
    # The bootstrap member publishes the fingerprint once it changed.
    node1 = show(fleet, "node1", "incus.cluster")
    fun, args = node1["incus-member-fingerprint"]
    assert fun == "module.run" and args["onchanges"] == [{"incus_fleet": "incus-member"}]
    # No pin in pillar and nothing in the mine yet: the join renders without one.
    fun, args = show(fleet, "node2", "incus.cluster")["incus-member"]
    assert "server_fingerprint" not in args


def test_storage_pools_and_networks_from_the_seed_format(fleet):
    fleet.set_pillar({}, example("cluster.sls"), example("storage-networks.sls"))
    node1 = show(fleet, "node1", "incus.cluster")  # bootstrap member = manager
    assert node1["incus-pool-local"] == ("incus_fleet.storage_pool_present", {
        "name": "local", "driver": "dir", "config": {"source": "/var/lib/incus/storage-pools/local"},
        "description": "Local storage pool", "default_root": True, "require": [{"incus_fleet": "incus-member"}]})
    assert node1["incus-pool-ceph-pool"][1]["driver"] == "ceph"
    assert node1["incus-pool-ceph-pool"][1]["config"]["ceph.osd.pg_num"] == "32"
    fun, args = node1["incus-network-ovn-cluster"]
    assert fun == "incus_fleet.network_present" and args["network_type"] == "ovn"
    assert args["config"]["network"] == "ovn-uplink" and args["description"] == "Cluster-wide OVN network"
    fun, args = node1["incus-network-lan"]
    assert args["member_config"] == {"node3": {"parent": "eth2"}}
    assert node1["incus-network-lxdbr0"][1]["network_type"] == "bridge"
    assert "storage_pools" not in node1["incus-member"][1]  # bootstrap: nothing to join with
    # Joining members create nothing themselves; their join carries the definitions.
    node3 = show(fleet, "node3", "incus.cluster")
    assert not [k for k in node3 if k.startswith(("incus-pool-", "incus-network-"))]
    args = node3["incus-member"][1]
    assert sorted(args["storage_pools"]) == ["ceph-pool", "local"]
    assert args["storage_pools"]["local"]["config"]["source"] == "/var/lib/incus/storage-pools/local"
    assert args["networks"]["lan"]["member_config"] == {"node3": {"parent": "eth2"}}


def test_absent_pools_and_networks_are_removed_not_joined(fleet):
    fleet.set_pillar({"incus": {"storage_pools": {"old": {"absent": True}, "new": {"driver": "dir"}},
                                "networks": {"gone": {"absent": True}}}}, example("cluster.sls"))
    node1 = show(fleet, "node1", "incus.cluster")
    assert node1["incus-pool-old"][0] == "incus_fleet.storage_pool_absent"
    assert node1["incus-network-gone"] == ("incus_fleet.network_absent", {
        "name": "gone", "require": [{"incus_fleet": "incus-member"}]})
    args = show(fleet, "node2", "incus.cluster")["incus-member"][1]
    assert args["storage_pools"] == {"new": {"driver": "dir"}} and "networks" not in args


def test_maintenance_orchestration_one_member_at_a_time(fleet):
    fleet.set_pillar({"incus": {"maintenance": {"order": ["node3", "node1", "node2"],
                                                "states": ["upgrade"]}}}, example("cluster.sls"))
    orch = show(fleet, "salt-master_master", "incus.maintenance")
    assert sorted(orch) == sorted("incus-maintenance-{}-{}".format(m, s) for m in ("node1", "node2", "node3")
                                  for s in ("evacuate", "states", "restore"))
    fun, args = orch["incus-maintenance-node3-evacuate"]
    assert fun == "salt.state" and args["tgt"] == "node1" and args["sls"] == "incus.maintenance_step"
    assert args["pillar"] == {"incus_maintenance": {"member": "node3", "step": "evacuate"}}
    assert "require" not in args  # first in the order
    assert orch["incus-maintenance-node3-states"][1]["tgt"] == "node3"
    assert orch["incus-maintenance-node3-states"][1]["sls"] == ["upgrade"]
    # Each member waits for the previous one to be restored and healthy.
    assert orch["incus-maintenance-node1-evacuate"][1]["require"] == [{"salt": "incus-maintenance-node3-restore"}]
    assert orch["incus-maintenance-node2-evacuate"][1]["require"] == [{"salt": "incus-maintenance-node1-restore"}]
    assert orch["incus-maintenance-node2-restore"][1]["require"] == [{"salt": "incus-maintenance-node2-states"}]
    fleet.set_pillar({"incus": {"maintenance": {"order": ["node1", "nodeX"]}}}, example("cluster.sls"))
    orch = show(fleet, "salt-master_master", "incus.orch.maintenance")
    assert list(orch) == ["incus-maintenance-unknown-members"]
    assert "nodeX, not in incus:cluster_members" in orch["incus-maintenance-unknown-members"][1]["name"]


def test_maintenance_steps_on_the_manager(fleet):
    fleet.set_pillar({"incus_maintenance": {"member": "node2", "step": "evacuate"}}, example("cluster.sls"))
    steps = show(fleet, "node1", "incus.maintenance_step")
    assert steps["incus-maintenance-node2-evacuated"][1]["check"] is True
    assert steps["incus-maintenance-node2-cluster-healthy"][0] == "incus_fleet.status"
    fleet.set_pillar({"incus_maintenance": {"member": "node2", "step": "restore"}}, example("cluster.sls"))
    steps = show(fleet, "node1", "incus.maintenance_step")
    assert steps["incus-maintenance-node2-back"][1]["healthy"] is False
    assert steps["incus-maintenance-node2-back"][1]["retry"] == {"attempts": 60, "interval": 5}
    assert steps["incus-maintenance-node2-restored"][0] == "incus_fleet.cluster_member_restored"
    assert steps["incus-maintenance-node2-healthy"][1]["member"] == "node2"


def test_watch_on_every_member(fleet):
    """A `stack watch` unit per stack on every cluster member, so losing any
    member, the manager included, is healed without a Salt run."""
    fleet.set_pillar({"incus": {"watch": {"service": "systemd"}}}, example("cluster.sls"), example("stacks.sls"))
    for minion in ("node1", "node2", "node3"):
        states = show(fleet, minion, "incus.watch")
        assert states["incus-watch-unit"][0] == "file.managed", minion
        assert states["incus-watch-unit"][1]["name"] == "/etc/systemd/system/incus-fleet-watch@.service"
        services = {k: v for k, v in states.items() if v[0] == "service.running"}
        assert sorted(services) == [
            "incus-watch-db", "incus-watch-monitoring", "incus-watch-web",
            "incus-watch-web-rolling", "incus-watch-worker",
        ], minion
        fun, args = services["incus-watch-web-rolling"]
        assert args["name"] == "incus-fleet-watch@web-rolling" and args["enable"] is True
        watched = args["watch"]
        assert {"file": "incus-watch-web-rolling-env"} in watched
        assert {"file": "incus-watch-web-rolling-compose-0"} in watched
        # Only the manager deploys, so only there does the watcher wait for it.
        assert ({"incus_fleet": "incus-stack-web-rolling"} in watched) == (minion == "node1"), (minion, watched)
        env = states["incus-watch-web-rolling-env"][1]
        assert env["mode"] == "0600" and env["show_changes"] is False
        assert env["contents"] == (
            "COMPOSE_FILE=/etc/incus-fleet/stacks/web-rolling/compose.yaml\n"
            "WATCH_ARGS=--env GREETING=hello\n")
        compose = states["incus-watch-web-rolling-compose-0"][1]
        assert "services:" in compose["contents"]

    # Selected members only; a member without systemd gets a note, not a unit.
    fleet.set_pillar({"incus": {"watch": {"service": "systemd", "members": ["node2"]}}},
                     example("cluster.sls"), example("stacks.sls"))
    assert list(show(fleet, "node1", "incus.watch")) == ["incus-watch-nothing-to-do"]
    assert "incus-watch-web" in show(fleet, "node2", "incus.watch")
    fleet.set_pillar({"incus": {"watch": {"service": "auto"}}}, example("cluster.sls"), example("stacks.sls"))
    note = show(fleet, "node2", "incus.watch")
    assert list(note) == ["incus-watch-no-systemd"]
    assert "does not run systemd" in note["incus-watch-no-systemd"][1]["name"]

    # An env value systemd would split is refused, naming it.
    fleet.set_pillar({"incus": {"watch": {"service": "systemd"},
                                "stacks": {"web-rolling": {"env": {"GREETING": "hello world"}}}}},
                     example("cluster.sls"), example("stacks.sls"))
    fun, args = show(fleet, "node2", "incus.watch")["incus-watch-web-rolling"]
    assert fun == "test.fail_without_changes" and "GREETING" in args["name"]
