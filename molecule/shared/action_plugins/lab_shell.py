# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenarios' reads of a lab VM: ``ansible.builtin.shell`` and ``command`` without Python on
the VM.

A module task starts Python in the guest and imports ansible-core's module_utils, about 2.5 s of
an emulated CPU (TCG) for a ``cat``; this runs the command over the open SSH connection, as
``raw`` does, in well under a second. What a scenario registers is what the two modules return:
``rc``, ``stdout`` and ``stderr`` (trailing newlines stripped), their ``_lines``, ``cmd``;
``changed`` is true and a non-zero exit fails the task. The task's ``environment`` applies; check
mode skips the task, as it skips ``command``.

Arguments: ``cmd`` (a shell command line) or ``argv`` (a list, run without a shell's
expansions), ``executable`` (the shell, /bin/sh unless given) and ``stdin`` (text the command
reads, a newline added, as the modules do). For tests only: the collection's roles and modules
never use it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("cmd", "argv", "executable", "stdin"))

    def _command_line(self):
        args = self._task.args
        given = [name for name in ("cmd", "argv") if args.get(name)]
        if len(given) != 1:
            raise AnsibleActionFail("lab_shell needs exactly one of cmd and argv")
        if given[0] == "argv":
            if not isinstance(args["argv"], list):
                raise AnsibleActionFail("argv must be a list, not %s" % type(args["argv"]).__name__)
            return " ".join(shlex.quote(str(word)) for word in args["argv"])
        return args[given[0]]

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        command_line = self._command_line()
        if self._task.check_mode:
            result.update(skipped=True, msg="lab_shell is skipped in check mode, as command is")
            return result
        executable = self._task.args.get("executable") or "/bin/sh"
        wrapped = "%s %s -c %s" % (self._compute_environment_string(), shlex.quote(executable), shlex.quote(command_line))
        stdin = self._task.args.get("stdin")
        # As the modules do (stdin_add_newline); secrets reach the host this way, never in argv.
        in_data = None if stdin is None else (stdin + "\n").encode()
        ran = self._low_level_execute_command(wrapped.strip(), sudoable=False, in_data=in_data)
        for stream in ("stdout", "stderr"):
            ran[stream] = ran[stream].rstrip("\r\n")
            ran[stream + "_lines"] = ran[stream].splitlines()
        result.update(ran, cmd=command_line, changed=True)
        if result["rc"] != 0:
            result.update(failed=True, msg="non-zero return code")
        return result
