"""Unit tests of the day-2 execution functions: the protocol requests they build."""


def test_day2_wrappers_build_the_protocol_actions(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    mod.stack_ls()
    mod.stack_ps("web")
    mod.stack_logs("web")
    mod.stack_logs("web", targets="api", tail="20", since="10m")
    mod.stack_logs("web", targets=["api", "db.2"])
    got = [(c["request"]["action"], c["request"]["params"], c["request"]["test"]) for c in fake_bin.calls()]
    assert got == [
        ("stack.list", {}, False),
        ("stack.status", {"name": "web"}, False),
        ("stack.logs", {"name": "web"}, False),
        ("stack.logs", {"name": "web", "targets": ["api"], "tail": 20, "since": "10m"}, False),
        ("stack.logs", {"name": "web", "targets": ["api", "db.2"]}, False),
    ]


def test_day2_functions_are_documented(mod):
    for name in ("stack_ls", "stack_ps", "stack_logs"):
        doc = getattr(mod, name).__doc__
        assert "CLI Example" in doc, name
