"""The fault matrix of playbooks/recover.yml (RELIABILITY.md): the Deployment Manager going down at
each wsadmin step, a call that raises, a call that hangs past the timeout, an IHS whose conf is
invalid or whose restart fails, the disk filling up during the export, the run killed mid-export,
two runs at once, and the password through all of it.

Each fault is met on a seeded, damaged simulated cell (lc-sim) with one IHS stand-in (real Apache
httpd). For each: the run stops with a one-line message naming the step, leaves no half-written
file and no lock, and the same command run again ends exactly where an uninterrupted run on an
identical cell ends (the reference, computed once per session). Several faults share one cell in
sequence, as an administrator would meet them: each rerun gets past the step that failed before."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import REPO, VENV_BIN, Cell, IhsServer, PlaybookRun, Poller, ansible_env, lc_sim, run_playbook

PLAYBOOK = REPO / "playbooks" / "recover.yml"
COMMUNITIES, SEED = 40, 7
USER = "127.0.0.3"  # anyone: not in the allow list
ADMIN = "127.0.0.2"
MAINTENANCE_PAGE = "Connections is down for maintenance"
NORMAL_SITE = "Connections is up"
FAILED = "Say which step failed and how to go on"
SUMMARY = "Summarize the recovery"
TASK = "LifecycleRetryQueuedEvents"
LOCK = ".recover.lock"
# Line breaks that would split a message (those of Python's str.splitlines).
BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


class Site:
    """A damaged cell (Communities restored to an older backup) with one started IHS stand-in and an
    inventory of its own: ihs1, dmgr1 (127.0.0.10), was1 (127.0.0.11), all local."""

    def __init__(self, base: Path):
        base.mkdir(mode=0o755)
        self.base = base
        self.cell = Cell.init(base / "cell", "--communities", COMMUNITIES, "--seed", SEED, "--ihs", 1)
        self.cell.damage("communities")
        self.truth = self.cell.truth()
        self.state = self.cell.state_bytes()
        self.ihs = IhsServer(self.cell.info["ihs"][0])
        self.original_conf = self.ihs.conf_bytes()
        self.work_dir = self.cell.root / "recovery"
        self.report_dir = base / "recovery-report"
        self.inventory = base / "inventory.json"
        self.inventory.write_text(json.dumps({"all": {
            "children": {
                "ihs_servers": {"hosts": {"ihs1": {"lc_ihs_conf_path": str(self.ihs.conf_path),
                                                   "lc_ihs_apachectl": str(self.ihs.apachectl)}}},
                "dmgr": {"hosts": {"dmgr1": {"ansible_host": "127.0.0.10"}}},
                "was_servers": {"hosts": {"was1": {"ansible_host": "127.0.0.11"}}},
            },
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                "lc_failed_databases": ["communities"],
                "lc_admin_addresses": [ADMIN],
                "lc_wsadmin_path": self.cell.wsadmin_path,
                "lc_was_user": self.cell.user,
                "lc_was_password": self.cell.password,
                "lc_work_dir": str(self.work_dir),
                "lc_report_dir": str(self.report_dir),
                "lc_min_free_mb": 1,
                "lc_ihs_backup": False,
                "lc_contact_mode": "owners",
            },
        }}))
        self.ihs.start()

    def run(self, tmp: Path, extra_vars: dict | None = None, *, args: list[str] | None = None,
            env: dict | None = None) -> PlaybookRun:
        return run_playbook(PLAYBOOK, tmp, inventory=str(self.inventory), extra_vars=extra_vars,
                            args=args, env=env)

    def command(self, *args: str) -> list[str]:
        """The recover.yml command line, for runs the test starts itself."""
        return [str(VENV_BIN / "ansible-playbook"), str(PLAYBOOK), "-i", str(self.inventory), *args]

    def stop(self) -> None:
        lc_sim("ihs", "stop", self.cell.root, check=False)

    def exports(self) -> Path:
        return self.work_dir / "exports"

    def essentials(self) -> dict:
        """What a finished recovery leaves, without what differs between two runs (wall-clock
        times, call counters, ports, paths)."""
        world = json.loads((self.cell.root / "state" / "world.json").read_text())
        status = self.cell.status()
        return {
            "world": {k: v for k, v in world.items() if k != "tasks"},
            "tasks": {t["name"]: t["status"] for t in world["tasks"]},
            "truth": self.cell.truth(),
            "status": {k: status[k] for k in ("scheduler", "queue", "resources", "communities", "replayed")},
            "report_json": json.loads((self.report_dir / "recovery-report.json").read_text()),
            "owners_csv": (self.report_dir / "owners.csv").read_text(),
            "messages": sorted(p.name for p in (self.report_dir / "messages").iterdir()),
            "exports": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted(self.exports().iterdir())},
            "work_dir": sorted(str(p.relative_to(self.work_dir)) for p in self.work_dir.rglob("*")),
            "conf_restored": self.ihs.conf_bytes() == self.original_conf,
            "ihs_files": sorted(p.name for p in self.ihs.conf_path.parent.iterdir()),
            "page_left": (self.ihs.document_root / "upgrading.htm").exists(),
            "site": self.ihs.wait_for("/", 200, USER)[0],
        }


class Sites:
    """Sites under one folder that httpd's children (www-data when the tests run as root) may enter."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="lc-faults-"))
        self.base.chmod(0o755)
        self.made: list[Site] = []

    def make(self, name: str) -> Site:
        site = Site(self.base / name)
        self.made.append(site)
        return site

    def close(self) -> None:
        for site in self.made:
            site.stop()
        for mount in sorted((m for m in mounts() if m.startswith(str(self.base))), reverse=True):
            subprocess.run(["umount", "-l", mount], check=False)
        shutil.rmtree(self.base, ignore_errors=True)


