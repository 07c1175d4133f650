"""connections.dr.ihs_maintenance through real ansible-playbook against a real Apache httpd
(the IHS stand-in of lc-sim), checked with real HTTP requests from 127.0.0.1 (a user) and
127.0.0.2 (an allowed administrator)."""
from __future__ import annotations

import subprocess

import pytest

from conftest import REPO, IhsServer, ansible_env, play, run_playbook, VENV_BIN

PAGE = ('<html><head><link rel="stylesheet" href="/assets/site.css"></head>'
        "<body><h1>Connections is down for maintenance</h1></body></html>\n")
CSS_START = "/* Connections stand-in site */"
USER = "127.0.0.1"
ADMIN = "127.0.0.2"


def task(ihs: IhsServer, name: str = "Put IHS in maintenance mode", **overrides) -> dict:
    args = {
        "state": "enabled",
        "conf_path": str(ihs.conf_path),
        "allow_from": [ADMIN],
        "assets_path": "/assets/",
        "page_content": PAGE,
    }
    args.update(overrides)
    args = {k: v for k, v in args.items() if v is not None}
    return {"name": name, "connections.dr.ihs_maintenance": args}


def assert_normal_site(ihs: IhsServer) -> None:
    for source in (USER, ADMIN):
        status, body = ihs.wait_for("/", 200, source)
        assert (status, "Connections is up" in body) == (200, True), (source, status, body)


def assert_maintenance(ihs: IhsServer) -> None:
    status, body = ihs.wait_for("/", 403, USER)
    assert (status, body) == (403, PAGE)
    assert ihs.get("/communities/service/html/allcommunities", USER) == (403, PAGE)
    status, body = ihs.get("/assets/site.css", USER)
    assert status == 200 and body.startswith(CSS_START)
    status, body = ihs.get("/", ADMIN)
    assert status == 200 and "Connections is up" in body
    status, body = ihs.get("/assets/site.css", ADMIN)
    assert status == 200 and body.startswith(CSS_START)


