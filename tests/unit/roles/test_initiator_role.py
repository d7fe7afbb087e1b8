# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role nvmeof.fleet.initiator: its variables, argument spec, docs and module calls agree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "initiator")
# Role-wide instead of per connection: initiator_hostnqn, initiator_hostid, initiator_unique_identity.
IDENTITY_OPTIONS = ("hostnqn", "hostid", "regenerate_host_identity")


def _load(*path):
    with open(os.path.join(*path)) as handle:
        return yaml.safe_load(handle)


def _spec():
    return _load(ROLE, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]


def _shape(options):
    """{option: (type, elements, choices, required, no_log, suboptions)} of an argument spec."""
    shape = {}
    for name, spec in (options or {}).items():
        shape[name] = (spec.get("type", "str"), spec.get("elements"),
                       sorted(spec.get("choices") or []), bool(spec.get("required")),
                       bool(spec.get("no_log")), _shape(spec.get("options")))
    return shape


def _module_spec():
    from ansible_collections.nvmeof.fleet.plugins.modules.nvme_connect import ARGUMENT_SPEC
    return ARGUMENT_SPEC


def test_every_default_is_in_the_argument_spec_with_the_same_value(check_role_defaults):
    check_role_defaults("initiator")


def test_every_variable_is_prefixed_described_and_typed():
    for name, spec in _spec().items():
        assert name.startswith("initiator_"), name
        assert spec.get("description"), name
        assert spec.get("type"), name
    for name in _load(ROLE, "vars", "main.yml"):
        assert name.startswith("__initiator_"), name


def test_connection_options_mirror_the_module():
    role = _spec()["initiator_connections"]["options"]
    module = dict((name, spec) for name, spec in _module_spec().items() if name not in IDENTITY_OPTIONS)
    assert _shape(role) == _shape(module)


def test_default_options_are_module_options():
    role = _shape(_spec()["initiator_default_options"]["options"])
    module = _shape(_module_spec())
    assert role == dict((name, module[name]) for name in role)


def test_the_connection_task_passes_every_module_option():
    tasks = _load(ROLE, "tasks", "connections.yml")
    calls = [task["nvmeof.fleet.nvme_connect"] for task in tasks if "nvmeof.fleet.nvme_connect" in task]
    assert len(calls) == 1
    assert sorted(calls[0]) == sorted(name for name in _module_spec() if name != "regenerate_host_identity")


def test_docs_name_every_variable():
    for doc in (os.path.join(ROLE, "README.md"), os.path.join(ROOT, "docs", "initiator.md")):
        with open(doc) as handle:
            text = handle.read()
        named = set(re.findall(r"`(initiator_\w+)`", text))
        assert sorted(set(_spec()) - named) == [], doc


def test_the_drop_in_resets_the_conditions_before_setting_its_own():
    with open(os.path.join(ROLE, "templates", "nvmf-autoconnect-nvmeof-fleet.conf.j2")) as handle:
        lines = [line.strip() for line in handle if line.startswith("ConditionPathExists=")]
    assert lines[0] == "ConditionPathExists="
    assert all(line.startswith("ConditionPathExists=|/") for line in lines[1:])
    assert "ConditionPathExists=|/etc/nvme/discovery.conf" in lines


def test_multipath_variables_mirror_nvme_multipath():
    from ansible_collections.nvmeof.fleet.plugins.modules.nvme_multipath import ARGUMENT_SPEC
    spec = _spec()
    module_policies = sorted(ARGUMENT_SPEC["iopolicy"]["choices"])
    # "" leaves the policies alone: the task omits iopolicy then.
    assert sorted(spec["initiator_iopolicy"]["choices"]) == sorted([""] + module_policies)
    assert _shape(spec["initiator_iopolicy_subsystems"]["options"]) == _shape(ARGUMENT_SPEC["subsystems"]["options"])
    tasks = _load(ROLE, "tasks", "multipath.yml")
    calls = [task["nvmeof.fleet.nvme_multipath"] for task in tasks if "nvmeof.fleet.nvme_multipath" in task]
    assert len(calls) == 1
    assert sorted(calls[0]) == sorted(name for name in ARGUMENT_SPEC if name != "state")


def test_multipath_is_set_before_the_connections_are_made():
    names = [task.get("ansible.builtin.import_tasks") for task in _load(ROLE, "tasks", "main.yml")]
    assert names.index("multipath.yml") < names.index("connections.yml")
