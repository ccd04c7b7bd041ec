"""Unit tests of the execution module (and its utils) without Salt: request building,
binary lookup, transport (stdin, never argv), masking, caching of salt://
compose files and their support files."""

import json
import os

from saltext.incus_fleet.utils import protocol, stackfiles

KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFakeKeyMaterialLine0123456789abcdefABCDEF\nAoGCCqGSM49AwEHoUQDQgAEfakesecondline0123456789\n-----END EC PRIVATE KEY-----\n"
TOKEN = "eyJmYWtlIjoiam9pbiB0b2tlbiJ9-fake-token-0123456789"


# -- binary lookup and __virtual__ -----------------------------------------


def test_virtual_false_with_reason_when_binary_missing(mod, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    ok, reason = mod.__virtual__()
    assert ok is False
    assert "incus-fleet" in reason and "incus_fleet.bin" in reason


def test_virtual_reports_bad_configured_path(mod):
    mod.__opts__["incus_fleet.bin"] = "/nonexistent/incus-fleet"
    ok, reason = mod.__virtual__()
    assert ok is False and "/nonexistent/incus-fleet" in reason


def test_binary_from_minion_config_flat_and_nested(mod, fake_bin, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    assert mod._binary() == fake_bin.path
    assert mod.__virtual__() == "incus_fleet"
    del mod.__opts__["incus_fleet.bin"]
    mod.__opts__["incus_fleet"] = {"bin": fake_bin.path}
    assert mod._binary() == fake_bin.path


def test_binary_from_path(mod, fake_bin, monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(fake_bin.path))
    assert mod._binary() == fake_bin.path


# -- request building ------------------------------------------------------


def test_build_request_drops_none_keeps_false(mod):
    req = protocol.build_request(
        "stack.present", {"name": "s", "env": None, "force_recreate": False}, test=True
    )
    assert req == {
        "version": 1,
        "action": "stack.present",
        "test": True,
        "params": {"name": "s", "force_recreate": False},
    }


def test_connection_from_config(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    mod.__opts__["incus_fleet.connection"] = {"socket": "/run/x.socket"}
    mod.call("cluster.status")
    assert fake_bin.calls()[-1]["request"]["connection"] == {"socket": "/run/x.socket"}
    # An explicit connection wins.
    mod.call("cluster.status", connection={"url": "https://127.0.0.1:8443"})
    assert fake_bin.calls()[-1]["request"]["connection"] == {"url": "https://127.0.0.1:8443"}


def test_call_test_defaults_to_minion_test_setting(mod, fake_bin):
    mod.__opts__.update({"incus_fleet.bin": fake_bin.path, "test": True})
    mod.call("stack.absent", {"name": "s"})
    assert fake_bin.calls()[-1]["request"]["test"] is True
    mod.call("stack.absent", {"name": "s"}, test=False)
    assert fake_bin.calls()[-1]["request"]["test"] is False


def test_call_params_from_cli_json_string(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    mod.call("stack.status", '{"name": "web"}')
    assert fake_bin.calls()[-1]["request"]["params"] == {"name": "web"}


def test_wrappers_build_the_protocol_actions(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    mod.status()
    mod.member_list()
    mod.snapshot()
    mod.stack_status("web")
    mod.rollback("web")
    mod.remove("web", test=True)
    mod.member_absent("n4", force=True)
    mod.member_evacuate("n2")
    mod.member_restore("n2")
    mod.plan("web", compose_yaml="services: {}")
    got = [(c["request"]["action"], c["request"]["params"], c["request"]["test"]) for c in fake_bin.calls()]
    assert got == [
        ("cluster.status", {}, False),
        ("cluster.status", {}, False),
        ("cluster.snapshot", {}, False),
        ("stack.status", {"name": "web"}, False),
        ("stack.rollback", {"name": "web"}, False),
        ("stack.absent", {"name": "web"}, True),
        ("cluster.member.absent", {"name": "n4", "force": True}, False),
        ("cluster.member.evacuate", {"name": "n2"}, False),
        ("cluster.member.restore", {"name": "n2"}, False),
        ("stack.present", {"name": "web", "compose_yaml": "services: {}"}, True),
    ]


# -- transport -------------------------------------------------------------


def test_request_goes_on_stdin_never_argv(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    mod.member_present("n2", cluster_token=TOKEN, address="127.0.0.1:8444")
    call = fake_bin.calls()[-1]
    assert call["argv"][1:] == ["call"]
    assert call["request"]["params"]["cluster_token"] == TOKEN  # the binary needs it in clear
    assert TOKEN not in " ".join(call["argv"])


def test_cmd_run_all_is_quiet_and_shell_free(mod):
    seen = {}

    def run_all(cmd, **kwargs):
        seen.update(kwargs, cmd=cmd)
        return {"retcode": 0, "stdout": json.dumps({"result": True, "changes": {}, "comment": "ok"}), "stderr": ""}

    mod.__salt__["cmd.run_all"] = run_all
    mod.__opts__["incus_fleet.bin"] = "/bin/sh"  # any executable: cmd.run_all is stubbed
    mod.call("cluster.status")
    assert seen["cmd"] == ["/bin/sh", "call"]
    assert seen["python_shell"] is False
    assert seen["output_loglevel"] == "quiet"
    assert seen["stdin_raw_newlines"] is True
    assert seen["ignore_retcode"] is True
    assert json.loads(seen["stdin"])["action"] == "cluster.status"


def test_non_json_output_is_a_failure_with_masked_stderr(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    resp = mod.call("cluster.member.present", {"name": "n", "fake": "garbage", "cluster_token": TOKEN})
    assert resp["result"] is False
    assert resp["error"]["code"] == "internal"
    assert "exited 3 without a JSON response" in resp["comment"]
    assert "panic" in resp["comment"]
    assert TOKEN not in json.dumps(resp)


def test_missing_binary_is_a_failure_response(mod, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    resp = mod.call("cluster.status")
    assert resp["result"] is False and "incus-fleet" in resp["comment"]


# -- masking ---------------------------------------------------------------


def test_secrets_in_request_are_masked_in_response(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    resp = mod.member_present(
        "n2",
        trust={"client_cert": "CERT", "client_key": KEY, "server_fingerprint": "ab" * 32},
        cluster_token=TOKEN,
        cluster_password="hunter2-password",
    )
    text = json.dumps(resp)
    for secret in (KEY, TOKEN, "hunter2-password", "MHcCAQEEIFakeKeyMaterialLine0123456789abcdefABCDEF"):
        assert secret not in text
    assert "<redacted>" in resp["comment"]
    # Not secret: stays readable.
    assert resp["echo"]["params"]["trust"]["client_cert"] == "CERT"
    assert resp["echo"]["params"]["trust"]["server_fingerprint"] == "ab" * 32


def test_partial_echo_of_a_pem_line_is_masked(mod):
    line = "MHcCAQEEIFakeKeyMaterialLine0123456789abcdefABCDEF"
    out = protocol.mask({"comment": "bad key near " + line[:60]}, protocol.secret_strings(KEY))
    assert line not in out["comment"] and "<redacted>" in out["comment"]


def test_short_secret_only_masked_when_whole(mod):
    out = protocol.mask({"a": "abc", "b": "xabcx", "password": "abc"}, ["abc"])
    assert out == {"a": "<redacted>", "b": "xabcx", "password": "<redacted>"}


def test_pillar_keys_marked_secret_are_masked(mod, fake_bin):
    from conftest import LoaderContext

    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    mod.__pillar__ = LoaderContext({})
    mod.__pillar__.update(
        {"incus_fleet": {"secret_pillar_keys": ["app:db_password"]}, "app": {"db_password": "s3cr3t-db-pass"}}
    )
    resp = mod.deploy("s", compose_yaml="services: {}", env={"DB_PASSWORD": "s3cr3t-db-pass"})
    assert "s3cr3t-db-pass" not in json.dumps(resp)
    assert resp["echo"]["params"]["env"]["DB_PASSWORD"] == "<redacted>"


def test_extra_secrets_argument_masks(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    resp = mod.call("cluster.status", {"x": "opaque-value-123"}, secrets=["opaque-value-123"])
    assert "opaque-value-123" not in json.dumps(resp)


def test_debug_log_of_request_is_masked(mod, fake_bin, caplog):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    with caplog.at_level("DEBUG"):
        mod.member_present("n2", cluster_token=TOKEN)
    assert "incus-fleet request" in caplog.text
    assert TOKEN not in caplog.text


# -- stack inputs: salt:// caching ------------------------------------------


COMPOSE = """
services:
  web:
    image: busybox
    env_file: [./web.env, {path: extra.env, required: false}]
    volumes:
      - ./html:/srv/www:ro
      - data:/var/lib/data
      - /abs/path:/x
      - ${DIR}/y:/y
      - type: bind
        source: ./conf/app.conf
        target: /etc/app.conf
configs:
  cfg: {file: ./configs/c.txt}
secrets:
  s: {file: ../outside.txt}
"""


def test_referenced_files(mod):
    assert stackfiles.referenced_files(COMPOSE) == [
        ("conf/app.conf", True),
        ("configs/c.txt", True),
        ("extra.env", False),
        ("html", True),
        ("web.env", True),
    ]
    assert stackfiles.referenced_files("not: [valid") == []
    assert stackfiles.referenced_files("- a list") == []


def _fake_fileserver(tmp_path, files):
    """cp.cache_file/cp.cache_dir over a dict of salt paths, caching into
    tmp_path/cache/<saltenv>/<path> like Salt's file client does."""
    cache = tmp_path / "cache"
    requests = []

    def cache_file(url, saltenv="base"):
        requests.append(("file", url))
        rel = url[len("salt://"):]
        if rel not in files:
            return ""
        dest = cache / saltenv / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(files[rel])
        return str(dest)

    def cache_dir(url, saltenv="base"):
        requests.append(("dir", url))
        rel = url[len("salt://"):].rstrip("/") + "/"
        got = [cache_file("salt://" + p, saltenv) for p in files if p.startswith(rel)]
        return got

    return cache, requests, cache_file, cache_dir


def test_salt_compose_files_cached_with_support_files(mod, fake_bin, tmp_path):
    files = {
        "stacks/web/compose.yaml": COMPOSE,
        "stacks/web/override.yaml": "services: {web: {environment: {A: b}}}",
        "stacks/web/web.env": "GREETING=hi",
        "stacks/web/html/index.html": "<p>hi</p>",
        "stacks/web/conf/app.conf": "x=1",
        "stacks/web/configs/c.txt": "c",
        "stacks/web/.env": "TAG=1",
        "stacks/web/extra/notes.txt": "n",
    }
    cache, requests, cache_file, cache_dir = _fake_fileserver(tmp_path, files)
    mod.__salt__.update({"cp.cache_file": cache_file, "cp.cache_dir": cache_dir})
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    resp = mod.deploy(
        "web",
        compose_files=["salt://stacks/web/compose.yaml", "salt://stacks/web/override.yaml"],
        support_files=["extra/"],
        saltenv="base",
    )
    params = fake_bin.calls()[-1]["request"]["params"]
    web = cache / "base" / "stacks" / "web"
    assert params["compose_files"] == [str(web / "compose.yaml"), str(web / "override.yaml")]
    assert params["project_dir"] == str(web)
    for rel in ("web.env", "html/index.html", "conf/app.conf", "configs/c.txt", ".env", "extra/notes.txt"):
        assert (web / rel).is_file(), rel
    assert resp["result"] is True


def test_missing_support_file_fails_before_calling_binary(mod, fake_bin, tmp_path):
    files = {"stacks/web/compose.yaml": "services: {web: {image: busybox, env_file: ./missing.env}}"}
    _, _, cache_file, cache_dir = _fake_fileserver(tmp_path, files)
    mod.__salt__.update({"cp.cache_file": cache_file, "cp.cache_dir": cache_dir})
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    resp = mod.deploy("web", compose_files=["salt://stacks/web/compose.yaml"])
    assert resp["result"] is False
    assert "salt://stacks/web/missing.env" in resp["comment"]
    assert fake_bin.calls() == []


def test_missing_compose_file_fails(mod, fake_bin, tmp_path):
    _, _, cache_file, cache_dir = _fake_fileserver(tmp_path, {})
    mod.__salt__.update({"cp.cache_file": cache_file, "cp.cache_dir": cache_dir})
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    resp = mod.deploy("web", compose_files="salt://nope/compose.yaml")
    assert resp["result"] is False and "salt://nope/compose.yaml" in resp["comment"]


def test_local_compose_files_pass_through(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    mod.deploy("web", compose_files=["/srv/web/compose.yaml"], profiles=["debug"], services=["web"], force_recreate=True, env={"N": 3})
    params = fake_bin.calls()[-1]["request"]["params"]
    assert params == {
        "name": "web",
        "compose_files": ["/srv/web/compose.yaml"],
        "profiles": ["debug"],
        "services": ["web"],
        "force_recreate": True,
        "env": {"N": "3"},
    }


def test_compose_yaml_mapping_is_serialised(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    mod.deploy("web", compose_yaml={"services": {"web": {"image": "busybox"}}})
    sent = fake_bin.calls()[-1]["request"]["params"]["compose_yaml"]
    assert json.loads(sent) == {"services": {"web": {"image": "busybox"}}}


def test_volume_options_pass_through(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    mod.remove("web", volumes=True)
    mod.deploy("web", compose_yaml="services: {}", move_volumes=True, prune_volumes=True)
    mod.deploy("web", compose_yaml="services: {}", move_volumes=False)
    got = [c["request"]["params"] for c in fake_bin.calls()]
    assert got == [
        {"name": "web", "volumes": True},
        {"name": "web", "compose_yaml": "services: {}", "move_volumes": True, "prune_volumes": True},
        {"name": "web", "compose_yaml": "services: {}"},
    ]


def test_pool_network_and_maintenance_wrappers(mod, fake_bin):
    mod.__opts__["incus_fleet.bin"] = fake_bin.path
    mod.storage_pool_present("local", "dir", config={"source": "/srv/p"},
                             member_config={"n2": {"source": "/srv/q"}}, description="d")
    mod.storage_pool_absent("local", test=True)
    mod.network_present("lan", network_type="macvlan", config={"parent": "eth1"})
    mod.network_present("br", type="bridge")
    mod.network_absent("lan")
    mod.maintenance_check("n2")
    mod.member_evacuate("n2", check=True)
    got = [(c["request"]["action"], c["request"]["params"], c["request"]["test"]) for c in fake_bin.calls()]
    assert got == [
        ("storage_pool.present", {"name": "local", "driver": "dir", "config": {"source": "/srv/p"},
                                  "member_config": {"n2": {"source": "/srv/q"}}, "description": "d"}, False),
        ("storage_pool.absent", {"name": "local"}, True),
        ("network.present", {"name": "lan", "network_type": "macvlan", "config": {"parent": "eth1"}}, False),
        ("network.present", {"name": "br", "type": "bridge"}, False),
        ("network.absent", {"name": "lan"}, False),
        ("cluster.member.maintenance_check", {"name": "n2"}, False),
        ("cluster.member.evacuate", {"name": "n2", "check": True}, False),
    ]
