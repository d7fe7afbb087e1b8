# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every declared subsystem of a target in one call: module nvmet_target's job, and its plan on the controller.

``apply_target`` runs on the host under the lock. ``planned_actions`` runs on the
controller (filter nvmeof.fleet.nvmet_target_plan) from what module host_state read,
with the same planner, so that role nvmeof.fleet.target calls the module only when it
would change something. Keys are compared as digests: host_state never returns them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.names import SpecError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target import nvmet_spec
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_model import import_world, with_secret_digests
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_persist import keep, render, saved_path
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_plan import desired_world, plan
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_reconcile import reconcile_all, resolved_spec

TARGET_ARGUMENT_SPEC = dict(
    subsystems=dict(type="list", elements="dict", required=True, options=dict(
        nvmet_spec.SUBSYSTEM_OPTIONS,
        allow_disruptive=dict(type="bool"),
    )),
    allow_disruptive=dict(type="bool", default=False),
    persist=dict(type="bool", default=True),
    config_dir=dict(type="path", default="/etc/nvmeof-fleet/nvmet"),
)


def label(index, nqn):
    return "subsystems[%d] (%s): " % (index, nqn)


def normalized(params):
    """[(spec, allow_disruptive)] of the declared subsystems; a refusal names the subsystem."""
    declared, seen = [], {}
    for index, subsystem in enumerate(params["subsystems"]):
        try:
            spec = nvmet_spec.normalize(subsystem)
        except SpecError as error:
            raise SpecError(label(index, subsystem.get("nqn")) + str(error))
        if spec["nqn"] in seen:
            raise SpecError("subsystems[%d].nqn: %s is declared more than once (also subsystems[%d])"
                            % (index, spec["nqn"], seen[spec["nqn"]]))
        seen[spec["nqn"]] = index
        allow = subsystem.get("allow_disruptive")
        declared.append((spec, params["allow_disruptive"] if allow is None else allow))
    return declared


def apply_target(fs, runner, params, check_mode):
    declared = normalized(params)
    result = reconcile_all(fs, runner, declared, check_mode=check_mode,
                           labels=[label(index, spec["nqn"]) for index, (spec, _allow) in enumerate(declared)])
    saved_actions, subsystems = [], []
    for entry in result["subsystems"]:
        actions, saved = list(entry["actions"]), None
        if params["persist"]:
            saved, action = keep(fs, params["config_dir"], entry["spec"], check_mode)
            if action:
                actions.append(action)
                saved_actions.append(action)
        subsystems.append({"nqn": entry["spec"]["nqn"], "changed": bool(actions), "subsystem": entry["after"],
                           "actions": actions, "saved": saved})
    return {
        "changed": result["changed"] or bool(saved_actions),
        "subsystems": subsystems,
        "actions": result["actions"] + saved_actions,
        "diff": {"before": dict((entry["spec"]["nqn"], entry["before"]) for entry in result["subsystems"]),
                 "after": dict((entry["spec"]["nqn"], entry["after"]) for entry in result["subsystems"])},
    }


# -- the same plan on the controller, from module host_state's read ------------------------

def _digested(spec):
    if spec["state"] != "present":
        return spec
    return dict(spec, hosts=[with_secret_digests(host) for host in spec["hosts"]])


def _saved_action(saved_files, config_dir, spec):
    path = saved_path(config_dir, spec["nqn"])
    have = (saved_files or {}).get(path.rsplit("/", 1)[-1])
    if spec["state"] != "present":
        return "remove %s" % path if have else None
    if have and have["checksum"] == hashlib.sha1(render(spec).encode("utf-8")).hexdigest():
        return None
    return "save %s" % path


def planned_actions(nvmet_state, saved_files, params):
    """What apply_target would do on the host host_state read: [] when nothing.

    ``nvmet_state``: host_state's ``nvmet``; ``saved_files``: its ``directories`` entry for
    ``<config_dir>/subsystems``. A declaration the module would refuse plans one action that
    says so, so that the module is called and reports the refusal.
    """
    try:
        declared = normalized(params)
    except SpecError as error:
        return ["refuse the declaration: %s" % error]
    current = import_world(nvmet_state["world"])
    world, saves = current, []
    for spec, _allow in declared:
        world, ports = desired_world(world, _digested(spec))
        if params["persist"]:
            saves.append(_saved_action(saved_files, params["config_dir"], resolved_spec(spec, ports)))
    return [op.describe() for op in plan(current, world)] + [action for action in saves if action]