def mounts() -> list[str]:
    return [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]


@pytest.fixture
def sites(built):
    made = Sites()
    yield made
    made.close()


@pytest.fixture(scope="session")
def reference(built, tmp_path_factory) -> dict:
    """The essentials of one uninterrupted recover.yml run on a cell identical to every test's."""
    made = Sites()
    try:
        site = made.make("reference")
        run = site.run(tmp_path_factory.mktemp("reference"))
        assert run.rc == 0, out(run)
        return site.essentials()
    finally:
        made.close()


def out(run: PlaybookRun) -> str:
    return run.stdout[-6000:] + run.stderr[-3000:]


def stopped_at(run: PlaybookRun, step: str, host: str = "dmgr1") -> str:
    """The run failed at ``step``: its one-line message, which says how to go on."""
    assert run.rc != 0, out(run)
    msgs = {r["host"]: r["result"]["msg"] for r in run.results if r["task"] == FAILED}
    assert host in msgs, (step, msgs, out(run))
    msg = msgs[host]
    assert msg.startswith(f"Step '{step}' failed on {host}: "), msg
    assert "run the same command again" in msg, msg
    assert not BREAKS.search(msg), repr(msg)
    assert run.tasks(SUMMARY) == []
    print(f"stopped at {step}: {msg}")  # shown with -rP, and with the failure of a later assert
    return msg


def assert_nothing_half_written(site: Site, *, partial_allowed: bool = False, locked: bool = False) -> None:
    """Every export under its final name is whole; every report reads; no temporary file is left
    beside the conf or the page; no lock is left (but by a killed run)."""
    exports = site.exports()
    for p in sorted(exports.iterdir()) if exports.exists() else []:
        if p.name.endswith(".partial"):
            assert partial_allowed, f"{p} left behind"
            continue
        assert p.suffix == ".xml", p
        root = ET.parse(p).getroot()  # raises on a truncated file
        assert (root.tag, root.get("application")) == ("syncedResources", p.stem), p
    reports = site.work_dir / "reports"
    for p in sorted(reports.iterdir()) if reports.exists() else []:
        if p.suffix == ".html":
            assert p.read_text().rstrip().endswith("</html>"), p
    for folder in (reports, site.report_dir):
        if (folder / "recovery-report.json").exists():
            json.loads((folder / "recovery-report.json").read_text())
    for folder in (site.ihs.conf_path.parent, site.ihs.document_root):
        assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")], folder
    assert (site.work_dir / LOCK).is_symlink() == locked, "the run lock was not released" if not locked else "no lock"


def assert_in_maintenance(site: Site) -> None:
    status, body = site.ihs.wait_for("/", 403, USER)
    assert (status, MAINTENANCE_PAGE in body) == (403, True), (status, body)
    status, body = site.ihs.get("/", ADMIN)
    assert (status, NORMAL_SITE in body) == (200, True), (status, body)


