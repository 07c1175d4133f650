"""connections.dr.lc_resync through real ansible-playbook against cells made by lc-sim: the
resync of the communities in the differences reports (a fresh export and report afterwards show
only what resync cannot fix, as the cell's truth says), the resume of an interrupted run without
repeating a call, the refusals of the documented preconditions, one wsadmin launch per module call,
and recover.yml with lc_contact_mode resync and owners."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO, VENV_BIN, Cell, PlaybookRun, Poller, ansible_env, binary, lc_sim, play, run_playbook
from test_recover import messages_by_owner, owners_of, report_cut_short

TASK = "LifecycleRetryQueuedEvents"
SERVICE = "CommunitiesRemoteAppService"
FAULT = ("com.ibm.ws.scripting.ScriptingException: com.ibm.websphere.management.exception."
         "AdminException: {call} failed on the server (fault injected by lc-sim)")
# What resync brings in step (admin-surface.md §7): visibility and theme everywhere, moderation
# only for Files, Forums and Blogs (the simulated cell counts Ideation Blogs as blogs).
MODERATION_SYNCED = {"Files", "Forum", "Blog", "IdeationBlog"}


def task(name: str, module: str, cell: Cell | None = None, *, ignore_errors: bool = False,
         check_mode: bool | None = None, register: str | None = None, **opts) -> dict:
    """One task of a connections.dr module; ``cell`` adds its wsadmin options."""
    t = {"name": name, f"connections.dr.{module}": {**(cell.wsadmin() if cell else {}), **opts}}
    if ignore_errors:
        t["ignore_errors"] = True
    if check_mode is not None:
        t["check_mode"] = check_mode
    if register:
        t["register"] = register
    return t


def with_python(plays: list[dict]) -> list[dict]:
    """The plays, with the controller's Python for the (few) Python modules they run."""
    for p in plays:
        p.setdefault("vars", {})["ansible_python_interpreter"] = "{{ ansible_playbook_python }}"
    return plays


def tick(cell: Cell) -> dict:
    """The replay task fires: the cell replays what is queued (unless the task is suspended)."""
    return {"name": "The replay task fires", "ansible.builtin.command": {
        "argv": [str(binary("lc-sim")), "tick", str(cell.root)]}, "changed_when": False}


def resync_calls(cell: Cell) -> dict[str, int]:
    return cell.status()["resync_calls"]


def calls(cell: Cell, method: str) -> int:
    return cell.status()["calls"].get(f"{SERVICE}.{method}", 0)


def diff_key(d: dict) -> tuple:
    return (d["application"], d["community_uuid"], d["field"], d["communities_value"],
            d["application_value"])


def resync_cannot_fix(d: dict) -> bool:
    """A difference that resync does not touch by documentation."""
    return d["field"] == "name" or (d["field"] == "moderation"
                                    and d["application"] not in MODERATION_SYNCED)


def runbook_until_resume(cell: Cell, tmp_path: Path) -> list[dict]:
    """Steps 2-6 of the runbook (pause, clear, export, reports, resume), then the replay fires."""
    return [
        task("Pause the replay", "lc_scheduler", cell, task=TASK, state="paused"),
        task("Clear the queue", "lc_queue", cell, state="cleared", resource_type="community"),
        task("Export", "lc_export", cell, dest_dir=str(tmp_path / "exports"), register="export"),
        task("Report", "lc_sync_report", cell, register="sync",
             exports="{{ export.exports | map(attribute='path') | list }}",
             output_dir=str(tmp_path / "reports")),
        task("Resume the replay", "lc_scheduler", cell, task=TASK, state="resumed"),
        tick(cell),
    ]


def report_again(cell: Cell, tmp_path: Path) -> list[dict]:
    return [
        task("Export again", "lc_export", cell, dest_dir=str(tmp_path / "exports-after"),
             register="export_after"),
        task("Report again", "lc_sync_report", cell,
             exports="{{ export_after.exports | map(attribute='path') | list }}",
             output_dir=str(tmp_path / "reports-after")),
    ]


def assert_only_what_resync_cannot_fix(cell: Cell, report: dict) -> None:
    truth = cell.truth()["differences"]
    assert sorted(map(diff_key, report["differences"])) == sorted(map(diff_key, truth))
    assert [d for d in truth if not resync_cannot_fix(d)] == []


def community_uuids(cell: Cell) -> list[str]:
    """Every community of the cell, in the order its all-communities passes go."""
    return sorted(json.loads((cell.root / "state" / "world.json").read_text())["communities"])


