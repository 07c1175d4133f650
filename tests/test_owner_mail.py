"""Owners' messages mailed in the task that writes them (connections.dr.lc_owner_messages with
``mail``, which runs connections.dr.lc_owner_mail on the controller), through real
ansible-playbook, against a real SMTP server on loopback (aiosmtpd, started by the tests):
every owner with an address gets exactly one mail, with the right communities, as RFC 5322
wants it; a rerun sends nothing new (mail-sent.json); a refused recipient is reported and the
others still go; STARTTLS verified against a throwaway CA, and refused without it; the login;
check mode sends nothing; recover.yml with the Atom API lookup mails every real owner."""
from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import json
import re
import time
from pathlib import Path

from conftest import REPO, SmtpServer, TlsRelay, free_port, play, run_playbook
from test_recover import sites  # noqa: F401  (the fixture)

TEMPLATE = REPO / "playbooks" / "templates" / "owner-message.txt.j2"
TASK = "Write and mail the messages"
A, B, C, E, D = (f"{n:08x}-2222-4222-8222-222222222222" for n in range(5))
LOGIN = ("cnx-mailer", "smtp-Secret-4711")
SENDER = "Connections admins <cnx-admins@example.com>"
RECORD = "mail-sent.json"


def community(uuid: str, name: str, created_by: str, owners: list[dict] | None = None) -> dict:
    c = {"uuid": uuid, "name": name, "created_by": created_by, "applications": ["Blog", "Files"],
         "fields": ["visibility"]}
    if owners is not None:
        c["owners"] = owners
    return c


DANA = {"name": "Dana Fox", "email": "dana.fox@example.com", "user_id": "u-dana"}
ZOE = {"name": "Zoë Brandt", "email": "zoe@example.com", "user_id": "u-zoe"}
CARL = {"name": "Carl Cole", "email": "carl@example.com", "user_id": "u-carl"}
ELI = {"name": "Eli Hid", "email": "", "user_id": "u-eli", "email_hidden": True}
COMMUNITIES = [
    community(A, "Zeta Rowing", "Old Owner", [DANA, ZOE]),
    community(B, "Alpha Chess", "Dana Fox", [DANA]),
    community(C, "Gamma Knitting", "Zoë Brandt", [ZOE, ELI]),
    community(E, "Ærø Kayak Club", "Carl Cole", [CARL]),
    # The creator only (no lookup): a name, no address.
    community(D, "Beta Poetry", "Ann Lee"),
]
# Who gets which communities (their message lists them by name).
EXPECTED = {"dana.fox@example.com": [B, A], "zoe@example.com": [C, A], "carl@example.com": [E]}
NOT_MAILABLE = [
    {"name": "Ann Lee", "user_id": "", "file": "Ann_Lee.txt", "reason": "no e-mail address: only a name"},
    {"name": "Eli Hid", "user_id": "u-eli", "file": "u-eli.txt", "reason": "the e-mail address is hidden (user id u-eli)"},
]


def mail_options(server: SmtpServer, **extra) -> dict:
    return {"host": "127.0.0.1", "port": server.port, "from": SENDER, "timeout": 5, **extra}


def send(tmp_path: Path, mail: dict, communities: list[dict] = COMMUNITIES, *, template: Path = TEMPLATE,
         check: bool = False, args: list[str] | None = None):
    dest = tmp_path / "messages"
    run = run_playbook(play({"name": TASK, "connections.dr.lc_owner_messages": {
        "communities": communities, "template": str(template), "dest": str(dest), "mail": mail},
        "delegate_to": "localhost"}), tmp_path, check=check, args=args)
    return run, dest


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def content(m: email.message.EmailMessage) -> str:
    """The body as text, with the line ends of the file (SMTP carries CRLF)."""
    return m.get_content().replace("\r\n", "\n")


