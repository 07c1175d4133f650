# -*- coding: utf-8 -*-
# A test-only callback: appends every task result, as JSON lines, to the file named by
# LC_RESULTS_FILE, so that tests can assert exact `changed`, `failed` and `msg`.
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: lc_results
type: aggregate
short_description: Writes each task result as a JSON line to $LC_RESULTS_FILE (tests only)
description:
  - Used by the lc-recover tests; not part of the collection.
requirements:
  - LC_RESULTS_FILE set in the environment
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lc_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("LC_RESULTS_FILE")

    def _record(self, result, status):
        if not self._path:
            return
        data = getattr(result, "result", None)
        if data is None:
            data = result._result
        record = {
            "task": result.task_name if hasattr(result, "task_name") else result._task.get_name(),
            "host": result._host.get_name(),
            "status": status,
            "result": data,
        }
        with open(self._path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, default=str) + "\n")

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result, **kwargs):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, "unreachable")