def drained(cell: Cell) -> Cell:
    """The damaged cell once the replay task has fired: an empty queue, the task scheduled."""
    lc_sim("tick", cell.root)
    assert cell.status()["queue_total"] == 0
    return cell


# --- the resync of the communities to contact --------------------------------------------------


def test_resync_of_the_communities_to_contact_leaves_only_what_resync_cannot_fix(cell, tmp_path):
    cell.damage("communities")
    state_dir = tmp_path / "state"
    run = run_playbook(with_python(play(
        *runbook_until_resume(cell, tmp_path),
        task("Resync", "lc_resync", cell, communities="{{ sync.communities_to_contact }}",
             share_repair=["Files", "Activities"], state_dir=str(state_dir)),
        *report_again(cell, tmp_path),
    )), tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    contacts = run.task("Report")["communities_to_contact"]
    assert contacts
    pairs = sum(len(c["applications"]) for c in contacts)
    result = run.task("Resync")
    assert (result["changed"], result["failed"]) == (True, False)
    assert result["msg"] == (f"{pairs + 2} calls done ({len(contacts)} communities; "
                             "share repair of Files, Activities)")
    assert result["counts"] == {"done": pairs + 2, "failed": 0, "skipped": 0, "planned": 0,
                                "total": pairs + 2}
    assert result["resynced_communities"] == len(contacts)
    assert result["state_file"] is None and not any(state_dir.glob("*"))
    assert result["preconditions"] == {"task": TASK, "task_status": "SCHEDULED", "queued": {},
                                       "queued_total": 0, "met": True}
    first = result["outcomes"][0]
    assert first == {"call": f"{SERVICE}.resyncRemoteAppsForCommunityAndWidget",
                     "community_uuid": contacts[0]["uuid"], "community_name": contacts[0]["name"],
                     "application": contacts[0]["applications"][0], "status": "done",
                     "message": "resynced"}
    shares = result["outcomes"][-2:]
    synchronized = f"Synchronized the shares of {cell.status()['communities']} communities."
    assert [(o["call"], o["status"], o["message"]) for o in shares] == [
        ("FilesDataIntegrityService.syncAllCommunityShares", "done", synchronized),
        ("AccessControlService.syncAllCommunityShares", "done", synchronized),
    ]
    # Each community once per application that differed, nothing else.
    assert resync_calls(cell) == {c["uuid"]: len(c["applications"]) for c in contacts}
    assert calls(cell, "resyncRemoteAppsForCommunity") == 0

    before = run.task("Report")["differences"]
    assert [d for d in before if not resync_cannot_fix(d)], "the damage made no syncable difference"
    after = run.task("Report again")
    assert_only_what_resync_cannot_fix(cell, after)
    assert {d["field"] for d in after["differences"]} <= {"name", "moderation"}
    # One wsadmin launch per module call: pause, clear, export, report, resume, resync, export, report.
    assert cell.launches() == 8
    assert cell.status()["replayed"]["stale"] == 0


# --- resume after an interruption ---------------------------------------------------------------


def test_interrupted_resync_resumes_from_where_it_stopped_and_repeats_nothing(cell, tmp_path):
    cell.damage("communities")
    drained(cell)
    uuids = community_uuids(cell)[:12]
    cell.fault("--fail", "resyncRemoteAppsForCommunity", "--fail-nth", "5")
    state_dir = tmp_path / "state"
    resync = task("Resync", "lc_resync", cell, communities=uuids, state_dir=str(state_dir),
                  ignore_errors=True)
    run = run_playbook(play(resync), tmp_path)
    first = run.task("Resync")
    call = f"{SERVICE}.resyncRemoteAppsForCommunity"
    n = len(uuids)
    assert (first["changed"], first["failed"]) == (True, True)
    assert first["msg"] == (f"1 of {n} calls failed ({n - 1} done, 0 skipped); first: {call} "
                            f"{uuids[4]}: {FAULT.format(call=call)}")
    assert [o["status"] for o in first["outcomes"]] == ["done"] * 4 + ["failed"] + ["done"] * (n - 5)
    assert first["state_file"] == str(state_dir / "communities.json")
    kept = json.loads((state_dir / "communities.json").read_text())
    assert sorted(kept["done"]) == sorted(uuids[:4] + uuids[5:])
    assert not (state_dir / "communities.journal").exists()
    assert resync_calls(cell) == {u: 1 for u in uuids if u != uuids[4]}

    # The rerun makes only the call that failed.
    run = run_playbook(play(dict(resync, name="Resync again")), tmp_path)
    again = run.task("Resync again")
    assert (again["changed"], again["failed"]) == (True, False)
    assert again["msg"] == f"1 calls done ({n} communities); {n - 1} skipped (see outcomes)"
    assert [o["status"] for o in again["outcomes"]] == ["skipped"] * 4 + ["done"] + ["skipped"] * (n - 5)
    assert again["outcomes"][0]["message"] == "done by an earlier run of this request"
    assert again["resynced_communities"] == n
    assert again["state_file"] is None and not any(state_dir.iterdir())
    assert resync_calls(cell) == {u: 1 for u in uuids}
    assert cell.launches() == 2
    # Every call finished: the same request now starts afresh.
    run = run_playbook(play(dict(resync, name="Plan", check_mode=True)), tmp_path)
    assert run.task("Plan")["counts"]["planned"] == n


def test_interrupted_pass_over_every_community_restarts_after_the_last_processed(cell, tmp_path):
    drained(cell)
    apps = ["Blog", "Files", "Wiki"]
    state_dir = tmp_path / "state"
    state_file = state_dir / "all_communities.json"
    resync = task("Resync all", "lc_resync", cell, all_communities_for=apps,
                  state_dir=str(state_dir), ignore_errors=True)
    cell.fault("--fail", "resyncRemoteAppsForAllCommunities", "--fail-nth", "2")
    run = run_playbook(play(resync), tmp_path)
    first = run.task("Resync all")
    call = f"{SERVICE}.resyncRemoteAppsForAllCommunities"
    assert first["failed"] is True
    assert first["msg"] == (f"1 of 3 calls failed (2 done, 0 skipped); first: {call} Files: "
                            f"{FAULT.format(call=call)}")
    uuids = community_uuids(cell)
    blog, files, wiki = first["outcomes"]
    assert blog == {"call": call, "application": "Blog", "status": "done",
                    "message": "200 communities processed; Done.", "processed": 200,
                    "last_community_uuid": uuids[-1]}
    assert (files["status"], wiki["status"]) == ("failed", "done")
    kept = json.loads(state_file.read_text())
    assert (sorted(kept["done"]), kept["resume"]) == (["Blog", "Wiki"], {})

    # As a pass that broke off after printing its progress leaves it: restart after the 120th.
    kept["resume"] = {"Files": {"last_community_uuid": uuids[119], "processed": 120}}
    state_file.write_text(json.dumps(kept))
    cell.fault("--clear")
    plan = dict(resync, name="Plan the rerun", check_mode=True)
    run = run_playbook(play(plan, dict(resync, name="Resync all again")), tmp_path)
    planned = run.task("Plan the rerun")
    restart = f"{SERVICE}.restartResyncRemoteAppsForAllCommunities"
    assert planned["msg"] == ("would make 1 calls (every community for Blog, Files, Wiki, "
                              "2 done by an earlier run); the preconditions are checked when it runs")
    assert planned["outcomes"][1] == {
        "call": restart, "application": "Files", "status": "planned",
        "resumed_after": uuids[119],
        "message": f"restart after community {uuids[119]} (120 processed by an earlier run)"}
    again = run.task("Resync all again")
    assert (again["changed"], again["failed"]) == (True, False)
    assert again["outcomes"][1] == {
        "call": restart, "application": "Files", "status": "done", "resumed_after": uuids[119],
        "message": "200 communities processed; Done.", "processed": 200,
        "last_community_uuid": uuids[-1]}
    assert not state_file.exists()
    # Blog and Wiki once, Files once (failed) then restarted once; one launch per real run.
    assert calls(cell, "resyncRemoteAppsForAllCommunities") == 3
    assert calls(cell, "restartResyncRemoteAppsForAllCommunities") == 1
    assert cell.launches() == 2


def test_a_run_stopped_by_the_timeout_keeps_what_finished(cell, tmp_path):
    drained(cell)
    state_dir = tmp_path / "state"
    cell.fault("--hang", "FilesDataIntegrityService.syncAllCommunityShares")
    resync = task("Resync", "lc_resync", cell, all_communities_for=["Blog", "Forum"],
                  share_repair=["Files"], state_dir=str(state_dir), timeout=15,
                  ignore_errors=True)
    run = run_playbook(play(resync), tmp_path)
    stopped = run.task("Resync")
    assert (stopped["failed"], stopped["timed_out"]) == (True, True)
    assert stopped["msg"] == (
        f"the resync stopped part way (2 calls finished; {state_dir / 'all_communities.json'} keeps "
        "where it stopped: run again to go on): wsadmin did not finish within 15 s and was stopped; "
        "FilesDataIntegrityService.syncAllCommunityShares may still be running on the server: "
        "check it before running again")
    assert not (state_dir / "all_communities.journal").exists()
    cell.fault("--clear")
    run = run_playbook(play(dict(resync, name="Resync again")), tmp_path)
    again = run.task("Resync again")
    assert [o["status"] for o in again["outcomes"]] == ["skipped", "skipped", "done"]
    assert calls(cell, "resyncRemoteAppsForAllCommunities") == 2
    assert not any(state_dir.iterdir())


# --- preconditions ------------------------------------------------------------------------------


def test_refused_while_the_queue_is_not_empty_or_the_replay_is_suspended(cell, tmp_path):
    cell.damage("communities")
    queued = {a: n for a, n in cell.status()["queue"].items() if n}
    total = sum(queued.values())
    uuids = [c["uuid"] for c in cell.truth()["communities_to_contact"]]
    resync = task("Resync", "lc_resync", cell, communities=uuids, share_repair=["Files"],
                  state_dir=str(tmp_path / "state"), ignore_errors=True)
    queue_msg = (f"the replay queue is not empty ({total} queued events: "
                 + ", ".join(f"{a} {n}" for a, n in sorted(queued.items())) + ")")
    drain = "let the replay drain the queue or clear it (connections.dr.lc_queue)"
    resume = f"resume {TASK} (connections.dr.lc_scheduler, state resumed)"
    run = run_playbook(play(
        dict(resync, name="Resync with a full queue"),
        task("Pause the replay", "lc_scheduler", cell, task=TASK, state="paused"),
        dict(resync, name="Resync with a full queue and the replay paused"),
    ), tmp_path)
    full = run.task("Resync with a full queue")
    assert (full["changed"], full["failed"]) == (False, True)
    assert full["msg"] == f"refusing to resync: {queue_msg}; {drain}, then run again"
    assert full["preconditions"]["queued"] == queued
    assert full["outcomes"] == []
    both = run.task("Resync with a full queue and the replay paused")
    assert both["msg"] == (f"refusing to resync: {TASK} is SUSPENDED, not SCHEDULED and {queue_msg}; "
                           f"{resume}, {drain}, then run again")

    # The queue empty, the replay still paused.
    run = run_playbook(play(
        task("Clear the queue", "lc_queue", cell, state="cleared", resource_type="community"),
        task("Clear the rest", "lc_queue", cell, state="cleared", remote_apps=sorted(queued)),
        dict(resync, name="Resync with the replay paused"),
    ), tmp_path)
    paused = run.task("Resync with the replay paused")
    assert (paused["changed"], paused["failed"]) == (False, True)
    assert paused["msg"] == f"refusing to resync: {TASK} is SUSPENDED, not SCHEDULED; {resume}, then run again"
    assert paused["preconditions"] == {"task": TASK, "task_status": "SUSPENDED", "queued": {},
                                       "queued_total": 0, "met": False}
    # Nothing was resynced or repaired; one launch per call; no state left.
    status = cell.status()
    assert status["resync_calls"] == {}
    assert not [c for c in status["calls"] if "esync" in c or "Shares" in c]
    assert status["launches"] == 6
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())


