"""Real Salt against the real loopback Incus cluster.

`salt-call --local state.apply` with the formula (salt/, as `incus`) in
file_roots, the installed extension's `incus_fleet.*` modules and states, and
a scratch pillar; one minion config per cluster member (each talks to its
own member's unix socket).

Needs the test bed env (INCUS_SOCKET, INCUS_FLEET_TESTBED: `source
$TESTBED_DIR/env`), salt-call (testdata/salt/install.sh) and bin/incus-fleet;
skips without them unless INCUS_FLEET_REQUIRE_TESTBED is set. The member
tests skip while bin/incus-fleet lacks the cluster.member.* actions.

Every stack is named salt-*; the tests remove them (and the labels they set)
when done. The tests run in file order and build on each other.
"""

import copy
import hashlib
import json
import os
import ssl
import time

import pytest

import saltrun

try:
    import yaml  # ships with Salt
except ImportError:  # pragma: no cover
    yaml = None

EXAMPLES = os.path.join(saltrun.REPO, "pillars.example")

# Fake secrets that live in pillar for every run; the last test greps every
# output and log for them.
FAKE_KEY = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIFakeSaltTestKeyNeverPrintMe0123456789abcdefghijABCDEFGH\n"
    "oAoGCCqGSM49AwEHoUQDQgAEFakeSecondLineNeverPrint9876543210zyxwvu\n"
    "-----END EC PRIVATE KEY-----\n"
)
FAKE_TOKEN = "eyJzYWx0LXRlc3QiOiJmYWtlLWpvaW4tdG9rZW4ifQ-never-print-7f3a9c"
FAKE_DB_PASSWORD = "salt-db-password-never-print-5b2e8d"
SECRETS = [
    FAKE_TOKEN,
    FAKE_DB_PASSWORD,
    "MHcCAQEEIFakeSaltTestKeyNeverPrintMe0123456789abcdefghijABCDEFGH",
    "oAoGCCqGSM49AwEHoUQDQgAEFakeSecondLineNeverPrint9876543210zyxwvu",
]
SECRET_PILLAR = {
    "salt_secret": {
        "trust": {"client_cert": "/nonexistent/client.crt", "client_key": FAKE_KEY,
                  "server_fingerprint": "ab" * 32},
        "token": FAKE_TOKEN,
        "env": {"IMG": FAKE_DB_PASSWORD},
    },
    "incus_fleet": {"secret_pillar_keys": ["salt_secret:env:IMG"]},
}

# A stack from salt:// files: compose.yaml plus the files it needs next to it.
FILES_COMPOSE = """\
services:
  hello:
    image: ${IMAGE}
    env_file: ./greeting.env
    deploy:
      replicas: 2
"""


def example_stacks():
    """pillars.example/stacks.sls, renamed salt-*, rolling delay cut to 1s."""
    with open(os.path.join(EXAMPLES, "stacks.sls"), encoding="utf-8") as fh:
        stacks = yaml.safe_load(fh)["incus"]["stacks"]
    out = {}
    for name, stack in stacks.items():
        stack = copy.deepcopy(stack)
        if "compose_yaml" in stack:
            stack["compose_yaml"] = stack["compose_yaml"].replace("delay: 10s", "delay: 1s")
        out["salt-" + name] = stack
    out["salt-files"] = {"compose_files": ["salt://salt_tests/files/compose.yaml"]}
    return out


incus = saltrun.incus


def member_socket(member):
    return os.path.join(os.environ["INCUS_DIR_" + member.upper()], "unix.socket")


