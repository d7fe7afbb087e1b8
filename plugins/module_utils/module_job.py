# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a thin module ends: its job's result, or the job's refusal as the failure message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nvmeof.fleet.plugins.module_utils.commands import CommandError
from ansible_collections.nvmeof.fleet.plugins.module_utils.hostfs import HostFSError


def finish(module, job, errors=()):
    """Runs ``job()`` and exits the module with its result, passing its ``warnings`` on.

    ``errors`` are the job's own refusals; with HostFSError and CommandError they
    become ``fail_json(msg=...)``, since their messages already say what happened.
    """
    refusals = tuple(errors) + (HostFSError, CommandError)
    try:
        result = job()
    except refusals as error:
        module.fail_json(msg=str(error))
    for warning in result.pop("warnings", None) or []:
        module.warn(warning)
    module.exit_json(**result)