def assert_open(site: Site) -> None:
    status, body = site.ihs.wait_for("/", 200, USER)
    assert (status, NORMAL_SITE in body) == (200, True), (status, body)


def scheduler(site: Site) -> str:
    return site.cell.status()["scheduler"][TASK]


# ---------------------------------------------------------------------------------------------


def test_an_invalid_ihs_conf_stops_the_preflight_and_nothing_changes(sites, tmp_path):
    """The live httpd.conf has an error: the preflight's `apachectl -t` stops the run before
    anything is touched: the conf keeps its bytes, the cell its state, the site stays open."""
    site = sites.make("invalid-conf")
    broken = site.original_conf + b"NoSuchDirective on\n"
    site.ihs.conf_path.write_bytes(broken)

    run = site.run(tmp_path)
    msg = stopped_at(run, "preflight", "ihs1")
    assert "Nothing was changed" in msg, msg
    assert "NoSuchDirective" in out(run), out(run)
    assert site.ihs.conf_bytes() == broken
    assert site.cell.state_bytes() == site.state
    assert scheduler(site) == "SCHEDULED"
    assert_nothing_half_written(site)
    assert not site.exports().exists()
    assert_open(site)


def test_a_lock_held_from_another_controller_is_refused_with_how_to_clear_it(sites, tmp_path):
    """A lock whose holder ran on another controller cannot be checked from here: the run stops in
    the preflight, before wsadmin or any IHS is touched, names the holder and says how to clear
    the lock; the lock stays as it was."""
    site = sites.make("foreign-lock")
    site.work_dir.mkdir()
    holder = {"id": "abcdefghij0123456789", "lock": str(site.work_dir / LOCK), "pid": 4242,
              "controller": "admin-workstation-7", "user": "alice", "started": "2026-01-02T03:04:05Z"}
    raw = json.dumps(holder)
    os.symlink(raw, site.work_dir / LOCK)

    run = site.run(tmp_path)
    msg = stopped_at(run, "preflight")
    assert msg.startswith(
        f"Step 'preflight' failed on dmgr1: Another recover.yml run holds the lock {site.work_dir / LOCK} "
        "on dmgr1 (run abcdefghij0123456789, started 2026-01-02T03:04:05Z by alice on admin-workstation-7, "
        f"pid 4242). Wait for that run to finish. If no run is going on (it was killed, or its controller "
        f"went down), remove the lock on dmgr1 (rm {site.work_dir / LOCK}) and run again. -- Nothing was "
        "changed"), msg
    assert os.readlink(site.work_dir / LOCK) == raw
    assert site.cell.launches() == 0
    assert site.cell.state_bytes() == site.state
    assert site.ihs.conf_bytes() == site.original_conf


def test_dmgr_down_at_each_wsadmin_step_then_the_rerun_finishes_the_job(sites, tmp_path, reference):
    """The Deployment Manager goes down just before each wsadmin step in turn (the preflight's
    check, pause, clear, export, reports, resume): each run stops at that step with the connection
    message and what state the site is in; the next run gets past it; the last one, with the dmgr
    back, ends exactly like the uninterrupted run."""
    site = sites.make("dmgr-down")
    # Launches before each step: the preflight's status check, then one per step.
    steps = ["preflight", "pause", "clear queue", "export", "reports", "resume"]
    for launches_before, step in enumerate(steps):
        site.cell.fault("--clear")
        if launches_before == 0:
            site.cell.fault("--refuse")
        else:
            site.cell.fault("--refuse-after", str(launches_before))
        run = site.run(tmp_path / step.replace(" ", "-"))
        msg = stopped_at(run, step)
        assert "cannot connect to the Deployment Manager at localhost:8879" in msg, msg
        assert_nothing_half_written(site)
        if step == "preflight":
            assert "Nothing was changed" in msg, msg
            assert site.cell.state_bytes() == site.state
            assert site.ihs.conf_bytes() == site.original_conf
            assert_open(site)
        else:
            assert "Maintenance mode is still on" in msg, msg
            assert_in_maintenance(site)
            assert scheduler(site) == ("SCHEDULED" if step == "pause" else "SUSPENDED")
        if step in ("reports", "resume"):
            # The exports of the run that stopped are whole and in place.
            assert sorted(p.stem for p in site.exports().glob("*.xml")) == sorted(site.cell.info["apps"])

    site.cell.fault("--clear")
    run = site.run(tmp_path / "rerun")
    assert run.rc == 0, out(run)
    assert run.task(SUMMARY)["msg"][0].startswith("DONE"), run.task(SUMMARY)
    assert_nothing_half_written(site)
    assert site.essentials() == reference


