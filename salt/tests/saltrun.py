"""Helpers for the tests that run the real salt-call: locate salt-call and
the incus-fleet binary, build minion config dirs, run states, keep every
output for the secrets grep, and talk to the binary directly to check.

Skipping: without salt-call, the binary or the test bed env the tests skip
with the reason, unless INCUS_FLEET_REQUIRE_TESTBED is set (make test), in
which case they fail instead.
"""

import json
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SALT_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(SALT_DIR)
DEFAULT_VENV = "/opt/incus-fleet/salt-venv-3008.3"


def need(ok, reason):
    """Skip (or fail under INCUS_FLEET_REQUIRE_TESTBED) unless OK."""
    if ok:
        return
    if os.environ.get("INCUS_FLEET_REQUIRE_TESTBED"):
        pytest.fail(reason + " (INCUS_FLEET_REQUIRE_TESTBED is set, so this is an error)")
    pytest.skip(reason)


def salt_call_path():
    candidates = [
        os.environ.get("SALT_CALL", ""),
        os.path.join(os.path.dirname(sys.executable), "salt-call"),
        os.path.join(DEFAULT_VENV, "bin", "salt-call"),
    ]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    return None


def fleet_bin():
    path = os.environ.get("INCUS_FLEET_BIN") or os.path.join(REPO, "bin", "incus-fleet")
    return path if os.access(path, os.X_OK) else None


def require_salt():
    salt_call = salt_call_path()
    need(salt_call, "salt-call not found (run testdata/salt/install.sh, or set SALT_CALL)")
    binary = fleet_bin()
    need(binary, "incus-fleet binary not found at bin/incus-fleet (run make build, or set INCUS_FLEET_BIN)")
    return salt_call, binary


def require_testbed():
    missing = [v for v in ("INCUS_SOCKET", "INCUS_FLEET_TESTBED") if not os.environ.get(v)]
    need(
        not missing,
        "Incus test bed env missing ({}): run `make testbed-up` and "
        "`source $TESTBED_DIR/env`".format(", ".join(missing)),
    )


def actions(binary):
    out = subprocess.run([binary, "schema", "--list"], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def require_actions(binary, *names):
    """Skip (always: the action is another issue's work) when the binary
    does not implement NAMES yet."""
    missing = sorted(set(names) - actions(binary))
    if missing:
        pytest.skip(
            "bin/incus-fleet does not implement {} yet (not in `incus-fleet schema --list`)".format(
                ", ".join(missing)
            )
        )


class Fleet:
    """A scratch Salt setup: a file root (the formula as `incus`), a pillar
    root, and minion config dirs. The modules and states come from the
    installed extension (saltext.incus_fleet in Salt's venv)."""

    def __init__(self, base, salt_call, binary):
        self.base = str(base)
        self.salt_call = salt_call
        self.binary = binary
        self.roots = os.path.join(self.base, "roots")
        self.pillar_root = os.path.join(self.base, "pillar")
        self.outputs = os.path.join(self.base, "outputs")
        for d in (self.roots, self.pillar_root, self.outputs):
            os.makedirs(d, exist_ok=True)
        os.symlink(SALT_DIR, os.path.join(self.roots, "incus"))
        self.set_pillar({})
        self.runs = 0
        self.minions = {}

    @staticmethod
    def write(path, text):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)

    def set_pillar(self, data, *files):
        """Pillar for every minion: DATA (a dict), merged over the pillar
        files FILES (paths, e.g. pillars.example/cluster.sls)."""
        names = []
        for i, path in enumerate(files):
            with open(path, encoding="utf-8") as fh:
                self.write(os.path.join(self.pillar_root, "file{}.sls".format(i)), fh.read())
            names.append("file{}".format(i))
        # JSON is YAML: no PyYAML needed to write pillar.
        self.write(os.path.join(self.pillar_root, "fleet.sls"), json.dumps(data, indent=2))
        names.append("fleet")
        top = "base:\n  '*':\n" + "".join("    - {}\n".format(n) for n in names)
        self.write(os.path.join(self.pillar_root, "top.sls"), top)

    def add_file(self, rel, text):
        """A file in the extra file root (salt://REL)."""
        self.write(os.path.join(self.roots, rel), text)

    def minion(self, minion_id, socket=None, sync=False):
        if minion_id not in self.minions:
            self.minions[minion_id] = Minion(self, minion_id, socket, sync)
        return self.minions[minion_id]


