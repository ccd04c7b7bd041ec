"""Unit tests of the state module without Salt: response -> state return
mapping (real, test mode, failure), secrets from pillar and sdb, parameter
pass-through and mod_watch."""

import json

import pytest

KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFakeKeyMaterialLine0123456789abcdefABCDEF\n-----END EC PRIVATE KEY-----\n"
TOKEN = "eyJmYWtlIjoiam9pbiB0b2tlbiJ9-fake-token-0123456789"


@pytest.fixture
def st(state, fake_bin):
    state.__opts__["incus_fleet.bin"] = fake_bin.path
    state.fake = fake_bin
    return state


def last_request(st):
    return st.fake.calls()[-1]["request"]


# -- result mapping ----------------------------------------------------------


def test_map_changes_true(st):
    resp = {"result": True, "changes": {"web-1": {"old": None, "new": {}}}, "comment": "stack s: created 1",
            "warnings": ["w"], "plan": {"steps": [{"op": "create", "instance": "web-1", "member": "node2", "reason": "missing"}]}}
    ret = st._to_ret("s", resp, test=False)
    assert ret["result"] is True and ret["changes"] == resp["changes"]
    assert ret["comment"] == "stack s: created 1\ncreate web-1 on node2 (missing)"
    assert ret["warnings"] == ["w"]


def test_map_no_change(st):
    ret = st._to_ret("s", {"result": True, "changes": {}, "comment": "up to date"}, test=False)
    assert ret == {"name": "s", "result": True, "changes": {}, "comment": "up to date"}


def test_map_test_mode_pending_is_none(st):
    ret = st._to_ret("s", {"result": None, "changes": {"a": {"old": 1, "new": 2}}, "comment": "would"}, test=True)
    assert ret["result"] is None and ret["changes"]


def test_map_test_mode_clean_is_true(st):
    ret = st._to_ret("s", {"result": True, "changes": {}, "comment": "up to date"}, test=True)
    assert ret["result"] is True and ret["changes"] == {}


def test_map_failure(st):
    resp = {"result": False, "changes": {"web-1": {"old": None, "new": {}}}, "comment": "x",
            "error": {"code": "no_suitable_node", "message": "no suitable node for db",
                      "details": [{"message": "node1: label storage is hdd"}]}}
    ret = st._to_ret("s", resp, test=False)
    assert ret["result"] is False
    assert ret["comment"] == "no suitable node for db [no_suitable_node]\n- node1: label storage is hdd"
    assert ret["changes"] == resp["changes"]  # what was done before the failure


def test_map_null_result_outside_test_mode_is_failure(st):
    ret = st._to_ret("s", {"result": None, "changes": {"a": {"old": 1, "new": 2}}, "comment": "?"}, test=False)
    assert ret["result"] is False


def test_move_step_shows_old_member(st):
    resp = {"result": True, "changes": {"x": {"old": 1, "new": 2}}, "comment": "c", "plan": {"steps": [
        {"op": "replace", "instance": "web-1", "member": "node3", "old_member": "node1"},
        {"op": "keep", "instance": "web-2", "member": "node2"}]}}
    assert st._to_ret("s", resp, False)["comment"] == "c\nreplace web-1 on node3 (from node1)"


# -- through the fake binary ---------------------------------------------------


def test_stack_present_real_and_test_mode(st, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "plan")
    ret = st.compose_stack_present("s", compose_yaml="services: {}")
    assert last_request(st)["test"] is False
    assert ret["result"] is True and list(ret["changes"]) == ["web-1"]
    assert ret["comment"] == "stack s: created 1\ncreate web-1 on node2 (missing)"
    assert ret["warnings"] == ["service web: something to know"]

    st.__opts__["test"] = True
    ret = st.compose_stack_present("s", compose_yaml="services: {}")
    assert last_request(st)["test"] is True
    assert ret["result"] is None and list(ret["changes"]) == ["web-1"]
    assert ret["comment"].startswith("stack s: would create 1")

    monkeypatch.setenv("FAKE_MODE", "clean")
    ret = st.compose_stack_present("s", compose_yaml="services: {}")
    assert ret["result"] is True and ret["changes"] == {}


def test_unknown_state_args_are_not_sent(st):
    st.compose_stack_present("s", compose_yaml="services: {}", bogus="x")
    assert "bogus" not in last_request(st)["params"]


