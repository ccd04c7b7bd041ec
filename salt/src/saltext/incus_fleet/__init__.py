"""Salt extension for incus-fleet: Incus cluster membership and Compose
stacks with HA, as ``incus_fleet.*`` execution functions and states.

Salt finds ``modules/`` and ``states/`` through the ``salt.loader`` entry
point (``pip install`` or ``salt-pip install`` this package where Salt runs).
salt-ssh ships no extensions: ``python -m saltext.incus_fleet.ssh DIR`` writes
self-contained ``_modules``/``_states`` copies into a file root instead.
"""

import pathlib

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("saltext.incus_fleet")
except (ImportError, PackageNotFoundError):  # pragma: no cover - run from a checkout
    __version__ = "0.0.0.not-installed"
