# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records every task result of the role cases' ansible-playbook run, one JSON line each."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bad_input_events
type: aggregate
short_description: Records every task result as one JSON line
description:
  - Used by tests/unit/bad_input to tell where a role case failed. Writes one JSON line per task result
    (host, task, action, status, msg) to the file named by E(NVMEOF_FLEET_BAD_INPUT_EVENTS).
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bad_input_events"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        values = result._result  # pylint: disable=protected-access
        event = {"host": result._host.get_name(),  # pylint: disable=protected-access
                 "task": result._task.get_name(),  # pylint: disable=protected-access
                 "action": result._task.action,  # pylint: disable=protected-access
                 "status": status, "msg": str(values.get("msg", ""))}
        with open(os.environ["NVMEOF_FLEET_BAD_INPUT_EVENTS"], "a") as handle:
            handle.write(json.dumps(event) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")
