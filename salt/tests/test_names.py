"""Names and packaging, with real salt-call (no cluster changes):

- the documented names `incus_fleet.*` load from the installed extension,
  with their docstrings (parameters, a yaml example) in `sys.state_doc`;
- the seed spelling `incus.*` works while saltext-incus is not installed,
  and when it is (the 3008.4 venv of testdata/salt/install.sh), its
  `incus.*` and our `incus_fleet.*` both load and both work in one run;
- the salt-ssh copies generated from the package work on their own.
"""

import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys

import pytest

import saltrun

SALTEXT_INCUS = importlib.util.find_spec("saltext.incus") is not None
STATES = [
    "cluster_member_absent",
    "cluster_member_evacuated",
    "cluster_member_present",
    "cluster_member_restored",
    "compose_stack_absent",
    "compose_stack_present",
    "network_absent",
    "network_present",
    "status",
    "storage_pool_absent",
    "storage_pool_present",
]
COMPOSE = "services: {web: {image: busybox, deploy: {replicas: 2}}}"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    salt_call, binary = saltrun.require_salt()
    saltrun.require_testbed()
    return saltrun.Fleet(tmp_path_factory.mktemp("names"), salt_call, binary)


def node1(fleet):
    return fleet.minion("node1", socket=os.path.join(os.environ["INCUS_DIR_NODE1"], "unix.socket"))


def public_functions(module):
    return {n: f for n, f in vars(module).items() if inspect.isfunction(f) and not n.startswith("_")
            and f.__module__ == module.__name__}


def test_every_function_documents_parameters_and_a_yaml_example(mod, state):
    for module in (mod, state):
        for name, func in public_functions(module).items():
            doc = func.__doc__ or ""
            assert ".. code-block:: yaml" in doc, "{} has no yaml example".format(name)
            params = [p for p in inspect.signature(func).parameters if p not in ("kwargs", "params")]
            for p in params:
                assert re.search(r"\b{}\b".format(p), doc), "{}: parameter {} not documented".format(name, p)


def test_state_doc_shows_every_state_with_its_example(fleet):
    code, docs = node1(fleet).run("sys.state_doc", "incus_fleet")
    assert code == 0
    for name in STATES:
        doc = docs["incus_fleet." + name]
        assert "incus_fleet.{}:".format(name) in doc, (name, doc)
    code, docs = node1(fleet).run("sys.doc", "incus_fleet")
    assert "salt node1 incus_fleet.status" in docs["incus_fleet.status"]


@pytest.mark.skipif(SALTEXT_INCUS, reason="saltext-incus is installed here: it owns `incus`")
def test_seed_spelling_works_without_saltext_incus(fleet):
    code, funcs = node1(fleet).run("sys.list_state_functions", "incus")
    assert {"incus." + n for n in STATES} <= set(funcs), funcs
    fleet.add_file("names/seed.sls", (
        "salt-seed-stack:\n"
        "  incus.compose_stack_present:\n"
        "    - compose_yaml: '{}'\n"
        "salt-seed-after:\n"
        "  test.succeed_without_changes:\n"
        "    - onchanges:\n"
        "      - incus: salt-seed-stack\n").format(COMPOSE))
    code, rets = node1(fleet).apply("names.seed", test=True)
    ret = rets["salt-seed-stack"]
    assert ret["result"] is None and sorted(ret["changes"]) == ["web-1", "web-2"], ret
    code, status = node1(fleet).run("incus.status")
    assert status["result"] is True


@pytest.mark.skipif(not SALTEXT_INCUS, reason="saltext-incus is not installed here (see install.sh)")
def test_coexists_with_saltext_incus(fleet):
    code, funcs = node1(fleet).run("sys.list_state_functions", "incus", "incus_fleet")
    assert "incus.present" in funcs  # saltext-incus's
    assert not [f for f in funcs if f.startswith("incus.compose_stack")]  # ours stepped aside
    assert {"incus_fleet." + n for n in STATES} <= set(funcs), funcs
    # Both in one state run, both working (test mode: nothing changes).
    fleet.add_file("names/both.sls", (
        "salt-both-instance:\n"
        "  incus.present:\n"
        "    - name: salt-names-probe\n"
        "    - image: busybox\n"
        "salt-both-stack:\n"
        "  incus_fleet.compose_stack_present:\n"
        "    - compose_yaml: '{}'\n").format(COMPOSE))
    code, rets = node1(fleet).apply("names.both", test=True)
    assert rets["salt-both-instance"]["result"] is None, rets["salt-both-instance"]
    assert "salt-names-probe" in rets["salt-both-instance"]["comment"], rets["salt-both-instance"]
    stack = rets["salt-both-stack"]
    assert stack["result"] is None and sorted(stack["changes"]) == ["web-1", "web-2"], stack
    code, listed = node1(fleet).run("incus.list")
    assert isinstance(listed, list), listed
    code, status = node1(fleet).run("incus_fleet.status")
    assert status["result"] is True


def test_salt_ssh_copies_work_without_the_package(fleet, tmp_path):
    """`python -m saltext.incus_fleet.ssh ROOT` writes _modules/_states that
    need nothing of the package: here Salt runs with the installed package
    shadowed by a broken one, so only the synced copies can answer."""
    root = tmp_path / "ssh-root"
    out = subprocess.run([sys.executable, "-m", "saltext.incus_fleet.ssh", str(root)],
                         capture_output=True, text=True, check=True)
    written = out.stdout.split()
    assert sorted(os.path.relpath(p, root) for p in written) == [
        "_modules/incus_fleet.py", "_states/incus_fleet.py"]
    for path in written:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        assert "\nfrom saltext" not in text and "\nimport saltext" not in text, path
    shadow = tmp_path / "shadow" / "saltext" / "incus_fleet"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('the package is hidden from this test')\n")

    ssh = saltrun.Fleet(tmp_path / "ssh-fleet", fleet.salt_call, fleet.binary)
    for path in written:
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8") as fh:
            ssh.add_file(rel, fh.read())
    ssh.add_file("names/ssh.sls", (
        "salt-ssh-stack:\n"
        "  incus_fleet.compose_stack_present:\n"
        "    - compose_yaml: '{}'\n").format(COMPOSE))
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "shadow"))
    old = os.environ.copy()
    os.environ.update(env)
    try:
        m = ssh.minion("node1", socket=os.path.join(os.environ["INCUS_DIR_NODE1"], "unix.socket"), sync=True)
        code, rets = m.apply("names.ssh", test=True)
    finally:
        os.environ.clear()
        os.environ.update(old)
    ret = rets["salt-ssh-stack"]
    assert ret["result"] is None and sorted(ret["changes"]) == ["web-1", "web-2"], json.dumps(ret)
