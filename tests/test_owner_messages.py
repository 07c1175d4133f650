"""connections.dr.lc_owner_messages through real ansible-playbook: one message per owner, in one
task, rendered by Ansible from the shipped template or an administrator's own (per owner, or of
the per-community form of earlier releases); the folder ends up holding exactly this run's
messages; a rerun changes nothing; check mode writes nothing; a broken template fails with one
line and leaves the folder as it was."""
from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO, play, run_playbook

TEMPLATE = REPO / "playbooks" / "templates" / "owner-message.txt.j2"
TASK = "Write the messages"
A, B, C, D = (f"{n:08x}-1111-4111-8111-111111111111" for n in range(4))


def community(uuid: str, name: str, created_by: str, owners: list[dict] | None = None) -> dict:
    c = {"uuid": uuid, "name": name, "created_by": created_by, "applications": ["Blog", "Files"],
         "fields": ["visibility"]}
    if owners is not None:
        c["owners"] = owners
    return c


COMMUNITIES = [
    community(A, "Zeta Rowing", "Ann Lee"),
    community(B, "Alpha Chess", "Ann Lee"),
    community(C, "Beta Poetry", "Bob Roy"),
    # Looked-up owners: two, one of them without a visible address.
    community(D, "Gamma Knitting", "Carl Old", owners=[
        {"name": "Dana Fox", "email": "dana.fox@example.com", "user_id": "u-dana"},
        {"name": "Eli Hid", "email": "", "user_id": "u-eli", "email_hidden": True}]),
]


def write(tmp_path: Path, communities: list[dict], template: Path = TEMPLATE, check: bool = False,
          dest: Path | None = None):
    dest = dest or tmp_path / "messages"
    run = run_playbook(play({"name": TASK, "connections.dr.lc_owner_messages": {
        "communities": communities, "template": str(template), "dest": str(dest)}}),
        tmp_path, check=check)
    return run, dest


def test_one_message_per_owner_listing_their_communities(built, tmp_path):
    run, dest = write(tmp_path, COMMUNITIES)
    assert run.rc == 0, run.stdout + run.stderr
    r = run.task(TASK)
    assert (r["changed"], r["failed"]) == (True, False)
    assert r["msg"] == f"wrote 4 of 4 owners' messages (4 communities) in {dest}"
    files = {p.name: p.read_text() for p in dest.iterdir()}
    assert sorted(files) == ["Ann_Lee.txt", "Bob_Roy.txt", "dana.fox@example.com.txt", "u-eli.txt"]
    assert [(m["owner"]["name"], m["communities"]) for m in r["messages"]] == [
        ("Ann Lee", [B, A]), ("Bob Roy", [C]), ("Dana Fox", [D]), ("Eli Hid", [D])]
    ann = files["Ann_Lee.txt"]
    assert ann.startswith("To: Ann Lee\nSubject: Please re-save the access setting of 2 of your communities\n\nHello Ann Lee,\n")
    assert re.findall(r'^  - "([^"]+)" \(id ([0-9a-f-]+)\)', ann, re.M) == [("Alpha Chess", B), ("Zeta Rowing", A)]
    assert files["Bob_Roy.txt"].startswith('To: Bob Roy\nSubject: Please re-save the access setting of "Beta Poetry"\n')
    assert files["dana.fox@example.com.txt"].startswith("To: Dana Fox <dana.fox@example.com>\n")
    assert files["u-eli.txt"].startswith("To: Eli Hid <u-eli>\n")
    assert all(oct(p.stat().st_mode & 0o777) == "0o640" for p in dest.iterdir())

    again, _ = write(tmp_path, COMMUNITIES)
    r = again.task(TASK)
    assert (r["changed"], r["written"], r["removed"]) == (False, [], [])
    assert r["msg"] == f"wrote 0 of 4 owners' messages (4 communities) in {dest}"