def test_every_owner_gets_one_mail_with_their_communities_and_a_rerun_sends_nothing(
        built, tmp_path, smtp_factory, test_ca):
    """STARTTLS verified against the CA of ca_path, with a login; check mode first."""
    server = smtp_factory(tls=test_ca.server, login=LOGIN)
    mail = mail_options(server, user=LOGIN[0], password=LOGIN[1], ca_path=str(test_ca.cert))

    run, dest = send(tmp_path, mail, check=True)
    assert run.rc == 0, run.stdout + run.stderr
    r = run.task(TASK)
    assert (r["changed"], r["failed"]) == (True, False)
    assert r["msg"] == (f"would write 5 of 5 owners' messages (5 communities) in {dest}; would mail 3 of 5 owners' "
                        f"messages through {server.address} (starttls); 2 not mailable (no e-mail address)")
    assert sorted(s["to"] for s in r["mail"]["sent"]) == sorted(EXPECTED)
    assert server.received == [] and not dest.exists()

    started = time.time()
    run, dest = send(tmp_path, mail)
    assert run.rc == 0, run.stdout + run.stderr
    r = run.task(TASK)
    assert (r["changed"], r["failed"]) == (True, False)
    assert r["msg"] == (f"wrote 5 of 5 owners' messages (5 communities) in {dest}; mailed 3 of 5 owners' messages "
                        f"through {server.address} (starttls); 2 not mailable (no e-mail address)")
    assert r["mail"]["not_mailable"] == NOT_MAILABLE
    assert (r["mail"]["refused"], r["mail"]["already_sent"]) == ([], [])
    files = {p.name: p.read_bytes() for p in dest.glob("*.txt")}
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        ["Ann_Lee.txt", "carl@example.com.txt", "dana.fox@example.com.txt", "u-eli.txt", "zoe@example.com.txt", RECORD])

    # Exactly one mail per owner with an address, with that owner's communities.
    assert len(server.received) == 3
    got: dict[str, list[str]] = {}
    ids = set()
    for sender, rcpts, raw in server.received:
        assert sender == "cnx-admins@example.com"
        assert len(rcpts) == 1
        to = rcpts[0]
        assert to not in got, f"two mails to {to}"
        assert b"\n" not in raw.replace(b"\r\n", b""), "a line that does not end in CRLF"
        m = parse(raw)
        assert m["To"].addresses[0].addr_spec == to
        assert (m["From"].addresses[0].display_name, m["From"].addresses[0].addr_spec) == (
            "Connections admins", "cnx-admins@example.com")
        assert abs(email.utils.parsedate_to_datetime(m["Date"]).timestamp() - started) < 120
        assert re.fullmatch(r"<\d+\.[0-9a-f]{20}@example\.com>", m["Message-ID"]), m["Message-ID"]
        ids.add(m["Message-ID"])
        assert m["Auto-Submitted"] == "auto-generated"
        assert m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8"
        text = files[f"{to}.txt"].decode()
        head, body = text.split("\n\n", 1)
        # The template's Subject: line is the subject; its To: line is not sent as such.
        assert m["Subject"] == head.splitlines()[1].removeprefix("Subject: ")
        assert content(m) == body
        got[to] = re.findall(r"\(id ([0-9a-f-]{36})\)", body)
    assert got == EXPECTED
    assert len(ids) == 3
    zoe = parse(next(raw for _s, rcpts, raw in server.received if rcpts == ["zoe@example.com"]))
    assert zoe["To"].addresses[0].display_name == "Zoë Brandt"
    carl_raw = next(raw for _s, rcpts, raw in server.received if rcpts == ["carl@example.com"])
    carl = parse(carl_raw)
    assert carl["Subject"] == 'Please re-save the access setting of "Ærø Kayak Club"'
    assert b"\r\nSubject: =?UTF-8?B?" in carl_raw and b"Content-Transfer-Encoding: quoted-printable" in carl_raw
    assert all(len(line) <= 78 for line in carl_raw.split(b"\r\n")[:12])
    assert all(raw.isascii() for _s, _r, raw in server.received)

    # The record: what was sent, by recipient and the SHA-256 of the message.
    record = json.loads((dest / RECORD).read_text())
    assert sorted((s["to"], s["sha256"], s["file"]) for s in record["sent"]) == sorted(
        (to, hashlib.sha256(files[f"{to}.txt"]).hexdigest(), f"{to}.txt") for to in EXPECTED)
    assert {s["message_id"] for s in record["sent"]} == ids
    assert all(s["server"] == server.address for s in record["sent"])
    assert oct((dest / RECORD).stat().st_mode & 0o777) == "0o640"

    # The rerun sends nothing new.
    again, _ = send(tmp_path, mail)
    r = again.task(TASK)
    assert (r["changed"], r["failed"]) == (False, False)
    assert r["msg"] == (f"wrote 0 of 5 owners' messages (5 communities) in {dest}; mailed 0 of 5 owners' messages "
                        f"through {server.address} (starttls); 3 already sent (in {dest / RECORD}); "
                        f"2 not mailable (no e-mail address)")
    assert sorted(s["to"] for s in r["mail"]["already_sent"]) == sorted(EXPECTED)
    assert len(server.received) == 3

    # A later run with fewer owners: stale messages go, the record stays and is no message.
    later, _ = send(tmp_path, mail, communities=[COMMUNITIES[3]])
    r = later.task(TASK)
    assert r["msg"] == (f"wrote 0 of 1 owners' messages (1 communities) in {dest}, removed 4 of an earlier recovery; "
                        f"mailed 0 of 1 owners' messages through {server.address} (starttls); "
                        f"1 already sent (in {dest / RECORD})")
    assert sorted(p.name for p in dest.iterdir()) == ["carl@example.com.txt", RECORD]
    assert len(server.received) == 3