def test_stack_present_params(st):
    st.compose_stack_present(
        "web", compose_yaml="services: {}", env={"A": 1}, profiles=["p"], services=["web"], force_recreate=True
    )
    assert last_request(st) == {
        "version": 1, "action": "stack.present", "test": False,
        "params": {"name": "web", "compose_yaml": "services: {}", "env": {"A": "1"},
                   "profiles": ["p"], "services": ["web"], "force_recreate": True},
    }


def test_stack_present_resume(st):
    st.compose_stack_present("web", compose_yaml="services: {}", resume=True)
    assert last_request(st)["params"]["resume"] is True
    st.compose_stack_present("web", compose_yaml="services: {}")
    assert "resume" not in last_request(st)["params"]


def test_stack_absent(st):
    st.__opts__["test"] = True
    st.compose_stack_absent("web")
    assert last_request(st)["action"] == "stack.absent" and last_request(st)["test"] is True


def test_member_present_params_and_trust_from_pillar(st):
    st.pillar["incus"] = {"trust": {"client_cert": "CERT", "client_key": KEY, "server_fingerprint": "ab" * 32}}
    ret = st.cluster_member_present(
        "node2", address="127.0.0.1:8444", cluster="https://127.0.0.1:8443", trust_pillar="incus:trust",
        labels={"storage": "ssd"}, groups=["compute"], failure_domain="rack1", description="Cluster node 2",
    )
    req = last_request(st)
    assert req["action"] == "cluster.member.present"
    assert req["params"] == {
        "name": "node2", "address": "127.0.0.1:8444", "cluster": "https://127.0.0.1:8443",
        "trust": {"client_cert": "CERT", "client_key": KEY, "server_fingerprint": "ab" * 32},
        "labels": {"storage": "ssd"}, "groups": ["compute"], "failure_domain": "rack1",
        "description": "Cluster node 2",
    }
    # The leaky fake echoes the request: the key must not come back.
    assert KEY not in json.dumps(ret) and "MHcCAQEEIFakeKeyMaterialLine" not in json.dumps(ret)
    assert "<redacted>" in ret["comment"]


def test_member_present_token_from_pillar_and_sdb(st):
    st.pillar["join"] = {"token": "sdb://vault/token"}
    ret = st.cluster_member_present("node4", cluster="https://127.0.0.1:8443", cluster_token_pillar="join:token")
    assert last_request(st)["params"]["cluster_token"] == "sdb-resolved-token-0123456789"
    assert "sdb-resolved-token-0123456789" not in json.dumps(ret)


def test_member_present_sdb_uri_not_resolving_fails_clearly(st):
    ret = st.cluster_member_present("node4", cluster_token="sdb://vault/missing")
    assert ret["result"] is False and "sdb://vault/missing" in ret["comment"]
    assert st.fake.calls() == []


def test_member_present_missing_pillar_key_fails_clearly(st):
    ret = st.cluster_member_present("node4", trust_pillar="incus:nope")
    assert ret["result"] is False and "incus:nope" in ret["comment"]


def test_cluster_password_passes_through_masked(st):
    ret = st.cluster_member_present("node2", address="127.0.0.1:8444", cluster_password="cluster-secret-password")
    assert last_request(st)["params"]["cluster_password"] == "cluster-secret-password"
    assert "cluster-secret-password" not in json.dumps(ret)


def test_secrets_masked_on_failure_and_in_test_mode(st):
    for test in (False, True):
        st.__opts__["test"] = test
        # fake=fail puts params["image"] into the error message and details.
        ret = st.cluster_member_present("n", cluster_token=TOKEN, fake="fail")
        ret2 = st.__salt__["incus_fleet.call"]("x", {"fake": "fail", "image": TOKEN, "cluster_token": TOKEN})
        assert ret2["result"] is False
        assert TOKEN not in json.dumps(ret2) and "<redacted>" in ret2["comment"]
        assert TOKEN not in json.dumps(ret)


def test_member_absent_and_maintenance(st):
    st.cluster_member_absent("old", force=True)
    assert last_request(st)["params"] == {"name": "old", "force": True, "evacuate": True}
    st.cluster_member_evacuated("node2")
    assert last_request(st)["action"] == "cluster.member.evacuate"
    assert last_request(st)["params"] == {"name": "node2"}
    st.cluster_member_evacuated("node2", mode="stop")
    assert last_request(st)["params"] == {"name": "node2", "mode": "stop"}
    st.cluster_member_restored("node2")
    assert last_request(st)["action"] == "cluster.member.restore"


