# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the module named by ``module`` with the arguments ``arguments`` on the task's host and
returns its result, with ``lab_module_failed``: whether the module failed (a task's failed_when
replaces ``failed``).

verify.yml runs the module cases of tests/bad_input/cases.yml with it, all cases of a host in one
looped task: a task's module name cannot come from a variable. The arguments are passed as data,
never templated again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _VALID_ARGS = frozenset(("module", "arguments"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        module = self._task.args.get("module")
        arguments = self._task.args.get("arguments") or {}
        if not isinstance(module, str) or not module:
            raise AnsibleActionFail("module must name a module, not %r" % (module,))
        if not isinstance(arguments, dict):
            raise AnsibleActionFail("arguments must be a dictionary, not %s" % type(arguments).__name__)
        result.update(self._execute_module(module_name=module, module_args=arguments, task_vars=task_vars))
        result["lab_module_failed"] = bool(result.get("failed"))
        return result
