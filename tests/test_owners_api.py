"""connections.dr.lc_owners through real ansible-playbook against the Communities Atom API of a
simulated cell (`lc-sim atom serve`: the members feed, role owner, paged, HTTP Basic), compared
with what the cell says it serves (`lc-sim atom owners`): several owners, owners who are not the
creator, hidden e-mail addresses, paging one owner per page, a community whose request never
gets an answer in time, refused credentials; HTTPS with a certificate of a CA of our own, trusted
only through ca_path; the consolidated report gains the owners; the password is in no output,
result or process list."""
from __future__ import annotations

import csv
import re
import io
import json
import subprocess
from pathlib import Path

import pytest

from conftest import RELEASE, Cell, TestCA, TlsRelay, play, run_playbook
from test_faults import ProcessWatch
from test_recover import sites  # noqa: F401  (the fixture)

TASK = "Look up the owners"


class AtomApi:
    """`lc-sim atom serve` on a free loopback port, for as long as the test runs."""

    def __init__(self, cell: Cell, *delays: str):
        args = [str(RELEASE / "lc-sim"), "atom", "serve", str(cell.root)]
        for d in delays:
            args += ["--delay", d]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.port = json.loads(self.proc.stdout.readline())["port"]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def damaged(cell_factory):
    cell = cell_factory("cell", "--communities", 200, "--seed", 5)
    cell.damage("communities", backup_age=35)
    return cell