class Ctx:
    """State shared by the tests of this module."""


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    salt_call, binary = saltrun.require_salt()
    saltrun.require_testbed()
    saltrun.need(yaml, "PyYAML missing: run pytest from the Salt venv (testdata/salt/install.sh)")
    c = Ctx()
    c.binary = binary
    c.fleet = saltrun.Fleet(tmp_path_factory.mktemp("saltcall"), salt_call, binary)
    c.fleet.add_file("salt_tests/files/compose.yaml", FILES_COMPOSE)
    c.fleet.add_file("salt_tests/files/greeting.env", "GREETING=hello from salt support files\n")
    c.fleet.add_file("salt_tests/files/.env", "IMAGE=busybox\n")
    c.stacks = example_stacks()
    c.pillar = {"incus": {"stacks": c.stacks}, **copy.deepcopy(SECRET_PILLAR)}
    c.fleet.set_pillar(c.pillar)
    c.started = time.monotonic()

    # The placement example needs members labelled storage=ssd.
    c.labels_set = []
    for m in ("node1", "node2"):
        if incus("node1", "cluster", "get", m, "user.storage").stdout.strip() != "ssd":
            assert incus("node1", "cluster", "set", m, "user.storage", "ssd").returncode == 0
            c.labels_set.append((m, "user.storage"))
    cleanup_stacks(c)
    yield c
    cleanup_stacks(c)
    for m, key in c.labels_set:
        incus("node1", "cluster", "unset", m, key)
    print("salt tests: {} salt-call runs in {:.0f}s".format(c.fleet.runs, time.monotonic() - c.started))


def cleanup_stacks(c):
    for name in list(c.stacks) + ["salt-broken", "salt-secret"]:
        resp = saltrun.fleet_call(c.binary, "stack.absent", {"name": name})
        assert resp["result"] is True, resp


def projects():
    out = incus("node1", "project", "list", "--format", "csv", "--columns", "n")
    return sorted(l.split(",")[0].replace(" (current)", "") for l in out.stdout.splitlines())


def stack_instances(c, name):
    resp = saltrun.fleet_call(c.binary, "stack.status", {"name": name})
    assert resp["result"] is True, resp
    return resp["instances"]


def stack_rets(rets):
    return {k: v for k, v in rets.items() if k.startswith("incus-stack-")}


# -- stacks ------------------------------------------------------------------


def test_test_mode_shows_plan_and_changes_nothing(ctx):
    before = saltrun.fleet_call(ctx.binary, "cluster.snapshot")["snapshot"]
    code, rets = ctx.fleet.minion("node1").apply("incus.stacks", test=True)
    stacks = stack_rets(rets)
    assert sorted(stacks) == sorted("incus-stack-" + n for n in ctx.stacks)
    for state_id, ret in stacks.items():
        assert ret["result"] is None, (state_id, ret["comment"])
        assert ret["changes"], state_id
        assert "would create" in ret["comment"], ret["comment"]
    web = stacks["incus-stack-salt-web"]
    assert sorted(web["changes"]) == ["web-1", "web-2", "web-3"]
    assert "create web-1 on node" in web["comment"]
    # The db replicas are planned on the ssd members only.
    db_members = {c["new"]["member"] for c in stacks["incus-stack-salt-db"]["changes"].values()}
    assert db_members == {"node1", "node2"}
    after = saltrun.fleet_call(ctx.binary, "cluster.snapshot")["snapshot"]
    assert after.get("instances") == before.get("instances")
    assert not [p for p in projects() if p.startswith("salt-")]


def test_apply_converges(ctx):
    code, rets = ctx.fleet.minion("node1").apply("incus.stacks")
    assert code == 0
    for state_id, ret in stack_rets(rets).items():
        assert ret["result"] is True, (state_id, ret["comment"])
        assert ret["changes"], state_id
    web = stack_instances(ctx, "salt-web")
    assert sorted(i["instance"] for i in web) == ["web-1", "web-2", "web-3"]
    assert len({i["member"] for i in web}) == 3  # spread over the 3 members
    agents = stack_instances(ctx, "salt-monitoring")
    assert sorted(i["member"] for i in agents) == ["node1", "node2", "node3"]  # global
    assert {i["member"] for i in stack_instances(ctx, "salt-db")} <= {"node1", "node2"}
    assert len(stack_instances(ctx, "salt-worker")) == 1
    assert len(stack_instances(ctx, "salt-web-rolling")) == 3
    worker = stack_instances(ctx, "salt-worker")[0]
    out = incus("node1", "config", "get", "--project", "salt-worker", worker["instance"], "boot.autorestart")
    assert out.stdout.strip() == "true"