def test_mod_watch_reruns_the_state(st):
    ret = st.mod_watch("web", sfun="compose_stack_present", compose_yaml="services: {}", __reqs__={}, __id__="x")
    assert last_request(st)["action"] == "stack.present"
    assert ret["comment"].startswith("Reconciled after a watched state changed.")
    assert st.mod_watch("web", sfun="nope")["result"] is False


def test_virtual_needs_execution_module(state):
    assert state.__virtual__() == "incus_fleet"
    state.__salt__ = {}
    assert state.__virtual__()[0] is False


def test_env_pillar_merged_and_masked(st):
    st.pillar["app"] = {"env": {"DB_PASSWORD": "pillar-db-password-42"}}
    ret = st.compose_stack_present(
        "s", compose_yaml="services: {}", env={"A": "1", "TOKEN": "sdb://vault/token"}, env_pillar="app:env"
    )
    assert last_request(st)["params"]["env"] == {
        "A": "1", "TOKEN": "sdb-resolved-token-0123456789", "DB_PASSWORD": "pillar-db-password-42"}
    text = json.dumps(ret)
    assert "pillar-db-password-42" not in text and "sdb-resolved-token-0123456789" not in text


def test_env_pillar_must_be_a_dict(st):
    st.pillar["app"] = {"env": "oops"}
    ret = st.compose_stack_present("s", compose_yaml="services: {}", env_pillar="app:env")
    assert ret["result"] is False and "app:env" in ret["comment"]
    assert st.fake.calls() == []


def test_stack_on_a_member_that_has_not_joined_is_pending_in_test_mode(st, monkeypatch):
    st.__opts__["test"] = True
    # The fake binary's cluster.status (echo mode) lists no members.
    ret = st.compose_stack_present("s", compose_yaml="services: {}", member="node4")
    assert ret["result"] is None and ret["changes"] == {}
    assert "node4 is not in the cluster yet" in ret["comment"]
    assert [c["request"]["action"] for c in st.fake.calls()] == ["cluster.status"]
    # Outside test mode the requisite guarantees the member exists: no check.
    st.__opts__["test"] = False
    st.compose_stack_present("s", compose_yaml="services: {}", member="node4")
    assert last_request(st)["action"] == "stack.present"


def test_pass_through_params(st):
    mc = [{"entity": "storage-pool", "name": "local", "key": "source", "value": ""}]
    st.cluster_member_present("node4", cluster="https://127.0.0.1:8443", cluster_token="t" * 20, member_config=mc)
    assert last_request(st)["params"]["member_config"] == mc
    st.compose_stack_present("s", compose_yaml="services: {}", lock_timeout=120)
    assert last_request(st)["params"]["lock_timeout"] == 120
    st.compose_stack_present("s", compose_yaml="services: {}", wait_timeout=90)
    assert last_request(st)["params"]["wait_timeout"] == 90


def test_replacements_name_old_and_new_instance(st):
    resp = {
        "result": True,
        "comment": "stack s: replaced 1",
        "changes": {"web-1-b": {"old": {"service": "web", "slot": 1, "member": "n1"},
                                "new": {"service": "web", "slot": 1, "member": "n1"}},
                    "db-1": {"old": None, "new": {"member": "n2"}}},
        "plan": {"steps": [
            {"op": "replace", "instance": "web-1-b", "old_instance": "web-1", "member": "n1",
             "old_member": "n1", "reason": "config changed"},
            {"op": "create", "instance": "db-1", "member": "n2", "reason": "missing"}]},
    }
    ret = st._to_ret("s", resp, test=False)
    web = ret["changes"]["web-1-b"]
    assert web["old"] == {"service": "web", "slot": 1, "member": "n1", "instance": "web-1"}
    assert web["new"] == {"service": "web", "slot": 1, "member": "n1", "instance": "web-1-b",
                          "reason": "config changed"}
    assert ret["changes"]["db-1"] == {"old": None, "new": {"member": "n2"}}
    assert "replace web-1 by web-1-b on n1 (config changed)" in ret["comment"]


def test_server_fingerprint_fills_a_trust_without_pin(st):
    st.pillar["incus"] = {"trust": {"client_cert": "CERT", "client_key": KEY}}
    st.cluster_member_present("node2", address="127.0.0.1:8444", cluster="https://127.0.0.1:8443",
                              trust_pillar="incus:trust", server_fingerprint="cd" * 32)
    assert last_request(st)["params"]["trust"]["server_fingerprint"] == "cd" * 32
    # A pin in the trust wins; bootstrapping (no cluster) pins nothing.
    st.pillar["incus"]["trust"]["server_fingerprint"] = "ab" * 32
    st.cluster_member_present("node2", address="127.0.0.1:8444", cluster="https://127.0.0.1:8443",
                              trust_pillar="incus:trust", server_fingerprint="cd" * 32)
    assert last_request(st)["params"]["trust"]["server_fingerprint"] == "ab" * 32
    del st.pillar["incus"]["trust"]["server_fingerprint"]
    st.cluster_member_present("node1", address="127.0.0.1:8443", trust_pillar="incus:trust",
                              server_fingerprint="cd" * 32)
    assert "server_fingerprint" not in last_request(st)["params"]["trust"]


