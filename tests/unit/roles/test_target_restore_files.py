# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restore program the target role installs must have every module_utils file it imports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULE_UTILS = os.path.join(ROOT, "plugins", "module_utils")
PREFIX = "ansible_collections.nvmeof.fleet.plugins.module_utils"
IMPORT = re.compile(r"^from %s(?:\.(\w+))? import (\([^)]*\)|[^\n]*)" % re.escape(PREFIX), re.M)


def imported_files(name):
    with open(os.path.join(MODULE_UTILS, name)) as handle:
        source = handle.read()
    found = set()
    for module, names in IMPORT.findall(source):
        if module:
            found.add(module + ".py")
        else:
            found.update(item.strip().split(" as ")[0] + ".py"
                         for item in names.strip("()").split(",") if item.strip())
    return found


def import_closure(start):
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imported_files(name))
    return seen


def test_installed_files_are_the_import_closure_of_the_restore_program():
    with open(os.path.join(ROOT, "roles", "target", "vars", "main.yml")) as handle:
        installed = yaml.safe_load(handle)["__target_restore_module_utils"]
    assert sorted(installed) == sorted(import_closure("nvmet_persist.py"))


def _shape(options, role=False):
    """{option: (type, elements, choices, required, no_log, suboptions)} of an argument spec."""
    shape = {}
    for name, spec in (options or {}).items():
        shape[name] = (spec.get("type", "str"), spec.get("elements"),
                       sorted(spec.get("choices") or []), bool(spec.get("required")),
                       bool(spec.get("no_log")), _shape(spec.get("options"), role))
    return shape


def test_role_subsystem_options_mirror_the_module():
    from ansible_collections.nvmeof.fleet.plugins.modules.nvmet_subsystem import ARGUMENT_SPEC

    with open(os.path.join(ROOT, "roles", "target", "meta", "argument_specs.yml")) as handle:
        role = yaml.safe_load(handle)["argument_specs"]["main"]["options"]["target_subsystems"]["options"]
    module = dict((name, spec) for name, spec in ARGUMENT_SPEC.items()
                  if name not in ("persist", "config_dir"))  # role-wide: target_persist, target_config_dir
    assert _shape(role) == _shape(module)
