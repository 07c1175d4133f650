# -*- coding: utf-8 -*-
# The timing callback of `make bench`: appends one JSON line per task start and per result (and
# per loop item) with a monotonic time stamp to the file named by LC_BENCH_TIMES.
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: lc_bench_times
type: aggregate
short_description: Time stamps of task starts and results as JSON lines in $LC_BENCH_TIMES
description:
  - Used by bench/run.py (make bench); not part of the collection.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lc_bench_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("LC_BENCH_TIMES")

    def _write(self, event, task_name, status=None, result=None):
        if not self._path:
            return
        record = {"t": time.monotonic(), "event": event, "task": task_name}
        if status is not None:
            record["status"] = status
        if result is not None:
            record["failed"] = bool(result.get("failed"))
            record["msg"] = str(result.get("msg", ""))[:300]
        with open(self._path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def v2_runner_on_start(self, host, task):
        self._write("start", task.get_name())

    def _result(self, result, status, event="result"):
        self._write(event, result._task.get_name(), status, result._result)

    def v2_runner_on_ok(self, result, **kwargs):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._result(result, "failed")

    def v2_runner_on_skipped(self, result, **kwargs):
        self._result(result, "skipped")

    def v2_runner_item_on_ok(self, result, **kwargs):
        self._result(result, "ok", "item")

    def v2_runner_item_on_failed(self, result, **kwargs):
        self._result(result, "failed", "item")
