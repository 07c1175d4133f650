"""connections.dr.lc_sync_report and connections.dr.lc_orphan through real ansible-playbook against
simulated cells (lc-sim: real Jython behind wsadmin.sh), checked against the cell's ground truth
(`lc-sim truth`), its call counters (`lc-sim status`) and its state files; the consolidated HTML
report is rendered in headless Chromium.

Comparisons with the truth are exact, as sorted lists of dicts. The lists inside a community to
contact (`applications`, `fields`) are sets: the module sorts them by name, the truth in the
product's table order, so both sides are sorted before comparing."""
from __future__ import annotations

import collections
import csv
import json
import re
import struct
import subprocess
import sys
import zlib
from html import unescape
from pathlib import Path

import pytest

from conftest import VENV_BIN, Cell, ansible_env, play, run_playbook

EXPORTS = "{{ export.exports | map(attribute='path') | list }}"

# The labels a French Connections could print in its reports (a report variant for column_map).
FRENCH = {
    "community_uuid": ("Community UUID", "UUID de la communauté"),
    "community_name": ("Community Name", "Nom de la communauté"),
    "field": ("Attribute", "Attribut"),
    "communities_value": ("Communities Value", "Valeur dans Communautés"),
    "application_value": ("Application Value", "Valeur dans l&#39;application"),
    "object_id": ("Object Identifying Id", "Identifiant de l&#39;objet"),
    "old_community_uuid": ("Old Community UUID", "Ancien UUID de communauté"),
    "community_exists": ("Community Exists", "La communauté existe"),
}


# --- helpers ---------------------------------------------------------------------------------

def normalized(rows: list[dict]) -> list[dict]:
    """Rows as a sorted list of dicts, lists inside them sorted (they are sets)."""
    out = [{k: sorted(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows]
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True))


def assert_facts_equal_truth(result: dict, truth: dict) -> None:
    for key in ("differences", "orphans", "communities_to_contact"):
        assert normalized(result[key]) == normalized(truth[key]), key


def expected_counts(truth: dict, apps: list[str]) -> dict:
    """The counts lc_sync_report must give, worked out from the ground truth."""
    per_app = {a: {"differences": 0, "orphans": 0, "communities": 0} for a in apps}
    to_contact: dict[str, set] = collections.defaultdict(set)
    for d in truth["differences"]:
        per_app[d["application"]]["differences"] += 1
        if not (d["application"] == "Wiki" and d["field"] == "moderation"):
            to_contact[d["application"]].add(d["community_uuid"])
    for o in truth["orphans"]:
        per_app[o["application"]]["orphans"] += 1
    for app, uuids in to_contact.items():
        per_app[app]["communities"] = len(uuids)
    total = {"differences": len(truth["differences"]), "orphans": len(truth["orphans"]),
             "communities": len(truth["communities_to_contact"])}
    return {"applications": per_app, "total": total}


def export_task(cell: Cell, dest: Path, applications: list[str] | None = None) -> dict:
    args = {"dest_dir": str(dest), **cell.wsadmin()}
    if applications:
        args["applications"] = applications
    return {"name": "Export", "connections.dr.lc_export": args, "register": "export"}


def report_task(cell: Cell, out: Path, name: str = "Read the reports", exports=EXPORTS,
                register: str | None = "sync", **extra) -> dict:
    args = {"exports": exports, "output_dir": str(out), **cell.wsadmin(), **extra}
    task = {"name": name, "connections.dr.lc_sync_report": args}
    if register:
        task["register"] = register
    return task


def orphan_task(cell: Cell, orphans, name: str = "Handle the orphans", **extra) -> dict:
    return {"name": name, "connections.dr.lc_orphan": {"orphans": orphans, **cell.wsadmin(), **extra}}


def calls(cell: Cell) -> dict[str, int]:
    return cell.status().get("calls", {})


def world(cell: Cell) -> dict:
    """The cell's state, for facts no admin call prints (which widgets a community has)."""
    return json.loads((cell.root / "state" / "world.json").read_text())


