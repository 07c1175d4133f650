# Copyright: lc-recover maintainers
# Apache License 2.0 (see galaxy.yml)
"""The filter connections.dr.platform_problem (documented in platform_problem.yml)."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.connections.dr.plugins.plugin_utils import platforms


def platform_problem(uname_stdout, host):
    """'' when ``host`` (whose ``uname`` printed ``uname_stdout``) can run every module, else the
    one line that says why not."""
    try:
        platform = platforms.parse_uname(str(uname_stdout))
    except ValueError as e:
        raise AnsibleFilterError(f"{host}: cannot tell the system and architecture ({e})") from e
    return platforms.problem(str(host), platform)


class FilterModule:
    def filters(self):
        return {"platform_problem": platform_problem}