def test_values_are_checked_before_wsadmin_and_check_mode_starts_nothing(cell, tmp_path):
    uuid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    run = run_playbook(play(
        task("Bad uuid", "lc_resync", cell, communities=[uuid, "0f1e2d3c\"); x"],
             ignore_errors=True),
        task("Bad widget", "lc_resync", cell, communities=[{"uuid": uuid, "applications": ["blog"]}],
             ignore_errors=True),
        task("Bad share", "lc_resync", cell, share_repair=["Blog"], ignore_errors=True),
        task("Both modes", "lc_resync", cell, communities=[uuid], all_communities_for=["Blog"],
             ignore_errors=True),
        task("Nothing asked", "lc_resync", cell, ignore_errors=True),
        task("Nothing to do", "lc_resync", cell, communities=[]),
        task("Plan", "lc_resync", cell, communities=[uuid, {"uuid": uuid, "applications": ["Wiki"]}],
             check_mode=True),
    ), tmp_path)
    assert run.task("Bad uuid")["msg"] == 'communities[1] must be a community UUID, got "0f1e2d3c\\"); x"'
    assert run.task("Bad widget")["msg"] == (
        'communities[0].applications: unknown application id "blog"; known ids (case-sensitive): '
        "Activities, Blog, IdeationBlog, Files, Forum, Wiki, StatusUpdates")
    assert run.task("Bad share")["msg"] == "value of share_repair must be one of: Files, Activities, got: Blog"
    assert run.task("Both modes")["msg"] == "parameters are mutually exclusive: communities|all_communities_for"
    assert run.task("Nothing asked")["msg"] == (
        "one of the following is required: communities, all_communities_for, share_repair")
    nothing = run.task("Nothing to do")
    assert (nothing["changed"], nothing["msg"]) == (False, "nothing to resync")
    plan = run.task("Plan")
    assert plan["changed"] is True
    assert [(o["call"], o["status"]) for o in plan["outcomes"]] == [
        (f"{SERVICE}.resyncRemoteAppsForCommunity", "planned"),
        (f"{SERVICE}.resyncRemoteAppsForCommunityAndWidget", "planned")]
    assert cell.launches() == 0


