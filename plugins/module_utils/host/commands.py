# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way the collection runs external commands (modprobe, nvme, daxctl, ...).

Modules hand CommandRunner their AnsibleModule.run_command; plain Python
callers and tests hand it any callable with the same signature. Commands run
with LANG=C so their messages can be parsed, and a failure raises
CommandError carrying the command, exit code and output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}


class CommandError(Exception):
    def __init__(self, args, rc, out, err):
        self.args_list = list(args)
        self.rc = rc
        self.out = out
        self.err = err
        said = (err or out or "").strip()
        super(CommandError, self).__init__(
            "command '%s' failed with exit code %s%s"
            % (" ".join(self.args_list), rc, ": " + said if said else ""))


def _subprocess_run(args, check_rc=False, data=None, environ_update=None):
    """A run_command stand-in for callers outside an AnsibleModule."""
    import os

    env = dict(os.environ)
    env.update(environ_update or {})
    process = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, universal_newlines=True)
    out, err = process.communicate(data)
    return process.returncode, out, err


class CommandRunner:
    """Runs argument lists (never shell strings) and raises on failure unless told not to."""

    def __init__(self, run_command=None):
        self._run_command = run_command or _subprocess_run

    def run(self, args, check=True, data=None):
        args = [str(arg) for arg in args]
        rc, out, err = self._run_command(args, check_rc=False, data=data,
                                         environ_update=C_LOCALE)
        if check and rc != 0:
            raise CommandError(args, rc, out, err)
        return rc, out, err

    def succeeds(self, args):
        return self.run(args, check=False)[0] == 0