def test_a_refused_recipient_is_reported_and_the_others_still_go(built, tmp_path, smtp_factory):
    """A relay without TLS (tls none) that refuses one recipient; the administrator's own template
    has no header lines (the subject option is the subject), lines that start with a dot, and
    text that is not ASCII."""
    server = smtp_factory(refuse=("dana.fox@example.com",))
    own = tmp_path / "own.j2"
    own.write_text("Hallo {{ owner.name }},\n.{{ communities | map(attribute='name') | join(', ') }}\n..\n.\n"
                   "{% for c in communities %}(id {{ c.uuid }})\n{% endfor %}Grüße\n")
    mail = mail_options(server, tls="none", subject="Ihre Communitys: bitte einmal speichern")
    run, dest = send(tmp_path, mail, COMMUNITIES[:4], template=own)
    assert run.rc == 0, run.stdout + run.stderr
    r = run.task(TASK)
    assert (r["changed"], r["failed"]) == (True, False)
    reply = "550 5.1.1 <dana.fox@example.com>: no such user here"
    assert r["mail"]["refused"] == [{"to": "dana.fox@example.com", "file": "dana.fox@example.com.txt", "reply": reply}]
    assert r["msg"] == (f"wrote 4 of 4 owners' messages (4 communities) in {dest}; mailed 2 of 4 owners' messages "
                        f"through {server.address} (none); 1 refused by the server: dana.fox@example.com ({reply}); "
                        f"1 not mailable (no e-mail address)")
    assert f"{server.address} refused the message to dana.fox@example.com: {reply}" in run.stdout + run.stderr
    assert sorted(rcpts[0] for _s, rcpts, _raw in server.received) == ["carl@example.com", "zoe@example.com"]
    for _s, rcpts, raw in server.received:
        m = parse(raw)
        assert m["Subject"] == "Ihre Communitys: bitte einmal speichern"
        # Dot-stuffed on the way, whole again at the server: the body is the message file.
        assert content(m) == (dest / f"{rcpts[0]}.txt").read_text()
        assert "\n.\n" in content(m) and "\n..\n" in content(m)
        assert re.findall(r"\(id ([0-9a-f-]{36})\)", content(m)) == EXPECTED[rcpts[0]]
    assert [s["to"] for s in json.loads((dest / RECORD).read_text())["sent"]] == [
        s["to"] for s in r["mail"]["sent"]]

    # The rerun tries the refused one again, and only that one.
    again, _ = send(tmp_path, mail, COMMUNITIES[:4], template=own)
    r = again.task(TASK)
    assert (r["changed"], r["failed"]) == (False, False)
    assert [x["to"] for x in r["mail"]["refused"]] == ["dana.fox@example.com"]
    assert sorted(x["to"] for x in r["mail"]["already_sent"]) == ["carl@example.com", "zoe@example.com"]
    assert len(server.received) == 2