def wrapped_wsadmin(cell: Cell, name: str, after: list[str]) -> str:
    """A wsadmin.sh beside the cell's own that runs it, then the command `after` (what a server
    whose output is not what the stand-in writes would leave behind)."""
    path = Path(cell.wsadmin_path).parent / name
    command = " ".join(f"'{a}'" for a in after)
    path.write_text(f'#!/bin/sh\n"$(dirname "$0")/wsadmin.sh" "$@"\nrc=$?\n{command} || exit 99\nexit $rc\n')
    path.chmod(0o755)
    return str(path)


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of RGB(A) bytes of an 8-bit, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert (depth, interlace) == (8, 0) and color in (2, 6), header
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r) if bpp == 3 else bytes(x for j, x in enumerate(r) if j % 4 != 3)
                           for r in rows]


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                           "--no-first-run", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", *args],
                          capture_output=True, text=True, timeout=180)


# --- a cell restored to an older Communities backup ---------------------------------------------

@pytest.fixture(scope="module")
def restored(built, tmp_path_factory):
    """A cell of 200 communities after a Communities restore (with communities in Trash), every
    application exported, the reports read twice. Returns (cell, run, truth, output folder)."""
    base = tmp_path_factory.mktemp("restored")
    cell = Cell.init(base / "cell", "--communities", 200, "--seed", 1)
    cell.damage("communities", backup_age=30, trash=2)
    truth = cell.truth()
    out = base / "reports"
    run = run_playbook(play(export_task(cell, base / "exports"), report_task(cell, out),
                            report_task(cell, out, "Read the reports again", register=None)),
                       base / "run")
    assert run.rc == 0, run.stdout + run.stderr
    return cell, run, truth, out


def test_communities_restore_facts_equal_the_truth(restored):
    cell, run, truth, out = restored
    result = run.task("Read the reports")
    assert (result["changed"], result["failed"]) == (True, False)
    assert_facts_equal_truth(result, truth)
    apps = cell.info["apps"]
    assert result["counts"] == expected_counts(truth, apps)
    # Several applications differ, orphans of both kinds, false visibility differences from the
    # Trash, and Wiki moderation differences that put nobody on the list.
    assert len({d["application"] for d in truth["differences"]}) >= 5
    assert {o["community_exists"] for o in truth["orphans"]} == {True, False}
    assert any(d["field"] == "visibility" and d["communities_value"] == "private"
               for d in truth["differences"])
    wiki_moderation = [d for d in result["differences"]
                       if d["application"] == "Wiki" and d["field"] == "moderation"]
    assert wiki_moderation
    for c in result["communities_to_contact"]:
        wiki_fields = {d["field"] for d in result["differences"]
                       if d["application"] == "Wiki" and d["community_uuid"] == c["uuid"]}
        assert ("Wiki" in c["applications"]) == bool(wiki_fields - {"moderation"}), c
    for c in result["communities_to_contact"]:
        assert c["name"] and c["created_by"], c
    t = result["counts"]["total"]
    assert result["msg"] == (f"{t['differences']} differences in {t['communities']} communities to "
                             f"contact, {t['orphans']} orphans, across {len(apps)} application(s); "
                             f"report: {out}/recovery-report.html")
    # One wsadmin run per module call: the export, the reports, the reports again.
    assert cell.launches() == 3
    assert calls(cell)["CommunitiesRemoteAppService.generateSyncReports"] == 2 * len(apps)

    # The files: every report read, the facts as JSON, the owners as CSV.
    assert sorted(result["report_files"]) == sorted(
        str(out / f"{a}{s}") for a in apps
        for s in ("_communityDifferences.html", "_orphanedRemoteApplications.html"))
    facts = json.loads(Path(result["report_json"]).read_text())
    assert {k: facts[k] for k in ("differences", "orphans", "communities_to_contact", "counts")} == \
        {k: result[k] for k in ("differences", "orphans", "communities_to_contact", "counts")}
    with open(result["owners_csv"], newline="", encoding="utf-8") as f:
        owners = list(csv.DictReader(f))
    assert owners == [{"uuid": c["uuid"], "name": c["name"], "created_by": c["created_by"],
                       "applications": "; ".join(c["applications"]), "fields": "; ".join(c["fields"]),
                       "owners": ""}
                      for c in result["communities_to_contact"]]

    # Read again: the same facts, nothing changed.
    again = run.task("Read the reports again")
    assert (again["changed"], again["failed"]) == (False, False)
    assert_facts_equal_truth(again, truth)


