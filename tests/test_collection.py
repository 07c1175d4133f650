"""The collection as a user gets it, and the per-platform layout of its binaries.

- Every module runs through the platform_binary action (meta/runtime.yml), which picks the binary
  built for the target's system and architecture: check mode, diff mode, no_log and module_defaults
  groups reach the binary as before; a target of another platform fails with one line, untouched.
- recover.yml's preflight refuses such a host by name before anything changes.
- The tarball of ``ansible-galaxy collection build``, installed into an empty collections path,
  lists its modules without a warning, and its playbook ``connections.dr.recover`` recovers
  the demo cell, run by its name or imported by a user's own playbook; ``connections.dr.verify``
  then follows the recovery up.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, VENV_BIN, Cell, ansible_env, lc_sim, play, run_playbook
from test_ihs_maintenance import task as ihs_task
from test_recover import (DEMO_INVENTORY, FAILED, SUMMARY, TASK, Sites, assert_queue_cleared,
                          assert_reports_match_truth, assert_scheduler_paused_then_resumed,
                          assert_site_open, by_host, contacts, out)

# The binary modules (one native binary each, per platform) and every module ansible-doc lists.
MODULES = ["ihs_maintenance", "lc_export", "lc_lock", "lc_orphan", "lc_owner_mail", "lc_owners", "lc_queue",
           "lc_resync", "lc_scheduler", "lc_sync_report", "lc_verify"]
LISTED = sorted(MODULES + ["lc_owner_messages"])
AIX = "is AIX 7.2 (powerpc)"


@pytest.fixture
def sites(built):
    made = Sites()
    yield made
    made.close()


def aix_sudo(folder: Path) -> Path:
    """A stand-in for a host's sudo that runs the command on "AIX": with a ``uname`` first in PATH
    that answers as AIX 7.2 on POWER does (``-m`` is a machine id there, ``-p`` the processor)."""
    bin_dir = folder / "aix-bin"
    bin_dir.mkdir(parents=True)
    uname = bin_dir / "uname"
    uname.write_text('#!/bin/sh\ncase "$1" in -s) echo AIX;; -r) echo 2;; -v) echo 7;; '
                     '-m) echo 00F84C0C4C00;; -p) echo powerpc;; *) echo AIX;; esac\n')
    sudo = folder / "sudo"
    sudo.write_text('#!/bin/sh\n'
                    'while [ $# -gt 0 ]; do case "$1" in -u|-p) shift 2;; -*) shift;; *) break;; esac; done\n'
                    f'PATH={bin_dir}:$PATH; export PATH\nexec "$@"\n')
    uname.chmod(0o755)
    sudo.chmod(0o755)
    return sudo


def become_aix(folder: Path) -> dict:
    """Host variables that make a host look like AIX to everything run on it through become (to
    another user: Ansible skips become to the user it already is)."""
    return {"ansible_become": True, "ansible_become_method": "ansible.builtin.sudo",
            "ansible_become_user": "wasadmin", "ansible_become_exe": str(aix_sudo(folder))}


# --- the per-platform layout, module by module ---------------------------------------------

def test_module_defaults_check_mode_and_no_log_reach_the_binary(cell, tmp_path):
    """A module_defaults group gives lc_scheduler its wsadmin options through the action plugin;
    check mode predicts the pause and leaves the task as it was; with no_log the result is hidden
    (the password nowhere in the output) while the pause is really done."""
    plays = [{"name": "Through the platform layout", "hosts": "localhost", "gather_facts": False,
              "module_defaults": {"group/connections.dr.wsadmin": cell.wsadmin()},
              "tasks": [
                  {"name": "Pause, in check mode", "check_mode": True,
                   "connections.dr.lc_scheduler": {"task": TASK, "state": "paused"}},
                  {"name": "Status after the check", "connections.dr.lc_scheduler": {"task": TASK, "state": "status"}},
                  {"name": "Pause, hidden", "no_log": True,
                   "connections.dr.lc_scheduler": {"task": TASK, "state": "paused"}},
                  {"name": "Status after the pause", "connections.dr.lc_scheduler": {"task": TASK, "state": "status"}},
              ]}]
    run = run_playbook(plays, tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    checked = run.task("Pause, in check mode")
    assert (checked["changed"], checked["status_before"], checked["status"]) == (True, "SCHEDULED", "SUSPENDED")
    assert run.task("Status after the check")["status"] == "SCHEDULED"
    hidden = run.task("Pause, hidden")
    assert hidden["changed"] is True
    assert "censored" in hidden and "status" not in hidden, hidden
    assert run.task("Status after the pause")["status"] == "SUSPENDED"
    assert cell.status()["scheduler"][TASK] == "SUSPENDED"
    assert cell.password not in run.stdout + run.stderr


def test_diff_mode_reaches_the_binary(ihs, tmp_path):
    """--check --diff on ihs_maintenance: the diff of the conf comes back through the action
    plugin, the conf is untouched."""
    before = ihs.conf_bytes()
    run = run_playbook(play(ihs_task(ihs)), tmp_path, check=True, diff=True)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("Put IHS in maintenance mode")
    assert result["changed"] is True
    assert result["diff"]["before"] == before.decode()
    assert result["diff"]["after"].startswith(result["diff"]["before"])
    assert len(result["diff"]["after"]) > len(result["diff"]["before"])
    assert ihs.conf_bytes() == before


def test_a_host_of_another_platform_gets_one_line_and_is_not_touched(cell, tmp_path):
    """On a host whose uname says AIX, lc_scheduler fails before any binary is copied or wsadmin
    started: one line naming the host, what it is and what the module is built for."""
    plays = play({"name": "Pause", "connections.dr.lc_scheduler": {**cell.wsadmin(), "task": TASK,
                                                                     "state": "paused"}})
    launches = cell.launches()
    run = run_playbook(plays, tmp_path, extra_vars=become_aix(tmp_path / "aix"))
    assert run.rc != 0
    result = run.task("Pause")
    assert result["failed"] is True
    assert result["msg"] == (f"localhost {AIX}: connections.dr.lc_scheduler is built for Linux x86_64 "
                             "only"), result
    assert result["platform"] == "aix_powerpc"
    assert cell.launches() == launches
    assert cell.status()["scheduler"][TASK] == "SCHEDULED"


def test_ansible_doc_shows_the_modules_and_the_filter(built):
    env = ansible_env()
    listed = subprocess.run([str(VENV_BIN / "ansible-doc"), "-l", "connections.dr"], capture_output=True,
                            text=True, env=env, check=True)
    assert listed.stderr == ""
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [f"connections.dr.{m}" for m in LISTED]
    doc = subprocess.run([str(VENV_BIN / "ansible-doc"), "-j", "-t", "filter", "connections.dr.platform_problem"],
                         capture_output=True, text=True, env=env, check=True)
    assert doc.stderr == ""
    assert json.loads(doc.stdout)["connections.dr.platform_problem"]["doc"]["short_description"] == \
        "Say why a host cannot run the connections.dr modules"


def accepted_parameters(module: str, folder: Path) -> list[str]:
    """The options a binary module accepts, as it names them itself when given one it doesn't
    know (Ansible's own wording: "Supported parameters include: a, b.")."""
    args = folder / f"{module}.args"
    args.write_text(json.dumps({"lcr_no_such_option": 1, "_ansible_check_mode": True}))
    proc = subprocess.run([str(REPO / "ansible" / "plugins" / "modules" / "__bin__" / f"{module}_linux_x86_64"),
                           str(args)], capture_output=True, text=True, timeout=30)
    msg = json.loads(proc.stdout)["msg"]
    head = f"Unsupported parameters for ({module}) module: lcr_no_such_option. Supported parameters include: "
    assert msg.startswith(head) and msg.endswith("."), msg
    return sorted(msg[len(head):-1].split(", "))


def test_ansible_doc_options_are_what_each_module_accepts(built, tmp_path):
    """Every option a module accepts is documented, and every documented option is accepted: the
    binaries' own lists, and the action plugin's, against ansible-doc's (aliases included)."""
    names = [f"connections.dr.{m}" for m in LISTED]
    doc = subprocess.run([str(VENV_BIN / "ansible-doc"), "-j", "-t", "module", *names],
                         capture_output=True, text=True, env=ansible_env(), check=True)
    docs = json.loads(doc.stdout)

    def documented(module: str) -> list[str]:
        options = docs[f"connections.dr.{module}"]["doc"]["options"]
        return sorted([*options, *(a for o in options.values() for a in o.get("aliases", []))])

    for module in MODULES:
        assert documented(module) == accepted_parameters(module, tmp_path), module
    # Notes are sentences (a ": " in one can make YAML read it as a mapping).
    assert [(m, n) for m in LISTED for n in docs[f"connections.dr.{m}"]["doc"].get("notes", [])
            if not isinstance(n, str)] == []
    spec = importlib.util.spec_from_file_location(
        "lc_owner_messages_action", REPO / "ansible" / "plugins" / "action" / "lc_owner_messages.py")
    action = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(action)
    assert documented("lc_owner_messages") == sorted(action.ActionModule._VALID_ARGS)


# --- recover.yml's preflight ----------------------------------------------------------------

def test_preflight_refuses_a_host_of_another_platform_by_name(sites, tmp_path):
    """ihs2's uname says AIX: the preflight stops the run with one line naming it, before the
    lock, wsadmin or any IHS is touched; ihs1 and dmgr1 (Linux x86_64) pass the check."""
    site = sites.make("aix", "Blog", communities=20, start=False)
    state = site.cell.state_bytes()
    launches = site.cell.launches()
    inventory = tmp_path / "inventory"
    subprocess.run(["cp", "-r", str(DEMO_INVENTORY), str(inventory)], check=True)
    host_vars = inventory / "host_vars" / "ihs2.yml"
    host_vars.write_text(host_vars.read_text() + "".join(
        f"{k}: {json.dumps(v)}\n" for k, v in become_aix(tmp_path / "aix").items()))

    run = site.run(tmp_path / "run", inventory=inventory)
    assert run.rc != 0
    checks = by_host(run, "Check that the modules are built for this platform")
    assert {h: r["failed"] for h, r in checks.items()} == {"dmgr1": False, "ihs1": False, "ihs2": True}
    assert checks["ihs2"]["msg"] == f"ihs2 {AIX}: the connections.dr modules are built for Linux x86_64 only"
    messages = {host: r["msg"] for host, r in by_host(run, FAILED).items()}
    assert sorted(messages) == ["dmgr1", "ihs1", "ihs2"]
    assert messages["ihs2"].startswith(
        f"Step 'preflight' failed on ihs2: ihs2 {AIX}: the connections.dr modules are built for "
        "Linux x86_64 only -- Nothing was changed"), messages
    for host in ("dmgr1", "ihs1"):
        assert messages[host].startswith(
            f"Step 'preflight' stopped on {host} because it failed on another host (see above)."), messages

    assert [s.conf_bytes() for s in site.ihs] == site.original_confs
    assert site.cell.state_bytes() == state
    assert site.cell.launches() == launches
    assert not (site.cell.root / "recovery").exists()


# --- the collection from its tarball ----------------------------------------------------------

@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> dict:
    """The tarball of ``ansible-galaxy collection build``, installed with ``ansible-galaxy
    collection install`` into an empty collections path; returns the environment that uses only
    that path (its own ansible.cfg, nothing of this checkout's build/collections)."""
    base = tmp_path_factory.mktemp("installed")
    path = base / "collections"
    cfg = base / "ansible.cfg"
    cfg.write_text(f"[defaults]\ncollections_path = {path}\ncollections_scan_sys_path = false\n"
                   "retry_files_enabled = false\n")
    env = ansible_env({"ANSIBLE_CONFIG": str(cfg)})
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", str(REPO / "ansible"),
                    "--output-path", str(base)], check=True, capture_output=True, env=env)
    [tarball] = base.glob("connections-dr-*.tar.gz")
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(path)],
                   check=True, capture_output=True, env=env)
    root = path / "ansible_collections" / "connections" / "dr"
    assert (root / "playbooks" / "recover.yml").is_file()
    assert (root / "playbooks" / "verify.yml").is_file()
    assert not (root / "playbooks" / "inventories" / "demo").exists()
    assert sorted(p.name for p in (root / "plugins" / "modules" / "__bin__").iterdir()) == \
        [f"{m}_linux_x86_64" for m in MODULES]
    return {"ANSIBLE_CONFIG": str(cfg), "root": root}