def test_implicit_tls(built, tmp_path, smtp_factory, test_ca):
    """tls implicit: TLS from the first byte (a TLS relay of the test's CA in front of the SMTP
    server), verified through ca_path."""
    server = smtp_factory()
    with TlsRelay(*test_ca.server, backend=server.port) as relay:
        port = int(relay.url.rsplit(":", 1)[1])
        run, dest = send(tmp_path, mail_options(server, port=port, tls="implicit", ca_path=str(test_ca.cert)))
    r = run.task(TASK)
    assert (r["changed"], r["failed"]) == (True, False), r
    assert r["msg"].endswith(f"mailed 3 of 5 owners' messages through 127.0.0.1:{port} (implicit); "
                             "2 not mailable (no e-mail address)"), r["msg"]
    assert sorted(rcpts[0] for _s, rcpts, _raw in server.received) == sorted(EXPECTED)


def test_a_session_cut_off_part_way_keeps_what_was_sent_and_the_rerun_sends_the_rest(
        built, tmp_path, smtp_factory):
    """The server accepts one message, then answers 421 and ends the session: the task fails
    with one line, the record holds the one sent, and the rerun sends only the other two."""
    server = smtp_factory()
    server.close_after = 1
    mail = mail_options(server, tls="none")
    run, dest = send(tmp_path, mail)
    r = run.task(TASK)
    assert (run.rc, r["failed"], r["mail"]["failed"]) == (2, True, True), r
    assert r["msg"] == (f"wrote 5 of 5 owners' messages (5 communities) in {dest}; mailed 1 of 5 owners' messages, "
                        f"then stopped: SMTP server {server.address}: closed the session: 421 4.3.2 Service shutting "
                        f"down; 2 not sent (a rerun sends them; those sent are in {dest / RECORD})")
    assert [rcpts[0] for _s, rcpts, _raw in server.received] == ["carl@example.com"]
    assert [s["to"] for s in json.loads((dest / RECORD).read_text())["sent"]] == ["carl@example.com"]

    server.close_after = None
    again, _ = send(tmp_path, mail)
    r = again.task(TASK)
    assert (r["changed"], r["failed"]) == (True, False), r
    assert sorted(s["to"] for s in r["mail"]["sent"]) == ["dana.fox@example.com", "zoe@example.com"]
    assert [s["to"] for s in r["mail"]["already_sent"]] == ["carl@example.com"]
    assert sorted(rcpts[0] for _s, rcpts, _raw in server.received) == sorted(EXPECTED)