def test_support_files_were_cached_next_to_the_compose_file(ctx):
    hello = stack_instances(ctx, "salt-files")
    assert len(hello) == 2  # IMAGE came from the cached .env
    out = incus("node1", "config", "get", "--project", "salt-files", hello[0]["instance"], "environment.GREETING")
    assert out.stdout.strip() == "hello from salt support files"  # from the cached env_file


def test_second_run_reports_no_changes(ctx):
    code, rets = ctx.fleet.minion("node1").apply("incus.stacks")
    assert code == 0
    for state_id, ret in stack_rets(rets).items():
        assert ret["result"] is True, (state_id, ret["comment"])
        assert ret["changes"] == {}, (state_id, ret["changes"])
    # And test mode on a converged cluster: True, nothing pending.
    code, rets = ctx.fleet.minion("node1").apply("incus.stacks", test=True)
    for state_id, ret in stack_rets(rets).items():
        assert ret["result"] is True and ret["changes"] == {}, (state_id, ret)


def test_pillar_change_rolls_the_update(ctx):
    # The new value comes through env_pillar (read from __pillar__: Salt 3008
    # masks what pillar.get hands to modules), so it is also a secret.
    del ctx.stacks["salt-web-rolling"]["env"]
    ctx.stacks["salt-web-rolling"]["env_pillar"] = "salt_app:env"
    ctx.pillar["salt_app"] = {"env": {"GREETING": "hello again"}}
    ctx.fleet.set_pillar(ctx.pillar)
    code, rets = ctx.fleet.minion("node1").apply("incus.stacks", test=True)
    pending = stack_rets(rets)["incus-stack-salt-web-rolling"]
    assert pending["result"] is None and len(pending["changes"]) == 3
    code, rets = ctx.fleet.minion("node1").apply("incus.stacks")
    ret = stack_rets(rets)["incus-stack-salt-web-rolling"]
    assert ret["result"] is True and len(ret["changes"]) == 3, ret
    assert "replace" in ret["comment"] or "update" in ret["comment"], ret["comment"]
    for name, other in stack_rets(rets).items():
        if name != "incus-stack-salt-web-rolling":
            assert other["changes"] == {}, name
    inst = stack_instances(ctx, "salt-web-rolling")[0]["instance"]
    out = incus("node1", "config", "get", "--project", "salt-web-rolling", inst, "environment.GREETING")
    assert out.stdout.strip() == "hello again"


def test_failing_state_returns_false_with_useful_comment(ctx):
    ctx.fleet.add_file(
        "salt_tests/broken.sls",
        "salt-broken:\n"
        "  incus_fleet.compose_stack_present:\n"
        "    - compose_yaml: |\n"
        "        services:\n"
        "          web:\n"
        "            image: salt-no-such-image\n",
    )
    for test in (True, False):
        code, rets = ctx.fleet.minion("node1").apply("salt_tests.broken", test=test)
        ret = rets["salt-broken"]
        assert code != 0
        assert ret["result"] is False
        assert "salt-no-such-image" in ret["comment"] and "not found" in ret["comment"], ret["comment"]
        assert ret["changes"] == {}
    assert "salt-broken" not in projects()


def test_execution_module_functions(ctx):
    node1 = ctx.fleet.minion("node1")
    code, status = node1.run("incus_fleet.status")
    assert status["result"] is True
    assert {m["name"] for m in status["members"]} >= {"node1", "node2", "node3"}
    code, members = node1.run("incus_fleet.member_list")
    assert members["members"] == status["members"]
    code, snap = node1.run("incus_fleet.snapshot")
    assert any(i["project"] == "salt-web" for i in snap["snapshot"]["instances"])
    code, st = node1.run("incus_fleet.stack_status", "salt-web")
    assert len(st["instances"]) == 3
    # On the command line the Compose file is easiest given as a mapping.
    compose = yaml.safe_load(ctx.stacks["salt-web"]["compose_yaml"])
    code, plan = node1.run("incus_fleet.plan", "salt-web", "compose_yaml=" + json.dumps(compose))
    assert plan["result"] is True and [s["op"] for s in plan["plan"]["steps"]] == ["keep"] * 3
    code, resp = node1.run("incus_fleet.call", "stack.status", '{"name": "salt-worker"}')
    assert resp["result"] is True and len(resp["instances"]) == 1
    code, resp = node1.run("incus_fleet.deploy", "salt-files", "compose_files=[salt://salt_tests/files/compose.yaml]")
    assert resp["result"] is True and resp["changes"] == {}, resp


