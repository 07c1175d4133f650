"""connections.dr.lc_lock through real ansible-playbook: the run lock of recover.yml and
verify.yml, taken, refused while another run holds it, taken over when its run's
ansible-playbook process is gone, released only by its holder; and the same in check mode,
where nothing is written. The playbooks' own use of it is covered by test_faults.py (a killed
run's lock taken over, a second run refused, a foreign lock refused) and test_verify.py."""
from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import play, run_playbook

TAKE = "Take the lock"
RELEASE = "Release the lock"


def holder(run_id: str, pid: int | str, controller: str = "ctl", playbook: str = "recover.yml") -> dict:
    return {"id": run_id, "pid": pid, "controller": controller, "user": "alice",
            "started": "2026-01-02T03:04:05Z", "playbook": playbook}


def lock_task(name: str, lock: Path, record: dict, **options) -> dict:
    return {"name": name, "connections.dr.lc_lock": {"path": str(lock), "holder": record,
                                                     "host_name": "dmgr1", **options},
            "register": "lock", "ignore_errors": True}


def record_of(lock: Path) -> dict:
    return json.loads(os.readlink(lock))


def test_take_then_release_with_the_folder_made_0750(built, tmp_path):
    lock = tmp_path / "work" / "recovery" / ".recover.lock"
    me = holder("run1", "{{ 41 + 1 }}")
    run = run_playbook(play(lock_task(TAKE, lock, me, running_pids=[42]),
                            {"name": "Keep it", "ansible.builtin.set_fact": {"taken": "{{ lock.holder }}"}},
                            lock_task(RELEASE, lock, me, state="absent"),
                            lock_task("Release it again", lock, me, state="absent")), tmp_path / "run")
    assert run.rc == 0, run.stdout
    taken = run.task(TAKE)
    assert (taken["changed"], taken["failed"], taken["msg"]) == (True, False, f"took the lock {lock}")
    assert taken["holder"] == {**me, "pid": 42, "lock": str(lock)}
    assert (lock.parent.stat().st_mode & 0o777) == 0o750
    released = run.task(RELEASE)
    assert (released["changed"], released["msg"]) == (True, f"released the lock {lock}")
    assert not os.path.lexists(lock)
    again = run.task("Release it again")
    assert (again["changed"], again["msg"]) == (False, f"no lock at {lock}: nothing to release")


def test_a_lock_held_by_another_run_is_refused_with_how_to_clear_it_and_kept(built, tmp_path):
    lock = tmp_path / ".recover.lock"
    raw = json.dumps(holder("abcdefghij0123456789", 4242, "admin-workstation-7", "verify.yml"))
    os.symlink(raw, lock)
    me = holder("run1", 42)
    run = run_playbook(play(lock_task(TAKE, lock, me, running_pids=[42]),
                            lock_task(RELEASE, lock, me, state="absent")), tmp_path / "run")
    refused = run.task(TAKE)
    assert (refused["changed"], refused["failed"]) == (False, True)
    assert refused["msg"] == (
        f"Another verify.yml run holds the lock {lock} on dmgr1 (run abcdefghij0123456789, started "
        "2026-01-02T03:04:05Z by alice on admin-workstation-7, pid 4242). Wait for that run to finish. "
        "If no run is going on (it was killed, or its controller went down), remove the lock on dmgr1 "
        f"(rm {lock}) and run again.")
    assert refused["holder"]["id"] == "abcdefghij0123456789"
    kept = run.task(RELEASE)
    assert kept["changed"] is False
    assert kept["msg"] == f"the lock {lock} is not this run's (run abcdefghij0123456789): left as it is"
    assert os.readlink(lock) == raw


def test_the_lock_of_a_run_gone_from_this_controller_is_taken_over(built, tmp_path):
    """Same controller, and its pid runs no ansible-playbook any more: taken over; while it
    still runs, or with no list of the running ones, refused."""
    lock = tmp_path / ".recover.lock"
    os.symlink(json.dumps(holder("old", 4242)), lock)
    me = holder("run1", 42)
    run = run_playbook(play(lock_task("Take it while the old run runs", lock, me, running_pids=[42, 4242]),
                            lock_task("Take it with no process list", lock, me),
                            lock_task(TAKE, lock, me, running_pids=[42])), tmp_path / "run")
    for name in ("Take it while the old run runs", "Take it with no process list"):
        assert run.task(name)["failed"] is True, name
        assert run.task(name)["msg"].startswith(f"Another recover.yml run holds the lock {lock} on dmgr1 (run old,")
    taken = run.task(TAKE)
    assert (taken["changed"], taken["failed"]) == (True, False)
    assert taken["msg"] == ("Took over the lock of run old (pid 4242 on ctl, started 2026-01-02T03:04:05Z): "
                            "that process no longer runs.")
    assert taken["taken_over"]["id"] == "old"
    assert record_of(lock)["id"] == "run1"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [".recover.lock"]


def test_check_mode_says_what_it_would_do_and_writes_nothing(built, tmp_path):
    lock = tmp_path / "work" / ".recover.lock"
    me = holder("run1", 42)
    run = run_playbook(play(lock_task(TAKE, lock, me, running_pids=[42])), tmp_path / "plan", check=True)
    assert (run.task(TAKE)["changed"], run.task(TAKE)["msg"]) == (True, f"would take the lock {lock}")
    assert not lock.parent.exists()

    lock.parent.mkdir()
    os.symlink(json.dumps({**holder("old", 4242), "lock": str(lock)}), lock)
    old = {**holder("old", 4242), "lock": str(lock)}
    run = run_playbook(play(lock_task(TAKE, lock, me, running_pids=[42]),
                            lock_task(RELEASE, lock, old, state="absent")), tmp_path / "plan2", check=True)
    assert run.task(TAKE)["changed"] is True
    assert run.task(TAKE)["msg"].startswith("would take over: Took over the lock of run old")
    assert (run.task(RELEASE)["changed"], run.task(RELEASE)["msg"]) == (True, f"would release the lock {lock}")
    assert record_of(lock)["id"] == "old"


def test_a_relative_path_or_a_holder_without_its_keys_is_refused(built, tmp_path):
    run = run_playbook(play(lock_task("Relative", Path("work/.recover.lock"), holder("run1", 42)),
                            lock_task("No pid", tmp_path / ".recover.lock", {"id": "run1", "controller": "ctl"})),
                       tmp_path / "run")
    assert run.task("Relative")["msg"] == 'path must be the absolute path of the lock file; got "work/.recover.lock"'
    assert run.task("No pid")["failed"] is True
    assert "pid" in run.task("No pid")["msg"], run.task("No pid")["msg"]
    assert not os.path.lexists(tmp_path / ".recover.lock")