def test_a_server_that_cannot_be_used_fails_with_one_line_and_the_messages_are_written(
        built, tmp_path, smtp_factory, test_ca):
    """No CA for the server's certificate, a wrong password, nothing listening, no STARTTLS
    offered: each fails the task with one line naming host:port; nothing is sent or recorded,
    the messages are written all the same. Options that cannot work fail before anything."""
    tls_server = smtp_factory(tls=test_ca.server, login=LOGIN)
    plain = smtp_factory()
    cases = [
        (mail_options(tls_server, user=LOGIN[0], password=LOGIN[1]),
         f"SMTP server {tls_server.address}: TLS handshake failed: the server's certificate was refused "
         "(UnknownIssuer): give the CA that signed it with ca_path, or set validate_certs false"),
        (mail_options(tls_server, user=LOGIN[0], password="wrong", ca_path=str(test_ca.cert)),
         f"SMTP server {tls_server.address}: refused the login of {LOGIN[0]}: 535 5.7.8 Authentication credentials invalid"),
        (mail_options(plain, port=(closed := free_port())),
         f"SMTP server 127.0.0.1:{closed}: cannot connect (Connection refused (os error 111))"),
        (mail_options(plain),
         f"SMTP server {plain.address}: does not offer STARTTLS (tls: starttls); use tls: implicit for a TLS port, or none"),
    ]
    for i, (mail, why) in enumerate(cases):
        run, dest = send(tmp_path / str(i), mail)
        r = run.task(TASK)
        assert (run.rc, r["failed"], r["mail"]["failed"]) == (2, True, True), r
        assert r["msg"] == f"wrote 5 of 5 owners' messages (5 communities) in {dest}; no owner's message was mailed: {why}"
        assert len(list(dest.glob("*.txt"))) == 5 and not (dest / RECORD).exists()
    assert tls_server.received == [] and plain.received == []

    for mail, msg in [
        (mail_options(plain, tls="none", user=LOGIN[0], password=LOGIN[1]),
         "user and password are sent only over TLS: with tls none they would cross the network in clear; "
         "use starttls or implicit"),
        ({**mail_options(plain), "hostname": "x"},
         "mail: unknown keys hostname; known: ca_path, from, helo, host, password, port, subject, timeout, tls, "
         "user, validate_certs"),
        ({"host": "127.0.0.1"}, "mail.from is required to send the messages"),
        (mail_options(plain, **{"from": "admins"}),
         'from must be an address, like Connections admins <admins@example.com>, not "admins"'),
    ]:
        run, dest = send(tmp_path / "bad", mail)
        r = run.task(TASK)
        assert r["failed"] is True
        assert r["msg"].endswith(msg), r["msg"]
    assert plain.received == []


def test_recover_with_the_api_lookup_mails_every_owner_once(sites, tmp_path, smtp_factory):
    """recover.yml with lc_owner_lookup api and lc_owner_mail (a relay on loopback): every owner
    the Atom API gives an address gets one mail listing exactly their communities; those whose
    address is hidden are listed as not mailable; the summary says so."""
    from test_owners_api import AtomApi, owners_served

    site = sites.make("mail", "communities", communities=80, seed=4)
    contacts = site.truth["communities_to_contact"]
    served = owners_served(site.cell)
    server = smtp_factory()
    api = AtomApi(site.cell)
    try:
        run = site.run(tmp_path, {"lc_owner_lookup": "api", "lc_owner_api_url": api.url,
                                  "lc_owner_api_user": site.cell.user, "lc_owner_api_password": site.cell.password,
                                  "lc_owner_mail": {"host": "127.0.0.1", "port": server.port, "tls": "none",
                                                    "from": SENDER, "timeout": 5}})
    finally:
        api.close()
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    expected: dict[str, list[str]] = {}
    hidden: set[str] = set()
    for c in contacts:
        for o in served[c["uuid"]]:
            if o["email"]:
                expected.setdefault(o["email"], []).append(c["uuid"])
            else:
                hidden.add(o["user_id"])
    assert expected and hidden, "the cell serves owners with and without addresses"
    got: dict[str, list[str]] = {}
    for _sender, rcpts, raw in server.received:
        assert len(rcpts) == 1 and rcpts[0] not in got, rcpts
        got[rcpts[0]] = sorted(re.findall(r"\(id ([0-9a-f-]{36})\)", content(parse(raw))))
    assert got == {k: sorted(v) for k, v in expected.items()}
    written = run.task("Write one message per owner of the communities to contact")
    assert {o["user_id"] for o in written["mail"]["not_mailable"]} == hidden
    assert len(site.messages()) == len(expected) + len(hidden)
    assert (site.report_dir / "messages" / RECORD).exists()
    summary = run.task("Summarize the recovery")["msg"]
    assert f"Mail ({server.address}): {len(expected)} sent, 0 already sent before, 0 refused, " \
        f"{len(hidden)} not mailable (no e-mail address)" in summary, summary
