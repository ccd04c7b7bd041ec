"""Shared fixtures for the Salt module tests.

The unit tests load the extension's execution and state modules
(salt/src/saltext/incus_fleet/{modules,states}/incus_fleet.py) as plain
Python modules and inject the dunders Salt's loader would (__salt__,
__opts__, __pillar__, __env__), so they run without Salt installed.
"""

import collections.abc
import importlib.util
import json
import os
import stat
import sys
import textwrap
import types

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SALT_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(SALT_DIR)
PACKAGE = os.path.join(SALT_DIR, "src", "saltext", "incus_fleet")
# The checkout's package, also where an installed copy exists.
sys.path.insert(0, os.path.join(SALT_DIR, "src"))


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def mod(monkeypatch):
    """The execution module with empty dunders (no Salt: subprocess path)."""
    m = load(os.path.join(PACKAGE, "modules", "incus_fleet.py"), "incus_exec_module")
    m.__opts__ = {}
    m.__pillar__ = {}
    m.__salt__ = {}
    return m


class LoaderContext(collections.abc.MutableMapping):
    """Like Salt's NamedLoaderContext: __pillar__ is a mapping, not a dict."""

    def __init__(self, data):
        self._data = data

    def __getitem__(self, key):
        return self._data[key]

    def __setitem__(self, key, value):
        self._data[key] = value

    def __delitem__(self, key):
        del self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


@pytest.fixture
def state(mod):
    """The state module wired to the execution module like Salt's loader does."""
    s = load(os.path.join(PACKAGE, "states", "incus_fleet.py"), "incus_state_module")
    pillar = LoaderContext({})
    salt_funcs = {
        "incus_fleet.call": mod.call,
        "incus_fleet.member_present": mod.member_present,
        "incus_fleet.member_absent": mod.member_absent,
        "incus_fleet.member_evacuate": mod.member_evacuate,
        "incus_fleet.member_restore": mod.member_restore,
        "incus_fleet.deploy": mod.deploy,
        "incus_fleet.remove": mod.remove,
        "incus_fleet.status": mod.status,
        "incus_fleet.storage_pool_present": mod.storage_pool_present,
        "incus_fleet.storage_pool_absent": mod.storage_pool_absent,
        "incus_fleet.network_present": mod.network_present,
        "incus_fleet.network_absent": mod.network_absent,
        # Salt 3008 masks what pillar.get returns to modules: the modules
        # must read __pillar__ instead, so this stub only ever masks.
        "pillar.get": lambda key, default=None: "**********",
        "sdb.get": lambda uri: {"sdb://vault/token": "sdb-resolved-token-0123456789"}.get(uri, uri),
    }
    mod.__pillar__ = pillar
    mod.__salt__ = dict(salt_funcs)  # no cmd.run_all: the subprocess path
    s.__salt__ = salt_funcs
    s.__pillar__ = pillar
    s.__opts__ = mod.__opts__
    s.__env__ = "base"
    s.pillar = pillar  # tests fill it
    return s


FAKE_BINARY = textwrap.dedent(
    """\
    #!{python}
    # A stand-in for incus-fleet: records argv and the request, then answers
    # according to params["fake"] or $FAKE_MODE (default: echo the request).
    import json, os, sys
    req = json.load(sys.stdin)
    with open(os.environ["FAKE_LOG"], "a") as fh:
        fh.write(json.dumps({{"argv": sys.argv, "request": req}}) + "\\n")
    params = req.get("params") or {{}}
    mode = params.get("fake") or os.environ.get("FAKE_MODE", "echo")
    base = {{"version": 1, "action": req["action"], "changes": {{}}, "warnings": []}}
    if mode == "garbage":
        sys.stderr.write("progress\\npanic: leaked " + json.dumps(req) + "\\n")
        print("not json")
        sys.exit(3)
    if mode == "fail":
        msg = "image " + params.get("image", "x") + " not found"
        base.update(result=False, comment=msg, error={{"code": "not_found", "message": msg,
                    "details": [{{"message": "detail about " + params.get("image", "x")}}]}})
        print(json.dumps(base)); sys.exit(1)
    if mode == "plan":
        base.update(result=None if req.get("test") else True,
                    comment="stack s: would create 1" if req.get("test") else "stack s: created 1",
                    changes={{"web-1": {{"old": None, "new": {{"member": "node2"}}}}}},
                    plan={{"stack": "s", "steps": [
                        {{"op": "create", "service": "web", "slot": 1, "instance": "web-1", "member": "node2", "reason": "missing"}},
                        {{"op": "keep", "service": "web", "slot": 2, "instance": "web-2", "member": "node1"}}]}},
                    warnings=["service web: something to know"])
        print(json.dumps(base)); sys.exit(0)
    if mode == "clean":
        base.update(result=True, comment="up to date", plan={{"stack": "s", "steps": []}})
        print(json.dumps(base)); sys.exit(0)
    # echo: a leaky binary that repeats the whole request in its answer.
    base.update(result=True, comment="got " + json.dumps(req), echo=req)
    print(json.dumps(base))
    """
)


