# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The changing modules in check mode, inside module host_state's one read of a host.

A role hands host_state the options it would give each changing module; each module's own
job runs here in check mode, with the module's own argument spec, and only its verdict goes
back. The role then calls a module only where the verdict says it would change something
(or fail: a refusal is reported as a change, so that the module runs and says why). The module
stays the authority: it reads and plans again under the host lock before it writes.

These modules' state is spread over files, sysfs, commands and the kernel log, so the plan is
made where the state is, by the code that will apply it. The nvmet target, whose state is one
tree, is planned on the controller instead (target/nvmet_target.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.memory import cxl_tiering
from ansible_collections.nvmeof.fleet.plugins.module_utils.multipath import nvme_multipath
from ansible_collections.nvmeof.fleet.plugins.module_utils.network import ifupdown_config, interface_mtu, sysctl_tuning

# module: (its argument spec, its job, its refusals)
MODULES = {
    "cxl_tiering": (cxl_tiering.ARGUMENT_SPEC, cxl_tiering.apply, (cxl_tiering.CxlTieringError,)),
    "interface_mtu": (interface_mtu.ARGUMENT_SPEC, interface_mtu.apply,
                      (interface_mtu.MtuError, ifupdown_config.IfupdownError)),
    "nvme_multipath": (nvme_multipath.ARGUMENT_SPEC, nvme_multipath.apply, (nvme_multipath.NvmeMultipathError,)),
    "sysctl_tuning": (sysctl_tuning.ARGUMENT_SPEC, sysctl_tuning.apply, (sysctl_tuning.SysctlError,)),
}


class ModuleCheckError(Exception):
    """A request host_state cannot take: the message names the option and the value."""


def check_request(checks):
    unknown = sorted(set(checks) - set(MODULES))
    if unknown:
        raise ModuleCheckError("checks: %s not a module host_state can check (%s)"
                               % (", ".join(repr(name) for name in unknown), ", ".join(sorted(MODULES))))
    for name, options in checks.items():
        if not isinstance(options, dict):
            raise ModuleCheckError("checks.%s: %r is not a dictionary of the module's options" % (name, options))


def check_module(name, fs, runner, options):
    """The module's check-mode result without its diff, or {changed: true, refused: why}."""
    spec, job, refusals = MODULES[name]
    validated = ArgumentSpecValidator(spec).validate(options)
    if validated.error_messages:
        return {"changed": True, "refused": "; ".join(validated.error_messages)}
    refused = tuple(refusals) + (HostFSError, CommandError)
    try:
        result = job(fs, runner, validated.validated_parameters, check_mode=True)
    except refused as error:
        return {"changed": True, "refused": str(error)}
    result = dict(result)
    result.pop("diff", None)
    return result


def check_modules(fs_for, runner, checks):
    """{module: check_module()} for every module of ``checks``; ``fs_for(module)`` gives its HostFS."""
    check_request(checks)
    return dict((name, check_module(name, fs_for(name), runner, options)) for name, options in sorted(checks.items()))
