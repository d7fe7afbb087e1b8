# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role nvmeof.fleet.memory_tiering: its variables, argument specs, module call and docs agree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import yaml

from ansible_collections.nvmeof.fleet.plugins.modules import cxl_tiering

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "memory_tiering")
DOCS = (os.path.join(ROLE, "README.md"), os.path.join(ROOT, "docs", "memory-tiering.md"))
MODULE = "nvmeof.fleet.cxl_tiering"


def _load(*path):
    with open(os.path.join(*path)) as handle:
        return yaml.safe_load(handle)


def _spec():
    return _load(ROLE, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]


def _module_task():
    return [task for task in _load(ROLE, "tasks", "main.yml") if MODULE in task][0]


def test_every_default_is_in_the_argument_spec_with_the_same_value(check_role_defaults):
    check_role_defaults("memory_tiering")


def test_every_variable_is_prefixed_described_and_typed():
    for name, spec in _spec().items():
        assert name.startswith("memory_tiering_"), name
        assert spec.get("description") and spec.get("type"), name


def test_the_module_gets_every_option_from_the_variable_of_the_same_name():
    """Through __memory_tiering_options, which host_state checks too."""
    arguments = _module_task()[MODULE]
    assert sorted(arguments) == sorted(cxl_tiering.ARGUMENT_SPEC)
    options = _load(ROLE, "vars", "main.yml")["__memory_tiering_options"]
    for option, value in arguments.items():
        assert "__memory_tiering_options.%s" % option in value, option
        assert "'%s': memory_tiering_%s" % (option, option) in options, option
    read = [task for task in _load(ROLE, "tasks", "main.yml") if "nvmeof.fleet.host_state" in task][0]
    assert read["nvmeof.fleet.host_state"]["checks"] == {"cxl_tiering": "{{ __memory_tiering_options }}"}


def test_the_variables_offer_the_choices_of_the_module_options():
    spec = _spec()
    for option in ("zone", "state"):
        assert spec["memory_tiering_" + option]["choices"] == cxl_tiering.ARGUMENT_SPEC[option]["choices"]
    # "" stands for "leave the host's value", passed to the module as an omitted option
    assert spec["memory_tiering_numa_balancing"]["choices"] == [""] + cxl_tiering.ARGUMENT_SPEC["numa_balancing"]["choices"]
    assert "omit" in _module_task()[MODULE]["numa_balancing"]
    assert "if memory_tiering_numa_balancing else {}" in _load(ROLE, "vars", "main.yml")["__memory_tiering_options"]


def test_the_module_result_is_registered_and_turned_into_the_tier_map():
    tasks = _load(ROLE, "tasks", "main.yml")
    assert _module_task()["register"] == "__memory_tiering_applied"
    facts = [task["ansible.builtin.set_fact"] for task in tasks if "ansible.builtin.set_fact" in task]
    # the module's result, or host_state's check of it when the module had nothing to do
    assert "__memory_tiering_applied is skipped" in facts[0]["memory_tiering_result"]
    assert "__memory_tiering_state.checks.cxl_tiering" in facts[0]["memory_tiering_result"]
    assert "nvmeof.fleet.memory_tier_map(" not in facts[0]["memory_tiering_result"]
    assert "memory_tiering_result | nvmeof.fleet.memory_tier_map" in facts[1]["memory_tiering_tier_map"]


def test_the_docs_name_every_variable():
    for doc in DOCS:
        with open(doc) as handle:
            named = set(re.findall(r"`(memory_tiering_\w+)`", handle.read()))
        assert sorted(set(_spec()) - named) == [], doc
