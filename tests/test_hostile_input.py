"""Hostile values in every option that reaches a script, a conf, a shell or a path, module by module
(through the module binaries with an args file, as ansible-core runs them), and a few through
recover.yml.

Each value is either refused before anything runs (a one-line message; the stand-in wsadmin.sh or
apachectl is never started; nothing is written), or, for free-form values (a user, a password, a
Java option, an object id, a path made of ordinary characters), it reaches wsadmin only as data:
one argv element, an escaped property, an escaped data-file field; never in the text of the
generated script. Path traversal (`..`) is refused in every file option."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import binary
from test_faults import BREAKS, LOCK, Sites, stopped_at

UUID = "0f1e2d3c-0000-4000-8000-000000000001"
# Each wrapped in a token, so that it can be looked for in what wsadmin was given.
HOSTILE = {
    "double quote": 'x"y',
    "single quote": "x'y",
    "newline": "x\ny",
    "carriage return": "x\ry",
    "nul": "x\0y",
    "tab": "x\ty",
    "subshell": "$(touch /tmp/lcr-pwned)",
    "backquote": "`touch /tmp/lcr-pwned`",
    "closing call": '")',
    "closing section": "</Location>",
    "command list": "a; touch /tmp/lcr-pwned",
    "backslash": "x\\y",
    "traversal": "../../etc",
    "unicode line separator": "x\u2028y",
}
# What the modules take for control characters (Rust's char::is_control).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def tokened(v: str) -> str:
    return f"LCRTOKEN{v}LCRTOKEN"


def path_refused(v: str) -> bool:
    """What the remote-path check refuses in a path made of ``v``: control characters, quotes,
    `$`, backquote, backslash, a `..` segment."""
    return bool(CONTROL.search(v)) or any(c in v for c in "\"'`$\\") or ".." in v.split("/")


# ------------------------------------------------------------------------------------------------
# The cases: module, option, the value as the option gets it, and what must happen.


@dataclass
class Case:
    module: str
    option: str
    label: str
    value: str
    args: dict
    refused: bool
    # Where the value may show up once wsadmin runs: "argv", "props" or "data".
    inert_in: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.module}.{self.option}[{self.label}]"


WSADMIN_MODULES = {
    "lc_scheduler": {"task": "LifecycleRetryQueuedEvents", "state": "status"},
    "lc_queue": {"state": "cleared", "remote_apps": ["Blog"]},
    "lc_export": {"applications": ["Blog"], "dest_dir": "@CASE@/exports"},
    "lc_sync_report": {"exports": ["@CASE@/Blog.xml"], "output_dir": "@CASE@/reports"},
    "lc_orphan": {"orphans": [{"application": "Blog", "object_id": "obj-1", "old_community_uuid": UUID,
                               "community_exists": True}], "action": "assign"},
    "lc_resync": {"communities": [{"uuid": UUID, "name": "n", "applications": ["Blog"]}],
                  "state_dir": "@CASE@/resync"},
}


def cases() -> list[Case]:
    out: list[Case] = []
    for label, raw in HOSTILE.items():
        v = tokened(raw)
        control = bool(CONTROL.search(raw))
        for module in WSADMIN_MODULES:
            def case(option: str, args: dict, refused: bool, inert_in: str = "") -> None:
                out.append(Case(module, option, label, v, args, refused, inert_in))
            case("host", {"host": v}, True)
            case("wsadmin_path", {"wsadmin_path": v}, True)
            case("wsadmin_path (absolute)", {"wsadmin_path": f"/nonexistent/{v}"}, True)
            case("user", {"user": v}, control, "props")
            case("password", {"password": v}, False, "props")
            case("java_options", {"java_options": [v]}, control, "argv")
            case("conntype", {"conntype": v}, True)
        out += [
            Case("lc_scheduler", "task", label, v, {"task": v}, True),
            Case("lc_queue", "remote_apps", label, v, {"state": "cleared", "remote_apps": [v]}, True),
            Case("lc_queue", "resource_id", label, v, {"state": "cleared", "remote_apps": None, "resource_id": v}, True),
            Case("lc_export", "applications", label, v, {"applications": [v]}, True),
            Case("lc_export", "dest_dir (relative)", label, v, {"dest_dir": v}, True),
            Case("lc_export", "dest_dir", label, v, {"dest_dir": f"@CASE@/{v}"}, path_refused(raw), "argv"),
            Case("lc_sync_report", "exports", label, v, {"exports": [f"@CASE@/{v}/Blog.xml"]},
                 path_refused(raw), "data"),
            Case("lc_sync_report", "output_dir", label, v, {"output_dir": f"@CASE@/{v}"}, path_refused(raw), "argv"),
            Case("lc_orphan", "orphans.application", label, v, {"orphans": [
                {"application": v, "object_id": "o", "old_community_uuid": UUID}]}, True),
            Case("lc_orphan", "orphans.object_id", label, v, {"orphans": [
                {"application": "Blog", "object_id": v, "old_community_uuid": UUID, "community_exists": True}]},
                control, "data"),
            Case("lc_orphan", "orphans.old_community_uuid", label, v, {"orphans": [
                {"application": "Blog", "object_id": "o", "old_community_uuid": v}]}, True),
            Case("lc_orphan", "target_community", label, v, {"target_community": v}, True),
            Case("lc_orphan", "policy", label, v, {"policy": {"Blog": v}}, True),
            Case("lc_orphan", "policy", label + " as app", v, {"policy": {v: "report"}}, True),
            Case("lc_resync", "communities.uuid", label, v, {"communities": [{"uuid": v}]}, True),
            Case("lc_resync", "all_communities_for", label, v, {"communities": None, "all_communities_for": [v]}, True),
            Case("lc_resync", "share_repair", label, v, {"communities": None, "share_repair": [v]}, True),
            Case("lc_resync", "state_dir", label, v, {"state_dir": f"@CASE@/{v}"}, path_refused(raw)),
            Case("ihs_maintenance", "allow_from", label, v, {"allow_from": [v]}, True),
            Case("ihs_maintenance", "page_name", label, v, {"page_name": v}, True),
            Case("ihs_maintenance", "assets_path", label, v, {"assets_path": f"/assets/{v}"}, True),
            Case("ihs_maintenance", "error_codes", label, v, {"error_codes": [v]}, True),
            Case("ihs_maintenance", "apachectl", label, v, {"apachectl": v}, True),
            Case("ihs_maintenance", "document_root", label, v, {"document_root": f"@CASE@/{v}"},
                 control, "conf"),
        ]
    return out


CASES = cases()

STAND_IN_WSADMIN = r"""#!/bin/sh
# A stand-in wsadmin.sh: keeps its arguments and the files the module made for it.
rec="@CASE@/wsadmin-ran"
mkdir -p "$rec"
for a in "$@"; do printf '%s\0' "$a"; done > "$rec/argv"
prev=""
for a in "$@"; do
  if [ "$prev" = "-f" ]; then cp "$(dirname "$a")"/lcr-* "$rec/" 2>/dev/null; fi
  prev="$a"