def test_share_repair_is_skipped_where_the_version_has_no_such_object(cell_factory, tmp_path):
    cell = drained(cell_factory("ic5", "--communities", 20, "--version", "ic5"))
    run = run_playbook(play(task("Repair shares", "lc_resync", cell, share_repair=["Files", "Activities"])),
                       tmp_path)
    result = run.task("Repair shares")
    assert (result["changed"], result["failed"]) == (False, False)
    assert [(o["status"], o["message"]) for o in result["outcomes"]] == [
        ("skipped", "filesAdmin.py defines no FilesDataIntegrityService in this version (HCL Connections 8 has it)"),
        ("skipped", "activitiesAdmin.py defines no AccessControlService in this version (HCL Connections 8 has it)"),
    ]
    assert cell.launches() == 1


def test_ansible_doc(built):
    proc = subprocess.run([str(VENV_BIN / "ansible-doc"), "--json", "connections.dr.lc_resync"],
                          cwd=REPO, env=ansible_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)["connections.dr.lc_resync"]
    assert doc["doc"]["module"] == "lc_resync"
    assert {"communities", "all_communities_for", "share_repair", "state_dir", "request_timeout",
            "wsadmin_path", "password", "timeout"} <= set(doc["doc"]["options"])
    assert doc["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert {"outcomes", "counts", "preconditions", "state_file"} <= set(doc["return"])


# --- recover.yml with lc_contact_mode -----------------------------------------------------------

PLAYBOOK = REPO / "playbooks" / "recover.yml"
DEMO_INVENTORY = REPO / "playbooks" / "inventories" / "demo"
SUMMARY = "Summarize the recovery"
RESYNC_TASK = "Resync the communities to contact, and repair the shares of Files and Activities"


class ReplayFires(Poller):
    """Time passing after the resume: once LifecycleRetryQueuedEvents has been paused and is
    scheduled again, the replay task fires (``lc-sim tick``) whenever events are queued, as it
    would on its own every 15 minutes or so."""

    def __init__(self, cell: Cell):
        super().__init__()
        self.cell = cell
        self.fired = 0
        self.paused = False

    def poll(self) -> None:
        status = self.cell.status()
        if status["scheduler"][TASK] == "SUSPENDED":
            self.paused = True
        elif self.paused and status["queue_total"] > 0:
            lc_sim("tick", self.cell.root)
            self.fired += 1


@pytest.fixture
def damaged_site(built):
    """A cell of 200 communities with two IHS stand-ins (started), after a restore of Communities,
    in a folder httpd's children (www-data when the tests run as root) may enter; the demo
    inventory writes its report beside it."""
    base = Path(tempfile.mkdtemp(prefix="lc-resync-"))
    base.chmod(0o755)
    # Seed 5: the damage includes names and moderation that resync leaves as they are.
    cell = Cell.init(base / "cell", "--communities", 200, "--seed", 5, "--ihs", 2)
    cell.damage("communities")
    lc_sim("ihs", "start", cell.root)
    yield cell
    lc_sim("ihs", "stop", cell.root, check=False)
    shutil.rmtree(base, ignore_errors=True)


def recover(cell: Cell, tmp_path: Path, **extra_vars) -> PlaybookRun:
    return run_playbook(PLAYBOOK, tmp_path, inventory=str(DEMO_INVENTORY), extra_vars=extra_vars,
                        env={"LC_DEMO_CELL": str(cell.root)}, timeout=1200)


@pytest.mark.parametrize("mode", ["resync", "both"])
def test_recover_with_resync_leaves_only_what_resync_cannot_fix(damaged_site, tmp_path, mode):
    """resync: no owner is messaged; both: the owners of what the resync left are."""
    cell = damaged_site
    report_dir = cell.root.parent / "recovery-report"
    with ReplayFires(cell) as replay:
        run = recover(cell, tmp_path, lc_contact_mode=mode, lc_resync_drain_poll=1)
    assert run.rc == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert replay.fired >= 1
    contacts = run.task("Generate the difference and orphan reports")["communities_to_contact"]
    assert contacts
    resync = run.task(RESYNC_TASK)
    assert (resync["changed"], resync["failed"]) == (True, False)
    assert resync["resynced_communities"] == len(contacts)
    assert sorted(o["application"] for o in resync["outcomes"][-2:]) == ["Activities", "Files"]
    assert resync["preconditions"]["met"] is True
    # The second report is the cell's truth, and holds only what resync does not sync.
    after = run.task("Generate and read the sync reports again")
    assert_only_what_resync_cannot_fix(cell, after)
    assert (report_dir / "after-resync" / "recovery-report.html").stat().st_size > 0
    messaged = messages_by_owner(report_dir / "messages")
    left_to_contact = sorted(c["uuid"] for c in after["communities_to_contact"])
    assert messaged == (owners_of(after["communities_to_contact"]) if mode == "both" else {})
    assert left_to_contact, "seed 5 leaves differences that resync does not fix"
    summary = run.task(SUMMARY)["msg"]
    left = after["counts"]["total"]["differences"]
    owners = (f"; {len(messaged)} owners of what is left get a message" if mode == "both"
              else "; no owner messages")
    shown = re.fullmatch(
        rf"Contact \({mode}\): resynced {len(contacts)} communities; differences left after resync: "
        rf"{left} \((\S+)/after-resync/recovery-report\.html\){re.escape(owners)}", summary[-1])
    assert shown and Path(shown[1]).resolve() == report_dir.resolve(), summary
    assert summary[-2].endswith(f", {len(messaged)} owner messages in {shown[1]}/messages"), summary
    status = cell.status()
    assert status["replayed"]["stale"] == 0
    assert status["scheduler"][TASK] == "SCHEDULED"


def test_a_report_unreadable_after_the_resync_is_brought_to_the_controller_as_in_the_first_pass(
        damaged_site, tmp_path):
    """The pass after the resync runs the first pass's report tasks: a differences report cut
    short after the resync is named in that pass's unread, and its raw files are fetched beside
    the fresh consolidated report; the first pass read all of its reports."""
    cell = damaged_site
    report_dir = cell.root.parent / "recovery-report"
    target = cell.root / "recovery" / "reports" / "after-resync" / "Blog_communityDifferences.html"
    wrapper = report_cut_short(cell, target, tmp_path)
    with ReplayFires(cell):
        run = recover(cell, tmp_path, lc_contact_mode="resync", lc_resync_drain_poll=1,
                      lc_wsadmin_path=str(wrapper))
    assert run.rc == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert run.task("Generate the difference and orphan reports").get("unread", []) == []
    after = run.task("Generate and read the sync reports again")
    orphans_file = target.parent / "Blog_orphanedRemoteApplications.html"
    assert [(u["application"], u["files"]) for u in after["unread"]] == [
        ("Blog", [str(target), str(orphans_file)])]
    for raw in (target, orphans_file):
        assert (report_dir / "after-resync" / raw.name).read_bytes() == raw.read_bytes(), raw
        assert not (report_dir / raw.name).exists(), raw


def test_recover_with_owners_leaves_the_differences_to_the_owners(damaged_site, tmp_path):
    cell = damaged_site
    report_dir = cell.root.parent / "recovery-report"
    run = recover(cell, tmp_path)
    assert run.rc == 0, run.stdout[-6000:] + run.stderr[-3000:]
    contacts = run.task("Generate the difference and orphan reports")["communities_to_contact"]
    assert messages_by_owner(report_dir / "messages") == owners_of(contacts)
    assert not any(r["task"] == RESYNC_TASK and r["status"] == "ok" for r in run.results)
    assert cell.status()["resync_calls"] == {}
    assert [d for d in cell.truth()["differences"] if not resync_cannot_fix(d)], "nothing left for the owners"
    summary = run.task(SUMMARY)["msg"]
    assert summary[-1] == f"Contact (owners): the owners of {len(contacts)} communities toggle the access setting"