def test_enable_twice_then_disable_restores_everything(ihs, tmp_path):
    original = ihs.conf_bytes()
    assert_normal_site(ihs)

    run = run_playbook(play(task(ihs), task(ihs, "Put IHS in maintenance mode again")), tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    first = run.task("Put IHS in maintenance mode")
    assert (first["changed"], first["failed"]) == (True, False)
    assert first["state"] == "enabled"
    assert first["allowed"] == [ADMIN]
    assert first["restarted"] is True
    assert first["access"] == "compat"
    assert first["page"] == str(ihs.document_root / "upgrading.htm")
    assert "backup_file" not in first
    second = run.task("Put IHS in maintenance mode again")
    assert (second["changed"], second["failed"], second["restarted"]) == (False, False, False)

    assert_maintenance(ihs)
    enabled_conf = ihs.conf_bytes()
    assert enabled_conf.startswith(original)
    assert b"# BEGIN connections.dr maintenance mode" in enabled_conf
    assert (ihs.document_root / "upgrading.htm").read_text() == PAGE

    off = task(ihs, "Take IHS out of maintenance mode", state="disabled", allow_from=None,
               page_content=None, assets_path=None)
    run = run_playbook(play(off, dict(off, name="Take IHS out of maintenance mode again")), tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("Take IHS out of maintenance mode")
    assert (result["changed"], result["failed"], result["restarted"]) == (True, False, True)
    assert result["allowed"] == []
    again = run.task("Take IHS out of maintenance mode again")
    assert (again["changed"], again["failed"]) == (False, False)

    assert ihs.conf_bytes() == original
    assert not (ihs.document_root / "upgrading.htm").exists()
    assert_normal_site(ihs)
    status, _ = ihs.get("/upgrading.htm", USER)
    assert status == 404


def test_check_mode_predicts_and_touches_nothing(ihs, tmp_path):
    original = ihs.conf_bytes()
    run = run_playbook(play(task(ihs)), tmp_path, check=True)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("Put IHS in maintenance mode")
    assert (result["changed"], result["failed"], result["restarted"]) == (True, False, False)
    assert ihs.conf_bytes() == original
    assert not (ihs.document_root / "upgrading.htm").exists()
    assert not [p for p in ihs.conf_path.parent.iterdir() if p.name.startswith(".")]
    assert_normal_site(ihs)

    # Enabled for real, then a checked disable leaves maintenance on.
    assert run_playbook(play(task(ihs)), tmp_path).rc == 0
    enabled = ihs.conf_bytes()
    assert_maintenance(ihs)
    off = task(ihs, "Take IHS out of maintenance mode", state="disabled", allow_from=None)
    run = run_playbook(play(off), tmp_path, check=True)
    result = run.task("Take IHS out of maintenance mode")
    assert (result["changed"], result["failed"]) == (True, False)
    assert ihs.conf_bytes() == enabled
    assert (ihs.document_root / "upgrading.htm").exists()
    assert ihs.get("/", USER) == (403, PAGE)


def test_diff_shows_the_block(ihs, tmp_path):
    run = run_playbook(play(task(ihs)), tmp_path, check=True, diff=True)
    assert run.rc == 0, run.stdout + run.stderr
    diff = run.task("Put IHS in maintenance mode")["diff"]
    assert diff["before"] == ihs.conf_bytes().decode()
    assert diff["after"].startswith(diff["before"])
    added = diff["after"][len(diff["before"]):]
    assert added.splitlines()[0] == (
        "# BEGIN connections.dr maintenance mode (managed by lc-recover; do not edit)")
    assert "    Allow from 127.0.0.2\n" in added
    assert diff["before_header"] == f"{ihs.conf_path} (before)"
    # The default callback prints it as a unified diff.
    assert "+# BEGIN connections.dr maintenance mode" in run.stdout
    assert "+    Deny from all" in run.stdout


@pytest.mark.parametrize("entry", ["10.0.0.1 10.0.0.2", "127.0.0.2\n</Location>", '"x"', "all"])
def test_bad_allow_from_entry_fails_and_touches_nothing(ihs, tmp_path, entry):
    original = ihs.conf_bytes()
    run = run_playbook(play(task(ihs, allow_from=[ADMIN, entry])), tmp_path)
    assert run.rc == 2
    result = run.task("Put IHS in maintenance mode")
    assert (result["changed"], result["failed"]) == (False, True)
    quoted = '"' + entry.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if entry == "all":
        expected = (f"allow_from entry {quoted} would let everyone in: list the addresses that may "
                    "reach the site during maintenance")
    else:
        expected = f"allow_from entry {quoted} is not an IP address, a CIDR range or a host name"
    assert result["msg"] == expected
    assert ihs.conf_bytes() == original
    assert not (ihs.document_root / "upgrading.htm").exists()
    assert_normal_site(ihs)


def test_empty_allow_from_and_missing_conf(ihs, tmp_path):
    run = run_playbook(play(task(ihs, allow_from=[])), tmp_path)
    result = run.task("Put IHS in maintenance mode")
    assert (result["changed"], result["failed"]) == (False, True)
    assert result["msg"] == "state is enabled but all of the following are missing: allow_from"

    missing = tmp_path / "nowhere" / "httpd.conf"
    run = run_playbook(play(task(ihs, conf_path=str(missing))), tmp_path)
    result = run.task("Put IHS in maintenance mode")
    assert result["failed"] is True
    assert result["msg"] == f"enabling maintenance mode: conf_path {missing} does not exist"

    src = tmp_path / "no-such-page.htm"
    run = run_playbook(play(task(ihs, page_content=None, page_src=str(src))), tmp_path)
    result = run.task("Put IHS in maintenance mode")
    assert result["failed"] is True
    assert result["msg"] == f"reading page_src: {src}: No such file or directory (os error 2)"
    assert_normal_site(ihs)


def test_conf_that_does_not_validate_is_not_put_in_place(ihs, tmp_path):
    # Someone left a broken line in the live conf; httpd still serves the config it loaded.
    broken = ihs.conf_bytes() + b"NoSuchDirective on\n"
    ihs.conf_path.write_bytes(broken)
    line = broken.count(b"\n")
    run = run_playbook(play(task(ihs)), tmp_path)
    assert run.rc == 2
    result = run.task("Put IHS in maintenance mode")
    assert (result["changed"], result["failed"]) == (False, True)
    assert result["msg"] == (
        f"the new {ihs.conf_path} does not pass apachectl -t and was not put in place: "
        f"AH00526: Syntax error on line {line} of {ihs.conf_path}: Invalid command "
        "'NoSuchDirective', perhaps misspelled or defined by a module not included in the "
        "server configuration")
    assert result["rc"] == 1
    assert ihs.conf_bytes() == broken
    assert not (ihs.document_root / "upgrading.htm").exists()
    assert not [p for p in ihs.conf_path.parent.iterdir() if p.name.startswith(".")]
    assert_normal_site(ihs)


def test_failed_restart_is_reported(ihs, tmp_path):
    fake = tmp_path / "apachectl-no-restart"
    fake.write_text(f'#!/bin/sh\nif [ "$1" = "-k" ]; then echo "AH00000: cannot restart" >&2; exit 7; fi\n'
                    f'exec {ihs.apachectl} "$@"\n')
    fake.chmod(0o755)
    original = ihs.conf_bytes()
    run = run_playbook(play(task(ihs, apachectl=str(fake), backup=True)), tmp_path)
    assert run.rc == 2
    result = run.task("Put IHS in maintenance mode")
    assert (result["changed"], result["failed"], result["restarted"]) == (True, True, False)
    assert result["msg"] == (
        f"maintenance mode is enabled in {ihs.conf_path}, but apachectl -k graceful failed "
        "(exit 7): AH00000: cannot restart; the old configuration keeps serving until IHS "
        "restarts cleanly (running the task again retries the restart)")
    assert result["rc"] == 7
    with open(result["backup_file"], "rb") as backup:
        assert backup.read() == original
    assert b"# BEGIN connections.dr" in ihs.conf_bytes()
    # Not restarted: users still get the site.
    assert ihs.get("/", USER)[0] == 200


def test_apache_24_without_access_compat(ihs_no_compat, tmp_path):
    ihs = ihs_no_compat
    original = ihs.conf_bytes()
    assert b"LoadModule access_compat_module" not in original
    run = run_playbook(play(task(ihs)), tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("Put IHS in maintenance mode")
    assert (result["changed"], result["failed"]) == (True, False)
    assert result["access"] == "compat_loaded"
    assert_maintenance(ihs)
    run = run_playbook(play(task(ihs, "Again")), tmp_path)
    assert run.task("Again")["changed"] is False

    off = task(ihs, "Take IHS out of maintenance mode", state="disabled", allow_from=None)
    run = run_playbook(play(off), tmp_path)
    assert run.task("Take IHS out of maintenance mode")["changed"] is True
    assert ihs.conf_bytes() == original
    assert_normal_site(ihs)


def test_ansible_doc_reads_the_sidecar(built):
    out = subprocess.run([str(VENV_BIN / "ansible-doc"), "connections.dr.ihs_maintenance"],
                         cwd=REPO, env=ansible_env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "maintenance mode" in out.stdout
    assert "allow_from" in out.stdout and "assets_path" in out.stdout


def test_document_root_set_in_an_include(ihs, tmp_path):
    # The site's DocumentRoot lives in an Include; httpd is asked where it is.
    conf = ihs.conf_bytes().decode()
    line = next(l for l in conf.splitlines() if l.startswith("DocumentRoot "))
    (ihs.conf_path.parent / "docroot.conf").write_text(line + "\n")
    conf = conf.replace(line + "\n", "Include conf/docroot.conf\n")
    ihs.conf_path.write_text(conf)
    original = ihs.conf_bytes()
    subprocess.run([str(ihs.apachectl), "-k", "graceful"], check=True)
    assert_normal_site(ihs)

    run = run_playbook(play(task(ihs)), tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("Put IHS in maintenance mode")
    assert result["document_root"] == str(ihs.document_root)
    assert_maintenance(ihs)
    off = task(ihs, "Take IHS out of maintenance mode", state="disabled", allow_from=None)
    assert run_playbook(play(off), tmp_path).rc == 0
    assert ihs.conf_bytes() == original
    assert not (ihs.document_root / "upgrading.htm").exists()
    assert_normal_site(ihs)
