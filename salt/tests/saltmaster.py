"""A real salt-master with one salt-minion per fresh Incus daemon, all on
loopback, for tests that drive incus-fleet the way a Salt user does: only
through the master (`salt`, `salt-run`).

    fleet = MasterFleet(salt_factories, base_dir, ("salt-m1", "salt-m2", "salt-m3"))
    fleet.start()            # spare incusd per member, master, minions
    fleet.set_pillar({...})  # pillar for every minion (and the master)
    fleet.add_file("top.sls", "base: {'*': [incus]}")
    ret = fleet.salt("salt-m1", "state.highstate")
    fleet.stop()

The conftest fixture `master_fleet` hands out a started one per test
module (see its docstring for how to add a test on top of it).

Every daemon is this test bed's own: the incusd are test bed spares
(testdata/testbed/spare.sh) in $INCUS_FLEET_TESTBED/<minion id>, on ports
derived from the bed's node1 port (base+3.., see saltrun.bed_port), and the
master listens on base+7 (publish) and base+8 (return), so two test beds on
one host never clash. The formula is in the master's file_roots as `incus`;
the modules and states are the installed extension (saltext.incus_fleet).
"""

import json
import os
import threading
import time

import saltrun

# Port offsets from the bed's node1 port: members first, then the master.
MEMBER_PORT_OFFSETS = (3, 4, 5)
MASTER_PUBLISH_OFFSET = 7
MASTER_RET_OFFSET = 8
# Start-up cost on a busy 2-core machine: 2048-bit keys are generated
# several times faster than the default 4096, and the fqdns/gpu grains run
# lookups and lspci that nothing here needs.
FAST_START = {"keysize": 2048, "enable_fqdns_grains": False, "enable_gpu_grains": False}


