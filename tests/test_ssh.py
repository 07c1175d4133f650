"""playbooks/recover.yml over real SSH, with least privilege (admin-surface.md §10), on the bed of
tests/ssh_bed.py: five hosts (ihs1, ihs2, dmgr1, was1, was2), each Debian's sshd on an address of
its own and in a mount namespace of its own; the administrator ``lcadmin`` logs in with a key and
uses sudo; the simulated cell (the WebSphere profile) belongs to ``wasadmin``, whom every
wsadmin step becomes (lc_was_os_user); the IHS confs are root's (lc_ihs_become).

The work folder lc_work_dir is on a disk the Deployment Manager shares with the Communities host
(was1); was2, where Activities, Files and Wikis run (lc_app_hosts), has a disk of its own, where
lc-sim writes those applications' exports (``lc-sim node-disk``): recover.yml must carry them to
the Communities host. Checked as in test_recover (the cell's state against ``lc-sim truth``, the
reports, real HTTP requests from a user's address and the allowed ones), plus who owns every file
made in the profile and the work folders, the modes of the work files and of the controller's
copies, and that the password is on no remote disk and no process's command line."""
from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import REPO, Cell, IhsServer, PlaybookRun, Poller, binary, run_playbook
from ssh_bed import ADMIN_USER, OWNER_USER, SshBed, missing
from test_recover import (MAINTENANCE_PAGE, NORMAL_SITE, SUMMARY, TASK, USER, allow_lines,
                          assert_reports_match_truth, out, rows, watch_maintenance)

PLAYBOOK = REPO / "playbooks" / "recover.yml"
VERIFY = REPO / "playbooks" / "verify.yml"
ADMIN = "127.0.0.2"
COMMUNITIES, SEED = 40, 7
FAILED = "Say which step failed and how to go on"
# The applications whose servers run on was2 (as in the demo inventory).
ELSEWHERE = ["Activities", "Files", "Wiki"]

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


def owner_run(*args: str | Path) -> subprocess.CompletedProcess:
    """lc-sim run as the profile's owner (as wsadmin.sh runs it), so that the test leaves no
    root-owned state file in the cell."""
    return subprocess.run(["runuser", "-u", OWNER_USER, "--", str(binary("lc-sim")), *map(str, args)],
                          check=True, capture_output=True, text=True, timeout=60)


class OwnedCell(Cell):
    """A cell whose every lc-sim command runs as the profile's owner."""

    def truth(self) -> dict:
        return json.loads(owner_run("truth", self.root).stdout)

    def status(self) -> dict:
        return json.loads(owner_run("status", self.root).stdout)

    def fault(self, *args: str) -> None:
        owner_run("fault", self.root, *args)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(*roots: Path) -> list[Path]:
    """Every file and folder under the roots (the roots included)."""
    found: list[Path] = []
    for root in roots:
        found.append(root)
        found.extend(sorted(root.rglob("*")))
    return found


class Bed:
    """The hosts, the disks and the controller's side, shared by the sites of this module."""

    def __init__(self, base: Path):
        self.base = base
        self.node = base / "node"  # lc_work_dir's parent on every WebSphere host
        self.shared = base / "disks" / "shared"  # the disk of dmgr1 and was1
        self.was2_root = base / "disks" / "was2"  # was2's disk: `node` is at <root>/<node>
        self.was2_node = self.was2_root / self.node.relative_to("/")
        for d in (self.node, self.shared, self.was2_node):
            d.mkdir(parents=True, mode=0o755)
        self.ssh = SshBed(base, {
            "ihs1": [], "ihs2": [],
            "dmgr1": [(self.shared, self.node)],
            "was1": [(self.shared, self.node)],
            "was2": [(self.was2_node, self.node)],
        })
        # What the profile's owner writes in: lc_work_dir's parent on each disk.
        for d in (self.shared, self.was2_node):
            os.chown(d, self.ssh.owner.pw_uid, self.ssh.owner.pw_gid)
        self.allow_list = [ADMIN] + [self.ssh.hosts[h].address for h in ("was1", "was2", "dmgr1")]

    def close(self) -> None:
        self.ssh.close()


