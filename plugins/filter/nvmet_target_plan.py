# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: nvmet_target_plan
short_description: What module nvmet_target would change on a target, planned on the controller
version_added: 0.1.0
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
description:
  - Plans, from what M(nvmeof.fleet.host_state) read on a target, the changes M(nvmeof.fleet.nvmet_target) would make
    for the same options, with the same planner the module runs. An empty list means the module would change nothing,
    so role C(nvmeof.fleet.target) does not call it.
  - The module stays the authority. It reads the host again under the host lock and plans again before it writes.
  - A declaration the module would refuse plans one action that says so, so that the module runs and reports the refusal.
options:
  _input:
    description: The result of M(nvmeof.fleet.host_state) with O(nvmeof.fleet.host_state#module:nvmet=true).
    type: dict
    required: true
  subsystems:
    description: The subsystems, as O(nvmeof.fleet.nvmet_target#module:subsystems) takes them.
    type: list
    elements: dict
    required: true
  persist:
    description: As O(nvmeof.fleet.nvmet_target#module:persist).
    type: bool
    default: true
  config_dir:
    description: As O(nvmeof.fleet.nvmet_target#module:config_dir). The read must list C(<config_dir>/subsystems) in its directories.
    type: path
    default: /etc/nvmeof-fleet/nvmet
"""

EXAMPLES = r"""
- name: Apply the subsystems only where something differs
  nvmeof.fleet.nvmet_target:
    subsystems: "{{ target_subsystems }}"
  when: target_state | nvmeof.fleet.nvmet_target_plan(target_subsystems) | length > 0
"""

RETURN = r"""
_value:
  description: The configfs operations and saved-copy writes the module would do, in order (keys hidden); empty when none.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_target import (
    TARGET_ARGUMENT_SPEC, planned_actions)

DEFAULT_CONFIG_DIR = "/etc/nvmeof-fleet/nvmet"


def _plain(value):
    """Plain dicts, lists and scalars: the argument spec validator deep-copies what it gets, and a copy of
    ansible-core's lazy containers can no longer template what they hold."""
    if isinstance(value, dict):
        return dict((key, _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def nvmet_target_plan(state, subsystems, persist=True, config_dir=DEFAULT_CONFIG_DIR):
    if not isinstance(state, dict) or not isinstance(state.get("nvmet"), dict):
        raise AnsibleFilterError("nvmet_target_plan: the input is not a host_state result read with nvmet=true")
    config_dir = config_dir.rstrip("/")
    directories = state.get("directories") or {}
    saved_dir = config_dir + "/subsystems"
    if persist and saved_dir not in directories:
        raise AnsibleFilterError("nvmet_target_plan: the host_state read has no directory %s (the saved copies)" % saved_dir)
    # The module's own argument spec, so that values are converted as the module converts them.
    checked = ArgumentSpecValidator(TARGET_ARGUMENT_SPEC).validate(
        {"subsystems": _plain(subsystems), "persist": persist, "config_dir": config_dir})
    if checked.error_messages:
        return ["refuse the options: %s" % "; ".join(checked.error_messages)]
    return planned_actions(state["nvmet"], directories.get(saved_dir), checked.validated_parameters)


class FilterModule(object):
    def filters(self):
        return {"nvmet_target_plan": nvmet_target_plan}
