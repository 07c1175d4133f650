# Copyright: lc-recover maintainers
# Apache License 2.0 (see galaxy.yml)
"""Runs a connections.dr module with the binary built for the target's platform.

meta/runtime.yml routes every module of the collection here (``plugin_routing.modules.<module>.
action_plugin``). The plugin asks the target for its system and architecture with ``uname`` over
the connection as it is (no Python needed), picks ``plugins/modules/__bin__/<module>_<system>_<arch>``
and runs it as Ansible runs any binary module: the task's options (with its module_defaults),
check mode, diff mode and no_log reach the binary as they would without this plugin. A target that
no binary is built for fails the task with one line naming the host and what it is.

The binary masks the no_log values in the arguments file Ansible left it once it has read them,
but it cannot when it runs as another unprivileged user (become_user: the WebSphere profile's
owner), who may only read that file of the connecting user's. So when the task's temporary
directory is kept (ANSIBLE_KEEP_REMOTE_FILES) and the module ran as such a user, the plugin
removes the arguments file after the run, as the connecting user who made it: no password is left
on the host.
"""
from __future__ import annotations

from ansible import constants as C
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.connections.dr.plugins.plugin_utils import platforms


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        module = self._task.resolved_action.rsplit(".", 1)[-1]
        host = task_vars.get("inventory_hostname", self._play_context.remote_addr)

        binary, failed = platforms.choose_binary(self, module, host)
        if failed:
            result.update(failed)
            return result
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(module_name=binary, module_args=self._task.args,
                                                         task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            tmpdir = self._connection._shell.tmpdir
            if C.DEFAULT_KEEP_REMOTE_FILES and tmpdir and self._is_become_unprivileged():
                args_file = self._connection._shell.join_path(tmpdir, "args")
                self._low_level_execute_command(self._connection._shell.remove(args_file), sudoable=False)
            self._remove_tmp_path(tmpdir)
        return result
