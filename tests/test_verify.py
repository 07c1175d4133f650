"""playbooks/verify.yml, the follow-up of a recovery days later, end to end: a damaged lc-sim
cell is recovered with recover.yml (owners mode), some owners toggle their communities (``lc-sim
toggle``), and verify.yml's report is compared with what lc-sim itself says is still out of step
(``lc-sim truth``), never with our own output. verify.yml must leave the cell as it was (its state
files, scheduler and queue; Apache serving the site), carry its "since" times from one run to the
next, stop with one line when the recovery's report is missing, plan in check mode, and share
recover.yml's run lock."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import REPO, PlaybookRun, lc_sim, run_playbook
from test_recover import (DEMO_INVENTORY, FAILED, Site, Sites, assert_site_open, contacts, out,
                          owners_of, rows)

VERIFY = REPO / "playbooks" / "verify.yml"
SUMMARY = "Summarize the follow-up"
COMPARE = "Compare the fresh report with the recovery's and write verify-report.html and .json"
READ = "Read the recovery's report to compare with"
LOCK = ".recover.lock"
# The only admin calls a follow-up may make: reads, exports and reports.
READ_ONLY_CALLS = {"CommunitiesScheduler.getTaskDetails", "CommunitiesRemoteAppService.generateSyncReports",
                   "CommunitiesService.fetchCommById"}


def verify(site: Site, tmp: Path, extra_vars: dict | None = None, *, check: bool = False,
           playbook: str | Path = VERIFY, env: dict | None = None) -> PlaybookRun:
    return run_playbook(playbook, tmp, inventory=str(DEMO_INVENTORY), extra_vars=extra_vars, check=check,
                        env={"LC_DEMO_CELL": str(site.cell.root), **(env or {})})


def stamp(path: Path) -> str:
    """A file's modification time as the report writes it (UTC, seconds)."""
    return datetime.fromtimestamp(int(path.stat().st_mtime), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def toggle_some(site: Site, n: int) -> list[str]:
    """Owners toggle communities lc-sim lists out of step, one after the other in UUID order, until
    ``n`` of them are in step by lc-sim's truth (a toggle carries visibility, theme and some
    moderation, not a name, so not every toggle mends its community); returns those toggled."""
    listed = lambda: {c["uuid"] for c in site.cell.truth()["communities_to_contact"]}  # noqa: E731
    before = listed()
    toggled: list[str] = []
    for uuid in sorted(before):
        done = json.loads(lc_sim("toggle", site.cell.root, "--communities", uuid).stdout)
        assert [d["uuid"] for d in done] == [uuid], done
        toggled.append(uuid)
        if len(before - listed()) >= n:
            return toggled
    raise AssertionError(f"fewer than {n} communities came in step after toggling {toggled}")


def uuids(items: list[dict]) -> list[str]:
    return sorted(c["uuid"] for c in items)


def as_truth(items: list[dict]) -> list[dict]:
    """Communities of the verify report in the shape of lc-sim's truth."""
    return contacts([{k: c[k] for k in ("uuid", "name", "created_by", "applications", "fields")} for c in items])


def calls_between(before: dict, after: dict) -> dict[str, int]:
    return {m: n - before["calls"].get(m, 0) for m, n in after["calls"].items() if n != before["calls"].get(m, 0)}


@dataclass
class Followed:
    site: Site
    recovered: dict
    baseline_time: str
    first_toggled: list[str]
    first: PlaybookRun
    first_truth: dict
    first_report: dict
    first_html: str
    state: dict
    status: dict
    status_after_first: dict
    controller_before: dict
    controller_after_first: dict
    second_toggled: list[str]
    second: PlaybookRun
    second_truth: dict
    second_report: dict


def controller_files(site: Site) -> dict[str, bytes]:
    """The recovery's own files on the controller (its report, owners list and messages)."""
    return {str(p.relative_to(site.report_dir)): p.read_bytes() for p in sorted(site.report_dir.rglob("*"))
            if p.is_file() and "verify" not in p.relative_to(site.report_dir).parts
            and "exports" not in p.relative_to(site.report_dir).parts}


@pytest.fixture(scope="module")
def followed(built, tmp_path_factory):
    """recover.yml on a damaged cell; then (the replay having run since) two owners toggle and
    verify.yml runs; then two more toggle and it runs again, with reminders."""
    made = Sites()
    tmp = tmp_path_factory.mktemp("verify")
    try:
        site = made.make("followed", "communities", communities=60, seed=9, start=False)
        # A restore to a backup two months old: enough communities to contact for two rounds.
        site.cell.damage("communities", backup_age=60)
        site.truth = site.cell.truth()
        assert len(site.truth["communities_to_contact"]) > 6
        site.start()
        recovered = site.run(tmp / "recover")
        assert recovered.rc == 0, out(recovered)
        baseline = site.report()
        baseline_time = stamp(site.report_dir / "recovery-report.json")
        # Days later: the replay task has run (and will not fire again during the test).
        lc_sim("tick", site.cell.root)
        first_toggled = toggle_some(site, 2)
        state, status = site.cell.state_bytes(), site.cell.status()
        controller_before = controller_files(site)
        first = verify(site, tmp / "first")
        assert first.rc == 0, out(first)
        first_truth = site.cell.truth()
        first_report = json.loads((site.report_dir / "verify" / "verify-report.json").read_text())
        first_html = (site.report_dir / "verify" / "verify-report.html").read_text()
        status_after_first = site.cell.status()
        controller_after_first = controller_files(site)
        assert site.cell.state_bytes() == state, "verify.yml changed the cell"
        second_toggled = toggle_some(site, 2)
        second = verify(site, tmp / "second", {"lc_verify_reminders": True})
        assert second.rc == 0, out(second)
        yield Followed(site, baseline, baseline_time, first_toggled, first, first_truth, first_report, first_html,
                       state, status, status_after_first, controller_before, controller_after_first, second_toggled,
                       second, site.cell.truth(),
                       json.loads((site.report_dir / "verify" / "verify-report.json").read_text()))
    finally:
        made.close()


def test_the_follow_up_lists_exactly_what_the_cell_still_shows_out_of_step(followed):
    """After two toggles: the communities still differing are exactly those lc-sim's truth
    lists, as it lists them, since the recovery report's time; the toggled ones are in step
    since this check; nothing appeared; every orphan remains (orphans were only reported)."""
    f = followed
    truth, report = f.first_truth, f.first_report
    recovered = f.recovered["communities_to_contact"]
    in_step = sorted(set(uuids(recovered)) - set(uuids(truth["communities_to_contact"])))
    assert len(in_step) == 2 and set(in_step) <= set(f.first_toggled), (in_step, f.first_toggled)
    assert as_truth(report["still_differ"]) == contacts(truth["communities_to_contact"])
    assert uuids(report["in_step"]) == in_step
    assert report["appeared"] == [] and report["not_checked"] == []
    assert {c["since"] for c in report["still_differ"]} == {f.baseline_time}
    assert {c["since"] for c in report["in_step"]} == {report["checked"]}
    assert report["checked"] >= f.baseline_time
    assert rows([{k: v for k, v in o.items() if k != "since"} for o in report["orphans_remaining"]]) == \
        rows(truth["orphans"])
    assert {o["since"] for o in report["orphans_remaining"]} == {f.baseline_time}
    assert report["orphans_resolved"] == [] and report["orphans_appeared"] == []
    assert report["baseline"]["path"] == str(f.site.report_dir / "recovery-report.json")
    assert report["baseline"]["time"] == f.baseline_time
    assert report["baseline"]["applications"] == sorted(f.site.cell.info["apps"])
    assert report["previous"] is None
    counts = report["counts"]
    n, k, left, orphans = len(recovered), len(in_step), len(recovered) - len(in_step), len(truth["orphans"])
    assert (counts["baseline_communities"], counts["in_step"], counts["still_differ"], counts["appeared"]) == \
        (n, k, left, 0)

    # The module's result is the file's content; the HTML page says the same.
    result = f.first.task(COMPARE)
    assert (result["changed"], result["failed"]) == (True, False)
    assert result["still_differ"] == report["still_differ"]
    assert result["msg"] == (f"{k} of {n} communities in step again, {left} still differ, 0 appeared since the "
                             f"recovery; {orphans} of {orphans} orphans remain, 0 resolved, 0 appeared; report: "
                             f"{f.site.report_dir / 'verify' / 'verify-report.html'}")
    html = f.first_html
    assert f"<h2>Still differ ({left})</h2>" in html and f"<h2>In step again ({k})</h2>" in html
    for c in truth["communities_to_contact"]:
        assert c["uuid"] in html

    summary = f.first.task(SUMMARY)["msg"]
    apps = ", ".join(sorted(f.site.cell.info["apps"]))
    assert summary[0] == (f"DONE: follow-up of the recovery report {f.site.report_dir / 'recovery-report.json'} "
                          f"({f.baseline_time}); applications checked: {apps}"), summary
    assert summary[1] == f"Communities: {k} of {n} in step again, {left} still differ, 0 appeared since the recovery"
    assert summary[2] == f"Orphans: {orphans} of {orphans} remain, 0 resolved, 0 appeared"
    assert summary[5] == "Reminders: off (lc_verify_reminders: false)"
    assert f.first.tasks("Write one message per owner of the communities to contact") == []


def test_the_follow_up_changes_nothing_on_the_cell(followed):
    """The cell's state files, scheduler and queue are as before verify.yml; it made read-only
    admin calls and exports only; both IHS serve the normal site from their original conf; the
    recovery's files on the controller are untouched; the lock is released."""
    f = followed
    assert (f.status_after_first["scheduler"], f.status_after_first["queue"]) == \
        (f.status["scheduler"], f.status["queue"])
    made = calls_between(f.status, f.status_after_first)
    exports = {m for m in made if m.endswith(".exportSyncedResourceInfo")}
    assert exports, made
    assert set(made) - exports <= READ_ONLY_CALLS, made
    assert f.status_after_first["resync_calls"] == f.status["resync_calls"]
    assert f.controller_after_first == f.controller_before
    assert_site_open(f.site)
    assert not (f.site.cell.root / "recovery" / LOCK).exists()
    # The fresh exports and reports went to folders of their own.
    work = f.site.cell.root / "recovery"
    assert sorted(p.name for p in (work / "exports" / "verify").glob("*.xml")) == \
        sorted(f"{a}.xml" for a in f.site.cell.info["apps"])
    assert (work / "reports" / "verify" / "recovery-report.json").is_file()


def test_a_second_follow_up_carries_since_forward_and_reminds_the_owners_still_pending(followed):
    """Two more toggles, then verify.yml again with reminders: the first two stay in step since
    the first check, the two new ones since this one, what still differs since the recovery;
    one reminder per owner of exactly the communities lc-sim still shows out of step, in a
    folder of its own (the recovery's messages untouched)."""
    f = followed
    report, truth = f.second_report, f.second_truth
    first_checked = f.first_report["checked"]
    assert report["previous"] == {"path": str(f.site.report_dir / "verify" / "verify-report.json"),
                                  "checked": first_checked}
    assert as_truth(report["still_differ"]) == contacts(truth["communities_to_contact"])
    recovered = set(uuids(f.recovered["communities_to_contact"]))
    first_in = recovered - set(uuids(f.first_truth["communities_to_contact"]))
    now_in = recovered - set(uuids(truth["communities_to_contact"]))
    assert len(first_in) == 2 and first_in <= set(f.first_toggled), (first_in, f.first_toggled)
    assert len(now_in - first_in) == 2 and now_in - first_in <= set(f.second_toggled), (now_in, f.second_toggled)
    since = {c["uuid"]: c["since"] for c in report["in_step"]}
    assert since == {u: first_checked if u in first_in else report["checked"] for u in now_in}
    assert report["checked"] > first_checked
    assert {c["since"] for c in report["still_differ"]} == {f.baseline_time}

    reminders = f.site.report_dir / "verify" / "reminders"
    got: dict[str, list[str]] = {}
    for p in sorted(reminders.glob("*.txt")):
        text = p.read_text()
        assert "Reminder: please re-save the access setting" in text, text
        to = text.splitlines()[0].removeprefix("To: ")
        assert to not in got
        got[to] = sorted(re.findall(r"\(id ([0-9a-f-]{36})\)", text))
        assert f"since {f.baseline_time}" in text, text
    assert got == owners_of(truth["communities_to_contact"])
    assert controller_files(f.site) == f.controller_before
    summary = f.second.task(SUMMARY)["msg"]
    assert summary[5] == (f"Reminders: {len(got)} owners of the {len(truth['communities_to_contact'])} communities "
                          f"that still differ, in {reminders}"), summary


def test_check_mode_reads_the_baseline_and_writes_nothing(followed, tmp_path):
    f = followed
    state = f.site.cell.state_bytes()
    report = (f.site.report_dir / "verify" / "verify-report.json").read_bytes()
    exports = {p: p.stat().st_mtime_ns for p in (f.site.cell.root / "recovery" / "exports" / "verify").iterdir()}
    run = verify(f.site, tmp_path, check=True)
    assert run.rc == 0, out(run)
    summary = run.task(SUMMARY)["msg"]
    assert summary[0].startswith("PLAN (check mode, nothing changed): follow-up of the recovery report "
                                 f"{f.site.report_dir / 'recovery-report.json'} ({f.baseline_time})"), summary
    assert summary[4] == f"Report: {f.site.report_dir / 'verify'}/verify-report.html and .json would be written"
    compare = run.task(COMPARE)
    assert compare["changed"] is True and compare["msg"].startswith("would compare "), compare
    assert f.site.cell.state_bytes() == state
    assert (f.site.report_dir / "verify" / "verify-report.json").read_bytes() == report
    assert {p: p.stat().st_mtime_ns for p in exports} == exports
    assert not (f.site.cell.root / "recovery" / LOCK).exists()


def test_the_run_lock_keeps_verify_and_recover_apart(followed, tmp_path):
    """A recover.yml run holds the lock: verify.yml stops in its preflight, naming it; a
    verify.yml run holds it: recover.yml stops the same way, naming verify.yml."""
    f = followed
    lock = f.site.cell.root / "recovery" / LOCK
    state = f.site.cell.state_bytes()
    for holder, playbook in (("recover.yml", VERIFY), ("verify.yml", REPO / "playbooks" / "recover.yml")):
        record = {"id": "abcdefghij0123456789", "lock": str(lock), "pid": 4242, "controller": "admin-workstation-7",
                  "user": "alice", "started": "2026-01-02T03:04:05Z", "playbook": holder}
        os.symlink(json.dumps(record), lock)
        try:
            run = verify(f.site, tmp_path / holder, playbook=playbook)
        finally:
            os.unlink(lock)
        assert run.rc != 0
        msg = next(r["result"]["msg"] for r in run.results if r["task"] == FAILED and r["host"] == "dmgr1")
        assert msg.startswith(f"Step 'preflight' failed on dmgr1: Another {holder} run holds the lock {lock} on dmgr1 "
                              "(run abcdefghij0123456789, started 2026-01-02T03:04:05Z by alice on "
                              "admin-workstation-7, pid 4242)."), msg
    assert f.site.cell.state_bytes() == state
    assert_site_open(f.site)


def test_a_missing_baseline_stops_the_follow_up_with_one_line(built, tmp_path):
    """No recovery ran: verify.yml stops at once with one line naming the missing report, before
    wsadmin is started or the lock taken."""
    made = Sites()
    try:
        site = made.make("no-recovery", "communities", communities=10, start=False)
        state = site.cell.state_bytes()
        run = verify(site, tmp_path)
        assert run.rc != 0
        missing = site.report_dir / "recovery-report.json"
        result = run.task(READ)
        assert result["failed"] is True
        assert result["msg"] == (f"no recovery report to compare with: {missing} does not exist (recover.yml "
                                 "brings it to the controller, into lc_report_dir)")
        msg = run.task(FAILED)["msg"]
        assert msg.startswith(f"Step 'preflight' failed on dmgr1: {result['msg']} -- Nothing was changed"), msg
        assert site.cell.launches() == 0
        assert site.cell.state_bytes() == state
        assert not (site.cell.root / "recovery" / LOCK).exists()
        assert not (site.report_dir / "verify").exists()
    finally:
        made.close()


def test_what_a_later_restore_puts_out_of_step_appears_since(followed, tmp_path):
    """Blog is restored again after the recovery (lc-sim damage): the next follow-up lists as
    appeared exactly the communities and orphans lc-sim now shows that the recovery did not, since
    this check; together with what still differs, exactly lc-sim's truth; the cell unchanged by it."""
    f = followed
    f.site.cell.damage("Blog", backup_age=90)
    truth = f.site.cell.truth()
    state = f.site.cell.state_bytes()
    run = verify(f.site, tmp_path)
    assert run.rc == 0, out(run)
    assert f.site.cell.state_bytes() == state
    report = json.loads((f.site.report_dir / "verify" / "verify-report.json").read_text())
    recovered = set(uuids(f.recovered["communities_to_contact"]))
    appeared = [c for c in truth["communities_to_contact"] if c["uuid"] not in recovered]
    assert appeared, "the second restore put no new community out of step"
    assert as_truth(report["appeared"]) == contacts(appeared)
    assert {c["since"] for c in report["appeared"]} == {report["checked"]}
    assert as_truth(report["still_differ"] + report["appeared"]) == contacts(truth["communities_to_contact"])
    key = lambda o: (o["application"], o["object_id"])  # noqa: E731
    old = {key(o) for o in f.recovered["orphans"]}
    assert sorted(key(o) for o in report["orphans_appeared"]) == sorted(key(o) for o in truth["orphans"]
                                                                        if key(o) not in old)
    assert sorted(key(o) for o in report["orphans_remaining"] + report["orphans_appeared"]) == \
        sorted(key(o) for o in truth["orphans"])
    summary = run.task(SUMMARY)["msg"]
    assert summary[1].endswith(f"{len(appeared)} appeared since the recovery"), summary