class SshSite:
    """A damaged cell owned by the profile's owner, with two started IHS stand-ins (root's), its
    work folder on the bed's disks and an inventory over SSH."""

    def __init__(self, bed: Bed, name: str, **extra_vars):
        self.bed = bed
        self.base = bed.base / name
        self.base.mkdir(mode=0o755)
        cell = Cell.init(self.base / "cell", "--communities", COMMUNITIES, "--seed", SEED, "--ihs", 2)
        cell.damage("communities")
        owner = bed.ssh.owner
        for p in tree(cell.root):
            if not (p == cell.root / "ihs" or (cell.root / "ihs") in p.parents):
                os.chown(p, owner.pw_uid, owner.pw_gid, follow_symlinks=False)
        self.cell = OwnedCell(cell.root)
        for app in ELSEWHERE:
            owner_run("node-disk", self.cell.root, app, bed.was2_root)
        self.truth = self.cell.truth()
        self.ihs = [IhsServer(info) for info in self.cell.info["ihs"]]
        self.original_confs = [s.conf_bytes() for s in self.ihs]
        self.work_dir = bed.node / f"recovery-{name}"
        self.report_dir = self.base / "recovery-report"
        hosts = bed.ssh.hosts
        self.inventory = self.base / "inventory.json"
        self.inventory.write_text(json.dumps({"all": {
            "children": {
                "ihs_servers": {"hosts": {
                    s.name: {**hosts[s.name].inventory_vars(bed.ssh), "lc_ihs_conf_path": str(s.conf_path),
                             "lc_ihs_apachectl": str(s.apachectl)} for s in self.ihs}},
                "dmgr": {"hosts": {"dmgr1": hosts["dmgr1"].inventory_vars(bed.ssh)}},
                "was_servers": {"hosts": {h: hosts[h].inventory_vars(bed.ssh) for h in ("was1", "was2")}},
            },
            "vars": {
                **bed.ssh.inventory_vars(),
                "lc_was_os_user": OWNER_USER,
                "lc_failed_databases": ["communities"],
                "lc_admin_addresses": [ADMIN],
                "lc_wsadmin_path": self.cell.wsadmin_path,
                "lc_was_user": self.cell.user,
                "lc_was_password": self.cell.password,
                "lc_work_dir": str(self.work_dir),
                "lc_report_dir": str(self.report_dir),
                "lc_min_free_mb": 1,
                "lc_ihs_assets_path": "/assets/",
                "lc_ihs_backup": True,
                "lc_communities_host": "was1",
                "lc_app_hosts": {app: "was2" for app in ELSEWHERE},
                **extra_vars,
            },
        }}))
        self.inventory.chmod(0o600)

    # The disks as each host sees them.
    def shared_work(self) -> Path:
        return self.bed.shared / self.work_dir.name

    def was2_work(self) -> Path:
        return self.bed.was2_node / self.work_dir.name

    def start(self) -> None:
        subprocess.run([str(binary("lc-sim")), "ihs", "start", self.cell.root], check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run([str(binary("lc-sim")), "ihs", "stop", self.cell.root], capture_output=True)

    def run(self, tmp: Path, *, check: bool = False, args: list[str] | None = None,
            env: dict | None = None, extra_vars: dict | None = None) -> PlaybookRun:
        return run_playbook(PLAYBOOK, tmp, inventory=str(self.inventory), check=check, args=args, env=env,
                            extra_vars=extra_vars, timeout=900)

    # What test_recover's helpers read.
    def report(self) -> dict:
        return json.loads((self.report_dir / "recovery-report.json").read_text())

    def messages(self) -> dict[str, str]:
        return {p.stem: p.read_text() for p in sorted((self.report_dir / "messages").glob("*.txt"))}

    def essentials(self) -> dict:
        """What a finished recovery leaves, without what differs between two runs or two sites
        (times, call counters, ports, paths)."""
        world = json.loads((self.cell.root / "state" / "world.json").read_text())
        status = self.cell.status()
        exports = self.shared_work() / "exports"
        return {
            "world": {k: v for k, v in world.items() if k != "tasks"},
            "tasks": {t["name"]: t["status"] for t in world["tasks"]},
            "truth": self.cell.truth(),
            "status": {k: status[k] for k in ("scheduler", "queue", "resources", "communities", "replayed")},
            "report_json": self.report(),
            "owners_csv": (self.report_dir / "owners.csv").read_text(),
            "messages": self.messages(),
            "exports": {p.name: sha256(p) for p in sorted(exports.glob("*.xml"))},
            "confs_restored": [s.conf_bytes() == o for s, o in zip(self.ihs, self.original_confs)],
        }

    def owned_paths(self) -> list[Path]:
        """Everything in the profile (the cell but its IHS) and on the work disks of this site."""
        ihs = self.cell.root / "ihs"
        paths = [p for p in tree(self.cell.root) if not (p == ihs or ihs in p.parents)]
        return paths + [p for d in (self.shared_work(), self.was2_work()) if d.exists() for p in tree(d)]


@pytest.fixture(scope="module")
def bed(built):
    base = Path(tempfile.mkdtemp(prefix="lc-ssh-"))
    base.chmod(0o755)
    made = Bed(base)
    try:
        yield made
    finally:
        made.close()
        shutil.rmtree(base, ignore_errors=True)


class Watch(Poller):
    """The command line of every process on the bed's hosts (in their mount namespaces), and
    every wsadmin credentials file (lcr-soap-*) seen, with its owner and mode, while runs go on."""

    interval = 0.05

    def __init__(self, password: str, namespaces: set[str]):
        super().__init__()
        self.password = password.encode()
        self.namespaces = namespaces
        self.remote_pids: set[int] = set()
        self.exposed: list[str] = []
        self.props: dict[str, tuple[str, int]] = {}
        self.polls = 0

    def poll(self) -> None:
        self.polls += 1
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.readlink(entry / "ns" / "mnt") not in self.namespaces:
                        continue
                    cmdline = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                self.remote_pids.add(int(entry.name))
                if self.password in cmdline:
                    self.exposed.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
        for pattern in ("/tmp/lcr-run-*/lcr-soap-*", "/var/tmp/ansible-tmp-*/lcr-run-*/lcr-soap-*",
                        f"/home/{ADMIN_USER}/.ansible/tmp/ansible-tmp-*/lcr-run-*/lcr-soap-*"):
            for p in Path("/").glob(pattern.lstrip("/")):
                try:
                    st = p.stat()
                except OSError:
                    continue
                self.props[str(p)] = (pwd.getpwuid(st.st_uid).pw_name, st.st_mode & 0o7777)


def kept_task_dirs() -> list[Path]:
    """The task folders Ansible keeps on the hosts (ANSIBLE_KEEP_REMOTE_FILES)."""
    found = []
    for folder in (Path("/var/tmp"), Path("/tmp"), Path(f"/home/{ADMIN_USER}/.ansible/tmp"),
                   Path(f"/home/{OWNER_USER}/.ansible/tmp"), Path("/root/.ansible/tmp")):
        if folder.is_dir():
            found.extend(folder.glob("ansible-tmp-*"))
    return found


@pytest.fixture(scope="module")
def recovered(bed, tmp_path_factory):
    """One uninterrupted recovery over SSH, watched from both sides of each IHS; then the same
    command again."""
    site = SshSite(bed, "uninterrupted")
    site.start()
    try:
        before = {"shared": (site.shared_work() / "exports").exists(), "was2": site.was2_work().exists()}
        with ThreadPoolExecutor(max_workers=1) as pool:
            running = pool.submit(site.run, tmp_path_factory.mktemp("ssh-first"))
            seen = watch_maintenance(site.ihs, running, timeout=600, allow_list=bed.allow_list)
            first = running.result()
        after_first = site.essentials() if first.rc == 0 else None
        exports_first = {p.name: sha256(p) for p in sorted((site.shared_work() / "exports").glob("*.xml"))} \
            if first.rc == 0 else {}
        second = site.run(tmp_path_factory.mktemp("ssh-second")) if first.rc == 0 else None
        yield {"site": site, "first": first, "second": second, "seen": seen, "before": before,
               "after_first": after_first, "exports_first": exports_first}
    finally:
        site.stop()


def test_recover_over_ssh_moves_the_exports_and_recovers_the_cell(recovered, bed):
    """Over SSH as lcadmin with sudo: the cell is recovered (scheduler back, no stale event left,
    reports equal to the truth, owners' messages, orphans reported), the exports of Activities,
    Files and Wikis were written on was2's disk, where the Communities host does not see them, and
    reached it only through recover.yml's move: the same bytes on both."""
    site, run = recovered["site"], recovered["first"]
    assert run.rc == 0, out(run)
    assert recovered["before"] == {"shared": False, "was2": False}
    truth = site.truth
    summary = run.task(SUMMARY)["msg"]
    assert summary[0].startswith("DONE: restore of communities"), summary
    status = site.cell.status()
    assert status["scheduler"][TASK] == "SCHEDULED"
    after = site.cell.truth()
    assert after["stale_events"] == {app: 0 for app in truth["stale_events"]}
    assert after["healthy_events"] == truth["healthy_events"]
    assert_reports_match_truth(site, truth)
    orphans = run.task("Report, keep or delete each orphan")
    assert orphans["changed"] is False
    assert {(o["action"], o["status"]) for o in orphans["outcomes"]} == {("report", "skipped")}
    assert rows(after["orphans"]) == rows(truth["orphans"])

    # Each export of an application of was2 was not on the Deployment Manager's disk (which the
    # Communities host shares) when the export step ended: it was on was2's, under its partial
    # name; the move put the same bytes on the Communities host.
    exports = {e["application"]: e for e in run.task("Export the synced resources")["exports"]}
    assert sorted(exports) == sorted(site.cell.info["apps"])
    shared, was2 = site.shared_work() / "exports", site.was2_work() / "exports"
    for app, e in exports.items():
        if app in ELSEWHERE:
            assert (e["local"], e["path"]) == (False, f"{site.work_dir}/exports/.{app}.xml.partial"), e
            on_was2 = was2 / f".{app}.xml.partial"
            assert sha256(shared / f"{app}.xml") == sha256(on_was2), app
            assert not (was2 / f"{app}.xml").exists()
        else:
            assert e["local"] is True and e["sha256"] == sha256(shared / f"{app}.xml"), e
            assert not (was2 / f".{app}.xml.partial").exists(), app
    assert sorted(p.name for p in was2.iterdir()) == sorted(f".{a}.xml.partial" for a in ELSEWHERE)
    # What each host sees (over SSH, in its own namespace): was1 the moved file, was2 only its own;
    # the administrator may not even list them without becoming the profile's owner.
    assert bed.ssh.ssh("was1", f"ls {site.work_dir}/exports").returncode != 0
    seen_by_was1 = bed.ssh.ssh("was1", f"sudo -n -u {OWNER_USER} sha256sum {site.work_dir}/exports/Files.xml")
    assert seen_by_was1.stdout.split()[:1] == [sha256(shared / "Files.xml")], seen_by_was1
    seen_by_was2 = bed.ssh.ssh("was2", f"sudo -n -u {OWNER_USER} ls -A {site.work_dir}/exports")
    assert sorted(seen_by_was2.stdout.split()) == sorted(f".{a}.xml.partial" for a in ELSEWHERE), seen_by_was2
    moved = [r for r in run.results if r["task"] == "Put them on the Communities host"]
    assert [r["host"] for r in moved] == ["dmgr1"]
    # The run lock (the profile owner's, in lc_work_dir) was released at the end.
    assert not os.path.lexists(site.shared_work() / ".recover.lock")
    assert run.task("Release the run lock if this run holds it")["changed"] is True


def test_maintenance_over_ssh_lets_in_only_the_allow_list_and_the_site_reopens(recovered, bed):
    """While the run was in the middle, a user got the maintenance page with 403 from both IHS,
    and every address of the allow list (the administrator and the WebSphere hosts, by their SSH
    addresses) the normal site; once it ended, both IHS serve their original conf to anyone."""
    site, run = recovered["site"], recovered["first"]
    assert run.rc == 0, out(run)
    seen = recovered["seen"]
    assert sorted(seen) == ["ihs1", "ihs2"], "maintenance was never seen on some IHS"
    for name, s in seen.items():
        status, body = s["user"]
        assert (status, MAINTENANCE_PAGE in body) == (403, True), (name, status, body)
        for source, (status, body) in s["allowed"].items():
            assert (status, NORMAL_SITE in body) == (200, True), (name, source, status, body)
        assert sorted(allow_lines(s["conf"])) == sorted(bed.allow_list), s["conf"]
    for ihs, original in zip(site.ihs, site.original_confs):
        status, body = ihs.wait_for("/", 200, USER)
        assert (status, NORMAL_SITE in body) == (200, True), (ihs.name, status, body)
        assert ihs.conf_bytes() == original


def test_files_made_over_ssh_belong_to_the_profile_owner_and_are_private(recovered, bed):
    """Every file and folder in the profile and the work folders belongs to wasadmin (wsadmin ran
    as that user: its traceout is there, not root's); the work files the modules made are 0640 in
    0750 folders, and so are the controller's copies; the maintenance page and the conf backups
    have the conf folder's owner."""
    site, run = recovered["site"], recovered["first"]
    assert run.rc == 0, out(run)
    owner = bed.ssh.owner
    paths = site.owned_paths()
    traceout = site.cell.root / "profiles" / "Dmgr01" / "logs" / "wsadmin.traceout"
    assert traceout in paths
    not_owned = [f"{p} ({pwd.getpwuid(p.lstat().st_uid).pw_name})" for p in paths
                 if p.lstat().st_uid != owner.pw_uid]
    assert not_owned == [], not_owned

    def mode(p: Path) -> int:
        return p.stat().st_mode & 0o7777

    work = site.shared_work()
    for folder in (work, work / "exports", work / "reports", site.was2_work(), site.was2_work() / "exports"):
        assert mode(folder) == 0o750, (folder, oct(mode(folder)))
    made = sorted((work / "exports").glob("*.xml")) + sorted((work / "reports").iterdir())
    assert len(made) > 10
    assert [(str(p), oct(mode(p))) for p in made if mode(p) != 0o640] == []

    copies = site.report_dir
    assert mode(copies) == 0o750 and mode(copies / "exports") == 0o750
    fetched = [copies / n for n in ("recovery-report.html", "recovery-report.json", "owners.csv")] + \
        sorted((copies / "exports").glob("*.xml"))
    assert sorted(p.name for p in (copies / "exports").glob("*.xml")) == sorted(f"{a}.xml" for a in ELSEWHERE)
    assert [(str(p), oct(mode(p))) for p in fetched if mode(p) != 0o640] == []

    for ihs in site.ihs:
        conf_dir = ihs.conf_path.parent
        want = (conf_dir.stat().st_uid, conf_dir.stat().st_gid)
        backups = [p for p in conf_dir.iterdir() if p != ihs.conf_path and p.name.startswith(ihs.conf_path.name)]
        assert backups, f"no backup of {ihs.conf_path}"
        assert [str(p) for p in conf_dir.iterdir() if (p.stat().st_uid, p.stat().st_gid) != want] == []


def test_the_same_run_again_over_ssh_changes_nothing(recovered):
    """The same command on the recovered cell: it succeeds, clears nothing, and the cell, the
    reports, the messages and the exports are as the first run left them; still nothing in the
    profile or the work folders is another user's."""
    site, first, second = recovered["site"], recovered["first"], recovered["second"]
    assert first.rc == 0, out(first)
    assert second.rc == 0, out(second)
    assert second.task("Clear the queued events (Communities restored, by resource type)")["cleared_total"] == 0
    assert second.task(SUMMARY)["msg"][0].startswith("DONE"), second.task(SUMMARY)
    assert site.essentials() == recovered["after_first"]
    moved = [r["result"] for r in second.results if r["task"] == "Put them on the Communities host"]
    assert [r["changed"] for r in moved[0]["results"]] == [False] * len(ELSEWHERE), moved
    owner = recovered["site"].bed.ssh.owner.pw_uid
    assert [str(p) for p in site.owned_paths() if p.lstat().st_uid != owner] == []


def test_verify_over_ssh_reads_the_cell_as_its_owner_and_lists_what_lc_sim_shows_out_of_step(recovered, tmp_path):
    """Days later, verify.yml over the same SSH inventory, after owners toggled three communities:
    the fresh exports of the applications on was2 reach the Communities host only through the
    move (same bytes), the communities still differing are exactly those lc-sim's truth lists,
    the cell's state is as it was, and what it made in the work folders is the profile owner's."""
    site, second = recovered["site"], recovered["second"]
    assert second is not None and second.rc == 0, out(second or recovered["first"])
    for uuid in sorted(c["uuid"] for c in site.cell.truth()["communities_to_contact"])[:3]:
        owner_run("toggle", site.cell.root, "--communities", uuid)
    truth = site.cell.truth()

    def state() -> dict:
        world = json.loads((site.cell.root / "state" / "world.json").read_text())
        status = site.cell.status()
        return {"world": {k: v for k, v in world.items() if k != "tasks"},
                "tasks": {t["name"]: t["status"] for t in world["tasks"]},
                "status": {k: status[k] for k in ("scheduler", "queue", "resources", "communities", "replayed")}}

    before = state()
    assert not (site.was2_work() / "exports" / "verify").exists()
    run = run_playbook(VERIFY, tmp_path, inventory=str(site.inventory), timeout=900)
    assert run.rc == 0, out(run)
    report = json.loads((site.report_dir / "verify" / "verify-report.json").read_text())
    assert sorted(c["uuid"] for c in report["still_differ"]) == \
        sorted(c["uuid"] for c in truth["communities_to_contact"])
    assert report["appeared"] == []
    assert state() == before
    written, moved = site.was2_work() / "exports" / "verify", site.shared_work() / "exports" / "verify"
    # On was2's disk under the export's partial name (the module, on the Communities host, could not
    # see it to rename it), on the Communities host as <App>.xml after the move.
    assert sorted(p.name for p in written.iterdir()) == sorted(f".{a}.xml.partial" for a in ELSEWHERE)
    assert {a: sha256(moved / f"{a}.xml") for a in ELSEWHERE} == \
        {a: sha256(written / f".{a}.xml.partial") for a in ELSEWHERE}
    owner = site.bed.ssh.owner.pw_uid
    assert [str(p) for p in site.owned_paths() if p.lstat().st_uid != owner] == []


def test_check_mode_over_ssh_changes_nothing(bed, tmp_path):
    """--check over SSH on a damaged cell: PLAN, and the cell's state, both confs, the work disks
    and the controller's side are as they were."""
    site = SshSite(bed, "check")
    state = site.cell.state_bytes()
    listing = {str(p) for p in site.owned_paths()}
    run = site.run(tmp_path, check=True)
    assert run.rc == 0, out(run)
    assert run.task(SUMMARY)["msg"][0].startswith("PLAN (check mode, nothing changed)"), run.task(SUMMARY)
    assert site.cell.state_bytes() == state
    assert [s.conf_bytes() for s in site.ihs] == site.original_confs
    assert not site.shared_work().exists() and not site.was2_work().exists()
    assert not site.report_dir.exists()
    # wsadmin ran (the preflight's status check), as the profile's owner: nothing is new in the
    # profile but its traceout (and Jython's cache of the simulator's classes).
    new = {str(p) for p in site.owned_paths() if not p.name.endswith("$py.class")} - listing
    assert new == {str(site.cell.root / "profiles" / "Dmgr01" / "logs" / "wsadmin.traceout")}, new
    assert site.cell.root.joinpath("profiles/Dmgr01/logs/wsadmin.traceout").stat().st_uid == bed.ssh.owner.pw_uid


def test_preflight_names_the_host_and_user_it_cannot_become(bed, tmp_path):
    """An lc_was_os_user that sudo cannot become on the Deployment Manager stops the preflight with
    one line naming the host and the user, before anything is touched."""
    site = SshSite(bed, "nobecome", lc_was_os_user="nosuchowner")
    state = site.cell.state_bytes()
    run = site.run(tmp_path)
    assert run.rc != 0
    checks = {r["host"]: r["result"] for r in run.results if r["task"] == "Check that this host can become that user"}
    assert [h for h, r in checks.items() if r["failed"]] == ["dmgr1"], checks
    msg = checks["dmgr1"]["msg"]
    assert "\n" not in msg and "\r" not in msg
    assert msg.startswith(f"dmgr1: {ADMIN_USER} cannot become nosuchowner (lc_was_os_user): "), msg
    assert "unknown user nosuchowner" in msg, msg
    failed = {r["host"]: r["result"]["msg"] for r in run.results if r["task"] == FAILED}
    assert failed["dmgr1"].startswith(f"Step 'preflight' failed on dmgr1: {msg}"), failed
    assert "Nothing was changed" in failed["dmgr1"], failed
    assert failed["ihs1"].startswith("Step 'preflight' stopped on ihs1 because it failed on another host"), failed
    assert site.cell.state_bytes() == state
    assert [s.conf_bytes() for s in site.ihs] == site.original_confs
    assert not site.shared_work().exists()


def test_dmgr_down_mid_run_over_ssh_then_the_rerun_ends_like_an_uninterrupted_run_and_keeps_no_secret(
        recovered, bed, tmp_path):
    """The Deployment Manager refuses wsadmin from the export step on: the run stops there, with
    maintenance on. Once it is back, the same command finishes the job and the cell, reports,
    messages and exports end as after the uninterrupted run. Both runs with -vvv and
    ANSIBLE_KEEP_REMOTE_FILES=1, every process list polled: the password is in no command line,
    no file left on any host, and the credentials files wsadmin read were 0600 and wasadmin's."""
    assert recovered["first"].rc == 0, out(recovered["first"])
    site = SshSite(bed, "interrupted")
    assert site.truth == recovered["site"].truth  # the same cell, damaged the same way
    site.start()
    kept_before = set(kept_task_dirs())
    env = {"ANSIBLE_KEEP_REMOTE_FILES": "1"}
    started = time.time()
    try:
        assert len(bed.ssh.namespaces()) == len(bed.ssh.hosts)
        with Watch(site.cell.password, bed.ssh.namespaces()) as watch:
            # Launches: the preflight's check, pause, clear; the export is refused.
            site.cell.fault("--refuse-after", "3")
            first = site.run(tmp_path / "first", args=["-vvv"], env=env)
            assert first.rc != 0
            failed = {r["host"]: r["result"]["msg"] for r in first.results if r["task"] == FAILED}
            assert failed["dmgr1"].startswith("Step 'export' failed on dmgr1: "), failed
            assert "cannot connect to the Deployment Manager" in failed["dmgr1"], failed
            assert "Maintenance mode is still on" in failed["dmgr1"], failed
            for ihs in site.ihs:
                assert ihs.wait_for("/", 403, USER)[0] == 403
            assert site.cell.status()["scheduler"][TASK] == "SUSPENDED"

            site.cell.fault("--clear")
            second = site.run(tmp_path / "second", args=["-vvv"], env=env)
        assert second.rc == 0, out(second)
        assert second.task(SUMMARY)["msg"][0].startswith("DONE"), second.task(SUMMARY)
        assert site.essentials() == recovered["after_first"]
        owner = bed.ssh.owner.pw_uid
        assert [str(p) for p in site.owned_paths() if p.lstat().st_uid != owner] == []

        password = site.cell.password
        assert watch.polls > 20, watch.polls
        assert len(watch.remote_pids) > 50, len(watch.remote_pids)
        assert watch.exposed == []
        assert watch.props, "no wsadmin credentials file was seen"
        assert {v for v in watch.props.values()} == {(OWNER_USER, 0o600)}, watch.props
        for r in (first, second):
            assert password not in r.stdout + r.stderr
        kept = [d for d in kept_task_dirs() if d not in kept_before]
        assert kept, "no task folder was kept on the hosts"
        inputs = {site.inventory, site.cell.root / "cell.json"}
        for folder in [*kept, site.base, bed.base / "disks", Path(f"/home/{ADMIN_USER}"), Path(f"/home/{OWNER_USER}")]:
            for p in tree(folder):
                if p.is_file() and not p.is_symlink() and p not in inputs and p.lstat().st_mtime >= started:
                    assert password.encode() not in p.read_bytes(), f"the password is in {p}"
    finally:
        site.stop()
        for d in set(kept_task_dirs()) - kept_before:
            shutil.rmtree(d, ignore_errors=True)
