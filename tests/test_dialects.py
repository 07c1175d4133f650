"""The modules and recover.yml against every dialect of lc-sim (``lc-sim init --dialect``): cells
whose admin scripts, export XML, report HTML, printed maps and console lines differ from our own
layouts the way a real cell may (crates/lc_sim/README.md, "Dialects"). The modules must not depend
on any one of them.

- Per dialect, one playbook runs lc_scheduler, lc_queue, lc_export, lc_sync_report and lc_orphan
  (report) on a damaged cell of 200 communities; every result is checked against the files on
  disk, ``lc-sim status`` and ``lc-sim truth``.
- Per dialect, recover.yml runs end to end on a Communities restore of 1,000 communities with two
  IHS stand-ins: the facts equal the truth, the queue and scheduler end as the runbook wants, and
  both IHS really serve the normal site again. For the dialect whose admin scripts only
  ``admin_scripts_dir`` finds, the run is given ``lc_admin_scripts_dir``.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import DIALECTS, Cell, IhsServer, lc_sim, play, run_playbook
from test_recover import (TASK, Site, assert_queue_cleared,
                          assert_reports_match_truth, assert_site_open, out)
from test_sync_report_orphan import assert_facts_equal_truth, expected_counts


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_lc_sim_lists_every_dialect(built):
    """``lc-sim init --help`` names each dialect these tests go through, and nothing else."""
    text = lc_sim("init", "--help").stdout
    listed = [line.split(":")[0].strip().lstrip("- ") for line in
              text.split("Possible values:")[1].splitlines() if line.strip().startswith("- ")]
    assert listed == DIALECTS, text


# --- the modules, one playbook per dialect ----------------------------------------------------

def wsadmin_task(name: str, module: str, cell: Cell, register: str | None = None, **opts) -> dict:
    t = {"name": name, f"connections.dr.{module}": {**cell.wsadmin(), **opts}}
    if register:
        t["register"] = register
    return t


@pytest.fixture(scope="module", params=DIALECTS)
def modules_run(request, built, tmp_path_factory):
    """A cell of the dialect after a Communities restore, and one playbook that pauses the replay,
    reads and clears the community events, exports every application, reads the reports, reports
    the orphans and resumes the replay."""
    dialect = request.param
    base = tmp_path_factory.mktemp(f"modules-{dialect}")
    cell = Cell.init(base / "cell", "--communities", 200, "--seed", 5, "--dialect", dialect)
    assert cell.dialect == dialect
    cell.damage("communities", backup_age=30)
    truth = cell.truth()
    world = json.loads((cell.root / "state" / "world.json").read_text())
    exports, reports = base / "exports", base / "reports"
    run = run_playbook(play(
        wsadmin_task("Pause", "lc_scheduler", cell, state="paused"),
        wsadmin_task("Queue", "lc_queue", cell),
        wsadmin_task("Clear", "lc_queue", cell, state="cleared", resource_type="community"),
        wsadmin_task("Export", "lc_export", cell, "export", dest_dir=str(exports)),
        wsadmin_task("Reports", "lc_sync_report", cell, "sync",
                     exports="{{ export.exports | map(attribute='path') | list }}",
                     output_dir=str(reports)),
        wsadmin_task("Orphans", "lc_orphan", cell, orphans="{{ sync.orphans }}"),
        wsadmin_task("Resume", "lc_scheduler", cell, state="resumed"),
    ), base / "run")
    return dialect, cell, truth, world, run, exports, reports


def test_modules_read_every_dialect(modules_run):
    dialect, cell, truth, world, run, exports, reports = modules_run
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-3000:]
    status = cell.status()
    apps = cell.info["apps"]

    # lc_scheduler: the dialect's printed map is read.
    pause, resume = run.task("Pause"), run.task("Resume")
    assert (pause["changed"], pause["status_before"], pause["status"]) == (True, "SCHEDULED", "SUSPENDED")
    assert (resume["changed"], resume["status_before"], resume["status"]) == (True, "SUSPENDED", "SCHEDULED")
    assert status["scheduler"][TASK] == "SCHEDULED"

    # lc_queue: the dialect's queue tables, among its extra lines.
    queued: dict[str, int] = {}
    community: dict[str, int] = {}
    for e in world["queue"]:
        queued[e["app"]] = queued.get(e["app"], 0) + 1
        if e["resource_type"] == "community":
            community[e["app"]] = community.get(e["app"], 0) + 1
    read = run.task("Queue")
    assert (read["changed"], read["queued_before"]) == (False, queued)
    clear = run.task("Clear")
    assert (clear["changed"], clear["cleared_total"]) == (True, sum(community.values()))
    assert {a: n for a, n in status["queue"].items() if n} == \
        {a: queued[a] - community.get(a, 0) for a in queued if queued[a] > community.get(a, 0)}

    # lc_export: every file is the one on disk, its records counted as the cell holds them.
    export = run.task("Export")
    assert [e["application"] for e in export["exports"]] == apps
    for e in export["exports"]:
        path = Path(e["path"])
        assert path == exports / f"{e['application']}.xml"
        assert (e["bytes"], e["sha256"]) == (path.stat().st_size, sha256(path)), e
        assert e["resources"] == status["resources"][e["application"]], e
        # Every dialect's records carry community UUIDs: counted without knowing the layout.
        assert e["layout"] == "recognized", e
    assert export["changed"] is True

    # lc_sync_report: the facts are the truth, read from the files the cell wrote.
    sync = run.task("Reports")
    assert (sync["changed"], sync["failed"]) == (True, False)
    assert sync.get("unread", []) == [], sync.get("unread")
    assert_facts_equal_truth(sync, truth)
    assert sync["counts"] == expected_counts(truth, apps)
    written = sorted(str(p) for p in reports.glob("*.html") if not p.name.startswith("recovery-"))
    assert sorted(sync["report_files"]) == written
    assert len(written) == 2 * len(apps)
    assert any(not d["community_name"].isascii() for d in sync["differences"]) == (dialect != "lcsim")

    # lc_orphan, report: every orphan listed as it is, nothing touched.
    orphans = run.task("Orphans")
    assert orphans["changed"] is False
    assert {(o["action"], o["status"]) for o in orphans["outcomes"]} == {("report", "skipped")}
    assert orphans["counts"]["total"] == len(truth["orphans"])
    assert cell.truth()["orphans"] == truth["orphans"]


def test_scripts_outside_the_profile_need_admin_scripts_dir(built, tmp_path):
    """The modern cell keeps its admin scripts outside the profile: without admin_scripts_dir the
    module stops before any call with one line naming every place it looked in."""
    cell = Cell.init(tmp_path / "cell", "--communities", 3, "--dialect", "modern")
    opts = cell.wsadmin()
    scripts = Path(opts.pop("admin_scripts_dir"))
    assert (scripts / "communitiesAdmin.py").is_file()
    profile = Path(cell.info["profile_bin"]).parent
    run = run_playbook(play({"name": "Status", "connections.dr.lc_scheduler": opts,
                             "ignore_errors": True}), tmp_path / "run")
    r = run.task("Status")
    assert (r["failed"], r["changed"]) == (True, False)
    assert r["msg"] == (
        f"the admin script communitiesAdmin.py is in none of {profile}/bin, "
        f"{profile}/config/bin_lc_admin: wsadmin_path must be the wsadmin.sh of the Deployment "
        "Manager profile where Connections installed its admin scripts, or admin_scripts_dir the "
        "folder that holds them"), r["msg"]
    assert cell.status()["calls_total"] == 0


# --- recover.yml, one run per dialect ----------------------------------------------------------

class DialectSite(Site):
    """test_recover's Site, for a cell of a given dialect."""

    def __init__(self, base: Path, dialect: str, *restore: str, communities: int, seed: int):
        base.mkdir(mode=0o755)
        self.cell = Cell.init(base / "cell", "--communities", communities, "--seed", seed, "--ihs", 2,
                              "--dialect", dialect)
        self.cell.damage(*restore)
        self.truth = self.cell.truth()
        self.ihs = [IhsServer(info) for info in self.cell.info["ihs"]]
        self.original_confs = [s.conf_bytes() for s in self.ihs]
        self.report_dir = base / "recovery-report"


@pytest.fixture
def dialect_site():
    base = Path(tempfile.mkdtemp(prefix="lc-dialect-"))
    base.chmod(0o755)
    made: list[Site] = []

    def make(dialect: str) -> Site:
        site = DialectSite(base / dialect, dialect, "communities", communities=1000, seed=13)
        made.append(site)
        site.start()
        return site

    yield make
    for site in made:
        site.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_recover_yml_on_every_dialect(dialect_site, tmp_path, dialect):
    site = dialect_site(dialect)
    before = site.truth
    extra = {}
    scripts = site.cell.admin_scripts_dir()
    assert (scripts is not None) == (dialect == "modern")
    if scripts:
        extra["lc_admin_scripts_dir"] = scripts
    run = site.run(tmp_path, extra)
    assert run.rc == 0, out(run)
    after, status = site.cell.truth(), site.cell.status()
    assert run.task("Export the synced resources")["changed"] is True
    assert_reports_match_truth(site, before)
    assert_queue_cleared(site, before, after, status)
    assert status["scheduler"][TASK] == "SCHEDULED"
    assert status["replayed"]["stale"] == 0
    assert_site_open(site)
    assert run.task("Summarize the recovery")["msg"][0].startswith("DONE: restore of communities")