@pytest.mark.parametrize("app", ["Blog", "Wiki"])
def test_single_app_restore_facts_equal_the_truth(cell_factory, tmp_path, app):
    """Only the restored application is exported and reported; for Wiki, its moderation
    differences are listed but put nobody on the contact list."""
    cell = cell_factory("cell", "--communities", 200, "--seed", 3)
    cell.damage(app, backup_age=30)
    truth = cell.truth()
    assert truth["differences"] and truth["orphans"]
    run = run_playbook(play(export_task(cell, tmp_path / "exports", [app]),
                            report_task(cell, tmp_path / "reports")), tmp_path / "run")
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("Read the reports")
    assert_facts_equal_truth(result, truth)
    assert result["counts"] == expected_counts(truth, [app])
    assert {d["application"] for d in result["differences"]} == {app}
    assert cell.launches() == 2
    if app == "Wiki":
        moderation = {d["community_uuid"] for d in truth["differences"] if d["field"] == "moderation"}
        assert moderation
        assert not moderation & {c["uuid"] for c in result["communities_to_contact"]}
        assert len(result["communities_to_contact"]) < len({d["community_uuid"] for d in truth["differences"]})


def test_report_renders_in_chromium_with_totals_and_chart(restored, tmp_path):
    cell, run, truth, out = restored
    result = run.task("Read the reports")
    html = Path(result["report_html"])
    shot = tmp_path / "report.png"
    profile = tmp_path / "profile"
    profile.mkdir()
    r = chromium(f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1280,2000",
                 html.as_uri())
    assert r.returncode == 0, r.stderr
    assert shot.exists() and shot.stat().st_size > 30_000
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1280, 2000)
    pixels = collections.Counter()
    for row in rows:
        for i in range(0, len(row), 3):
            pixels[row[i:i + 3]] += 1
    assert len(pixels) > 50
    # The chart's bars, in their two colours, are on the page.
    assert pixels[bytes((0x1f, 0x5f, 0xa8))] > 500
    assert pixels[bytes((0xd6, 0x9e, 0x2e))] > 500

    dom_profile = tmp_path / "profile-dom"
    dom_profile.mkdir()
    r = chromium(f"--user-data-dir={dom_profile}", "--dump-dom", html.as_uri())
    assert r.returncode == 0, r.stderr
    dom = r.stdout
    t = result["counts"]["total"]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))
    assert f"{t['differences']} differences {t['orphans']} orphaned resources {t['communities']} communities to contact" in text
    for app, c in result["counts"]["applications"].items():
        assert f"{app} {c['differences']} {c['orphans']} {c['communities']}" in text
        assert f"<title>{app}: {c['differences']} differences</title>" in dom
    assert f"Total {t['differences']} {t['orphans']} {t['communities']}" in text
    assert dom.count('class="bar-differences"') == len(result["counts"]["applications"]) + 1


