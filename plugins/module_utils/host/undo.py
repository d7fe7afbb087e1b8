# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Taking back what a failed call did, newest first, and saying so in the error.

Modules that change several things in one call (files, live kernel values, commands) record
each change with what takes it back. When a later step fails, ``take_back`` undoes the
recorded changes and returns the error message: what failed and why, what was taken back,
and what could not be and is left as it is now, so that the user knows the host's state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError

UNDO_FAILURES = (HostFSError, CommandError)


def take_back(done, what, error, failures=UNDO_FAILURES):
    """Runs the undo of each (description, callable) in ``done`` (oldest first), newest first.

    Returns the message for the failure ``error`` of step ``what``: "Nothing was changed." when
    ``done`` is empty, else what was taken back and what was left as it is now.
    """
    undone, stuck = [], []
    for description, undo in reversed(done):
        try:
            undo()
        except failures as undo_error:
            stuck.append("%s (%s)" % (description, undo_error))
        else:
            undone.append(description)
    message = "%s: %s." % (what, str(error).rstrip("."))
    if not done:
        return message + " Nothing was changed."
    message += " Taken back, newest first: %s." % ("; ".join(undone) or "nothing")
    if stuck:
        message += " Left as it is now: %s." % "; ".join(stuck)
    return message