def test_the_installed_collection_lists_its_modules_without_a_warning(installed):
    listed = subprocess.run([str(VENV_BIN / "ansible-doc"), "-l", "connections.dr"], capture_output=True,
                            text=True, env=ansible_env({"ANSIBLE_CONFIG": installed["ANSIBLE_CONFIG"]}))
    assert (listed.returncode, listed.stderr) == (0, "")
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [f"connections.dr.{m}" for m in LISTED]
    assert str(installed["root"]) in subprocess.run(
        [str(VENV_BIN / "ansible-doc"), "connections.dr.lc_export"], capture_output=True, text=True,
        env=ansible_env({"ANSIBLE_CONFIG": installed["ANSIBLE_CONFIG"]})).stdout


def test_the_installed_playbook_recovers_the_demo_cell_by_its_name(installed, sites, tmp_path):
    """``ansible-playbook connections.dr.recover -i <demo inventory>`` from the installed
    collection: the same recovery as playbooks/recover.yml of the checkout. Then two owners
    toggle, and ``connections.dr.verify`` lists exactly what the cell still shows out of step."""
    site = sites.make("fqcn", "communities")
    before = site.truth
    run = run_playbook("connections.dr.recover", tmp_path, inventory=str(DEMO_INVENTORY),
                       env={"ANSIBLE_CONFIG": installed["ANSIBLE_CONFIG"], "LC_DEMO_CELL": str(site.cell.root)})
    assert run.rc == 0, out(run)
    status = site.cell.status()
    assert_scheduler_paused_then_resumed(run, status)
    assert_queue_cleared(site, before, site.cell.truth(), status)
    assert_reports_match_truth(site, before)
    assert_site_open(site)
    assert run.task(SUMMARY)["msg"][0].startswith("DONE: restore of communities")

    lc_sim("toggle", site.cell.root, "--first", "2")
    state = site.cell.state_bytes()
    followed = run_playbook("connections.dr.verify", tmp_path / "verify", inventory=str(DEMO_INVENTORY),
                            env={"ANSIBLE_CONFIG": installed["ANSIBLE_CONFIG"], "LC_DEMO_CELL": str(site.cell.root)})
    assert followed.rc == 0, out(followed)
    report = json.loads((site.report_dir / "verify" / "verify-report.json").read_text())
    still = [{k: c[k] for k in ("uuid", "name", "created_by", "applications", "fields")} for c in report["still_differ"]]
    assert contacts(still) == contacts(site.cell.truth()["communities_to_contact"])
    assert report["counts"]["in_step"] == 2
    assert followed.task("Summarize the follow-up")["msg"][0].startswith("DONE: follow-up of the recovery report")
    assert site.cell.state_bytes() == state