def test_a_failed_restart_a_raising_call_a_full_disk_and_a_hang_then_the_rerun_keeps_no_secret(
        sites, tmp_path, reference):
    """One cell meets, run after run: an IHS whose restart fails (the old conf keeps serving, the
    module says so; the rerun restarts it although the conf is already as wanted), a wsadmin call
    that raises (clear), a disk that fills up during the export (lc_work_dir on a small tmpfs), a
    call that hangs past lc_wsadmin_timeout (reports). Then the rerun finishes the job like the
    uninterrupted run. All of it with -vvv and ANSIBLE_KEEP_REMOTE_FILES=1, the process list
    polled throughout: the password appears in no output, process, kept file, report or log."""
    site = sites.make("call-faults")
    site.work_dir.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(site.work_dir)], check=True)
    flag = site.base / "restart-broken"
    flag.touch()
    ctl = site.base / "apachectl"
    ctl.write_text(f'#!/bin/sh\nif [ "$1" = -k ] && [ -e {flag} ]; then echo "AH00000: cannot restart" >&2; exit 7; fi\n'
                   f'exec {site.ihs.apachectl} "$@"\n')
    ctl.chmod(0o755)
    keep = site.base / "ansible"
    env = {"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TMP": str(keep / "remote"),
           "ANSIBLE_LOCAL_TEMP": str(keep / "local")}
    extra = {"lc_ihs_apachectl": str(ctl), "lc_min_free_mb": 0}
    runs: list[PlaybookRun] = []
    with ProcessWatch(site.base) as watch:
        def recover(name: str, more: dict | None = None) -> PlaybookRun:
            run = site.run(tmp_path / name, {**extra, **(more or {})}, args=["-vvv"], env=env)
            runs.append(run)
            return run

        # 1. The restart fails: the new conf is in place, the old one keeps serving.
        run = recover("restart")
        msg = stopped_at(run, "maintenance on", "ihs1")
        assert (f"maintenance mode is enabled in {site.ihs.conf_path}, but apachectl -k graceful failed "
                "(exit 7): AH00000: cannot restart; the old configuration keeps serving") in msg, msg
        assert b"# BEGIN connections.dr maintenance mode" in site.ihs.conf_bytes()
        assert_open(site)
        assert (scheduler(site), site.cell.launches()) == ("SCHEDULED", 1)
        assert_nothing_half_written(site)

        # 2. IHS can restart again; clearing the queue raises on the server.
        flag.unlink()
        site.cell.fault("--fail", "clearQueuedEventsByResourceType")
        queue = site.cell.status()["queue"]
        run = recover("raise")
        msg = stopped_at(run, "clear queue")
        assert "CommunitiesQEventService.clearQueuedEventsByResourceType" in msg, msg
        enabled = run.task("Enable maintenance mode")
        assert (enabled["changed"], enabled["restarted"]) == (True, True), enabled
        assert_in_maintenance(site)
        assert scheduler(site) == "SUSPENDED"
        assert site.cell.status()["queue"] == queue, "the call that raised cleared something"
        assert_nothing_half_written(site)

        # 3. The disk fills up during the export.
        site.cell.fault("--clear")
        subprocess.run(["mount", "-o", "remount,size=16k", str(site.work_dir)], check=True)
        run = recover("disk-full")
        msg = stopped_at(run, "export")
        assert "No space left on device" in msg, msg
        assert_nothing_half_written(site)
        assert not list(site.exports().glob("*.xml")), "an export was put in place"

        # 4. Room again; generateSyncReports hangs past the timeout.
        subprocess.run(["mount", "-o", "remount,size=16m", str(site.work_dir)], check=True)
        site.cell.fault("--hang", "generateSyncReports")
        run = recover("hang", {"lc_wsadmin_timeout": 20})
        msg = stopped_at(run, "reports")
        assert "wsadmin did not finish within 20 s and was stopped" in msg, msg
        assert "may still be running on the server" in msg, msg
        assert_nothing_half_written(site)
        assert_in_maintenance(site)

        # 5. The rerun finishes the job.
        site.cell.fault("--clear")
        run = recover("rerun")
        assert run.rc == 0, out(run)
    assert_nothing_half_written(site)
    assert site.essentials() == reference

    password = site.cell.password.encode()
    for i, r in enumerate(runs):
        assert password not in (r.stdout + r.stderr).encode(), f"run {i + 1} printed the password"
        assert password not in json.dumps(r.results).encode(), f"run {i + 1} returned the password"
    assert watch.seen > 50, watch.seen
    leaks = [line for line in watch.lines if site.cell.password in line]
    assert not leaks, leaks
    kept = list((keep / "remote").rglob("*"))
    assert any(p.name == "args" for p in kept), "no kept task folder to look into"
    inputs = {site.inventory, site.cell.root / "cell.json",
              site.cell.root / "profiles" / "Dmgr01" / "properties" / "soap.client.props"}
    for folder in (keep, site.base, tmp_path, Path.home() / ".ansible" / "tmp"):
        for p in folder.rglob("*"):
            if p.is_file() and not p.is_symlink() and p not in inputs and p.stat().st_mtime >= watch.started:
                assert password not in p.read_bytes(), f"the password is in {p}"