def test_rollback_through_execution_module(ctx):
    saltrun.require_actions(ctx.binary, "stack.rollback")
    code, resp = ctx.fleet.minion("node1").run("incus_fleet.rollback", "salt-web-rolling")
    assert resp["result"] is True, resp
    inst = stack_instances(ctx, "salt-web-rolling")[0]["instance"]
    out = incus("node1", "config", "get", "--project", "salt-web-rolling", inst, "environment.GREETING")
    assert out.stdout.strip() == "hello"
    # Back in line with the pillar, so later runs have nothing to roll.
    ctx.pillar["salt_app"]["env"]["GREETING"] = "hello"
    ctx.fleet.set_pillar(ctx.pillar)


# -- cluster members ------------------------------------------------------------


def _fingerprint(member):
    """sha256 of the certificate MEMBER serves on its HTTPS address."""
    addr = incus(member, "config", "get", "core.https_address").stdout.strip()
    host, port = addr.rsplit(":", 1)
    pem = ssl.get_server_certificate((host, int(port)))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def _address(member):
    return incus(member, "config", "get", "core.https_address").stdout.strip()


@pytest.fixture(scope="module")
def members(ctx, tmp_path_factory):
    """Pillar for the three test bed members (labels the tool manages)."""
    saltrun.require_actions(ctx.binary, "cluster.member.present")
    cert, key = saltrun.client_cert(ctx.binary, str(tmp_path_factory.mktemp("cert")))
    cert_fp = hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert)).hexdigest()
    ctx.real_key_lines = [l for l in key.splitlines() if l and not l.startswith("-----")]
    m = {
        name: {"address": _address(name), "labels": {"salt_role": role}}
        for name, role in (("node1", "front"), ("node2", "back"), ("node3", "back"))
    }
    ctx.pillar["incus"]["cluster"] = {"bootstrap": "node1", "trust_pillar": "salt_fleet:trust"}
    ctx.pillar["incus"]["cluster_members"] = m
    ctx.pillar["salt_fleet"] = {"trust": {"client_cert": cert, "client_key": key,
                                          "server_fingerprint": _fingerprint("node1")}}
    ctx.pillar["incus_fleet"]["secret_pillar_keys"].append("salt_fleet:trust:client_key")
    ctx.fleet.set_pillar(ctx.pillar)
    minions = {n: ctx.fleet.minion(n, socket=member_socket(n)) for n in ("node1", "node2", "node3")}
    yield minions
    # Labels out of the pillar: the tool removes the ones it manages.
    for name in m:
        m[name]["labels"] = {}
    ctx.fleet.set_pillar(ctx.pillar)
    for n, minion in minions.items():
        minion.apply("incus.cluster")
        incus("node1", "cluster", "unset", n, "user.salt_role")
    del ctx.pillar["incus"]["cluster_members"]
    ctx.fleet.set_pillar(ctx.pillar)
    # The bootstrap member's state trusted the test certificate: untrust it.
    incus("node1", "config", "trust", "remove", cert_fp)


def member_labels(ctx):
    status = saltrun.fleet_call(ctx.binary, "cluster.status")
    return {m["name"]: (m.get("labels") or {}) for m in status["members"]}


def test_members_test_mode_then_converge_then_clean(ctx, members):
    before = member_labels(ctx)
    code, rets = members["node2"].apply("incus.cluster", test=True)
    ret = rets["incus-member"]
    assert ret["result"] is None and ret["changes"], ret
    assert member_labels(ctx) == before
    for name, minion in members.items():
        # node1 is the manager: its stacks watch its membership, so the
        # member change makes them reconcile (mod_watch) on top of the run.
        code, rets = minion.apply("incus" if name == "node1" else "incus.cluster")
        ret = rets["incus-member"]
        assert ret["result"] is True and ret["changes"], (name, ret)
        if name == "node1":
            for state_id, stack in stack_rets(rets).items():
                assert stack["result"] is True, (state_id, stack)
                assert stack["comment"].startswith("Reconciled after a watched state changed."), stack
    labels = member_labels(ctx)
    assert labels["node1"]["salt_role"] == "front"
    assert labels["node2"]["salt_role"] == labels["node3"]["salt_role"] == "back"
    assert labels["node1"]["publish_address"]  # not managed here: untouched
    for name, minion in members.items():
        code, rets = minion.apply("incus.cluster")
        assert rets["incus-member"]["result"] is True
        assert rets["incus-member"]["changes"] == {}, (name, rets["incus-member"])