def test_a_users_playbook_imports_the_runbook(installed, sites, tmp_path):
    """A user's own playbook runs a play of its own, then ``import_playbook:
    connections.dr.recover``; in check mode it plans the recovery and changes nothing."""
    site = sites.make("imported", "communities", start=False)
    state = site.cell.state_bytes()
    playbook = tmp_path / "site.yml"
    playbook.write_text(json.dumps([
        {"name": "Our own play first", "hosts": "localhost", "gather_facts": False,
         "tasks": [{"name": "Say what comes", "ansible.builtin.debug": {"msg": "recovering"}}]},
        {"name": "The Connections runbook", "ansible.builtin.import_playbook": "connections.dr.recover"},
    ]))
    run = run_playbook(playbook, tmp_path, inventory=str(DEMO_INVENTORY), check=True,
                       env={"ANSIBLE_CONFIG": installed["ANSIBLE_CONFIG"], "LC_DEMO_CELL": str(site.cell.root)})
    assert run.rc == 0, out(run)
    assert run.task("Say what comes")["msg"] == "recovering"
    assert run.task(SUMMARY)["msg"][0].startswith("PLAN (check mode, nothing changed): restore of communities")
    assert site.cell.state_bytes() == state
    assert [s.conf_bytes() for s in site.ihs] == site.original_confs
