# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a thin module ends: its job's result, or the job's refusal as the failure message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.host_lock import HostLockError, host_lock
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError


def finish(module, job, errors=(), lock_fs=None):
    """Runs ``job()`` and exits the module with its result, passing its ``warnings`` on.

    ``errors`` are the job's own refusals; with HostFSError, CommandError and
    HostLockError they become ``fail_json(msg=...)``, since their messages already
    say what happened. With ``lock_fs`` (the job's HostFS), the job runs under the
    host's lock (module_utils/host/host_lock.py) unless in check mode.
    """
    refusals = tuple(errors) + (HostFSError, CommandError, HostLockError)
    try:
        if lock_fs is None:
            result = job()
        else:
            with host_lock(lock_fs, check_mode=module.check_mode):
                result = job()
    except refusals as error:
        module.fail_json(msg=str(error))
    for warning in result.pop("warnings", None) or []:
        module.warn(warning)
    module.exit_json(**result)