@pytest.fixture
def fake_bin(tmp_path, monkeypatch):
    """Path of a fake incus-fleet; FAKE_LOG collects what it was given."""
    path = tmp_path / "incus-fleet"
    path.write_text(FAKE_BINARY.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "fake.log"
    monkeypatch.setenv("FAKE_LOG", str(log))

    def calls():
        if not log.exists():
            return []
        return [json.loads(l) for l in log.read_text().splitlines()]

    return types.SimpleNamespace(path=str(path), calls=calls)


# pytest-salt-factories, when installed: its daemons live under this
# session's tmp dir (not a /tmp shared with other runs), and its log server
# and event listener listen on loopback only (their default is 0.0.0.0).


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    plugin = config.pluginmanager.get_plugin("saltfactories-log-server")
    if plugin is not None:
        plugin.log_host = "127.0.0.1"  # it binds at session start, after this


def pytest_unconfigure(config):
    # Salt's own log handlers flush once more at interpreter exit, after
    # pytest has closed the streams they wrote to; each flush would print a
    # "--- Logging error ---" traceback. Nothing is lost: the test outcome
    # is already reported.
    import logging  # pylint: disable=import-outside-toplevel

    logging.raiseExceptions = False


@pytest.fixture(scope="session")
def salt_factories_config(tmp_path_factory):
    return {"root_dir": tmp_path_factory.mktemp("factories")}


@pytest.fixture(scope="session")
def event_listener():
    from saltfactories.plugins.event_listener import EventListener  # pylint: disable=import-outside-toplevel

    listener = EventListener()
    listener.host = "127.0.0.1"
    listener.address = "tcp://127.0.0.1:{}".format(listener.port)
    with listener:
        yield listener


@pytest.fixture(scope="module")
def master_fleet(request, tmp_path_factory):
    """A started saltmaster.MasterFleet: a real salt-master and three
    salt-minions (salt-m1..3), each with its own fresh, empty incusd (not
    clustered), torn down after the module.

    To add a test on top of it: write salt/tests/test_<topic>.py with
    module-level tests taking `master_fleet`, put your SLS in its file root
    (`master_fleet.add_file("top.sls", ...)`, the formula is there as
    `incus`), set pillar with `master_fleet.set_pillar({...})`, and drive
    everything through `master_fleet.salt(target, "state.apply", ...)`,
    `.state(...)` (returns {state id: return}) or `.salt_run(...)`. A module
    gets its own daemons, so each module starts from empty machines; tests
    within one module share them, in file order. Check with
    `master_fleet.fleet_call(minion, action, params)` or `.incus(minion, ...)`,
    and `master_fleet.grep([secret, ...])` for secrets in logs, job caches
    and returns."""
    import saltmaster  # pylint: disable=import-outside-toplevel
    import saltrun  # pylint: disable=import-outside-toplevel

    _, binary = saltrun.require_salt()
    saltrun.require_testbed()
    try:
        factories = request.getfixturevalue("salt_factories")
    except pytest.FixtureLookupError:
        saltrun.need(False, "pytest-salt-factories is not installed (testdata/salt/install.sh)")
    fleet = saltmaster.MasterFleet(
        factories, tmp_path_factory.mktemp("master"), ("salt-m1", "salt-m2", "salt-m3"), binary
    )
    try:
        fleet.start()
        yield fleet
    finally:
        fleet.stop()