done
echo 'WASX7209I: Connected to process "dmgr" on node n using SOAP connector;  The type of process is: DeploymentManager'
printf '@@lcr@@\tdone\n'
"""

STAND_IN_APACHECTL = """#!/bin/sh
# A stand-in apachectl: notes each call, says yes.
echo "$@" >> "@CASE@/apachectl-ran"
exit 0
"""

CONF = "ServerRoot \"@CASE@\"\nListen 8080\nDocumentRoot \"@CASE@/htdocs\"\n"


def prepare(case: Case, root: Path) -> tuple[Path, dict]:
    folder = Path(tempfile.mkdtemp(dir=root))
    task = folder / "task"
    task.mkdir()
    args = {**WSADMIN_MODULES.get(case.module, {}), **case.args}
    args = json.loads(json.dumps(args).replace("@CASE@", str(folder)))
    if case.module == "ihs_maintenance":
        (folder / "conf").mkdir()
        (folder / "htdocs").mkdir()
        (folder / "conf" / "httpd.conf").write_text(CONF.replace("@CASE@", str(folder)))
        ctl = folder / "apachectl"
        ctl.write_text(STAND_IN_APACHECTL.replace("@CASE@", str(folder)))
        ctl.chmod(0o755)
        if case.option == "document_root" and not case.refused:
            Path(args["document_root"]).mkdir(parents=True)
        # The stand-in apachectl starts no server: nothing to prove maintenance on (verify: false).
        args = {"state": "enabled", "conf_path": str(folder / "conf" / "httpd.conf"), "allow_from": ["10.0.0.5"],
                "apachectl": str(ctl), "validate": True, "restart": "graceful", "verify": False, **args}
    else:
        ws = folder / "wsadmin.sh"
        ws.write_text(STAND_IN_WSADMIN.replace("@CASE@", str(folder)))
        ws.chmod(0o755)
        (folder / "Blog.xml").write_text('<syncedResources application="Blog"></syncedResources>\n')
        args = {"wsadmin_path": str(ws), "user": "wasadmin", "password": "pw", **args}
    args = {k: v for k, v in args.items() if v is not None}
    args["_ansible_tmpdir"] = str(task)
    (task / "args").write_text(json.dumps(args))
    return folder, args


def run_case(case: Case, folder: Path, args: dict) -> tuple[Case, Path, dict, dict]:
    proc = subprocess.run([str(binary(case.module)), str(folder / "task" / "args")], capture_output=True,
                          timeout=60)
    assert proc.returncode in (0, 1), (case.id, proc.returncode, proc.stderr)
    result = json.loads(proc.stdout)  # exactly one JSON object, whatever the value
    return case, folder, args, result


@pytest.fixture(scope="module")
def outcomes(built):
    root = Path(tempfile.mkdtemp(prefix="lc-hostile-"))
    try:
        # Every stand-in is written before any case starts: a script still open for writing in
        # one thread while another forks cannot be executed ("Text file busy").
        prepared = [(c, *prepare(c, root)) for c in CASES]
        with ThreadPoolExecutor(max_workers=4) as pool:
            yield {c.id: r for c, *r in pool.map(lambda p: run_case(*p), prepared)} | {"_cases": CASES}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert not Path("/tmp/lcr-pwned").exists()


def java_properties(text: str) -> dict[str, str]:
    """Reads a Java properties file as wsadmin does (the escapes the modules write)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line[0] in "#!":
            continue
        key, _, raw = line.partition("=")
        value, i = [], 0
        while i < len(raw):
            c = raw[i]
            if c == "\\" and i + 1 < len(raw):
                n = raw[i + 1]
                if n == "u":
                    value.append(chr(int(raw[i + 2:i + 6], 16)))
                    i += 6
                    continue
                value.append({"n": "\n", "r": "\r", "t": "\t"}.get(n, n))
                i += 2
                continue
            value.append(c)
            i += 1
        # Surrogate pairs written as two \\u escapes.
        out[key] = "".join(value).encode("utf-16", "surrogatepass").decode("utf-16")
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_value(outcomes, case):
    folder, args, result = outcomes[case.id]
    msg = result.get("msg", "")
    assert not BREAKS.search(msg), repr(msg)
    ran = folder / "wsadmin-ran"
    if case.refused:
        assert result["failed"] is True, result
        assert result["changed"] is False, result
        # The one line names the option that was refused (its top-level name: `orphans` for
        # `orphans.object_id`, as `orphans[0].object_id` or `orphans[0]`).
        option = case.option.split(" ")[0].split(".")[0]
        assert option in msg, (option, msg)
        assert not ran.exists(), f"wsadmin ran: {msg}"
        assert not (folder / "apachectl-ran").exists(), f"apachectl ran: {msg}"
        for made in ("exports", "reports", "r", "resync"):
            assert not (folder / made).exists(), f"{made} was created: {msg}"
        if case.module == "ihs_maintenance":
            conf = (folder / "conf" / "httpd.conf").read_text()
            assert conf == CONF.replace("@CASE@", str(folder)), conf
            assert list((folder / "htdocs").iterdir()) == []
        return
    if case.inert_in == "conf":
        conf = (folder / "conf" / "httpd.conf").read_text()
        assert result["failed"] is False, result
        lines = [line for line in conf.split("\n") if "LCRTOKEN" in line]  # httpd's lines
        assert len(lines) == 1 and lines[0].startswith("# page written by lc-recover: "), lines
        return
    # Free-form: wsadmin ran once, the value reached it only as data.
    assert ran.is_dir(), result
    script = next(ran.glob("lcr-script-*")).read_text()
    assert case.value not in script, "the value is in the script text"
    assert "LCRTOKEN" not in script
    argv = (ran / "argv").read_bytes().split(b"\0")[:-1]
    if case.inert_in == "argv":
        assert any(case.value.encode() in a for a in argv), argv  # inside one element
    elif case.inert_in == "props":
        props = java_properties(next(ran.glob("lcr-soap-*")).read_text())
        key = "com.ibm.SOAP.loginPassword" if case.option == "password" else "com.ibm.SOAP.loginUserid"
        assert props[key] == case.value, props
        assert set(props) <= {"com.ibm.SOAP.loginPassword", "com.ibm.SOAP.loginUserid",
                              "com.ibm.SOAP.requestTimeout"}, props
        assert not any(case.value.encode() in a for a in argv), "a credential is in argv"
    elif case.inert_in == "data":
        data = next(ran.glob("lcr-data-*")).read_text()
        assert len(data.split("\n")) == 2, data  # one row, its fields escaped
        assert "LCRTOKEN" in data
    if case.option == "password":
        assert case.value not in json.dumps(result), "the password is in the result"


