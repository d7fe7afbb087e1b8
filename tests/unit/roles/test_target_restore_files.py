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
IMPORT = re.compile(r"^from %s\.(\w+)(?:\.(\w+))? import (\([^)]*\)|[^\n]*)" % re.escape(PREFIX), re.M)


def imported_files(path):
    """The module_utils files (package/name.py) that one module_utils file imports."""
    with open(os.path.join(MODULE_UTILS, path)) as handle:
        source = handle.read()
    found = set()
    for package, module, names in IMPORT.findall(source):
        if module:
            found.add("%s/%s.py" % (package, module))
        else:
            found.update("%s/%s.py" % (package, item.strip().split(" as ")[0])
                         for item in names.strip("()").split(",") if item.strip() and not item.strip().startswith("#"))
    return found


def package_files(package):
    return set("%s/%s" % (package, name) for name in os.listdir(os.path.join(MODULE_UTILS, package))
               if name.endswith(".py"))


def restore_packages():
    with open(os.path.join(ROOT, "roles", "target", "vars", "main.yml")) as handle:
        return yaml.safe_load(handle)["__target_restore_packages"]


def test_the_restore_program_and_what_it_imports_are_installed():
    installed = set().union(*(package_files(package) for package in restore_packages()))
    assert "target/nvmet_persist.py" in installed
    for path in sorted(installed):
        missing = imported_files(path) - installed
        assert not missing, "%s imports %s, which the target role does not install" % (path, sorted(missing))


def test_every_installed_package_is_needed():
    needed = set()
    for package in restore_packages():
        for path in package_files(package):
            needed.update(name.split("/")[0] for name in imported_files(path))
    assert set(restore_packages()) - {"target"} <= needed


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