def test_stale_messages_go_and_check_mode_writes_nothing(built, tmp_path):
    dest = tmp_path / "messages"
    dest.mkdir()
    (dest / f"{A}.txt").write_text("a per-community message of an earlier recovery\n")
    (dest / "notes.md").write_text("not a message\n")
    run, _ = write(tmp_path, COMMUNITIES[2:3], check=True)
    r = run.task(TASK)
    assert (r["changed"], r["written"], r["removed"]) == (True, [str(dest / "Bob_Roy.txt")], [str(dest / f"{A}.txt")])
    assert r["msg"] == f"would write 1 of 1 owners' messages (1 communities) in {dest}, would remove 1 of an earlier recovery"
    assert sorted(p.name for p in dest.iterdir()) == [f"{A}.txt", "notes.md"]

    run, _ = write(tmp_path, COMMUNITIES[2:3])
    r = run.task(TASK)
    assert r["msg"] == f"wrote 1 of 1 owners' messages (1 communities) in {dest}, removed 1 of an earlier recovery"
    assert sorted(p.name for p in dest.iterdir()) == ["Bob_Roy.txt", "notes.md"]

    run, _ = write(tmp_path, [])
    r = run.task(TASK)
    assert (r["changed"], r["messages"]) == (True, [])
    assert sorted(p.name for p in dest.iterdir()) == ["notes.md"]


def test_the_administrators_own_templates(built, tmp_path):
    """A per-owner template with Ansible's filters and the play's variables; a per-community
    template of earlier releases (item) still works: its parts follow one another in the
    owner's one message."""
    own = tmp_path / "own.j2"
    own.write_text("Dear {{ owner.name | upper }} ({{ site_name }}):\n"
                   "{% for c in communities %}* {{ c.name }} [{{ c.applications | join('/') }}]\n{% endfor %}")
    run = run_playbook(play({"name": TASK, "connections.dr.lc_owner_messages": {
        "communities": COMMUNITIES[:3], "template": str(own), "dest": str(tmp_path / "m1")}}),
        tmp_path, extra_vars={"site_name": "Connections at Example"})
    assert run.task(TASK)["changed"] is True, run.stdout
    assert (tmp_path / "m1" / "Ann_Lee.txt").read_text() == (
        "Dear ANN LEE (Connections at Example):\n* Alpha Chess [Blog/Files]\n* Zeta Rowing [Blog/Files]\n")

    legacy = tmp_path / "legacy.j2"
    legacy.write_text('To: {{ item.created_by }} (owner of the community "{{ item.name }}")\n'
                      "Community id: {{ item.uuid }}\n")
    run, dest = write(tmp_path, COMMUNITIES[:3], template=legacy, dest=tmp_path / "m2")
    assert run.task(TASK)["changed"] is True, run.stdout
    assert (dest / "Ann_Lee.txt").read_text() == (
        f'To: Ann Lee (owner of the community "Alpha Chess")\nCommunity id: {B}\n'
        + "\n" + "-" * 72 + "\n\n"
        + f'To: Ann Lee (owner of the community "Zeta Rowing")\nCommunity id: {A}\n')
    assert (dest / "Bob_Roy.txt").read_text() == f'To: Bob Roy (owner of the community "Beta Poetry")\nCommunity id: {C}\n'


def test_a_broken_template_fails_with_one_line_and_writes_nothing(built, tmp_path):
    dest = tmp_path / "messages"
    dest.mkdir()
    (dest / "Ann_Lee.txt").write_text("kept\n")
    broken = tmp_path / "broken.j2"
    broken.write_text("Hello {{ owner.name }\n")
    run, _ = write(tmp_path, COMMUNITIES, template=broken)
    r = run.task(TASK)
    assert run.rc == 2 and r["failed"] is True
    assert r["msg"].startswith(f"template {broken}: "), r["msg"]
    assert "\n" not in r["msg"]
    undefined = tmp_path / "undefined.j2"
    undefined.write_text("Hello {{ owner.nickname.first }}\n")
    run, _ = write(tmp_path, COMMUNITIES, template=undefined)
    r = run.task(TASK)
    assert r["failed"] is True and r["msg"].startswith(f"rendering {undefined}: "), r["msg"]
    assert [p.name for p in dest.iterdir()] == ["Ann_Lee.txt"]
    assert (dest / "Ann_Lee.txt").read_text() == "kept\n"
    run, _ = write(tmp_path, [{"name": "no uuid"}])
    assert run.task(TASK)["msg"] == "communities[0] is not a community to contact (a dict with uuid)"
