"""The module binaries are static: no program interpreter, no NEEDED entry, and each one, alone
in an empty root (a chroot holding only it and its arguments file), answers a bad option with its
one JSON line; and none of them holds glibc's name service code. So they start on any Linux x86-64 host, whatever its glibc (RHEL 7's 2.17 on)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import VENV_BIN, ansible_env, binary

MODULES = ["ihs_maintenance", "lc_scheduler", "lc_queue", "lc_export", "lc_sync_report", "lc_orphan",
           "lc_resync", "lc_owners", "lc_owner_mail", "lc_verify", "lc_lock"]


def readelf(*args: str | Path) -> str:
    return subprocess.run(["readelf", "--wide", *map(str, args)], check=True, capture_output=True,
                          text=True).stdout


def supported_parameters(module: str) -> str:
    """Ansible's own list of the options, from the module's documentation: ``name`` or
    ``name (alias, ...)``, sorted."""
    out = subprocess.run([str(VENV_BIN / "ansible-doc"), "-j", f"connections.dr.{module}"], check=True,
                         capture_output=True, text=True, env=ansible_env()).stdout
    options = json.loads(out)[f"connections.dr.{module}"]["doc"]["options"]
    shown = [f"{name} ({', '.join(o['aliases'])})" if o.get("aliases") else name
             for name, o in options.items()]
    return ", ".join(sorted(shown))


@pytest.mark.parametrize("module", MODULES)
def test_the_binary_needs_no_interpreter_and_no_shared_library(built, module):
    path = built / "plugins" / "modules" / "__bin__" / f"{module}_linux_x86_64"
    assert path.read_bytes() == binary(module).read_bytes()
    headers = readelf("--program-headers", path)
    assert "INTERP" not in headers and "ld-linux" not in headers, headers
    dynamic = readelf("--dynamic", path)
    assert "(NEEDED)" not in dynamic, dynamic
    # static-pie: position independent, relocated by itself.
    assert "DYN (Position-Independent Executable file)" in readelf("--file-header", path)


# The modules that resolve host names themselves: ihs_maintenance (Listen addresses and allow_from
# names, to choose and check the address it proves maintenance from) and lc_owners (the host of the
# Communities URL) and lc_owner_mail (the SMTP server's). A static glibc resolves them through /etc/hosts and DNS, which it has built in,
# not through NSS modules it would have to load (LDAP, SSSD): README "Supported targets".
RESOLVE_HOSTS = {"ihs_maintenance", "lc_owners", "lc_owner_mail"}


@pytest.mark.parametrize("module", MODULES)
def test_only_the_modules_that_need_it_hold_name_service_code(built, module):
    """A static glibc cannot load NSS modules (LDAP/SSSD users and hosts): no module may look up
    a user or group, and only those of RESOLVE_HOSTS a host name. glibc's NSS code (which names
    nsswitch.conf and its __nss_ functions) is linked in only when something calls getpwnam,
    getaddrinfo and the like; lc-sim, which does, holds it."""
    data = (built / "plugins" / "modules" / "__bin__" / f"{module}_linux_x86_64").read_bytes()
    assert b"nsswitch.conf" in binary("lc-sim").read_bytes()  # the check can see NSS code
    if module in RESOLVE_HOSTS:
        assert b"nsswitch.conf" in data  # so that this list stays true
        return
    for marker in (b"nsswitch.conf", b"__nss_", b"libnss_"):
        assert marker not in data, marker


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
@pytest.mark.parametrize("module", MODULES)
def test_the_binary_alone_in_an_empty_root_answers_a_bad_option(built, tmp_path, module):
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy2(built / "plugins" / "modules" / "__bin__" / f"{module}_linux_x86_64", root / module)
    (root / "args.json").write_text(json.dumps({"no_such_option": 1, "_ansible_check_mode": True}))
    assert sorted(p.name for p in root.iterdir()) == ["args.json", module]

    chroot = shutil.which("chroot")
    assert chroot, "chroot (coreutils) is missing"
    proc = subprocess.run([chroot, str(root), f"/{module}", "/args.json"], capture_output=True,
                          text=True, timeout=30, env={})
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, (proc.stdout, proc.stderr)
    result = json.loads(lines[0])
    assert result["failed"] is True and result["changed"] is False, result
    assert result["msg"] == (f"Unsupported parameters for ({module}) module: no_such_option. "
                             f"Supported parameters include: {supported_parameters(module)}."), result
    assert proc.stderr == ""