def test_column_map_reads_a_relabelled_report(restored, tmp_path):
    """A server printing other header labels: without column_map the module says which labels
    are missing in which file and what to set; with it, the facts are the truth's."""
    cell, run, truth, _ = restored
    relabel = tmp_path / "relabel.py"
    relabel.write_text(
        "import pathlib, sys\n"
        f"LABELS = {json.dumps({en: fr for en, fr in FRENCH.values()})}\n"
        "for p in pathlib.Path(sys.argv[1]).glob('*.html'):\n"
        "    if p.name.startswith('recovery-'):\n"
        "        continue\n"
        "    t = p.read_text(encoding='utf-8')\n"
        "    for en, fr in LABELS.items():\n"
        "        t = t.replace('<th>' + en + '</th>', '<th>' + fr + '</th>')\n"
        "    p.write_text(t, encoding='utf-8')\n")
    out = tmp_path / "reports"
    wsadmin = wrapped_wsadmin(cell, "wsadmin-fr.sh", [sys.executable, str(relabel), str(out)])
    exports = run.task("Export")["exports"]
    paths = [e["path"] for e in exports]
    french = {k: fr.replace("&#39;", "'") for k, (_, fr) in FRENCH.items()}
    plain = report_task(cell, out, "Read French reports as English", exports=paths, register=None,
                        wsadmin_path=wsadmin)
    plain["ignore_errors"] = True
    mapped = report_task(cell, out, "Read French reports", exports=paths, register=None,
                         wsadmin_path=wsadmin, column_map=french)
    result = run_playbook(play(plain, mapped), tmp_path / "run")
    assert result.rc == 0, result.stdout + result.stderr
    # Not understood: every application is left unread, with why, and the module succeeds.
    unread = result.task("Read French reports as English")
    assert (unread["changed"], unread["failed"]) == (True, False)
    apps = sorted(e["application"] for e in exports)
    assert [u["application"] for u in unread["unread"]] == apps
    for u in unread["unread"]:
        a = u["application"]
        assert u["files"] == [f"{out}/{a}_communityDifferences.html",
                              f"{out}/{a}_orphanedRemoteApplications.html"]
        assert u["reason"].startswith(f"{out}/{a}_communityDifferences.html:"), u
        assert ('no table with the expected column headers: missing "Community Name", "Community UUID", '
                '"Attribute", "Communities Value", "Application Value"') in u["reason"]
        assert u["reason"].endswith("if the report prints other labels, set column_map for "
                                    "community_name, community_uuid, field, communities_value, application_value")
    named = "; ".join(f"{u['application']} ({', '.join(u['files'])}): {u['reason']}" for u in unread["unread"])
    assert unread["msg"] == (f"0 differences in 0 communities to contact, 0 orphans, across 0 application(s); "
                             f"report: {out}/recovery-report.html; {len(apps)} unread: "
                             f"reports not read, to read by hand: {named}")
    assert (unread["differences"], unread["orphans"], unread["counts"]["applications"]) == ([], [], {})
    assert "[WARNING]: reports not read, to read by hand: " in result.stdout + result.stderr
    good = result.task("Read French reports")
    assert (good["changed"], good["failed"]) == (True, False)
    assert_facts_equal_truth(good, truth)
    text = (out / f"{apps[0]}_orphanedRemoteApplications.html").read_text(encoding="utf-8")
    assert "<th>La communauté existe</th>" in text


