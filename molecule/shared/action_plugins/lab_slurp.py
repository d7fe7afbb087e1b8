# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenarios' file reads on a lab VM: ``ansible.builtin.slurp`` without Python on the VM.

Returns what slurp returns, ``content`` (base64), ``encoding`` and ``source``, from ``base64``
run over the open SSH connection (lab_shell.py says why); a file that cannot be read fails the
task with base64's message. Runs in check mode too, as slurp does. Argument: ``src`` (or
``path``). For tests only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("src", "path"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        source = self._task.args.get("src") or self._task.args.get("path")
        if not source:
            raise AnsibleActionFail("lab_slurp needs src")
        ran = self._low_level_execute_command("base64 -w 0 -- %s" % shlex.quote(source), sudoable=False)
        if ran["rc"] != 0:
            result.update(failed=True, msg="cannot read %s: %s" % (source, ran["stderr"].strip()))
            return result
        result.update(content=ran["stdout"].strip(), encoding="base64", source=source, changed=False)
        return result
