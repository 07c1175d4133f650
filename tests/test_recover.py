"""playbooks/recover.yml end to end: real ansible-playbook with the demo inventory (ihs1, ihs2,
dmgr1 127.0.0.10, was1 127.0.0.11, was2 127.0.0.12, all local) against damaged simulated cells
(lc-sim) whose two IHS stand-ins are real Apache httpd on loopback ports. What the run did is
checked in the cell itself (state, ground truth, queue, scheduler), in the files it leaves on the
controller, and with real HTTP requests from a user's address and from the allowed ones."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest

from conftest import REPO, Cell, IhsServer, PlaybookRun, lc_sim, run_playbook

PLAYBOOK = REPO / "playbooks" / "recover.yml"
DEMO_INVENTORY = REPO / "playbooks" / "inventories" / "demo"
USER = "127.0.0.1"  # anyone: not in the allow list
ADMIN = "127.0.0.2"  # lc_admin_addresses of the demo inventory
DMGR, WAS1, WAS2 = "127.0.0.10", "127.0.0.11", "127.0.0.12"
ALLOW_LIST = [ADMIN, WAS1, WAS2, DMGR]
TASK = "LifecycleRetryQueuedEvents"
MAINTENANCE_PAGE = "Connections is down for maintenance"
NORMAL_SITE = "Connections is up"
SUMMARY = "Summarize the recovery"
FAILED = "Say which step failed and how to go on"
# The Communities restore every test of it uses: the interrupted run must meet the same cell.
COMMUNITIES, SEED = 50, 7


class Site:
    """A damaged simulated cell with two IHS stand-ins, in a folder of its own (the demo inventory
    writes the controller's report beside the cell, in ``recovery-report``)."""

    def __init__(self, base: Path, *restore: str, communities: int, seed: int):
        base.mkdir(mode=0o755)
        self.cell = Cell.init(base / "cell", "--communities", communities, "--seed", seed, "--ihs", 2)
        self.cell.damage(*restore)
        self.truth = self.cell.truth()
        self.ihs = [IhsServer(info) for info in self.cell.info["ihs"]]
        self.original_confs = [s.conf_bytes() for s in self.ihs]
        self.report_dir = base / "recovery-report"

    def start(self) -> None:
        lc_sim("ihs", "start", self.cell.root)

    def stop(self) -> None:
        lc_sim("ihs", "stop", self.cell.root, check=False)

    def run(self, tmp: Path, extra_vars: dict | None = None, *, check: bool = False,
            inventory: Path = DEMO_INVENTORY, args: list[str] | None = None) -> PlaybookRun:
        return run_playbook(PLAYBOOK, tmp, inventory=str(inventory), extra_vars=extra_vars, check=check,
                            args=args, env={"LC_DEMO_CELL": str(self.cell.root)})

    def world(self) -> dict:
        return json.loads((self.cell.root / "state" / "world.json").read_text())

    def report(self) -> dict:
        return json.loads((self.report_dir / "recovery-report.json").read_text())

    def messages(self) -> dict[str, str]:
        folder = self.report_dir / "messages"
        return {p.stem: p.read_text() for p in sorted(folder.glob("*.txt"))}


class Sites:
    """Sites under one folder that httpd's children (www-data when the tests run as root) may
    enter; ``close`` stops every IHS and removes it all."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="lc-recover-"))
        self.base.chmod(0o755)
        self.sites: list[Site] = []

    def make(self, name: str, *restore: str, communities: int = COMMUNITIES, seed: int = SEED,
             start: bool = True) -> Site:
        site = Site(self.base / name, *restore, communities=communities, seed=seed)
        self.sites.append(site)
        if start:
            site.start()
        return site

    def close(self) -> None:
        for site in self.sites:
            site.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def sites(built):
    made = Sites()
    yield made
    made.close()


def by_host(run: PlaybookRun, task: str) -> dict[str, dict]:
    return {r["host"]: r["result"] for r in run.results if r["task"] == task}


def out(run: PlaybookRun) -> str:
    return run.stdout[-6000:] + run.stderr[-3000:]


def allow_lines(conf: str) -> list[str]:
    """The addresses of the maintenance block's ``Allow from`` lines."""
    return [a for a in re.findall(r"^\s*Allow from (\S+)\s*$", conf, re.M) if a != "all"]


def watch_maintenance(servers: list[IhsServer], run: Future, timeout: float = 300.0, *,
                      allow_list: list[str] = ALLOW_LIST) -> dict[str, dict]:
    """Polls every IHS while the playbook runs. Once a user's request gets 403, the same page is
    asked for from every address of the allow list, then from the user again: when that is still
    403, maintenance was on throughout, and the answers (and the conf of that moment) are kept."""
    seen: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(servers) and not run.done() and time.monotonic() < deadline:
        for ihs in servers:
            if ihs.name in seen:
                continue
            try:
                first = ihs.get("/", USER)
                if first[0] != 403:
                    continue
                allowed = {source: ihs.get("/", source) for source in allow_list}
                conf = ihs.conf_bytes().decode()
                last = ihs.get("/", USER)
            except OSError:  # a graceful restart under way
                continue
            if last[0] == 403:
                seen[ihs.name] = {"user": first, "allowed": allowed, "conf": conf}
        time.sleep(0.1)
    return seen


def assert_site_open(site: Site) -> None:
    """Both IHS serve the normal site to anyone, from their original conf."""
    for ihs, original in zip(site.ihs, site.original_confs):
        status, body = ihs.wait_for("/", 200, USER)
        assert (status, NORMAL_SITE in body) == (200, True), (ihs.name, status, body)
        assert ihs.conf_bytes() == original, ihs.name


def assert_in_maintenance(site: Site) -> None:
    for ihs in site.ihs:
        status, body = ihs.wait_for("/", 403, USER)
        assert (status, MAINTENANCE_PAGE in body) == (403, True), (ihs.name, status, body)
        status, body = ihs.get("/", WAS1)
        assert (status, NORMAL_SITE in body) == (200, True), (ihs.name, status, body)


def contacts(items: list[dict]) -> list[dict]:
    """Communities to contact, in one order, their lists sorted."""
    return sorted(({**c, "applications": sorted(c["applications"]), "fields": sorted(c["fields"])}
                   for c in items), key=lambda c: c["uuid"])


def rows(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda d: json.dumps(d, sort_keys=True))


def assert_reports_match_truth(site: Site, truth: dict) -> None:
    """The controller's recovery-report.json says what the damage really did; owners.csv and the
    owners' messages hold exactly the communities to contact."""
    report = site.report()
    assert rows(report["differences"]) == rows(truth["differences"])
    assert rows(report["orphans"]) == rows(truth["orphans"])
    assert contacts(report["communities_to_contact"]) == contacts(truth["communities_to_contact"])
    assert report["counts"]["total"]["differences"] == len(truth["differences"])
    assert report["counts"]["total"]["orphans"] == len(truth["orphans"])
    csv_uuids = [line.split(",")[0] for line in
                 (site.report_dir / "owners.csv").read_text().splitlines()[1:]]
    expected = sorted(c["uuid"] for c in truth["communities_to_contact"])
    assert sorted(csv_uuids) == expected
    assert messages_by_owner(site.report_dir / "messages") == owners_of(truth["communities_to_contact"])


def owners_of(contacts: list[dict]) -> dict[str, list[str]]:
    """Each creator (the owner fetchCommById names) with the sorted UUIDs of their communities."""
    out: dict[str, list[str]] = {}
    for c in contacts:
        out.setdefault(c["created_by"], []).append(c["uuid"])
    return {k: sorted(v) for k, v in out.items()}


def messages_by_owner(folder: Path) -> dict[str, list[str]]:
    """Each message in ``folder`` (a site's ``report_dir / "messages"``): its addressee (the To:
    line) with the sorted UUIDs of the communities it lists; no addressee has two messages."""
    out: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        to = text.splitlines()[0].removeprefix("To: ")
        assert to not in out, f"two messages to {to}"
        out[to] = sorted(re.findall(r"\(id ([0-9a-f-]{36})\)", text))
    return out


def assert_queue_cleared(site: Site, before: dict, after: dict, status: dict) -> None:
    """No stale event is left anywhere; every healthy event is still queued."""
    assert sum(before["stale_events"].values()) > 0 and sum(before["healthy_events"].values()) > 0
    assert after["stale_events"] == {app: 0 for app in before["stale_events"]}
    assert after["healthy_events"] == before["healthy_events"]
    assert {a: n for a, n in status["queue"].items() if n} == \
        {a: n for a, n in before["healthy_events"].items() if n}


def assert_scheduler_paused_then_resumed(run: PlaybookRun, status: dict) -> None:
    pause = run.task("Pause LifecycleRetryQueuedEvents")
    assert (pause["changed"], pause["status_before"], pause["status"]) == (True, "SCHEDULED", "SUSPENDED")
    resume = run.task("Resume LifecycleRetryQueuedEvents")
    assert (resume["changed"], resume["status_before"], resume["status"]) == (True, "SUSPENDED", "SCHEDULED")
    assert status["scheduler"][TASK] == "SCHEDULED"
    assert status["calls"]["CommunitiesScheduler.pauseSchedulingTask"] == 1
    assert status["calls"]["CommunitiesScheduler.resumeSchedulingTask"] == 1


def essentials(site: Site) -> dict:
    """What a finished recovery leaves, without what differs between two runs of it (wall-clock
    times, call counters, the IHS ports)."""
    world = site.world()
    status = site.cell.status()
    return {
        "world": {k: v for k, v in world.items() if k != "tasks"},
        "tasks": {t["name"]: t["status"] for t in world["tasks"]},
        "truth": site.cell.truth(),
        "status": {k: status[k] for k in ("scheduler", "queue", "resources", "communities", "replayed",
                                          "resync_calls")},
        "report_json": (site.report_dir / "recovery-report.json").read_bytes(),
        "owners_csv": (site.report_dir / "owners.csv").read_bytes(),
        "messages": site.messages(),
        "confs_restored": [s.conf_bytes() == o for s, o in zip(site.ihs, site.original_confs)],
    }


@dataclass
class Recovery:
    site: Site
    run: PlaybookRun
    seen: dict[str, dict]
    truth: dict
    status: dict
    essentials: dict


@pytest.fixture(scope="module")
def communities_restore(built, tmp_path_factory) -> Recovery:
    """One uninterrupted Communities restore with the demo inventory, the IHS watched from both
    sides while it runs; each wsadmin start is slowed down (2 s) so that the maintenance window
    is surely wide enough to look through."""
    made = Sites()
    try:
        site = made.make("uninterrupted", "communities")
        site.cell.fault("--startup-delay", "2")
        with ThreadPoolExecutor(max_workers=1) as pool:
            running = pool.submit(site.run, tmp_path_factory.mktemp("communities"))
            seen = watch_maintenance(site.ihs, running)
            run = running.result()
        yield Recovery(site, run, seen, site.cell.truth(), site.cell.status(), essentials(site))
    finally:
        made.close()


def test_communities_restore_leaves_the_cell_recovered(communities_restore):
    """A Communities restore, default orphan action (report): scheduler back to SCHEDULED, no
    stale event left while the healthy ones survive, reports equal to the ground truth, orphans
    untouched, both IHS serving the normal site, one message per owner to contact."""
    r = communities_restore
    assert r.run.rc == 0, out(r.run)
    site, before = r.site, r.site.truth
    assert_scheduler_paused_then_resumed(r.run, r.status)
    assert r.run.task("Clear the queued events (Communities restored, by resource type)")["cleared_total"] == \
        sum(before["stale_events"].values())
    assert_queue_cleared(site, before, r.truth, r.status)
    exports = r.run.task("Export the synced resources")["exports"]
    assert [e["application"] for e in exports] == site.cell.info["apps"]
    assert_reports_match_truth(site, before)

    # report: every orphan is listed as it is, nothing is attached or deleted.
    orphans = r.run.task("Report, keep or delete each orphan")
    assert orphans["changed"] is False
    assert {(o["action"], o["status"]) for o in orphans["outcomes"]} == {("report", "skipped")}
    assert orphans["counts"]["total"] == len(before["orphans"])
    assert rows(r.truth["orphans"]) == rows(before["orphans"])
    assert not [m for m in r.status["calls"] if "assignRemoteApp" in m or "delete" in m.lower()]

    assert_site_open(site)
    summary = r.run.task(SUMMARY)["msg"]
    assert summary[0].startswith("DONE: restore of communities"), summary
    assert f"{sum(before['stale_events'].values())} stale events cleared" in summary[2], summary
    assert f"{len(before['differences'])} differences, {len(before['communities_to_contact'])} communities " \
        f"to contact, {len(before['orphans'])} orphans" in summary[4], summary


def test_maintenance_lets_in_only_the_allow_list_while_the_runbook_runs(communities_restore):
    """While the run was in the middle, a user got the maintenance page with 403 from both IHS,
    and the administrator, the Deployment Manager and both WAS nodes got the normal site; the
    allow list is the admin address plus every was_servers and dmgr host."""
    r = communities_restore
    assert r.run.rc == 0, out(r.run)
    assert sorted(r.seen) == ["ihs1", "ihs2"], "maintenance was never seen on: " + \
        ", ".join(sorted({"ihs1", "ihs2"} - set(r.seen)))
    for name, seen in r.seen.items():
        status, body = seen["user"]
        assert (status, MAINTENANCE_PAGE in body) == (403, True), (name, status, body)
        for source, (status, body) in seen["allowed"].items():
            assert (status, NORMAL_SITE in body) == (200, True), (name, source, status, body)
        assert sorted(allow_lines(seen["conf"])) == sorted(ALLOW_LIST), seen["conf"]
    for host, result in by_host(r.run, "Set the allow list").items():
        assert result["ansible_facts"]["__lc_allow_from"] == ALLOW_LIST, host
    enabled = by_host(r.run, "Enable maintenance mode")
    assert sorted(enabled) == ["ihs1", "ihs2"]
    for host, result in enabled.items():
        assert (result["changed"], result["allowed"], result["restarted"]) == (True, ALLOW_LIST, True), host
    summary = r.run.task(SUMMARY)["msg"]
    assert "allowed in: " + ", ".join(ALLOW_LIST) in summary[1], summary


def test_blog_restore_with_assign_attaches_the_orphans(sites, tmp_path):
    """A Blog-only restore with lc_orphan_action assign: only Blog is cleared, exported and
    reported; Forum's healthy event survives; the orphan whose community still exists is
    attached to it in the cell, the one whose community is gone is skipped (it needs a target);
    a message left by an earlier recovery is removed."""
    site = sites.make("blog", "Blog", communities=60, seed=11)
    before = site.truth
    assert {a for a, n in before["stale_events"].items() if n} == {"Blog"}
    assert {o["community_exists"] for o in before["orphans"]} == {True, False}
    earlier = site.report_dir / "messages" / "00000000-0000-4000-8000-000000000000.txt"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("from an earlier recovery\n")

    run = site.run(tmp_path, {"lc_failed_databases": ["Blog"], "lc_orphan_action": "assign"})
    assert run.rc == 0, out(run)
    after, status = site.cell.truth(), site.cell.status()

    assert_scheduler_paused_then_resumed(run, status)
    cleared = run.task("Clear the queued events (remote applications restored, by application)")
    assert cleared["cleared_total"] == before["stale_events"]["Blog"]
    assert run.status("Clear the queued events (Communities restored, by resource type)") == "skipped"
    assert_queue_cleared(site, before, after, status)
    assert [e["application"] for e in run.task("Export the synced resources")["exports"]] == ["Blog"]
    assert_reports_match_truth(site, before)
    assert not earlier.exists()

    outcomes = {o["object_id"]: o for o in run.task("Report, keep or delete each orphan")["outcomes"]}
    world = site.world()
    for orphan in before["orphans"]:
        outcome = outcomes[orphan["object_id"]]
        assert outcome["action"] == "assign"
        if orphan["community_exists"]:
            assert outcome["status"] == "done", outcome
            resource = next(r for r in world["resources"] if r["id"] == orphan["object_id"])
            assert (resource["app"], resource["community_uuid"]) == ("Blog", orphan["old_community_uuid"])
            assert "Blog" in world["communities"][orphan["old_community_uuid"]]["widgets"]
        else:
            assert outcome["status"] == "skipped", outcome
    assert rows(after["orphans"]) == rows([o for o in before["orphans"] if not o["community_exists"]])
    assert status["calls"]["CommunitiesRemoteAppService.assignRemoteApp"] == 1

    assert_site_open(site)
    summary = run.task(SUMMARY)["msg"]
    assert summary[0] == "DONE: restore of Blog; applications handled: Blog", summary
    assert summary[5] == "Orphans (assign): 1 done, 1 skipped, 0 failed", summary


def test_a_run_stopped_at_export_says_so_and_its_rerun_ends_like_an_uninterrupted_one(
        communities_restore, sites, tmp_path):
    """exportSyncedResourceInfo fails on the server: the run stops at the export step, says so,
    and leaves the site in maintenance with the replay paused. Once the fault is gone, the same
    command finishes the job, and the cell, the report and the messages end up exactly as after
    the uninterrupted run of the same restore on an identical cell."""
    site = sites.make("interrupted", "communities")
    assert site.truth == communities_restore.site.truth  # the same cell, damaged the same way
    site.cell.fault("--fail", "ActivityService.exportSyncedResourceInfo")

    first = site.run(tmp_path / "first")
    assert first.rc != 0
    msg = first.task(FAILED)["msg"]
    assert msg.startswith("Step 'export' failed on dmgr1: ActivityService.exportSyncedResourceInfo"), msg
    assert "Maintenance mode is still on (every IHS) and the replay of failed events " \
        "(LifecycleRetryQueuedEvents) is paused." in msg, msg
    assert "run the same command again" in msg, msg
    assert first.tasks(SUMMARY) == []
    assert_in_maintenance(site)
    assert site.cell.status()["scheduler"][TASK] == "SUSPENDED"
    assert not (site.report_dir / "recovery-report.json").exists()

    site.cell.fault("--clear")
    second = site.run(tmp_path / "second")
    assert second.rc == 0, out(second)
    assert second.task("Pause LifecycleRetryQueuedEvents")["changed"] is False
    assert second.task("Clear the queued events (Communities restored, by resource type)")["cleared_total"] == 0
    assert second.task(SUMMARY)["msg"][0].startswith("DONE"), second.task(SUMMARY)
    assert_site_open(site)
    assert essentials(site) == communities_restore.essentials


def test_check_mode_plans_and_changes_nothing(sites, tmp_path):
    """--check on a damaged cell: the run succeeds and says PLAN; the cell's state, both
    httpd.conf files, the queue and the scheduler are byte for byte as they were, and no export,
    report or message is written."""
    site = sites.make("check", "communities", start=False)
    state = site.cell.state_bytes()
    status_before = site.cell.status()

    run = site.run(tmp_path, check=True)
    assert run.rc == 0, out(run)
    assert site.cell.state_bytes() == state
    assert [s.conf_bytes() for s in site.ihs] == site.original_confs
    status = site.cell.status()
    assert (status["scheduler"], status["queue"]) == (status_before["scheduler"], status_before["queue"])
    assert not (site.cell.root / "recovery").exists()
    assert not site.report_dir.exists()
    summary = run.task(SUMMARY)["msg"]
    assert summary[0].startswith("PLAN (check mode, nothing changed): restore of communities"), summary
    assert "allowed in: " + ", ".join(ALLOW_LIST) in summary[1], summary
    assert f"{sum(site.truth['stale_events'].values())} stale events would be cleared" in summary[2], summary
    for result in by_host(run, "Enable maintenance mode").values():
        assert (result["changed"], result["allowed"]) == (True, ALLOW_LIST)


def named_inventory(tmp_path: Path) -> Path:
    """The demo inventory with the WebSphere machines given by name or IPv6 address."""
    inventory = tmp_path / "inventory"
    shutil.copytree(DEMO_INVENTORY, inventory)
    hosts = (inventory / "hosts.yml").read_text()
    hosts = hosts.replace("ansible_host: 127.0.0.10", "ansible_host: localhost")
    hosts = hosts.replace("ansible_host: 127.0.0.11", "ansible_host: localhost")
    hosts = hosts.replace("ansible_host: 127.0.0.12", 'ansible_host: "::1"')
    assert "127.0.0.1" not in hosts
    (inventory / "hosts.yml").write_text(hosts)
    return inventory


def test_allow_list_resolves_names_and_the_maintenance_tags_run_alone(sites, tmp_path):
    """WebSphere machines given by name are let in by their address (localhost: 127.0.0.1),
    IPv6 addresses and CIDRs pass as they are; --tags maintenance_on, then maintenance_off, do
    only that (the replay is not touched) and give the original conf back."""
    site = sites.make("names", "Blog", communities=20)
    inventory = named_inventory(tmp_path)
    admins = {"lc_admin_addresses": [ADMIN, "10.20.0.0/16"]}
    expected = [ADMIN, "10.20.0.0/16", "::1", "127.0.0.1"]

    on = site.run(tmp_path / "on", admins, inventory=inventory, args=["--tags", "maintenance_on"])
    assert on.rc == 0, out(on)
    for host, result in by_host(on, "Enable maintenance mode").items():
        assert (result["changed"], result["allowed"]) == (True, expected), host
    for ihs in site.ihs:
        assert allow_lines(ihs.conf_bytes().decode()) == expected
        status, body = ihs.wait_for("/", 403, "127.0.0.3")
        assert (status, MAINTENANCE_PAGE in body) == (403, True), (ihs.name, status, body)
        status, body = ihs.get("/", USER)
        assert (status, NORMAL_SITE in body) == (200, True), (ihs.name, status, body)
    assert site.cell.status()["scheduler"][TASK] == "SCHEDULED"

    off = site.run(tmp_path / "off", admins, inventory=inventory, args=["--tags", "maintenance_off"])
    assert off.rc == 0, out(off)
    assert_site_open(site)
    calls = site.cell.status()["calls"]
    assert sorted(calls) == ["CommunitiesScheduler.getTaskDetails"], calls


def test_preflight_stops_on_a_name_that_does_not_resolve_or_a_bad_orphan_policy(sites, tmp_path):
    """Preflight resolves the allow list and checks the orphan settings (used only once the site
    is back): a name that does not resolve, or a policy with an unknown application, stops the run
    with a message that names it, before any IHS or the cell is touched."""
    site = sites.make("preflight", "Blog", communities=20, start=False)
    state = site.cell.state_bytes()

    run = site.run(tmp_path / "name", {"ansible_host": "nosuch.invalid"})
    assert run.rc != 0
    messages = {host: r["msg"] for host, r in by_host(run, FAILED).items()}
    assert sorted(messages) == ["dmgr1", "ihs1", "ihs2"]
    for host in ("ihs1", "ihs2"):
        assert messages[host].startswith(
            f"Step 'preflight' failed on {host}: Cannot resolve nosuch.invalid to an IPv4 address"), messages
        assert "-- Nothing was changed: the site is open" in messages[host], messages
    assert messages["dmgr1"].startswith(
        "Step 'preflight' stopped on dmgr1 because it failed on another host (see above)."), messages

    launches = site.cell.launches()
    run = site.run(tmp_path / "policy", {"lc_orphan_policy": {"Blogs": "assign"}})
    assert run.rc != 0
    msg = by_host(run, FAILED)["dmgr1"]["msg"]
    assert msg.startswith("Step 'preflight' failed on dmgr1: lc_orphan_policy must map ids of "
                          'lc_remote_apps to report, assign or delete (got {"Blogs": "assign"})'), msg
    assert site.cell.launches() == launches  # stopped before wsadmin was started

    assert [s.conf_bytes() for s in site.ihs] == site.original_confs
    assert site.cell.state_bytes() == state


def test_a_site_that_answers_500_stops_the_run_before_reopening(sites, tmp_path):
    """Runbook step 7: before maintenance is lifted, the Deployment Manager host asks every IHS
    for the application paths. /files answers 500 on ihs1 (only past access control, so users
    still get the maintenance page): the run stops there, naming the IHS, URL and status, with
    maintenance still on everywhere. lc_ihs_validate=false reopens anyway, and the summary says
    the check was skipped."""
    site = sites.make("validate", "communities", communities=10)
    ihs1 = site.ihs[0]
    # mod_proxy without a protocol module for the URL: 500, in the handler, past access control.
    broken = ihs1.conf_bytes() + (b"LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so\n"
                                  b"<Location /files>\n    ProxyPass http://127.0.0.1:9/files\n</Location>\n")
    ihs1.conf_path.write_bytes(broken)
    subprocess.run([str(ihs1.apachectl), "-k", "graceful"], check=True)
    assert ihs1.wait_for("/files", 500, WAS1)[0] == 500

    run = site.run(tmp_path / "first")
    assert run.rc != 0
    msgs = sorted(r["msg"] for r in run.tasks(FAILED))
    assert msgs[1].startswith("Step 'validate' stopped on ihs2 because it failed on another host"), msgs
    msg = msgs[0]
    assert msg.startswith(
        f"Step 'validate' failed on ihs1: IHS ihs1: http://127.0.0.1:{ihs1.port}/files answered 500 "
        f"to dmgr1 ({DMGR}), where a working site answers 2xx or 3xx; maintenance mode stays on. Fix "
        "the site, or set lc_ihs_validate=false to reopen without this check, then run again. -- "
        "Maintenance mode is still on (every IHS); the replay of failed events runs again."), msg
    assert run.tasks("Disable maintenance mode") == []
    assert_in_maintenance(site)
    assert ihs1.get("/files", USER)[0] == 403
    for result in by_host(run, "Enable maintenance mode").values():
        assert result["verified"] is True, result

    again = site.run(tmp_path / "second", {"lc_ihs_validate": False})
    assert again.rc == 0, out(again)
    summary = again.task(SUMMARY)["msg"]
    proof = [line for line in summary if line.startswith("Proof: ")]
    assert len(proof) == 1 and "site check SKIPPED (lc_ihs_validate: false)" in proof[0], summary
    assert ihs1.conf_bytes() == broken
    assert ihs1.wait_for("/", 200, USER)[0] == 200


def report_cut_short(cell: Cell, target: Path, tmp_path: Path) -> Path:
    """A wsadmin.sh beside the cell's that runs it, then, the first time ``target`` exists, cuts
    that report to two thirds (a writer that dropped the end of its output, as on a full disk)."""
    wrapper = Path(cell.wsadmin_path).parent / "wsadmin-broken-writer.sh"
    cut = tmp_path / "cut.py"
    cut.write_text("import os, sys\np, done = sys.argv[1], sys.argv[1] + '.cut'\n"
                   "if os.path.exists(p) and not os.path.exists(done):\n"
                   "    os.truncate(p, os.path.getsize(p) * 2 // 3)\n    open(done, 'w').close()\n")
    wrapper.write_text(
        '#!/bin/sh\n"$(dirname "$0")/wsadmin.sh" "$@"\nrc=$?\n'
        f"'{sys.executable}' '{cut}' '{target}' || exit 99\nexit $rc\n")
    wrapper.chmod(0o755)
    return wrapper


def test_an_unreadable_report_reopens_the_site_then_stops_naming_it(sites, tmp_path):
    """The Blog differences report is made unreadable between its generation and its reading (a
    wsadmin.sh that rewrites it after the real one ran): the run goes on through resume and
    maintenance off, so the site is open again, then stops before owners and orphans with one
    line naming the report files, exit status non-zero, the raw files beside the controller's
    report and linked from it."""
    site = sites.make("unreadable", "Blog", communities=40, seed=5)
    remote = site.cell.root / "recovery" / "reports"
    target = remote / "Blog_communityDifferences.html"
    wrapper = report_cut_short(site.cell, target, tmp_path)

    run = site.run(tmp_path, {"lc_failed_databases": ["Blog"], "lc_wsadmin_path": str(wrapper)})
    assert run.rc != 0, out(run)
    sync = run.task("Generate the difference and orphan reports")
    assert (sync["failed"], sync["changed"]) == (False, True)
    orphans_file = remote / "Blog_orphanedRemoteApplications.html"
    assert [(u["application"], u["files"]) for u in sync["unread"]] == [
        ("Blog", [str(target), str(orphans_file)])]
    reason = sync["unread"][0]["reason"]
    assert reason.startswith(f"{target}:"), reason

    # Resume and maintenance off ran: the replay runs, and Apache serves the site to anyone.
    assert run.task("Resume LifecycleRetryQueuedEvents")["status"] == "SCHEDULED"
    assert site.cell.status()["scheduler"][TASK] == "SCHEDULED"
    assert [r["changed"] for r in by_host(run, "Disable maintenance mode").values()] == [True, True]
    assert_site_open(site)

    msg = run.task("Name the reports to read by hand")["msg"]
    assert "\n" not in msg
    assert msg.startswith(
        f"The reports of Blog could not be read: read by hand {target}, {orphans_file} "
        f"(copies in {site.report_dir}, linked from recovery-report.html; why: {reason})."), msg
    assert "the resync, owners and orphans steps did not run" in msg, msg
    # Nothing after it ran: no owners' messages, no orphan handling, no summary.
    assert run.tasks("Report, keep or delete each orphan") == []
    assert run.tasks("Write one message per community owner to contact") == []
    assert run.tasks(SUMMARY) == []
    assert not (site.report_dir / "messages").exists()
    # The raw report is on the controller beside the consolidated one, which links it.
    assert (site.report_dir / target.name).read_bytes() == target.read_bytes()
    html = (site.report_dir / "recovery-report.html").read_text()
    links = re.findall(r'<a href="([^"]*)">([^<]*)</a>', html)
    assert [(h, unescape(t)) for h, t in links] == [
        (target.name, str(target)), (orphans_file.name, str(orphans_file))]
    assert site.report()["unread"] == sync["unread"]