def test_a_report_the_server_could_not_write_is_left_unread_and_a_failed_call_fails(restored, tmp_path):
    """generateSyncReports regenerates the reports on every run, so a cut report reaches the
    module only when the server leaves one (a full disk behind a writer that drops output
    silently): a wsadmin.sh that cuts the Blog report after the real run stands for that. Blog
    is then listed as unread (the module succeeds, the raw files are linked from the report). A
    call that fails on the server is the other way: the module fails."""
    cell, run, _, _ = restored
    out = tmp_path / "reports"
    target = out / "Blog_communityDifferences.html"
    cut = tmp_path / "cut.py"
    cut.write_text("import os, sys\np = sys.argv[1]\nos.truncate(p, os.path.getsize(p) * 2 // 3)\n")
    wsadmin = wrapped_wsadmin(cell, "wsadmin-cut.sh", [sys.executable, str(cut), str(target)])
    paths = [e["path"] for e in run.task("Export")["exports"]]
    cut_task = report_task(cell, out, "Read a cut report", exports=paths, register=None,
                           wsadmin_path=wsadmin)
    result = run_playbook(play(cut_task), tmp_path / "run")
    cut_result = result.task("Read a cut report")
    # Blog is left for a person to read; the other applications' facts stand.
    assert (cut_result["changed"], cut_result["failed"]) == (True, False)
    [unread] = cut_result["unread"]
    assert (unread["application"], unread["files"]) == (
        "Blog", [str(target), str(out / "Blog_orphanedRemoteApplications.html")])
    assert re.fullmatch(rf"{re.escape(str(target))}:\d+: truncated report: the file ends inside "
                        r"(a tag|an attribute value|the table opened at line \d+ \(no </table>\))",
                        unread["reason"]), unread["reason"]
    assert cut_result["msg"].endswith(
        f"; 1 unread: reports not read, to read by hand: Blog ({target}, "
        f"{out / 'Blog_orphanedRemoteApplications.html'}): {unread['reason']}"), cut_result["msg"]
    apps = run.task("Export")["exports"]
    assert "Blog" not in cut_result["counts"]["applications"]
    assert len(cut_result["counts"]["applications"]) == len(apps) - 1
    assert not [d for d in cut_result["differences"] if d["application"] == "Blog"]
    assert cut_result["differences"] and cut_result["orphans"]
    html = (out / "recovery-report.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="([^"]*)">([^<]*)</a>', html)
    assert [(h, unescape(t)) for h, t in links] == [
        ("Blog_communityDifferences.html", str(target)),
        ("Blog_orphanedRemoteApplications.html", str(out / "Blog_orphanedRemoteApplications.html"))]
    assert json.loads((out / "recovery-report.json").read_text())["unread"] == cut_result["unread"]

    cell.fault("--fail", "generateSyncReports")
    try:
        fail_task = report_task(cell, tmp_path / "reports2", "Generate on a failing server",
                                exports=paths, register=None)
        fail_task["ignore_errors"] = True
        result = run_playbook(play(fail_task), tmp_path / "run2")
    finally:
        cell.fault("--clear")
    failed = result.task("Generate on a failing server")
    assert failed["failed"] is True
    assert failed["msg"] == (
        f"CommunitiesRemoteAppService.generateSyncReports({paths[0]}) failed: "
        "com.ibm.websphere.management.exception.AdminException: "
        "CommunitiesRemoteAppService.generateSyncReports failed on the server (fault injected by lc-sim)")


def test_sync_report_check_mode_changes_nothing(cell_factory, tmp_path):
    cell = cell_factory("cell", "--communities", 50)
    cell.damage("communities")
    before = cell.state_bytes()
    exports = [str(tmp_path / "exports" / f"{a}.xml") for a in ("Blog", "Wiki")]
    out = tmp_path / "reports"
    run = run_playbook(play(report_task(cell, out, exports=exports)), tmp_path / "run", check=True)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("Read the reports")
    assert (result["changed"], result["failed"]) == (True, False)
    assert result["msg"] == f"would generate and read the sync reports of 2 export(s) in {out}"
    # Which files the reports will be is known only once generateSyncReports wrote them.
    assert "report_files" not in result
    assert result["exports"] == [{"application": a, "path": x, "layout": None}
                                 for a, x in zip(("Blog", "Wiki"), exports)]
    assert not out.exists()
    assert cell.launches() == 0
    assert cell.state_bytes() == before


# --- orphans ------------------------------------------------------------------------------------

def test_assign_keeps_orphans_in_their_communities_and_a_rerun_changes_nothing(cell_factory, tmp_path):
    """Orphans whose community still exists go back to it (two activities of one community
    included); the others need a target and are skipped. A fresh report no longer lists the kept
    ones, and running again with it changes nothing."""
    cell = cell_factory("cell", "--communities", 200, "--seed", 8)
    cell.damage("communities")
    truth = cell.truth()
    kept = [o for o in truth["orphans"] if o["community_exists"]]
    gone = [o for o in truth["orphans"] if not o["community_exists"]]
    assert kept and gone
    assert max(collections.Counter((o["application"], o["old_community_uuid"]) for o in kept).values()) > 1

    run = run_playbook(play(export_task(cell, tmp_path / "exports"),
                            report_task(cell, tmp_path / "reports"),
                            orphan_task(cell, "{{ sync.orphans }}", action="assign")), tmp_path / "run")
    assert run.rc == 0, run.stdout + run.stderr
    assert_facts_equal_truth(run.task("Read the reports"), truth)
    result = run.task("Handle the orphans")
    assert (result["changed"], result["failed"]) == (True, False)
    by_id = {o["object_id"]: o for o in result["outcomes"]}
    assert len(by_id) == len(truth["orphans"])
    for o in kept:
        got = by_id[o["object_id"]]
        assert (got["action"], got["status"], got["target_community"]) == \
            ("assign", "done", o["old_community_uuid"]), got
        assert got["message"].startswith(f"assigned to {o['old_community_uuid']}")
    for o in gone:
        got = by_id[o["object_id"]]
        assert (got["status"], got["message"]) == (
            "skipped", "needs a target community: its old community no longer exists; give target_community")
    assert result["counts"] == {"done": len(kept), "skipped": len(gone), "failed": 0, "planned": 0,
                                "total": len(truth["orphans"])}
    assert result["msg"] == f"{len(kept)} orphans handled, {len(gone)} left as reported, of {len(truth['orphans'])}"
    assert cell.launches() == 3
    # The activities of one community move with one call.
    assert calls(cell)["CommunitiesRemoteAppService.assignRemoteApp"] == \
        len({(o["application"], o["old_community_uuid"]) for o in kept})
    after = cell.truth()
    assert normalized(after["orphans"]) == normalized(gone)
    attached = world(cell)["communities"]
    for o in kept:
        assert o["application"] in attached[o["old_community_uuid"]]["widgets"]

    # A fresh report lists only what is left; handling it again changes nothing.
    state = cell.state_bytes()
    run = run_playbook(play(export_task(cell, tmp_path / "exports"),
                            report_task(cell, tmp_path / "reports"),
                            orphan_task(cell, "{{ sync.orphans }}", action="assign")), tmp_path / "run2")
    assert run.rc == 0, run.stdout + run.stderr
    fresh = run.task("Read the reports")
    assert normalized(fresh["orphans"]) == normalized(gone)
    again = run.task("Handle the orphans")
    assert (again["changed"], again["failed"]) == (False, False)
    assert {o["status"] for o in again["outcomes"]} == {"skipped"}
    assert cell.launches() == 5
    assert cell.state_bytes() == state


def test_delete_needs_confirm_delete_policy_per_app_and_check_mode(cell_factory, tmp_path):
    cell = cell_factory("cell", "--communities", 200, "--seed", 5)
    cell.damage("communities", backup_age=30)
    truth = cell.truth()
    orphans = truth["orphans"]
    per_app = collections.Counter(o["application"] for o in orphans)
    assert set(per_app) == set(cell.info["apps"]), per_app
    policy = {a: "delete" for a in per_app if a != "Wiki"}
    deleted = [o for o in orphans if o["application"] != "Wiki"]
    wikis = [o for o in orphans if o["application"] == "Wiki"]
    state = cell.state_bytes()

    # Check mode gives the plan; without confirm_delete nothing is deleted. Neither starts wsadmin.
    checked = orphan_task(cell, orphans, "Plan", policy=policy, confirm_delete=True)
    checked["check_mode"] = True
    run = run_playbook(play(checked, orphan_task(cell, orphans, "Delete unconfirmed", policy=policy)),
                       tmp_path / "unconfirmed")
    assert run.rc == 0, run.stdout + run.stderr
    plan = run.task("Plan")
    assert (plan["changed"], plan["failed"]) == (True, False)
    assert [(o["object_id"], o["action"], o["status"]) for o in plan["outcomes"]] == \
        [(o["object_id"], "report" if o["application"] == "Wiki" else "delete",
          "skipped" if o["application"] == "Wiki" else "planned") for o in orphans]
    assert plan["msg"] == f"would handle {len(deleted)} of {len(orphans)} orphans ({len(wikis)} left as reported)"
    unconfirmed = run.task("Delete unconfirmed")
    assert (unconfirmed["changed"], unconfirmed["failed"]) == (False, False)
    for o in unconfirmed["outcomes"]:
        if o["application"] == "Wiki":
            assert (o["action"], o["status"]) == ("report", "skipped")
        else:
            assert (o["action"], o["status"], o["message"]) == (
                "delete", "skipped", "not deleted: deletion happens only with confirm_delete: true")
    assert cell.launches() == 0
    assert cell.state_bytes() == state
    assert normalized(cell.truth()["orphans"]) == normalized(orphans)

    # Confirmed: every application's own command, in one wsadmin run; Wiki left as reported. Then
    # again with the orphans a fresh report gives (the Wiki ones): nothing to do.
    run = run_playbook(play(orphan_task(cell, orphans, "Delete", policy=policy, confirm_delete=True),
                            orphan_task(cell, wikis, "Delete again", policy=policy, confirm_delete=True)),
                       tmp_path / "confirmed")
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("Delete")
    assert (result["changed"], result["failed"]) == (True, False)
    assert result["counts"] == {"done": len(deleted), "skipped": len(wikis), "failed": 0,
                                "planned": 0, "total": len(orphans)}
    messages = collections.defaultdict(set)
    for o in result["outcomes"]:
        messages[o["application"]].add(re.sub(r"[0-9a-f-]{36}", "<id>", o["message"]))
    assert messages["Blog"] == messages["IdeationBlog"] == {"deleted"}
    assert messages["Files"] == {"deleted with every version"}
    assert messages["Forum"] == {"moved to Trash"}
    assert "moved to Trash" in messages["Activities"]
    assert messages["Activities"] <= {"moved to Trash", "moved to Trash with activity <id>: "
                                      "deleteActivities takes every activity of community <id>"}
    assert cell.launches() == 1
    c = calls(cell)
    communities_of = lambda app: len({o["old_community_uuid"] for o in orphans if o["application"] == app})
    assert c["BlogsAdminService.deleteWeblog"] == per_app["Blog"] + per_app["IdeationBlog"]
    assert c["FilesLibraryService.delete"] == per_app["Files"]
    assert c["ForumsService.deleteForums"] == per_app["Forum"]
    assert c["ForumsService.fetchForums"] == 1
    assert c["ActivityService.deleteActivities"] == communities_of("Activities")
    assert c["NewsMicrobloggingService.deleteMicroblogs"] == communities_of("StatusUpdates")
    assert "WikisLibraryService.delete" not in c
    assert normalized(cell.truth()["orphans"]) == normalized(wikis)
    trash = {r["id"] for r in world(cell)["trash"]}
    for o in deleted:
        if o["application"] in ("Activities", "Forum"):
            assert o["object_id"] in trash, o
    again = run.task("Delete again")
    assert (again["changed"], again["failed"]) == (False, False)
    assert {o["status"] for o in again["outcomes"]} == {"skipped"}


def test_target_that_already_has_the_widget(cell_factory, tmp_path):
    """A new community has a Files widget by default: assigning an orphaned library there fails
    with what to do, the other orphans are still handled and the task fails at the end; with
    replace_default_widget the widget is removed first and the library goes in. Two libraries for
    one community: the second fails up front and the first is not lost."""
    cell = cell_factory("cell", "--communities", 200, "--seed", 5)
    cell.damage("communities", backup_age=30)
    truth = cell.truth()
    w = world(cell)
    holding = collections.defaultdict(set)
    for r in w["resources"]:
        holding[r["community_uuid"]].add(r["app"])
    # Communities whose Files widget holds nothing (restored communities, as new ones are).
    empty = sorted(u for u, c in w["communities"].items()
                   if "Files" in c["widgets"] and "Files" not in holding[u])
    assert len(empty) >= 2, empty
    first, second = empty[:2]
    files = [o for o in truth["orphans"] if o["application"] == "Files" and not o["community_exists"]]
    other = next(o for o in truth["orphans"] if not o["community_exists"]
                 and o["application"] in ("Blog", "Wiki", "Activities")
                 and o["application"] not in w["communities"][first]["widgets"])
    assert len(files) >= 3

    without = orphan_task(cell, [files[0], other], "Assign without replacing", action="assign",
                          target_community=first)
    replacing = orphan_task(cell, [files[0]], "Assign replacing", action="assign",
                            target_community=first, replace_default_widget=True)
    both = orphan_task(cell, files[1:3], "Two libraries for one community", action="assign",
                       target_community=second, replace_default_widget=True)
    without["ignore_errors"] = both["ignore_errors"] = True
    run = run_playbook(play(without, replacing, both), tmp_path / "run")
    assert run.rc == 0, run.stdout + run.stderr

    result = run.task("Assign without replacing")
    assert (result["changed"], result["failed"]) == (True, True)
    lib, kept = result["outcomes"]
    assert (lib["status"], kept["status"]) == ("failed", "done")
    assert lib["message"] == (
        f"community {first} already has a Files widget (community {first} already has a Files widget; "
        "remove it first (CommunitiesService.removeAllWidgetsByWidgetDefId)): set "
        "replace_default_widget: true to remove the default widget a new community gets, or choose "
        "another target_community")
    assert result["msg"] == f"1 of 2 orphans failed (1 done, 0 skipped); first: Files {files[0]['object_id']}: {lib['message']}"

    result = run.task("Assign replacing")
    assert (result["changed"], result["failed"]) == (True, False)
    assert result["outcomes"][0]["status"] == "done"

    result = run.task("Two libraries for one community")
    assert (result["changed"], result["failed"]) == (True, True)
    done, refused = result["outcomes"]
    assert done["status"] == "done"
    assert (refused["status"], refused["message"]) == ("failed", (
        f"community {second} already receives Files {files[1]['object_id']} in this run and a "
        "community holds one Files widget: give this one another target_community"))

    # The orphans assigned are attached where they were sent, the refused one is still an orphan,
    # and each target's empty widget was removed once.
    left = {o["object_id"] for o in cell.truth()["orphans"]}
    assert files[2]["object_id"] in left
    assert not {files[0]["object_id"], files[1]["object_id"], other["object_id"]} & left
    resources = {(r["app"], r["id"]): r["community_uuid"] for r in world(cell)["resources"]}
    assert resources[("Files", files[0]["object_id"])] == first
    assert resources[(other["application"], other["object_id"])] == first
    assert resources[("Files", files[1]["object_id"])] == second
    assert calls(cell)["CommunitiesService.removeAllWidgetsByWidgetDefId"] == 2
    assert cell.launches() == 3


def test_a_thousand_orphans_in_one_wsadmin_run(cell_factory, tmp_path):
    """Every community created since a backup a year old: more than a thousand orphans, deleted
    in one wsadmin run (an application's own command per orphan)."""
    cell = cell_factory("cell", "--communities", 560, "--apps", "Blog,Files,Wiki")
    cell.damage("communities", backup_age=400)
    orphans = cell.truth()["orphans"]
    assert len(orphans) >= 1000
    run = run_playbook(play(orphan_task(cell, orphans, "Delete them all", action="delete",
                                        confirm_delete=True)), tmp_path / "run")
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("Delete them all")
    assert (result["changed"], result["failed"]) == (True, False)
    assert len(result["outcomes"]) == len(orphans)
    assert [o["object_id"] for o in result["outcomes"]] == [o["object_id"] for o in orphans]
    assert result["counts"] == {"done": len(orphans), "skipped": 0, "failed": 0, "planned": 0,
                                "total": len(orphans)}
    assert cell.launches() == 1
    per_app = collections.Counter(o["application"] for o in orphans)
    c = calls(cell)
    assert (c["BlogsAdminService.deleteWeblog"], c["FilesLibraryService.delete"],
            c["WikisLibraryService.delete"]) == (per_app["Blog"], per_app["Files"], per_app["Wiki"])
    assert cell.truth()["orphans"] == []


@pytest.mark.parametrize("module", ["lc_sync_report", "lc_orphan"])
def test_ansible_doc(built, module):
    env = ansible_env()
    text = subprocess.run([str(VENV_BIN / "ansible-doc"), f"connections.dr.{module}"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert text.returncode == 0, text.stderr
    assert f"connections.dr.{module}" in text.stdout
    doc = subprocess.run([str(VENV_BIN / "ansible-doc"), "-j", f"connections.dr.{module}"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert doc.returncode == 0, doc.stderr
    data = json.loads(doc.stdout)[f"connections.dr.{module}"]
    options = data["doc"]["options"]
    for name in ("wsadmin_path", "user", "password", "timeout"):
        assert name in options, name
    if module == "lc_sync_report":
        assert {"exports", "output_dir", "column_map", "community_details"} <= set(options)
        assert {"differences", "orphans", "communities_to_contact", "counts"} <= set(data["return"])
    else:
        assert {"orphans", "action", "policy", "target_community", "replace_default_widget",
                "confirm_delete"} <= set(options)
        assert options["action"]["choices"] == ["report", "assign", "delete"]
        assert {"outcomes", "counts"} <= set(data["return"])
