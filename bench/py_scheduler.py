#!/usr/bin/python
# -*- coding: utf-8 -*-
"""The Python alternative that `make bench` times against the lc_scheduler binary: an
AnsibleModule that does the same work for `state: status` — writes a Jython script and a 0600
SOAP properties file, runs wsadmin once from the profile's bin folder, picks the marker lines out
of its output, reads the `{key=value, ...}` map of getTaskDetails and returns the same keys. Run
as `python py_scheduler.py ARGS.json` (ARGS.json: {"ANSIBLE_MODULE_ARGS": {...}})."""
from __future__ import annotations

import os
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule

MARKER = "@@lcr@@"
BODY = """
import sys
ARGS = sys.argv[sys.argv.index("--lcr-args--") + 1:]
batchMode = 1
def lcr_out(tag, fields):
    print "\\t".join(["@@lcr@@", tag] + [str(f) for f in fields])
execfile("communitiesAdmin.py")
try:
    s = CommunitiesScheduler
    name = "CommunitiesScheduler"
except NameError:
    s = CommunitiesSchedulerService
    name = "CommunitiesSchedulerService"
lcr_out("object", [name])
lcr_out("details", [s.getTaskDetails(ARGS[0])])
lcr_out("done", [])
"""


def java_map(text: str) -> dict:
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    out = {}
    for part in text.split(", "):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def private_file(directory: str, suffix: str, content: str) -> str:
    fd, path = tempfile.mkstemp(prefix="lcr-", suffix=suffix, dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(content)
    return path


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "task": {"type": "str", "default": "LifecycleRetryQueuedEvents",
                     "choices": ["LifecycleRetryQueuedEvents", "EventLogCleanup"]},
            "state": {"type": "str", "default": "status", "choices": ["status"]},
            "wsadmin_path": {"type": "path", "required": True},
            "user": {"type": "str"},
            "password": {"type": "str", "no_log": True},
        },
        supports_check_mode=True,
    )
    p = module.params
    tmp = module.tmpdir
    script = private_file(tmp, ".py", BODY)
    props = private_file(tmp, ".props", "com.ibm.SOAP.loginUserid=%s\ncom.ibm.SOAP.loginPassword=%s\n"
                         % (p["user"], p["password"]))
    try:
        proc = subprocess.run(
            [p["wsadmin_path"], "-lang", "jython", "-p", props, "-f", script, "--lcr-args--", p["task"]],
            cwd=os.path.dirname(p["wsadmin_path"]), stdin=subprocess.DEVNULL, capture_output=True,
            text=True, check=False)
    finally:
        os.unlink(script)
        os.unlink(props)
    records = {}
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER + "\t"):
            fields = line.split("\t")[1:]
            records.setdefault(fields[0], fields[1:])
    if "done" not in records or "details" not in records:
        module.fail_json(msg="wsadmin failed (status %s): %s" % (proc.returncode, proc.stdout[-500:]))
    details = java_map(records["details"][0])
    module.exit_json(changed=False, msg="%s read: %s" % (p["task"], details.get("status")),
                     task=p["task"], status_before=details.get("status"), status=details.get("status"),
                     next_fire_time=details.get("nextFireTime"), scheduler_object=records["object"][0])


if __name__ == "__main__":
    main()