def owners_served(cell: Cell) -> dict[str, list[dict]]:
    out = subprocess.run([str(RELEASE / "lc-sim"), "atom", "owners", str(cell.root)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def look_up(tmp_path: Path, cell: Cell, api: AtomApi, contacts: list[dict], **extra):
    args = {"communities": contacts, "url": api.url, "user": cell.user, "password": cell.password,
            "page_size": 1, "timeout": 2, "concurrency": 3, **extra}
    return run_playbook(play({"name": TASK, "connections.dr.lc_owners": args}), tmp_path, args=["-vvv"])


def test_every_owner_with_paging_hidden_addresses_and_a_timeout(damaged, tmp_path):
    contacts = damaged.truth()["communities_to_contact"]
    served = owners_served(damaged)
    slow = contacts[0]
    api = AtomApi(damaged, f"{slow['uuid']}=6")
    try:
        with ProcessWatch(tmp_path) as watch:
            run = look_up(tmp_path, damaged, api, contacts)
    finally:
        api.close()
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    r = run.task(TASK)
    assert (r["changed"], r["failed"]) == (False, False)
    got = {c["uuid"]: c.get("owners", []) for c in r["communities"]}
    expected = {c["uuid"]: served[c["uuid"]] for c in contacts if c is not slow}
    assert {u: o for u, o in got.items() if u != slow["uuid"]} == expected
    assert got[slow["uuid"]] == []
    assert r["unresolved"] == [{"uuid": slow["uuid"], "name": slow["name"],
                                "reason": "no answer within the timeout"}]
    # What the cell serves has what the test needs to mean something.
    listed = [o for u in expected for o in expected[u]]
    assert any(len(o) > 1 for o in expected.values()), "no community with several owners (paging)"
    creators = {c["uuid"]: c["created_by"] for c in contacts}
    assert any(creators[u] not in [o["name"] for o in os] for u, os in expected.items()), "no owner who is not the creator"
    hidden = sorted({o["user_id"] for o in listed if o["email_hidden"]})
    assert hidden and all(o["email"] == "" for o in listed if o["email_hidden"])
    assert sorted(r["hidden_emails"]) == hidden
    distinct = len({o["user_id"] for o in listed})
    assert r["owners_total"] == distinct
    assert r["msg"] == (
        f"{distinct} owners of {len(contacts) - 1} communities looked up at {api.url}; "
        f"{len(hidden)} hide their e-mail address: their user id stands for it; 1 communities keep "
        f"their creator as the owner to contact, as the lookup failed: {slow['uuid']} (no answer within the timeout)")
    secret = damaged.password
    assert secret not in run.stdout + run.stderr
    assert secret not in json.dumps(run.results)
    assert watch.seen > 0 and not [line for line in watch.lines if secret in line]


def test_refused_credentials_and_bad_input(damaged, tmp_path):
    contacts = damaged.truth()["communities_to_contact"][:3]
    api = AtomApi(damaged)
    try:
        run = run_playbook(play({"name": TASK, "connections.dr.lc_owners": {
            "communities": contacts, "url": api.url, "user": damaged.user, "password": "wrong-pw"}}), tmp_path)
        r = run.task(TASK)
        assert r["failed"] is False
        assert [u["reason"] for u in r["unresolved"]] == ["HTTP 401 Unauthorized: check user and password"] * 3
        run = run_playbook(play({"name": TASK, "connections.dr.lc_owners": {
            "communities": contacts, "url": "ftp://127.0.0.1"}}), tmp_path)
        assert run.task(TASK)["msg"] == 'url must start with https:// (or http://), not "ftp://127.0.0.1"'
        run = run_playbook(play({"name": TASK, "connections.dr.lc_owners": {
            "communities": contacts, "url": api.url, "user": damaged.user}}), tmp_path)
        assert run.task(TASK)["msg"] == "user and password go together: give both or neither"
        run = run_playbook(play({"name": TASK, "connections.dr.lc_owners": {
            "communities": contacts, "url": api.url, "concurrency": 0}}), tmp_path)
        assert run.task(TASK)["msg"] == "concurrency must be between 1 and 32, not 0"
        # https with a server that speaks plain HTTP: the TLS handshake fails, and says so.
        run = run_playbook(play({"name": TASK, "connections.dr.lc_owners": {
            "communities": contacts[:1], "url": api.url.replace("http:", "https:"), "timeout": 3}}), tmp_path)
        r = run.task(TASK)
        assert len(r["unresolved"]) == 1 and r["unresolved"][0]["reason"] != "", r
    finally:
        api.close()


def test_https_with_an_internal_ca_is_trusted_through_ca_path_only(damaged, tmp_path):
    """A server certificate signed by a CA of the site's own: verified against ca_path; without
    it (the built-in roots) or for another address, every lookup fails and says why; with
    validate_certs false it is taken as it is."""
    contacts = damaged.truth()["communities_to_contact"][:4]
    served = owners_served(damaged)
    ca = TestCA(tmp_path / "ca")
    good = ca.issue("server", "127.0.0.1")
    other = ca.issue("elsewhere", "127.0.0.2")
    api = AtomApi(damaged)

    def look(relay: TlsRelay, **extra):
        run = look_up(tmp_path, damaged, api, contacts, url=relay.url, timeout=5, **extra)
        assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
        return run.task(TASK)

    try:
        with TlsRelay(*good, api.port) as relay:
            r = look(relay, ca_path=str(ca.cert))
            assert r["unresolved"] == []
            assert {c["uuid"]: c["owners"] for c in r["communities"]} == {c["uuid"]: served[c["uuid"]] for c in contacts}
            r = look(relay)
            assert r["unresolved"] == [{"uuid": c["uuid"], "name": c["name"], "reason": (
                "the server's certificate was refused (UnknownIssuer): give the CA that signed it "
                "with ca_path, or set validate_certs false")} for c in contacts]
            r = look(relay, validate_certs=False)
            assert r["unresolved"] == []
        with TlsRelay(*other, api.port) as relay:
            r = look(relay, ca_path=str(ca.cert))
            assert r["unresolved"] == [{"uuid": c["uuid"], "name": c["name"], "reason": (
                "the server's certificate was refused (certificate not valid for name "
                '"127.0.0.1"; certificate is only valid for IpAddress(127.0.0.2)): give the CA '
                "that signed it with ca_path, or set validate_certs false")} for c in contacts]
        # A ca_path that holds no certificate is refused before any request.
        empty = tmp_path / "empty.pem"
        empty.write_text("not a certificate\n")
        run = look_up(tmp_path, damaged, api, contacts, url="https://127.0.0.1:1", ca_path=str(empty))
        assert run.task(TASK)["msg"] == f"ca_path {empty}: no PEM certificate in it"
    finally:
        api.close()


def test_the_report_gains_the_owners(damaged, tmp_path):
    contacts = damaged.truth()["communities_to_contact"]
    served = owners_served(damaged)
    report = tmp_path / "report"
    report.mkdir()
    (report / "recovery-report.json").write_text(json.dumps({
        "differences": [], "orphans": [], "communities_to_contact": contacts,
        "counts": {"applications": {}, "total": {"differences": 0, "orphans": 0, "communities": len(contacts)}}}))
    api = AtomApi(damaged)
    try:
        run = look_up(tmp_path, damaged, api, contacts, report_dir=str(report))
        r = run.task(TASK)
        assert (r["changed"], r["unresolved"]) == (True, []), r.get("msg")
        again = look_up(tmp_path, damaged, api, contacts, report_dir=str(report))
        assert again.task(TASK)["changed"] is False
    finally:
        api.close()
    facts = json.loads((report / "recovery-report.json").read_text())
    assert {c["uuid"]: c["owners"] for c in facts["communities_to_contact"]} == {c["uuid"]: served[c["uuid"]] for c in contacts}
    rows = list(csv.DictReader(io.StringIO((report / "owners.csv").read_text())))
    assert [r["uuid"] for r in rows] == [c["uuid"] for c in facts["communities_to_contact"]]
    for row in rows:
        labels = [f"{o['name']} <{o['email']}>" if o["email"] else f"{o['name']} (user id {o['user_id']}, e-mail hidden)"
                  for o in served[row["uuid"]]]
        assert row["owners"] == "; ".join(labels)
    html = (report / "recovery-report.html").read_text()
    some = next(o for os in served.values() for o in os if o["email"] and any(o in served[c["uuid"]] for c in contacts))
    assert f"{some['name']} &lt;{some['email']}&gt;" in html


def test_recover_with_the_api_lookup_writes_one_message_per_real_owner(sites, tmp_path):
    """recover.yml with lc_owner_lookup api: owners.csv names every owner the API serves, and the
    messages folder holds one message per owner, each listing exactly that owner's communities."""
    site = sites.make("api", "communities", communities=120, seed=4)
    contacts = site.truth["communities_to_contact"]
    served = owners_served(site.cell)
    api = AtomApi(site.cell)
    try:
        run = site.run(tmp_path, {"lc_owner_lookup": "api", "lc_owner_api_url": api.url,
                                  "lc_owner_api_user": site.cell.user,
                                  "lc_owner_api_password": site.cell.password})
    finally:
        api.close()
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    looked = run.task("Look up every owner of the communities to contact (Communities Atom API)")
    assert (looked["changed"], looked["unresolved"]) == (True, [])
    rows = list(csv.DictReader(io.StringIO((site.report_dir / "owners.csv").read_text())))
    assert sorted(r["uuid"] for r in rows) == sorted(c["uuid"] for c in contacts)
    expected: dict[str, list[str]] = {}
    for c in contacts:
        for o in served[c["uuid"]]:
            expected.setdefault(o["email"] or o["user_id"], []).append(c["uuid"])
    got = {}
    for text in site.messages().values():
        to = text.splitlines()[0]
        address = to[to.index("<") + 1:to.rindex(">")]
        got[address] = sorted(re.findall(r"\(id ([0-9a-f-]{36})\)", text))
    assert got == {k: sorted(v) for k, v in expected.items()}
    assert site.cell.password not in run.stdout + run.stderr
