# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role nvmeof.fleet.fleet: its variables, entry points and argument specs agree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "fleet")


def _load(*path):
    with open(os.path.join(*path)) as handle:
        return yaml.safe_load(handle)


def test_every_default_is_in_the_argument_spec_with_the_same_value(check_role_defaults):
    check_role_defaults("fleet")


def test_every_entry_point_has_its_tasks_and_documents_only_role_variables():
    specs = _load(ROLE, "meta", "argument_specs.yml")["argument_specs"]
    defaults = _load(ROLE, "defaults", "main.yml")
    assert sorted(specs) == ["health_gate", "main", "preflight", "report"]
    for entry, spec in specs.items():
        assert os.path.exists(os.path.join(ROLE, "tasks", entry + ".yml")), entry
        assert set(spec["options"]) <= set(defaults), entry


def test_the_site_playbook_uses_every_entry_point_but_main():
    text = open(os.path.join(ROOT, "playbooks", "site.yml")).read()
    for entry in ("preflight", "health_gate", "report"):
        assert "tasks_from: " + entry in text
