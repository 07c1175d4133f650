"""connections.dr.lc_scheduler, lc_queue and lc_export through real ansible-playbook against cells
made by lc-sim (each wsadmin launch runs real Jython). Every test checks the cell's launch counter:
one wsadmin launch per module call, none for a call rejected before wsadmin runs. Several tasks
share one playbook run to keep the file quick."""
from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import REPO, VENV_BIN, Cell, ansible_env, play, run_playbook

APPS = ["Activities", "Blog", "IdeationBlog", "Files", "Forum", "Wiki", "StatusUpdates"]
LC25_APPS = ["Activities", "Blog", "Files", "Wiki"]
KNOWN_IDS = ", ".join(APPS)
TASK = "LifecycleRetryQueuedEvents"


def task(name: str, module: str, cell: Cell | None = None, *, ignore_errors: bool = False,
         check_mode: bool | None = None, **opts) -> dict:
    """One task of a connections.dr module; ``cell`` adds its wsadmin options."""
    args = {**(cell.wsadmin() if cell else {}), **opts}
    t = {"name": name, f"connections.dr.{module}": args}
    if ignore_errors:
        t["ignore_errors"] = True
    if check_mode is not None:
        t["check_mode"] = check_mode
    return t


def kept_files_env(tmp_path: Path) -> dict:
    """Ansible keeps each task's temporary directory under tmp_path/remote, so that what a module
    leaves there can be inspected."""
    return {"ANSIBLE_KEEP_REMOTE_FILES": "1",
            "ANSIBLE_REMOTE_TMP": str(tmp_path / "remote"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local")}


def rust_debug(s: str) -> str:
    """How the modules quote a value in a message (Rust's `{:?}`), for ASCII text."""
    return json.dumps(s)


def assert_ok(run, *names: str) -> None:
    assert run.rc == 0, run.stdout + run.stderr
    for n in names:
        assert run.status(n) == "ok", (n, run.status(n))


def tmp_leftovers() -> set[str]:
    """Generated scripts or credentials files in the system temporary folder."""
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "lcr-*")))


def assert_task_dirs_clean(tmp_path: Path, *secrets: str) -> None:
    """Each kept task directory holds only what Ansible put there (the module and its args file),
    and no file anywhere under it holds a secret."""
    dirs = sorted((tmp_path / "remote").glob("ansible-tmp-*"))
    assert dirs, "no task directory was kept"
    for d in dirs:
        names = sorted(p.name for p in d.iterdir())
        assert len(names) == 2 and names[0].startswith("AnsiballZ_lc_") and names[1] == "args", names
    for p in (tmp_path / "remote").rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for s in secrets:
                assert s.encode() not in data, f"{s!r} in {p}"


def world(cell: Cell) -> dict:
    return json.loads((cell.root / "state" / "world.json").read_text())


