# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the module cases ``cases`` (each with ``id``, ``module`` and ``args``) on the task's host
in one module run (library/lab_case_runner.py), each case in a process of its own, and returns
``results``: per case, in order, the case as ``item``, ``lab_module_failed`` (whether the module
failed) and ``msg`` (its message), the shape of a looped task's results.

verify.yml runs the module cases of tests/bad_input/cases.yml with it. The cases' arguments are
passed as data, never templated again; the modules' source is read here, from the collection the
play resolves, so the host runs the code under test.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

RUNNER = "lab_case_runner"


class ActionModule(ActionBase):
    _VALID_ARGS = frozenset(("cases",))

    def _source(self, module):
        context = self._shared_loader_obj.module_loader.find_plugin_with_context(module)
        if not context.resolved:
            raise AnsibleActionFail("module %s of a case is not found" % module)
        with open(context.plugin_resolved_path) as handle:
            return handle.read()

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        cases = self._task.args.get("cases")
        if not isinstance(cases, list):
            raise AnsibleActionFail("cases must be a list, not %s" % type(cases).__name__)
        for case in cases:
            if not (isinstance(case, dict) and isinstance(case.get("id"), str) and isinstance(case.get("module"), str)
                    and isinstance(case.get("args"), dict)):
                raise AnsibleActionFail("a case needs id, module and args (a dictionary): %r" % (case,))
        result["results"] = []
        if not cases:
            return result
        sources = {}
        for case in cases:
            if case["module"] not in sources:
                sources[case["module"]] = self._source(case["module"])
        arguments = {"modules": sources,
                     "cases": [{"id": case["id"], "module": case["module"], "args": case["args"]} for case in cases]}
        ran = self._execute_module(module_name=RUNNER, module_args=arguments, task_vars=task_vars)
        if ran.get("failed") or "runs" not in ran:
            raise AnsibleActionFail("%s failed: %s" % (RUNNER, ran.get("msg") or ran))
        by_id = dict((run["id"], run) for run in ran["runs"])
        if sorted(by_id) != sorted(case["id"] for case in cases):
            raise AnsibleActionFail("%s returned the runs of %s, not of every case" % (RUNNER, sorted(by_id)))
        result["results"] = [{"item": case, "lab_module_failed": by_id[case["id"]]["failed"],
                              "msg": by_id[case["id"]]["msg"]} for case in cases]
        return result