class Minion:
    def __init__(self, fleet, minion_id, socket, sync):
        self.fleet = fleet
        self.id = minion_id
        self.dir = os.path.join(fleet.base, "minions", minion_id)
        self.root = os.path.join(self.dir, "root")
        self.conf = os.path.join(self.dir, "conf")
        self.log_file = os.path.join(self.root, "minion.log")
        opts = {
            "id": minion_id,
            "file_client": "local",
            "root_dir": self.root,
            "file_roots": {"base": [fleet.roots]},
            "pillar_roots": {"base": [fleet.pillar_root]},
            "log_file": self.log_file,
            # Everything Salt logs up to debug goes to the file the secrets
            # test greps.
            "log_level_logfile": "debug",
            "incus_fleet.bin": fleet.binary,
        }
        if socket:
            opts["incus_fleet.connection"] = {"socket": socket}
        Fleet.write(os.path.join(self.conf, "minion"), json.dumps(opts, indent=2))
        if sync:  # _modules/_states of the file roots into this minion's cache
            self.run("saltutil.sync_all")

    def run(self, *args, check_json=True):
        """salt-call --local ARGS; returns (returncode, parsed "local" value).
        stdout and stderr (debug console log) are kept for the secrets grep."""
        self.fleet.runs += 1
        cmd = [self.fleet.salt_call, "--local", "-c", self.conf, "--out=json", "-l", "debug"]
        cmd += list(args)
        started = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        elapsed = time.monotonic() - started
        stem = os.path.join(self.fleet.outputs, "{:03d}-{}".format(self.fleet.runs, self.id))
        Fleet.write(stem + ".cmd", " ".join(cmd) + "\n# {:.1f}s exit {}\n".format(elapsed, proc.returncode))
        Fleet.write(stem + ".stdout", proc.stdout)
        Fleet.write(stem + ".stderr", proc.stderr)
        try:
            data = json.loads(proc.stdout)["local"]
        except (ValueError, KeyError):
            if check_json:
                raise AssertionError(
                    "salt-call {} gave no JSON (exit {}):\n{}\n{}".format(
                        " ".join(args), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]
                    )
                )
            data = None
        return proc.returncode, data

    def apply(self, sls, test=False):
        """state.apply SLS; returns (returncode, {state id: return})."""
        args = ["state.apply", sls] + (["test=True"] if test else [])
        code, data = self.run(*args)
        assert isinstance(data, dict), "state.apply {} did not render: {}".format(sls, data)
        return code, {ret["__id__"]: ret for ret in data.values()}


def fleet_call(binary, action, params=None, test=False, socket=None):
    """One protocol request straight to the binary (checks and clean-up)."""
    req = {"version": 1, "action": action, "test": test, "params": params or {}}
    if socket:
        req["connection"] = {"socket": socket}
    proc = subprocess.run([binary, "call"], input=json.dumps(req), capture_output=True, text=True, timeout=600)
    return json.loads(proc.stdout)


def incus(member, *args, incus_dir=None):
    """The incus CLI against MEMBER's own socket, like testdata/testbed does
    (INCUS_DIR of a test bed member, or INCUS_DIR given)."""
    env = dict(os.environ)
    env.pop("INCUS_SOCKET", None)
    env["INCUS_DIR"] = incus_dir or os.environ["INCUS_DIR_" + member.upper()]
    return subprocess.run(["incus", "--force-local", *args], env=env, capture_output=True, text=True)


def client_cert(binary, directory):
    """A fresh fleet client certificate pair from `incus-fleet cluster cert`;
    returns (cert PEM, key PEM)."""
    crt, key = os.path.join(directory, "client.crt"), os.path.join(directory, "client.key")
    subprocess.run([binary, "cluster", "cert", "--cert", crt, "--key", key, "--common-name", "salt-test"],
                   check=True, capture_output=True)
    with open(crt, encoding="utf-8") as f1, open(key, encoding="utf-8") as f2:
        return f1.read(), f2.read()


def testbed_script(*args):
    """Run testdata/testbed/SCRIPT ARGS for the test bed in the env."""
    env = dict(os.environ, TESTBED_DIR=os.environ["INCUS_FLEET_TESTBED"])
    return subprocess.run(["bash", os.path.join(REPO, "testdata", "testbed", args[0]), *args[1:]],
                          env=env, capture_output=True, text=True)


def bed_port(offset):
    """Port node1's + OFFSET (3..9): test beds sit 10 ports apart (node1..3
    on base..base+2), so ports derived this way never clash with another
    bed's, and a free one is checked for."""
    assert 3 <= offset <= 9, offset
    node1 = incus("node1", "config", "get", "core.https_address").stdout.strip()
    port = int(node1.rsplit(":", 1)[1]) + offset
    import socket  # pylint: disable=import-outside-toplevel

    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise AssertionError("port {} (test bed base + {}) is in use".format(port, offset))
    return port


def free_port(start):
    import socket  # pylint: disable=import-outside-toplevel

    for port in range(start, start + 50):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError("no free port from {}".format(start))