# ------------------------------------------------------------------------------------------------
# Through recover.yml: refused in the preflight, before the lock, the cell or any IHS is touched.


@pytest.fixture(scope="module")
def site(built):
    made = Sites()
    try:
        yield made.make("hostile")
    finally:
        made.close()


@pytest.mark.parametrize("var, value, host, says", [
    ("lc_admin_addresses", ["127.0.0.2\n</Location>"], "ihs1", 'allow_from entry "127.0.0.2\\n</Location>"'),
    ("lc_ihs_page_name", "../../etc/passwd", "ihs1", 'page_name "../../etc/passwd" must be a plain file name'),
    ("lc_ihs_assets_path", '/assets/")', "ihs1", 'assets_path "/assets/\\")" must be an URL prefix'),
    ("lc_work_dir", "/tmp/x/../$(touch /tmp/lcr-pwned)", "dmgr1", "must be absolute paths without '..'"),
], ids=["allow-newline", "page-traversal", "assets-quote", "workdir-traversal-subshell"])
def test_hostile_playbook_input_stops_the_preflight(site, tmp_path, var, value, host, says):
    launches = site.cell.launches()
    run = site.run(tmp_path, {var: value})
    msg = stopped_at(run, "preflight", host)
    assert says in msg, msg
    assert "Nothing was changed" in msg, msg
    assert site.ihs.conf_bytes() == site.original_conf
    assert site.cell.state_bytes() == site.state
    assert site.cell.launches() - launches <= 1  # at most the preflight's status check
    assert not (site.work_dir / LOCK).is_symlink()
    assert not Path("/tmp/lcr-pwned").exists()