def test_the_atom_api_and_smtp_passwords_are_in_no_output_file_or_process(sites, tmp_path, smtp_factory, test_ca):
    """recover.yml with the owners looked up in the Atom API (lc_owner_api_password, which
    lc-sim's API checks: the cell's admin password) and their messages mailed over STARTTLS with
    a login (lc_owner_mail.password), with -vvv and ANSIBLE_KEEP_REMOTE_FILES=1, the process list
    polled throughout: neither password is in the output, the results, a process's arguments
    or environment, the report folder or any file left in the temporary folders; the kept
    arguments files of both modules hold the mask instead."""
    from test_owners_api import AtomApi

    site = sites.make("owner-secrets")
    smtp_password = "smtp-Pw-" + os.urandom(6).hex()
    server = smtp_factory(tls=test_ca.server, login=("cnx-mailer", smtp_password))
    keep = site.base / "ansible"
    env = {"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TMP": str(keep / "remote"),
           "ANSIBLE_LOCAL_TEMP": str(keep / "local")}
    api = AtomApi(site.cell)
    # The secrets come from a file, as from a vault (-e on the command line would show them).
    secrets = site.base / "secrets.json"
    secrets.write_text(json.dumps({
        "lc_owner_lookup": "api", "lc_owner_api_url": api.url, "lc_owner_api_user": site.cell.user,
        "lc_owner_api_password": site.cell.password,
        "lc_owner_mail": {"host": "127.0.0.1", "port": server.port, "from": "cnx-admins@example.com",
                          "user": "cnx-mailer", "password": smtp_password, "ca_path": str(test_ca.cert), "timeout": 5}}))
    secrets.chmod(0o600)
    try:
        with ProcessWatch(site.base) as watch:
            run = site.run(tmp_path, args=["-vvv", "-e", f"@{secrets}"], env=env)
    finally:
        api.close()
    assert run.rc == 0, out(run)
    looked = run.task("Look up every owner of the communities to contact (Communities Atom API)")
    assert looked["unresolved"] == [], looked
    mailed = run.task("Write one message per owner of the communities to contact")["mail"]
    assert mailed["sent"] and len(server.received) == len(mailed["sent"]), mailed
    assert watch.seen > 50, watch.seen
    kept_args = [p for p in (keep / "remote").rglob("args") if p.is_file()]
    for option in (b'"concurrency"', b'"record"'):  # lc_owners' and lc_owner_mail's arguments
        found = [p.read_bytes() for p in kept_args if option in p.read_bytes()]
        assert found and all(b'"password":"VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in f for f in found), option
    inputs = {site.inventory, secrets, site.cell.root / "cell.json",
              site.cell.root / "profiles" / "Dmgr01" / "properties" / "soap.client.props"}
    assert site.cell.password in secrets.read_text() and smtp_password in secrets.read_text()
    for secret in (site.cell.password, smtp_password):
        raw = secret.encode()
        assert raw not in (run.stdout + run.stderr).encode(), "printed"
        assert raw not in json.dumps(run.results).encode(), "returned"
        assert not [line for line in watch.lines if secret in line], "in a process's arguments or environment"
        for folder in (keep, site.base, tmp_path, Path.home() / ".ansible" / "tmp"):
            for p in folder.rglob("*"):
                if p.is_file() and not p.is_symlink() and p not in inputs and p.stat().st_mtime >= watch.started:
                    assert raw not in p.read_bytes(), f"a password is in {p}"


def test_dmgr_down_at_the_orphans_step_then_the_rerun_deletes_them(sites, tmp_path):
    """With lc_orphan_action delete, the orphans step is a wsadmin step too: the Deployment
    Manager goes down just before it (after the run's six other launches). The run stops there
    with the site open again, the replay running and every orphan still in place; the rerun
    deletes them all, and the cell ends with no orphan left."""
    site = sites.make("orphans-down")
    delete = {"lc_orphan_action": "delete", "lc_orphan_confirm_delete": True}
    orphans = site.truth["orphans"]
    assert orphans, "the seeded cell has no orphan to delete"
    site.cell.fault("--refuse-after", "6")

    run = site.run(tmp_path / "first", delete)
    msg = stopped_at(run, "orphans")
    assert "cannot connect to the Deployment Manager at localhost:8879" in msg, msg
    assert "The site is open again and the replay of failed events runs" in msg, msg
    assert_open(site)
    assert site.ihs.conf_bytes() == site.original_conf
    assert scheduler(site) == "SCHEDULED"
    assert site.cell.truth()["orphans"] == orphans
    assert_nothing_half_written(site)
    assert (site.report_dir / "recovery-report.json").exists()

    site.cell.fault("--clear")
    run = site.run(tmp_path / "rerun", delete)
    assert run.rc == 0, out(run)
    outcomes = run.task("Report, keep or delete each orphan")["outcomes"]
    assert sorted((o["object_id"], o["status"]) for o in outcomes) == \
        sorted((o["object_id"], "done") for o in orphans), outcomes
    assert site.cell.truth()["orphans"] == []
    assert_open(site)
    assert scheduler(site) == "SCHEDULED"
    assert_nothing_half_written(site)


def test_a_failed_restart_when_maintenance_ends_keeps_the_site_closed_until_the_rerun(sites, tmp_path, reference):
    """IHS cannot restart when maintenance mode is lifted (the second `apachectl -k` of the run
    fails): the conf on disk is the original again, but the maintenance conf keeps serving, so
    users still get the maintenance page while the replay runs again; the message says so. The
    rerun restarts IHS and ends like the uninterrupted run, the site open."""
    site = sites.make("restart-at-end")
    restarts = site.base / "restarts"
    ctl = site.base / "apachectl"
    ctl.write_text(f'#!/bin/sh\nif [ "$1" = -k ]; then\n'
                   f'  n=$(( $(cat {restarts} 2>/dev/null || echo 0) + 1 )); echo $n > {restarts}\n'
                   f'  if [ $n -eq 2 ]; then echo "AH00000: cannot restart" >&2; exit 7; fi\nfi\n'
                   f'exec {site.ihs.apachectl} "$@"\n')
    ctl.chmod(0o755)
    extra = {"lc_ihs_apachectl": str(ctl)}

    run = site.run(tmp_path / "first", extra)
    msg = stopped_at(run, "maintenance off", "ihs1")
    assert (f"maintenance mode is disabled in {site.ihs.conf_path}, but apachectl -k graceful failed "
            "(exit 7): AH00000: cannot restart; the old configuration keeps serving") in msg, msg
    assert "The replay of failed events runs again; maintenance mode is still on for some IHS." in msg, msg
    assert site.ihs.conf_bytes() == site.original_conf
    assert_in_maintenance(site)
    assert scheduler(site) == "SCHEDULED"
    assert run.tasks(SUMMARY) == []
    assert_nothing_half_written(site)

    run = site.run(tmp_path / "rerun", extra)
    assert run.rc == 0, out(run)
    assert restarts.read_text().strip() == "4", "the rerun restarted IHS twice"
    assert_nothing_half_written(site)
    assert site.essentials() == reference


class ProcessWatch(Poller):
    """Polls the process list every 50 ms while the block runs, keeping the arguments and the
    environment of every process of the test's runs."""

    interval = 0.05

    def __init__(self, base: Path):
        super().__init__()
        self.base = str(base)
        self.lines: set[str] = set()
        self.seen = 0
        self.started = time.time() - 1

    def poll(self) -> None:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
                environ = (proc / "environ").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            # The processes of this test's runs: their arguments or environment name its folder.
            if self.base in args or self.base in environ:
                self.lines.add(args)
                self.lines.add(environ)
                self.seen += 1


def test_killed_mid_export_then_the_rerun_takes_over_the_lock_and_a_second_run_is_refused(
        sites, tmp_path, reference):
    """The run is killed while the export runs: SIGKILL to ansible-playbook's process group, then
    to every process the run started (its workers detach into sessions of their own, and the
    module and wsadmin run under them), as when the controller dies. No export is put in place
    half-written (`.partial` files may stay; the rerun removes them), no password is left on disk,
    maintenance stays on, the replay stays paused, and the run's lock stays (nothing could release
    it). The same command run again sees that the lock's process is gone, takes the lock over and
    finishes the job like the uninterrupted run, while a second run started meanwhile refuses at
    once, saying who holds the lock and how to clear a stale one."""
    site = sites.make("killed")
    keep = site.base / "ansible"
    env = ansible_env({"ANSIBLE_REMOTE_TMP": str(keep / "remote"), "ANSIBLE_LOCAL_TEMP": str(keep / "local")})
    log = (site.base / "killed.log").open("w")
    killed = subprocess.Popen(site.command(), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    deadline = time.monotonic() + 300
    while not (site.exports().exists() and list(site.exports().glob(".*.partial"))):
        assert killed.poll() is None, (site.base / "killed.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "the export never started"
        time.sleep(0.02)
    os.killpg(killed.pid, signal.SIGKILL)
    kill_every_process_with(f"ANSIBLE_REMOTE_TMP={keep / 'remote'}")
    killed.wait()
    log.close()
    assert "Export the synced resources" in (site.base / "killed.log").read_text()
    holder = json.loads(os.readlink(site.work_dir / LOCK))
    assert int(holder["pid"]) == killed.pid, holder
    assert_in_maintenance(site)
    assert scheduler(site) == "SUSPENDED"
    assert_nothing_half_written(site, partial_allowed=True, locked=True)
    assert not list(site.exports().glob("*.xml")), "an export was put in place by a killed run"
    task_dirs = list((keep / "remote").glob("ansible-tmp-*"))
    assert task_dirs, "the killed task left no folder to look into"
    password = site.cell.password.encode()
    for p in keep.rglob("*"):
        if p.is_file():
            assert password not in p.read_bytes(), f"the password outlived the run in {p}"

    rerun_log = (site.base / "rerun.log").open("w")
    rerun = subprocess.Popen(site.command(), cwd=REPO, env=ansible_env({"LC_RESULTS_FILE": ""}),
                             stdout=rerun_log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while True:
        try:
            raw = os.readlink(site.work_dir / LOCK)
            now = json.loads(raw)
            if now["id"] != holder["id"]:
                break
        except (OSError, ValueError):
            pass
        assert rerun.poll() is None, (site.base / "rerun.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "the rerun never took the lock"
        time.sleep(0.05)
    launches = site.cell.launches()
    second = site.run(tmp_path / "second")
    msg = stopped_at(second, "preflight")
    assert msg.startswith(f"Step 'preflight' failed on dmgr1: Another recover.yml run holds the lock "
                          f"{site.work_dir / LOCK} on dmgr1 (run {now['id']}, started {now['started']}"), msg
    assert f"If no run is going on (it was killed, or its controller went down), remove the lock on dmgr1 " \
        f"(rm {site.work_dir / LOCK}) and run again." in msg, msg
    assert "Nothing was changed" in msg, msg
    assert os.readlink(site.work_dir / LOCK) == raw, "the second run touched the lock"
    assert rerun.wait(timeout=600) == 0, (site.base / "rerun.log").read_text()[-6000:]
    rerun_log.close()
    rerun_out = (site.base / "rerun.log").read_text()
    assert f"Took over the lock of run {holder['id']} (pid {holder['pid']}" in rerun_out, rerun_out[-6000:]
    assert site.cell.launches() >= launches
    assert_nothing_half_written(site)
    assert site.essentials() == reference


def kill_every_process_with(marker: str) -> None:
    """SIGKILLs every process whose environment holds ``marker``, until none is left."""
    for _ in range(50):
        found = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit() and int(proc.name) != os.getpid():
                try:
                    if marker.encode() in (proc / "environ").read_bytes().split(b"\0"):
                        found.append(int(proc.name))
                except OSError:
                    continue
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"processes with {marker} keep coming back")