class MasterFleet:
    """A salt-master, its minions and their incusd (one per minion)."""

    def __init__(self, salt_factories, base, minion_ids, binary):
        assert len(minion_ids) <= len(MEMBER_PORT_OFFSETS), "at most 3 members per bed"
        self.factories = salt_factories
        self.base = str(base)
        self.ids = list(minion_ids)
        self.binary = binary
        self.testbed = os.environ["INCUS_FLEET_TESTBED"]
        self.roots = os.path.join(self.base, "roots")
        self.pillar_root = os.path.join(self.base, "pillar")
        self.outputs = os.path.join(self.base, "outputs")
        for d in (self.roots, self.pillar_root, self.outputs):
            os.makedirs(d, exist_ok=True)
        os.symlink(saltrun.SALT_DIR, os.path.join(self.roots, "incus"))
        self.ports = {m: saltrun.bed_port(off) for m, off in zip(self.ids, MEMBER_PORT_OFFSETS)}
        self.master = None
        self.minions = {}
        self.runs = 0
        self.started_spares = []
        self.set_pillar({})

    # -- members ------------------------------------------------------------

    def address(self, minion_id):
        return "127.0.0.1:{}".format(self.ports[minion_id])

    def incus_dir(self, minion_id):
        return os.path.join(self.testbed, minion_id)

    def socket(self, minion_id):
        return os.path.join(self.incus_dir(minion_id), "unix.socket")

    def incus(self, minion_id, *args):
        """The incus CLI on MINION_ID's own daemon (checks, not steps)."""
        return saltrun.incus("", *args, incus_dir=self.incus_dir(minion_id))

    def fleet_call(self, minion_id, action, params=None):
        return saltrun.fleet_call(self.binary, action, params, socket=self.socket(minion_id))

    def _start_spares(self):
        # A spare left by a killed earlier run would hold the port.
        for m in self.ids:
            saltrun.testbed_script("spare.sh", "remove", m)
        errors = []

        def start(m):
            out = saltrun.testbed_script("spare.sh", "start", m, str(self.ports[m]))
            if out.returncode != 0:
                errors.append("spare {}: {}".format(m, out.stderr))

        threads = [threading.Thread(target=start, args=(m,)) for m in self.ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.started_spares = list(self.ids)
        assert not errors, "\n".join(errors)

    # -- salt ---------------------------------------------------------------

    def start(self):
        self._start_spares()
        self.master = self.factories.salt_master_daemon(
            "salt-master",
            overrides={
                "file_roots": {"base": [self.roots]},
                "pillar_roots": {"base": [self.pillar_root]},
                "publish_port": saltrun.bed_port(MASTER_PUBLISH_OFFSET),
                "ret_port": saltrun.bed_port(MASTER_RET_OFFSET),
                "log_level_logfile": "debug",
                # Job returns stay in the master's job cache for the grep.
                "keep_jobs_seconds": 3600,
                # Loopback-only test minions: accepting their keys at once
                # saves each one the pending-key retries (tens of seconds).
                "auto_accept": True,
                **FAST_START,
            },
        )
        self.master.slow_stop = False  # at the end: no need to wait for a graceful stop
        self.master.start()
        for m in self.ids:
            minion = self.master.salt_minion_daemon(
                m,
                overrides={
                    "incus_fleet.bin": self.binary,
                    "incus_fleet.connection": {"socket": self.socket(m)},
                    "log_level_logfile": "debug",
                    # The minion's own copy of each job, greped as well.
                    "cache_jobs": True,
                    **FAST_START,
                },
            )
            minion.slow_stop = False
            self.minions[m] = minion
        # Side by side: one at a time a minion takes ~20 s here (grains,
        # keys, the start event). The master accepts their keys itself
        # (auto_accept): salt-factories' own acceptance races otherwise.
        errors = []

        def start(minion):
            try:
                minion.start()
            except Exception as exc:  # pylint: disable=broad-except
                errors.append("{}: {}".format(minion.id, exc))

        threads = [threading.Thread(target=start, args=(m,)) for m in self.minions.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, "\n".join(e[:2000] for e in errors)
        return self

    def stop(self):
        for minion in self.minions.values():
            minion.terminate()
        if self.master is not None:
            self.master.terminate()
        for m in self.started_spares:
            # Leave no cluster behind: the spares are removed whole.
            saltrun.testbed_script("spare.sh", "remove", m)

    @staticmethod
    def _write(path, text):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)

    def set_pillar(self, data, top=None):
        """Pillar DATA (a dict; JSON is YAML) for every minion and the
        master's runners; TOP replaces the default top file."""
        self._write(os.path.join(self.pillar_root, "fleet.sls"), json.dumps(data, indent=2))
        self._write(os.path.join(self.pillar_root, "top.sls"), top or "base:\n  '*':\n    - fleet\n")

    def add_file(self, rel, text):
        """A file in the master's file root (salt://REL), e.g. top.sls."""
        self._write(os.path.join(self.roots, rel), text)

    def _record(self, name, result, started):
        self.runs += 1
        stem = os.path.join(self.outputs, "{:03d}-{}".format(self.runs, name))
        self._write(stem + ".cmd", "{}\n# {:.1f}s exit {}\n".format(
            " ".join(result.cmdline), time.monotonic() - started, result.returncode))
        self._write(stem + ".stdout", result.stdout or "")
        self._write(stem + ".stderr", result.stderr or "")

    def salt(self, target, *args, timeout=300, **kwargs):
        """`salt TARGET ARGS` on the master; returns the salt-factories
        result (.data: TARGET's return, .returncode, .stdout)."""
        cli = self.master.salt_cli(timeout=timeout)
        started = time.monotonic()
        result = cli.run(*args, minion_tgt=target, **kwargs)
        self._record(target, result, started)
        return result

    def salt_run(self, *args, timeout=300, **kwargs):
        """`salt-run ARGS` on the master."""
        cli = self.master.salt_run_cli(timeout=timeout)
        started = time.monotonic()
        result = cli.run(*args, **kwargs)
        self._record("run", result, started)
        return result

    def state(self, target, *args, **kwargs):
        """A state run on TARGET; returns (returncode, {state id: return})."""
        result = self.salt(target, *args, **kwargs)
        data = result.data
        assert isinstance(data, dict), "{} on {}: no state return:\n{}\n{}".format(
            args, target, result.stdout[-3000:], result.stderr[-3000:])
        return result.returncode, {ret["__id__"]: ret for ret in data.values()}

    # -- evidence -----------------------------------------------------------

    def files_to_grep(self):
        """Every log, job cache entry and recorded return of this fleet: the
        master's and minions' whole root dirs except their keys and the
        pillar tree (where the secrets live by design), and the outputs."""
        roots = [self.outputs, str(self.master.config["root_dir"])]
        roots += [str(m.config["root_dir"]) for m in self.minions.values()]
        skip = ("pki", "pillar")
        files = []
        for root in roots:
            for dirpath, dirnames, names in os.walk(root):
                dirnames[:] = [d for d in dirnames if d not in skip]
                # The master's minion data cache holds each minion's pillar
                # on purpose (minion_data_cache): storage, not output.
                if os.path.basename(dirpath) == "minions" and "cache" in dirpath:
                    dirnames[:] = []
                    continue
                files += [os.path.join(dirpath, n) for n in names]
        return files

    def grep(self, needles):
        """['NEEDLE… in PATH', …] for every needle found in files_to_grep()."""
        found = []
        for path in self.files_to_grep():
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            for n in needles:
                if n.encode() in data:
                    found.append("{}... in {}".format(n[:12], path))
        return found