def test_cluster_password_gets_a_clear_error(ctx, members):
    ctx.fleet.add_file(
        "salt_tests/password.sls",
        "salt-password:\n"
        "  incus_fleet.cluster_member_present:\n"
        "    - name: node2\n"
        "    - address: {}\n"
        "    - cluster: https://{}\n"
        "    - cluster_password: {}\n".format(_address("node2"), _address("node1"), FAKE_TOKEN),
    )
    code, rets = members["node2"].apply("salt_tests.password")
    ret = rets["salt-password"]
    assert ret["result"] is False
    assert "token" in ret["comment"] or "certificate" in ret["comment"], ret["comment"]


@pytest.fixture(scope="module")
def spare(ctx, members):
    saltrun.require_actions(ctx.binary, "cluster.member.absent")
    port = saltrun.bed_port(6)
    out = saltrun.testbed_script("spare.sh", "start", "salt-spare", str(port))
    assert out.returncode == 0, out.stderr
    sock = os.path.join(os.environ["INCUS_FLEET_TESTBED"], "salt-spare", "unix.socket")
    yield {"port": port, "minion": ctx.fleet.minion("salt-spare", socket=sock)}
    saltrun.fleet_call(ctx.binary, "cluster.member.absent", {"name": "salt-spare", "force": True})
    saltrun.testbed_script("spare.sh", "remove", "salt-spare")


def test_new_member_joins_and_gets_its_global_service(ctx, members, spare):
    members_pillar = ctx.pillar["incus"]["cluster_members"]
    members_pillar["salt-spare"] = {"address": "127.0.0.1:{}".format(spare["port"]),
                                    "labels": {"salt_role": "spare"}}
    ctx.fleet.set_pillar(ctx.pillar)
    # Trust for the fleet certificate comes from the bootstrap member's state.
    members["node1"].apply("incus.cluster")
    code, rets = spare["minion"].apply("incus", test=True)
    assert code == 0
    assert rets["incus-member"]["result"] is None, rets["incus-member"]
    assert "would join" in rets["incus-member"]["comment"]
    pending = rets["incus-stack-salt-monitoring"]
    assert pending["result"] is None and "not in the cluster yet" in pending["comment"], pending
    code, rets = spare["minion"].apply("incus")
    assert rets["incus-member"]["result"] is True and rets["incus-member"]["changes"], rets["incus-member"]
    # onchanges: the membership changed, so the stacks were reconciled here.
    mon = rets["incus-stack-salt-monitoring"]
    assert mon["result"] is True and mon["changes"], mon
    assert "salt-spare" in {i["member"] for i in stack_instances(ctx, "salt-monitoring")}
    # Second run: member unchanged, so the stacks do not run at all.
    code, rets = spare["minion"].apply("incus")
    assert rets["incus-member"]["changes"] == {}
    assert rets["incus-stack-salt-monitoring"]["result"] is True
    assert rets["incus-stack-salt-monitoring"]["changes"] == {}
    assert "onchanges" in rets["incus-stack-salt-monitoring"]["comment"].lower() or \
        rets["incus-stack-salt-monitoring"].get("__state_ran__") is False