def test_cluster_fingerprint_from_member_present_in_test_mode(mod, fake_bin):
    mod.__opts__.update({"incus_fleet.bin": fake_bin.path, "id": "host-b"})
    mod.__pillar__ = {"incus": {"cluster_members": {"a": {}, "b": {"minion": "host-b"}}}}
    assert mod.cluster_fingerprint() is None  # the fake has no fingerprint to give
    req = fake_bin.calls()[-1]["request"]
    assert req["action"] == "cluster.member.present" and req["test"] is True
    assert req["params"] == {"name": "b"}


# -- storage pools, networks, health -------------------------------------------


def test_pool_and_network_states_pass_params_and_test_mode(st):
    ret = st.storage_pool_present("local", driver="dir", config={"source": "/srv/p"},
                                  member_config={"node2": {"source": "/srv/q"}}, description="d")
    assert ret["result"] is True
    assert last_request(st)["action"] == "storage_pool.present"
    assert last_request(st)["params"] == {"name": "local", "driver": "dir", "config": {"source": "/srv/p"},
                                          "member_config": {"node2": {"source": "/srv/q"}}, "description": "d"}
    st.storage_pool_present("local", driver="dir", default_root=True)
    assert last_request(st)["params"] == {"name": "local", "driver": "dir", "default_root": True}
    st.__opts__["test"] = True
    try:
        st.network_present("lan", network_type="macvlan", config={"parent": "eth1"})
        assert last_request(st)["test"] is True
        assert last_request(st)["params"] == {"name": "lan", "network_type": "macvlan", "config": {"parent": "eth1"}}
        st.network_absent("lan")
        assert (last_request(st)["action"], last_request(st)["test"]) == ("network.absent", True)
        st.storage_pool_absent("local")
        assert (last_request(st)["action"], last_request(st)["params"]) == ("storage_pool.absent", {"name": "local"})
    finally:
        st.__opts__["test"] = False


def test_evacuated_with_check(st):
    st.cluster_member_evacuated("node2", check=True)
    assert last_request(st)["params"] == {"name": "node2", "check": True}
    st.cluster_member_evacuated("node2")
    assert last_request(st)["params"] == {"name": "node2"}


def _status(st, response):
    st.__salt__["incus_fleet.status"] = lambda connection=None: response


def test_status_state_surfaces_warnings_and_health(st):
    members = [{"name": "node1", "status": "Online"}, {"name": "node2", "status": "Evacuated"}]
    _status(st, {"result": True, "healthy": False, "members": members, "warnings": ["even member count 2"],
                 "comment": "1 of 2 members online; 1 warning(s): even member count 2"})
    ret = st.status("h")
    assert ret["result"] is False and ret["changes"] == {}
    assert ret["comment"].startswith("cluster is not healthy (members: node2 Evacuated)")
    assert "even member count 2" in ret["comment"] and ret["warnings"] == ["even member count 2"]
    # Report only, or the member check alone: an evacuated member is reachable.
    assert st.status("h", healthy=False)["result"] is True
    assert st.status("h", healthy=False, member="node2")["result"] is True
    ret = st.status("h", healthy=False, member="node9")
    assert ret["result"] is False and "member node9 is not in the cluster" in ret["comment"]


def test_status_state_healthy_and_offline_member(st):
    members = [{"name": "node1", "status": "Online"}, {"name": "node2", "status": "Offline"}]
    _status(st, {"result": True, "healthy": True, "members": members[:1], "comment": "1 of 1 members online"})
    assert st.status("h") == {"name": "h", "changes": {}, "result": True, "comment": "1 of 1 members online"}
    _status(st, {"result": True, "healthy": False, "members": members, "comment": "c"})
    ret = st.status("h", healthy=False, member="node2")
    assert ret["result"] is False and "member node2 is Offline" in ret["comment"]
    _status(st, {"result": False, "error": {"code": "unavailable", "message": "no daemon"}})
    ret = st.status("h")
    assert ret["result"] is False and ret["comment"] == "no daemon [unavailable]"
