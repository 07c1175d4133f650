# -*- coding: utf-8 -*-
# The wsadmin options shared by every lc_* module of connections.dr.
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  wsadmin_path:
    description:
      - The C(wsadmin.sh) of the Deployment Manager profile. It is started from its own folder
        (the profile's C(bin)), as the runbook says.
      - The Connections admin scripts (C(communitiesAdmin.py) and the others) are looked for in
        that C(bin/), then in the profile's C(config/bin_lc_admin/) (where Connections installs
        them), then in O(admin_scripts_dir); the first file found is run by its absolute path.
    type: path
    default: /opt/IBM/WebSphere/AppServer/profiles/Dmgr01/bin/wsadmin.sh
  host:
    description: Host of the Deployment Manager (C(-host)); wsadmin's default when not given or empty.
    type: str
  port:
    description: SOAP port of the Deployment Manager (C(-port)), usually 8879; wsadmin's default when not given or V(0).
    type: int
  conntype:
    description: Connector type (C(-conntype)).
    type: str
    choices: [SOAP, RMI, IPC, JSR160RMI, NONE, '']
  user:
    description:
      - Administrator user. Passed to wsadmin in a private (0600) properties file with C(-p),
        never on the command line. That file, and the generated script, are in a 0700 folder of
        the user that runs wsadmin (in the task's temporary folder, or in the system's when the
        task becomes another unprivileged user than the one Ansible connected as), removed
        after the run.
    type: str
  password:
    description:
      - Password of O(user). Never appears in the process list, in output or in a file that
        outlives the run. Keep it in Ansible Vault.
    type: str
  service_index:
    description:
      - Where a feature runs on several servers, wsadmin asks which service to connect to; this is
        the answer (counting from 1).
      - When not given (or V(0)), C(batchMode) is set and the first service is used.
      - A command that writes or reads a file runs on the chosen server, so the file lives on
        that server's host.
    type: int
  timeout:
    description:
      - Seconds after which the wsadmin process and everything it started are stopped.
      - The call may still be running on the server when that happens; the message says so.
      - When not given, or V(0), there is no limit.
    type: int
  java_options:
    description: Extra C(-javaoption) values for the wsadmin JVM.
    type: list
    elements: str
    default: []
  admin_scripts_dir:
    description:
      - A folder on the Deployment Manager host that holds the Connections admin scripts, looked
        in after the profile's C(bin/) and C(config/bin_lc_admin/).
      - An absolute path with forward slashes, without C(..), quotes, C(`), C($) or control
        characters. When not given, or empty, only the two profile folders are looked in.
      - When a script is in none of these folders, the task fails with a message that lists
        every folder looked in.
    type: path
notes:
  - O(password) is a secret (no_log), masked in the task's result and never printed.
  - Each task runs exactly one wsadmin process, whatever the number of applications, events or
    orphans it handles.
  - Values reach the generated Jython script only as validated C(sys.argv) arguments.
"""