def test_retired_member_is_removed_by_the_manager(ctx, members, spare):
    del ctx.pillar["incus"]["cluster_members"]["salt-spare"]
    ctx.pillar["incus"]["absent_members"] = {"salt-spare": {}}
    ctx.fleet.set_pillar(ctx.pillar)
    code, rets = members["node1"].apply("incus", test=True)
    assert rets["incus-member-absent-salt-spare"]["result"] is None
    code, rets = members["node1"].apply("incus")
    ret = rets["incus-member-absent-salt-spare"]
    assert ret["result"] is True and ret["changes"], ret
    assert "salt-spare" not in member_labels(ctx)
    code, rets = members["node1"].apply("incus")
    assert rets["incus-member-absent-salt-spare"]["changes"] == {}
    del ctx.pillar["incus"]["absent_members"]
    # The global service is back to one agent per member.
    assert sorted(i["member"] for i in stack_instances(ctx, "salt-monitoring")) == ["node1", "node2", "node3"]


def test_maintenance_evacuate_then_restore(ctx, members):
    saltrun.require_actions(ctx.binary, "cluster.member.evacuate", "cluster.member.restore")
    m = ctx.pillar["incus"]["cluster_members"]
    m["node3"]["evacuated"] = True
    ctx.fleet.set_pillar(ctx.pillar)
    try:
        code, rets = members["node3"].apply("incus.cluster", test=True)
        assert rets["incus-member-maintenance"]["result"] is None
        code, rets = members["node3"].apply("incus.cluster")
        ret = rets["incus-member-maintenance"]
        assert ret["result"] is True and ret["changes"], ret
        status = {x["name"]: x["status"] for x in saltrun.fleet_call(ctx.binary, "cluster.status")["members"]}
        assert status["node3"] == "Evacuated"
        code, rets = members["node3"].apply("incus.cluster")
        assert rets["incus-member-maintenance"]["changes"] == {}
    finally:
        m["node3"]["evacuated"] = False
        ctx.fleet.set_pillar(ctx.pillar)
        code, rets = members["node3"].apply("incus.cluster")
    ret = rets["incus-member-maintenance"]
    assert ret["result"] is True, ret
    status = {x["name"]: x["status"] for x in saltrun.fleet_call(ctx.binary, "cluster.status")["members"]}
    assert status["node3"] == "Online"
    del m["node3"]["evacuated"]
    ctx.fleet.set_pillar(ctx.pillar)


# -- secrets: last, so it sees every output of the tests above ----------------------


def test_secrets_never_in_salt_output_or_logs(ctx):
    ctx.fleet.add_file(
        "salt_tests/secrets.sls",
        "salt-secret-trust:\n"
        "  incus_fleet.cluster_member_present:\n"
        "    - name: salt-ghost\n"
        "    - address: 127.0.0.1:1\n"
        "    - cluster: https://127.0.0.1:1\n"
        "    - trust_pillar: salt_secret:trust\n"
        "    - connection: {socket: /nonexistent/unix.socket}\n"
        "salt-secret-token:\n"
        "  incus_fleet.cluster_member_present:\n"
        "    - name: salt-ghost\n"
        "    - address: 127.0.0.1:1\n"
        "    - cluster_token_pillar: salt_secret:token\n"
        "    - connection: {socket: /nonexistent/unix.socket}\n"
        # The secret becomes the image name, so the binary's "image not
        # found" error repeats it: only the module's masking hides it.
        "salt-secret:\n"
        "  incus_fleet.compose_stack_present:\n"
        "    - compose_yaml: |\n"
        "        services:\n"
        "          web:\n"
        "            image: ${IMG}\n"
        "    - env_pillar: salt_secret:env\n",
    )
    node1 = ctx.fleet.minion("node1")
    for test in (True, False):
        code, rets = node1.apply("salt_tests.secrets", test=test)
        for state_id, ret in rets.items():
            assert ret["result"] is False, (state_id, ret)
        assert "<redacted>" in rets["salt-secret"]["comment"], rets["salt-secret"]["comment"]

    secrets = SECRETS + getattr(ctx, "real_key_lines", [])
    files = []
    for root, _, names in os.walk(ctx.fleet.base):
        for n in names:
            path = os.path.join(root, n)
            if path.startswith(ctx.fleet.outputs) or n.endswith(".log"):
                files.append(path)
    assert any(f.endswith(".log") for f in files) and len(files) > 10
    leaks = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        leaks += ["{} in {}".format(s[:12] + "...", path) for s in secrets if s in text]
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)