def count_by_app(events: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in events:
        out[e["app"]] = out.get(e["app"], 0) + 1
    return out


def queue_of(cell: Cell) -> dict[str, int]:
    """Queued events per app, as `lc-sim status` counts them (apps with none left out)."""
    return {a: n for a, n in cell.status()["queue"].items() if n}


def resources_in(path: Path) -> int:
    return sum(1 for el in ET.parse(path).getroot().iter() if el.tag == "resource")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_exports(result: dict, dest: Path, apps: list[str], changed: bool, status: dict) -> None:
    """Each returned export is the file on disk: its size, SHA-256 and resource count computed
    here, the count also the cell's own."""
    assert [e["application"] for e in result["exports"]] == apps
    for e in result["exports"]:
        path = dest / f"{e['application']}.xml"
        assert e == {"application": e["application"], "path": str(path), "local": True,
                     "bytes": path.stat().st_size, "sha256": sha256(path),
                     "resources": resources_in(path), "layout": "recognized", "changed": changed}
        assert e["resources"] == status["resources"][e["application"]]
    assert sorted(p.name for p in dest.iterdir()) == sorted(f"{a}.xml" for a in apps)


def generate_sync_reports(cell: Cell, exports: list[Path], out_dir: Path) -> None:
    """Feeds the exports to the cell's own CommunitiesRemoteAppService.generateSyncReports, in one
    wsadmin run, and checks that both reports of every export were written."""
    out_dir.mkdir()
    script = out_dir.parent / "reports.py"
    calls = "".join(f'CommunitiesRemoteAppService.generateSyncReports("{p}", "{out_dir}")\n'
                    for p in exports)
    script.write_text(f'execfile("communitiesAdmin.py")\n{calls}print "reports-done"\n')
    wsadmin = Path(cell.wsadmin_path)
    proc = subprocess.run([str(wsadmin), "-lang", "jython", "-user", cell.user, "-password",
                           cell.password, "-f", str(script)], cwd=wsadmin.parent,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "reports-done" in proc.stdout, proc.stdout + proc.stderr
    for p in exports:
        app = p.stem
        for suffix in ("_communityDifferences.html", "_orphanedRemoteApplications.html"):
            report = out_dir / f"{app}{suffix}"
            assert report.stat().st_size > 0, report


class ProcessWatch:
    """Polls /proc while a playbook runs: the processes of a cell (wsadmin, Jython, the cell's
    calls) with their process groups, and any process whose command line or environment holds
    one of the secrets."""

    def __init__(self, cell: Cell, *secrets: str):
        self.marker = str(cell.root).encode()
        self.secrets = [s.encode() for s in secrets]
        self.cell_pids: dict[int, int] = {}
        self.exposed: list[str] = []
        self.polls = 0

    def poll(self) -> None:
        self.polls += 1
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                cmdline = (d / "cmdline").read_bytes()
                environ = (d / "environ").read_bytes()
                pgid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[2])
            except (OSError, ValueError, IndexError):
                continue
            for s in self.secrets:
                if s in cmdline or s in environ:
                    self.exposed.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
            # The cell's processes that run in a group of their own: wsadmin and what it
            # started (not the test's own `lc-sim status` calls).
            if self.marker in cmdline and pgid != os.getpgrp():
                self.cell_pids[int(d.name)] = pgid

    def run(self, fn):
        """Runs ``fn`` in a thread, polling until it returns; returns what it returned."""
        out: dict = {}

        def target():
            try:
                out["r"] = fn()
            except BaseException as e:  # re-raised in the test's thread
                out["e"] = e

        th = threading.Thread(target=target)
        th.start()
        while th.is_alive():
            self.poll()
            time.sleep(0.05)
        th.join()
        if "e" in out:
            raise out["e"]
        return out["r"]


@contextlib.contextmanager
def cpu_priority():
    """Runs what the test starts ahead of other work on the machine (when allowed to), so that a
    5 s timeout is reached inside the hung call, not while the JVM is still starting on a busy
    machine."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    except OSError:
        pass
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)


def live_in_groups(pgids: set[int]) -> list[str]:
    """Processes (not zombies) still in one of the process groups."""
    alive = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) in pgids and fields[0] != "Z":
            try:
                cmdline = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                cmdline = "?"
            alive.append(f"{d.name} {fields[0]} {cmdline}")
    return alive


# --- lc_scheduler ----------------------------------------------------------------------------


def test_scheduler_pause_twice_check_mode_then_resume(cell, tmp_path):
    assert cell.status()["scheduler"][TASK] == "SCHEDULED"
    run = run_playbook(play(
        task("Pause the replay", "lc_scheduler", cell, state="paused"),
        task("Pause the replay again", "lc_scheduler", cell, state="paused"),
    ), tmp_path)
    assert_ok(run, "Pause the replay", "Pause the replay again")
    first, second = run.task("Pause the replay"), run.task("Pause the replay again")
    assert (first["changed"], first["failed"], first["msg"]) == (
        True, False, f"{TASK} paused: SCHEDULED -> SUSPENDED")
    assert (first["status_before"], first["status"], first["scheduler_object"]) == (
        "SCHEDULED", "SUSPENDED", "CommunitiesScheduler")
    assert first["next_fire_time"]
    assert (second["changed"], second["failed"], second["msg"]) == (
        False, False, f"{TASK} left as it was: SUSPENDED -> SUSPENDED")
    status = cell.status()
    assert status["scheduler"] == {TASK: "SUSPENDED", "EventLogCleanup": "SCHEDULED"}
    assert status["launches"] == 2
    assert status["calls"]["CommunitiesScheduler.pauseSchedulingTask"] == 1

    # Check mode reads the task (one launch per call) and changes nothing.
    before = cell.state_bytes()
    run = run_playbook(play(
        task("Resume the replay", "lc_scheduler", cell, state="resumed"),
    ), tmp_path, check=True)
    assert_ok(run, "Resume the replay")
    predicted = run.task("Resume the replay")
    assert (predicted["changed"], predicted["failed"], predicted["msg"]) == (
        True, False, f"{TASK} resumed: SUSPENDED -> SCHEDULED")
    assert (predicted["status_before"], predicted["status"]) == ("SUSPENDED", "SCHEDULED")
    assert cell.state_bytes() == before
    status = cell.status()
    assert status["scheduler"][TASK] == "SUSPENDED"
    assert status["launches"] == 3
    assert "CommunitiesScheduler.resumeSchedulingTask" not in status["calls"]

    run = run_playbook(play(
        task("Resume the replay", "lc_scheduler", cell, state="resumed"),
        task("Resume the replay again", "lc_scheduler", cell, state="resumed"),
    ), tmp_path)
    assert_ok(run, "Resume the replay", "Resume the replay again")
    resumed = run.task("Resume the replay")
    # The prediction was the real outcome.
    for key in ("changed", "failed", "msg", "status_before", "status"):
        assert resumed[key] == predicted[key], key
    again = run.task("Resume the replay again")
    assert (again["changed"], again["failed"], again["msg"]) == (
        False, False, f"{TASK} left as it was: SCHEDULED -> SCHEDULED")
    status = cell.status()
    assert status["scheduler"][TASK] == "SCHEDULED"
    assert status["launches"] == 5
    assert status["calls"]["CommunitiesScheduler.resumeSchedulingTask"] == 1


# --- lc_queue --------------------------------------------------------------------------------


def test_queue_clear_by_apps_resource_id_and_type(cell_factory, tmp_path):
    cell = cell_factory("queue", "--communities", 200)
    cell.damage("communities", "Blog", backup_age=30)
    events = world(cell)["queue"]
    community = [e for e in events if e["resource_type"] == "community"]
    assert len(community) < len(events), "the damage must leave events of another resource type"
    by_app = count_by_app(events)
    assert queue_of(cell) == by_app
    # The two apps with the most events, a community with events of the other apps.
    apps = sorted(sorted(by_app, key=lambda a: -by_app[a])[:2], key=APPS.index)
    rest = [e for e in community if e["app"] not in apps]
    per_id: dict[str, int] = {}
    for e in rest:
        per_id[e["resource_id"]] = per_id.get(e["resource_id"], 0) + 1
    uuid = max(per_id, key=lambda u: per_id[u])
    of_apps = count_by_app([e for e in events if e["app"] in apps])
    of_uuid = count_by_app([e for e in rest if e["resource_id"] == uuid])
    of_type = count_by_app(community)
    after_apps = count_by_app([e for e in events if e["app"] not in apps])
    after_uuid = count_by_app([e for e in events if e["app"] not in apps
                               and not (e["resource_type"] == "community" and e["resource_id"] == uuid)])
    left = count_by_app([e for e in events if e["app"] not in apps and e["resource_type"] != "community"])
    of_type_left = count_by_app([e for e in events if e["app"] not in apps
                                 and e["resource_type"] == "community" and e["resource_id"] != uuid])
    total = sum(by_app.values())

    # Check mode: what each scope would clear, counted from the cell's ground truth.
    state = cell.state_bytes()
    run = run_playbook(play(
        task("Read the queue", "lc_queue", cell),
        task("Clear two apps", "lc_queue", cell, state="cleared", remote_apps=apps),
        task("Clear one community", "lc_queue", cell, state="cleared", resource_id=uuid),
        task("Clear every community event", "lc_queue", cell, state="cleared",
             resource_type="community"),
    ), tmp_path, check=True)
    assert_ok(run, "Read the queue", "Clear two apps", "Clear one community",
              "Clear every community event")
    read = run.task("Read the queue")
    assert (read["changed"], read["failed"], read["msg"]) == (False, False, f"{total} queued events")
    assert read["queued_before"] == read["queued_after"] == by_app
    assert "cleared" not in read
    expected = {
        "Clear two apps": (of_apps, f"would clear {sum(of_apps.values())} queued events"),
        "Clear one community": (
            count_by_app([e for e in community if e["resource_id"] == uuid]),
            f"would clear {sum(1 for e in community if e['resource_id'] == uuid)} queued events of community {uuid}"),
        "Clear every community event": (
            of_type, f"would clear {len(community)} queued community events"),
    }
    for name, (cleared, msg) in expected.items():
        r = run.task(name)
        assert (r["changed"], r["failed"], r["msg"]) == (True, False, msg), name
        assert (r["cleared"], r["cleared_total"]) == (cleared, sum(cleared.values())), name
        assert r["queued_before"] == r["queued_after"] == by_app, name
    assert cell.state_bytes() == state
    assert cell.launches() == 4

    run = run_playbook(play(
        task("Clear two apps", "lc_queue", cell, state="cleared", remote_apps=apps),
        task("Clear two apps again", "lc_queue", cell, state="cleared", remote_apps=apps),
        task("Clear one community", "lc_queue", cell, state="cleared", resource_id=uuid),
        task("Clear every community event", "lc_queue", cell, state="cleared",
             resource_type="community"),
    ), tmp_path)
    names = ["Clear two apps", "Clear two apps again", "Clear one community",
             "Clear every community event"]
    assert_ok(run, *names)
    n_apps, n_uuid = sum(of_apps.values()), sum(of_uuid.values())
    n_type = sum(of_type_left.values())
    joined = ", ".join(apps)
    cases = [
        ("Clear two apps", True, of_apps, by_app, after_apps,
         f"cleared {n_apps} queued events of {joined}; {total - n_apps} events of other applications remain queued"),
        ("Clear two apps again", False, {}, after_apps, after_apps,
         f"cleared 0 queued events of {joined}; {total - n_apps} events of other applications remain queued"),
        ("Clear one community", True, of_uuid, after_apps, after_uuid,
         f"cleared {n_uuid} queued events of community {uuid}; {total - n_apps - n_uuid} other events remain queued"),
        ("Clear every community event", True, of_type_left, after_uuid, left,
         f"cleared {n_type} queued community events; {sum(left.values())} events of other resource types remain queued"),
    ]
    for name, changed, cleared, before, after, msg in cases:
        r = run.task(name)
        assert (r["changed"], r["failed"], r["msg"]) == (changed, False, msg), name
        if name.startswith("Clear two apps"):
            cleared = {a: cleared.get(a, 0) for a in apps}
        assert (r["cleared"], r["cleared_total"]) == (cleared, sum(cleared.values())), name
        assert (r["queued_before"], r["queued_after"]) == (before, after), name
    # The cell agrees: the two apps have nothing left, the others only events of another type.
    assert queue_of(cell) == left
    assert all(a not in left for a in apps)
    assert cell.launches() == 4 + 4


# --- lc_export -------------------------------------------------------------------------------


def test_export_every_app_idempotent_check_mode_and_reports_accept_it(cell, tmp_path):
    dest, planned = tmp_path / "exports", tmp_path / "planned"
    run = run_playbook(play(
        task("Export every application", "lc_export", cell, dest_dir=str(dest)),
        task("Export every application again", "lc_export", cell, dest_dir=str(dest)),
        task("Plan an export", "lc_export", cell, dest_dir=str(planned), check_mode=True),
    ), tmp_path)
    assert_ok(run, "Export every application", "Export every application again", "Plan an export")
    status = cell.status()
    total = sum(status["resources"].values())
    first = run.task("Export every application")
    assert (first["changed"], first["failed"], first["msg"]) == (
        True, False, f"exported 7 application(s), {total} resources, to {dest}")
    assert first["skipped_applications"] == []
    assert "skipped" not in first
    again = run.task("Export every application again")
    assert (again["changed"], again["failed"], again["msg"]) == (False, False, first["msg"])
    assert_exports(again, dest, APPS, False, status)
    for a, b in zip(first["exports"], again["exports"]):
        assert {**a, "changed": False} == b
    assert not [p for p in dest.iterdir() if p.name.startswith(".") or p.name.endswith(".partial")]
    # Check mode: the plan, and nothing written or started.
    plan = run.task("Plan an export")
    assert (plan["changed"], plan["failed"], plan["msg"]) == (
        True, False, f"would export 7 application(s) to {planned}")
    assert [(e["application"], e["path"]) for e in plan["exports"]] == [
        (a, f"{planned}/{a}.xml") for a in APPS]
    assert not planned.exists()
    assert status["launches"] == 2

    generate_sync_reports(cell, [dest / f"{a}.xml" for a in APPS], tmp_path / "reports")

    # An export that differs from the one it replaces is a change: one of the same size with a
    # byte changed (the hash decides), one a byte longer (the size does).
    blog, wiki = dest / "Blog.xml", dest / "Wiki.xml"
    blog.write_bytes(blog.read_bytes().replace(b"<syncedResources", b"<syncedResourceZ", 1))
    wiki.write_bytes(wiki.read_bytes() + b"\n")
    run = run_playbook(play(task("Export over changed files", "lc_export", cell, dest_dir=str(dest))),
                       tmp_path / "third")
    assert_ok(run, "Export over changed files")
    third = run.task("Export over changed files")
    assert (third["changed"], third["failed"], third["msg"]) == (True, False, first["msg"])
    assert [(e["application"], e["changed"]) for e in third["exports"]] == [
        (a, a in ("Blog", "Wiki")) for a in APPS]
    assert [e["sha256"] for e in third["exports"]] == [e["sha256"] for e in first["exports"]]


def test_lc25_cell_scheduler_fallback_queue_and_export(cell_factory, tmp_path):
    cell = cell_factory("lc25", "--communities", 60, "--version", "lc25")
    assert cell.info["apps"] == LC25_APPS
    cell.damage("communities", "Blog", backup_age=30)
    # The lc25 cell defines both scheduler names. A profile folder whose communitiesAdmin.py
    # defines only the 2.5 one (CommunitiesSchedulerService), beside the cell's own wsadmin.sh,
    # makes the scripts take their fallback. (The cell rewrites the scripts of its own profile at
    # every launch, so they cannot be edited in place.)
    bin_dir = Path(cell.info["profile_bin"])
    legacy = tmp_path / "legacy-profile" / "bin"
    legacy.mkdir(parents=True)
    shutil.copy2(bin_dir / "wsadmin.sh", legacy / "wsadmin.sh")
    lines = (bin_dir / "communitiesAdmin.py").read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.lstrip().startswith('("CommunitiesScheduler",')]
    assert len(kept) == len(lines) - 1 and any("CommunitiesSchedulerService" in line for line in kept)
    (legacy / "communitiesAdmin.py").write_text("".join(kept))
    legacy_wsadmin = str(legacy / "wsadmin.sh")

    community = count_by_app([e for e in world(cell)["queue"] if e["resource_type"] == "community"])
    dest = tmp_path / "exports"
    run = run_playbook(play(
        task("Pause the replay", "lc_scheduler", cell, state="paused", wsadmin_path=legacy_wsadmin),
        task("Clear the community events", "lc_queue", cell, state="cleared",
             resource_type="community"),
        task("Export every application", "lc_export", cell, dest_dir=str(dest)),
        task("Resume the replay", "lc_scheduler", cell, state="resumed",
             wsadmin_path=legacy_wsadmin),
        task("Read the replay task", "lc_scheduler", cell),
    ), tmp_path)
    names = ["Pause the replay", "Clear the community events", "Export every application",
             "Resume the replay", "Read the replay task"]
    assert_ok(run, *names)
    read = run.task("Read the replay task")
    assert (read["status"], read["scheduler_object"]) == ("SCHEDULED", "CommunitiesScheduler")
    paused, resumed = run.task("Pause the replay"), run.task("Resume the replay")
    assert (paused["changed"], paused["msg"], paused["scheduler_object"]) == (
        True, f"{TASK} paused: SCHEDULED -> SUSPENDED", "CommunitiesSchedulerService")
    assert (resumed["changed"], resumed["msg"], resumed["scheduler_object"]) == (
        True, f"{TASK} resumed: SUSPENDED -> SCHEDULED", "CommunitiesSchedulerService")
    cleared = run.task("Clear the community events")
    assert (cleared["changed"], cleared["cleared"]) == (True, community)
    assert cleared["cleared_total"] == sum(community.values())

    exported = run.task("Export every application")
    status = cell.status()
    total = sum(status["resources"].values())
    assert (exported["changed"], exported["failed"], exported["msg"]) == (
        True, False,
        f"exported 4 application(s), {total} resources, to {dest}; left out: IdeationBlog, Forum, StatusUpdates")
    assert_exports(exported, dest, LC25_APPS, True, status)
    skipped = exported["skipped_applications"]
    assert [s["application"] for s in skipped] == ["IdeationBlog", "Forum", "StatusUpdates"]
    assert skipped[0]["reason"].startswith("export failed: ")
    assert 'unknown remoteAppDefId "IdeationBlog"' in skipped[0]["reason"]
    assert skipped[1:] == [
        {"application": "Forum", "reason": "forumsAdmin.py is not in this profile"},
        {"application": "StatusUpdates", "reason": "newsAdmin.py is not in this profile"}]

    assert status["scheduler"][TASK] == "SCHEDULED"
    assert status["calls"]["CommunitiesSchedulerService.pauseSchedulingTask"] == 1
    assert status["calls"]["CommunitiesSchedulerService.resumeSchedulingTask"] == 1
    assert [k for k in status["calls"] if k.startswith("CommunitiesScheduler.")] == [
        "CommunitiesScheduler.getTaskDetails"]
    assert {a: n for a, n in status["queue"].items() if n} == count_by_app(
        [e for e in world(cell)["queue"]])
    assert status["launches"] == 5


# --- where the admin scripts are ---------------------------------------------------------------


def profile_elsewhere(cell: Cell, root: Path, scripts_to: str | None) -> tuple[Path, str]:
    """A Deployment Manager profile of the cell's under root (``Dmgr01/bin/wsadmin.sh``, the
    cell's own stand-in) whose bin/ holds no admin script: they are copied to ``scripts_to``
    (relative to the profile, or absolute), or nowhere. lc-sim keeps the scripts of the cell's
    own profile in its bin/, so a test of other places uses a profile of its own. Returns the
    folder the scripts are in and the wsadmin path."""
    bin_dir = Path(cell.wsadmin_path).parent
    profile = root / "Dmgr01"
    (profile / "bin").mkdir(parents=True)
    shutil.copy2(bin_dir / "wsadmin.sh", profile / "bin" / "wsadmin.sh")
    dest = profile / (scripts_to or "nowhere")
    if scripts_to:
        dest.mkdir(parents=True, exist_ok=True)
        names = sorted(p.name for p in bin_dir.glob("*Admin.py"))
        assert "communitiesAdmin.py" in names and len(names) == 7, names
        for n in names:
            shutil.copy2(bin_dir / n, dest / n)
    assert not list((profile / "bin").glob("*.py"))
    return dest, str(profile / "bin" / "wsadmin.sh")


@pytest.mark.parametrize("where", ["config/bin_lc_admin", "admin_scripts_dir"])
def test_admin_scripts_outside_bin_are_found(cell_factory, tmp_path, where):
    """The scripts only in the profile's config/bin_lc_admin/ (where Connections installs them),
    or only in a folder outside the profile given as admin_scripts_dir: the modules find them, in
    the real run and in check mode."""
    cell = cell_factory("cell", "--communities", 30)
    if where == "admin_scripts_dir":
        dest, wsadmin = profile_elsewhere(cell, tmp_path / "was", str(tmp_path / "lc-admin-scripts"))
        extra = {"wsadmin_path": wsadmin, "admin_scripts_dir": str(dest)}
    else:
        dest, wsadmin = profile_elsewhere(cell, tmp_path / "was", "config/bin_lc_admin")
        extra = {"wsadmin_path": wsadmin}
    out, plan = tmp_path / "exports", tmp_path / "plan"
    run = run_playbook(play(
        task("Read the replay task", "lc_scheduler", cell, **extra),
        task("Plan the export", "lc_export", cell, dest_dir=str(plan), check_mode=True, **extra),
        task("Export every application", "lc_export", cell, dest_dir=str(out), **extra),
    ), tmp_path / "run")
    assert_ok(run, "Read the replay task", "Plan the export", "Export every application")
    assert run.task("Read the replay task")["status"] == "SCHEDULED"
    planned = run.task("Plan the export")
    assert [e["application"] for e in planned["exports"]] == APPS
    assert planned["skipped_applications"] == []
    exported = run.task("Export every application")
    status = cell.status()
    total = sum(status["resources"].values())
    assert (exported["changed"], exported["msg"]) == (
        True, f"exported 7 application(s), {total} resources, to {out}")
    assert_exports(exported, out, APPS, True, status)
    assert exported["skipped_applications"] == []
    assert status["launches"] == 2


def test_a_missing_admin_script_names_every_place_looked_in(cell_factory, tmp_path):
    """No admin script in bin/, config/bin_lc_admin/ or admin_scripts_dir: one line naming every
    folder looked in; a default export plans to leave every application out."""
    cell = cell_factory("cell", "--communities", 10)
    _, wsadmin = profile_elsewhere(cell, tmp_path / "was", None)
    bin_dir = Path(wsadmin).parent
    custom = tmp_path / "custom"
    custom.mkdir()
    _, r = run_faulty(cell, tmp_path / "a", task("Read the replay task", "lc_scheduler", cell,
                                                 wsadmin_path=wsadmin,
                                                 admin_scripts_dir=str(custom) + "/"))
    assert r["msg"] == (
        f"the admin script communitiesAdmin.py is in none of {bin_dir}, "
        f"{bin_dir.parent}/config/bin_lc_admin, {custom}: wsadmin_path must be the wsadmin.sh of "
        "the Deployment Manager profile where Connections installed its admin scripts, or "
        "admin_scripts_dir the folder that holds them")
    _, r = run_faulty(cell, tmp_path / "b", task("Export every application", "lc_export", cell,
                                                 wsadmin_path=wsadmin,
                                                 dest_dir=str(tmp_path / "exports")))
    assert r["msg"] == (
        f"the admin script communitiesAdmin.py is in none of {bin_dir}, "
        f"{bin_dir.parent}/config/bin_lc_admin: wsadmin_path must be the wsadmin.sh of "
        "the Deployment Manager profile where Connections installed its admin scripts, or "
        "admin_scripts_dir the folder that holds them")
    # A bad admin_scripts_dir is refused before wsadmin starts.
    launches = cell.launches()
    run = run_playbook(play(task("Read with a relative folder", "lc_scheduler", cell,
                                 ignore_errors=True, admin_scripts_dir="lc/admin")), tmp_path / "c")
    r = run.task("Read with a relative folder")
    assert (r["failed"], r["msg"]) == (True, 'admin_scripts_dir must be an absolute path, got "lc/admin"')
    assert cell.launches() == launches


# --- faults: one clear line, nothing left behind ----------------------------------------------


def run_faulty(cell: Cell, tmp_path: Path, t: dict, **kw):
    """Runs one task expected to fail, keeping the task directories; checks the one launch and
    that no generated file is left in the task directory or /tmp."""
    leftovers = tmp_leftovers()
    launches = cell.launches()
    run = run_playbook(play(t), tmp_path, env=kept_files_env(tmp_path), **kw)
    result = run.task(t["name"])
    assert run.status(t["name"]) == "failed", run.stdout
    assert (result["changed"], result["failed"]) == (False, True)
    assert cell.launches() == launches + 1
    assert_task_dirs_clean(tmp_path, cell.password)
    assert tmp_leftovers() <= leftovers
    return run, result


def test_dmgr_down(cell, tmp_path):
    cell.fault("--refuse")
    before = cell.state_bytes()
    _, r = run_faulty(cell, tmp_path, task("Pause the replay", "lc_scheduler", cell, state="paused"))
    assert r["msg"] == (
        'cannot connect to the Deployment Manager at localhost:8879: is the dmgr running and are '
        'host, port and conntype right? (WASX7023E: Error creating "SOAP" connection to host '
        '"localhost"; exception information: com.ibm.websphere.management.exception.'
        'ConnectorNotAvailableException: [SOAPException: faultCode=SOAP-ENV:Client; msg=Error '
        'opening socket: java.net.ConnectException: Connection refused; targetException=java.lang.'
        'IllegalArgumentException: Error opening socket: java.net.ConnectException: Connection '
        'refused] ADMC0016E: The system cannot create a SOAP connector to connect to host '
        'localhost at port 8879.)')
    assert "\n" not in r["msg"]
    assert cell.state_bytes() == before


def test_wrong_password(cell, tmp_path):
    before = cell.state_bytes()
    wrong = "not-" + cell.password
    run, r = run_faulty(cell, tmp_path, task("Clear the community events", "lc_queue", cell,
                                             state="cleared", resource_type="community",
                                             password=wrong))
    assert r["msg"] == ('the Deployment Manager at localhost:8879 refused the credentials of user '
                        '"wasadmin" (WASX7246E): check user and password')
    assert r["rc"] == 103
    assert wrong not in run.stdout + run.stderr + json.dumps(r)
    assert_task_dirs_clean(tmp_path, wrong)
    assert cell.state_bytes() == before


def test_call_that_raises_leaves_no_export(cell, tmp_path):
    cell.fault("--fail", "BlogsAdminService.exportSyncedResourceInfo")
    dest = tmp_path / "exports"
    _, r = run_faulty(cell, tmp_path, task("Export three applications", "lc_export", cell,
                                           applications=["Activities", "Blog", "Files"],
                                           dest_dir=str(dest)))
    assert r["msg"] == (
        "BlogsAdminService.exportSyncedResourceInfo(Blog) failed: com.ibm.websphere.management."
        "exception.AdminException: BlogsAdminService.exportSyncedResourceInfo failed on the "
        "server (fault injected by lc-sim)")
    assert r["rc"] == 105
    # Activities was exported before Blog raised: its partial file is gone too.
    assert cell.status()["calls"]["ActivityService.exportSyncedResourceInfo"] == 1
    assert list(dest.iterdir()) == []


def test_hung_call_hits_the_timeout(cell, tmp_path):
    # The first admin call hangs; 15 s leaves a slow Jython start-up on a busy machine time to reach it.
    cell.fault("--hang", "ActivityService.exportSyncedResourceInfo")
    dest = tmp_path / "exports"
    watch = ProcessWatch(cell)
    started = time.monotonic()
    with cpu_priority():
        _, r = watch.run(lambda: run_faulty(cell, tmp_path, task(
            "Export two applications", "lc_export", cell, applications=["Activities", "Blog"],
            dest_dir=str(dest), timeout=15)))
    assert time.monotonic() - started < 60
    assert r["msg"] == (
        "wsadmin did not finish within 15 s and was stopped; ActivityService.exportSyncedResourceInfo"
        "(Activities) may still be running on the server: check it before running again")
    assert r["timed_out"] is True
    assert cell.status()["calls"] == {"ActivityService.exportSyncedResourceInfo": 1}
    assert list(dest.iterdir()) == []
    # wsadmin, Jython and the hung call were seen, and their process group is gone.
    assert watch.cell_pids, f"no process of the cell seen in {watch.polls} polls"
    groups = set(watch.cell_pids.values())
    deadline = time.monotonic() + 5
    while live_in_groups(groups) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_in_groups(groups) == []


def test_unknown_app_ids_and_relative_dest_dir_are_rejected_before_wsadmin(cell, tmp_path):
    state = cell.state_bytes()
    run = run_playbook(play(
        task("Clear a misspelt app", "lc_queue", cell, state="cleared", remote_apps=["Blog", "Blogs"],
             ignore_errors=True),
        task("Export a lower-case app", "lc_export", cell, applications=["files"],
             dest_dir=str(tmp_path / "exports"), ignore_errors=True),
        task("Export to a relative folder", "lc_export", cell, dest_dir="exports",
             ignore_errors=True),
    ), tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    expected = {
        "Clear a misspelt app":
            f'remote_apps: unknown application id "Blogs"; known ids (case-sensitive): {KNOWN_IDS}',
        "Export a lower-case app":
            f'applications: unknown application id "files"; known ids (case-sensitive): {KNOWN_IDS}',
        "Export to a relative folder": 'dest_dir must be an absolute path, got "exports"',
    }
    for name, msg in expected.items():
        r = run.task(name)
        assert (r["changed"], r["failed"], r["msg"]) == (False, True, msg), name
    assert not (tmp_path / "exports").exists() and not (REPO / "exports").exists()
    assert cell.launches() == 0
    assert cell.state_bytes() == state


def test_injection_attempts_are_rejected_before_wsadmin(cell, tmp_path):
    state = cell.state_bytes()
    leftovers = tmp_leftovers()
    app = 'Blog")\nCommunitiesQEventService.clearQueuedEventsByResourceType("community'
    uuid = 'x"); CommunitiesQEventService.clearQueuedEventsByResourceType("community")'
    quoted = '/tmp/x"); import os; os.system("touch /tmp/lcr-pwned'
    newline = "/tmp/exports\nCommunitiesQEventService.clearQueuedEventsByResourceType('community')"
    dots = "/tmp/../etc/exports"
    host = "localhost -c print"
    cases = [
        (task("An app id with a newline", "lc_queue", cell, state="cleared", remote_apps=[app]),
         f"remote_apps: unknown application id {rust_debug(app)}; known ids (case-sensitive): {KNOWN_IDS}"),
        (task("An export app id with quotes", "lc_export", cell, applications=['Blog"', "Wiki"],
              dest_dir=str(tmp_path / "exports")),
         f"applications: unknown application id {rust_debug('Blog' + chr(34))}; known ids (case-sensitive): {KNOWN_IDS}"),
        (task("A resource id that is no UUID", "lc_queue", cell, state="cleared", resource_id=uuid),
         f"resource_id must be a community UUID, got {rust_debug(uuid)}"),
        (task("A folder with quotes", "lc_export", cell, dest_dir=quoted),
         f"dest_dir must not contain quotes, '`' or '$', got {rust_debug(quoted)}"),
        (task("A folder with a newline", "lc_export", cell, dest_dir=newline),
         f"dest_dir must be one printable line, got {rust_debug(newline)} (holds '\\n')"),
        (task("A folder with ..", "lc_export", cell, dest_dir=dots),
         f"dest_dir must not contain '..', got {rust_debug(dots)}"),
        (task("A task name with quotes", "lc_scheduler", cell, state="paused", task=TASK + '")'),
         f"value of task must be one of: LifecycleRetryQueuedEvents, EventLogCleanup, got: {TASK}\")"),
        (task("A host with a flag", "lc_scheduler", cell, host=host),
         f"host must be a host name or an IP address, got {rust_debug(host)}"),
    ]
    for t, _ in cases:
        t["ignore_errors"] = True
    run = run_playbook(play(*(t for t, _ in cases)), tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    for t, msg in cases:
        r = run.task(t["name"])
        assert (r["changed"], r["failed"], r["msg"]) == (False, True, msg), t["name"]
    assert cell.launches() == 0
    assert cell.state_bytes() == state
    assert not Path("/tmp/lcr-pwned").exists() and not (tmp_path / "exports").exists()
    assert tmp_leftovers() <= leftovers


# --- secrets ---------------------------------------------------------------------------------


def test_password_never_shown(cell, tmp_path):
    """While wsadmin runs (a hung call keeps it running) the password is in no process's command
    line or environment; it is in no result, nowhere in -vvv output, and in no file of the kept
    task directories."""
    cell.fault("--hang", "CommunitiesQEventService.clearQueuedEventsByResourceType")
    watch = ProcessWatch(cell, cell.password)
    run = watch.run(lambda: run_playbook(play(
        task("Read the replay task", "lc_scheduler", cell),
        task("Clear the community events", "lc_queue", cell, state="cleared",
             resource_type="community", timeout=5, ignore_errors=True),
    ), tmp_path, args=["-vvv"], env=kept_files_env(tmp_path)))
    assert run.rc == 0, run.stdout + run.stderr
    assert run.status("Read the replay task") == "ok"
    hung = run.task("Clear the community events")
    assert hung["failed"] and hung["timed_out"], hung
    assert watch.cell_pids, f"no wsadmin process seen in {watch.polls} polls"
    assert watch.exposed == []
    assert cell.password not in run.stdout + run.stderr
    assert cell.password not in json.dumps(run.results)
    for r in run.results:
        assert r["result"]["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.stdout  # -vvv printed the invocations
    assert_task_dirs_clean(tmp_path, cell.password)
    for p in (tmp_path / "local").rglob("*"):
        if p.is_file():
            assert cell.password.encode() not in p.read_bytes(), p
    assert cell.launches() == 2


# --- documentation ---------------------------------------------------------------------------


def test_ansible_doc(built):
    names = ["connections.dr.lc_scheduler", "connections.dr.lc_queue", "connections.dr.lc_export"]
    env = ansible_env()
    proc = subprocess.run([str(VENV_BIN / "ansible-doc"), "--json", *names], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    own = {"lc_scheduler": {"task", "state"},
           "lc_queue": {"state", "remote_apps", "resource_type", "resource_id"},
           "lc_export": {"applications", "dest_dir", "request_timeout"}}
    common = {"wsadmin_path", "host", "port", "conntype", "user", "password", "service_index",
              "timeout", "java_options", "admin_scripts_dir"}
    for name in names:
        doc = docs[name]["doc"]
        short = name.rsplit(".", 1)[1]
        assert doc["module"] == short
        assert set(doc["options"]) == own[short] | common, name
        assert doc["attributes"]["check_mode"]["support"] == "full"
    assert "skipped_applications" in docs["connections.dr.lc_export"]["return"]
    assert "skipped" not in docs["connections.dr.lc_export"]["return"]
    assert docs["connections.dr.lc_scheduler"]["doc"]["options"]["state"]["choices"] == [
        "paused", "resumed", "status"]
    text = subprocess.run([str(VENV_BIN / "ansible-doc"), "connections.dr.lc_queue"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)
    assert text.returncode == 0, text.stderr
    assert "clearQueuedEventsByResourceType" in text.stdout and "remote_apps" in text.stdout
