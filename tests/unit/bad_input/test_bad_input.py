# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every case of the bad-input table (tests/bad_input/cases.yml) fails, says why, and changes nothing.

A module case runs the module's main() on a fake of its lab host (lab_hosts.LabHost: the host's
kernel trees and its baseline, rolled by the modules themselves). It holds when the module failed,
its message contains every ``expect`` string, the whole tree (every file's bytes and mode, every
symlink, every directory) is as it was, and no command or fabrics call that changes the host ran.

A role case runs the role as a play does (role_cases: Ansible validates the role's argument spec and
runs the role's own assert tasks) on a host that cannot be reached. It holds when the argument spec or
an assert refused it before any task could reach the host, and the message contains every ``expect``
string.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os
import re

import pytest

from bad_input_table import ROOT, load_cases
from lab_hosts import HOSTS, run_main, snapshot, tree_changes

CASES = load_cases()
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                 if name.endswith(".py") and not name.startswith("_"))
ROLES = sorted(os.listdir(os.path.join(ROOT, "roles")))
FIELDS = ("id", "about", "host", "module", "role", "args", "vars", "expect")


# -- the table -----------------------------------------------------------------------------------------
def test_every_case_is_well_formed():
    ids = [case.get("id") for case in CASES]
    assert len(ids) == len(set(ids)), sorted(name for name in ids if ids.count(name) > 1)
    for case in CASES:
        assert re.match(r"^[a-z0-9]+(-[a-z0-9.]+)*$", case["id"]), case["id"]
        assert sorted(set(case) - set(FIELDS)) == [], case["id"]
        assert isinstance(case.get("about"), str) and case["about"].strip(), case["id"]
        assert case.get("host") in HOSTS, case["id"]
        assert ("module" in case) != ("role" in case), case["id"]
        if "module" in case:
            assert case["module"].startswith("nvmeof.fleet.") and "vars" not in case, case["id"]
            assert case["module"][len("nvmeof.fleet."):] in MODULES, case["id"]
            assert isinstance(case.get("args"), dict), case["id"]
        else:
            assert case["role"].startswith("nvmeof.fleet.") and "args" not in case, case["id"]
            assert case["role"][len("nvmeof.fleet."):] in ROLES, case["id"]
            assert isinstance(case.get("vars"), dict) and case["vars"], case["id"]
        expect = case.get("expect")
        assert isinstance(expect, list) and expect and all(isinstance(text, str) and text for text in expect), \
            case["id"]


def test_the_table_covers_every_module_and_role_on_every_host():
    assert len(CASES) >= 70
    assert sorted(set(case["module"][len("nvmeof.fleet."):] for case in CASES if "module" in case)) == MODULES
    assert sorted(set(case["role"][len("nvmeof.fleet."):] for case in CASES if "role" in case)) == ROLES
    assert sorted(set(case["host"] for case in CASES)) == sorted(HOSTS)


# -- the cases ---------------------------------------------------------------------------------------
def _missing(message, expect):
    return [text for text in expect if text not in (message or "")]


def _module_case(case, host):
    main = importlib.import_module("ansible_collections.nvmeof.fleet.plugins.modules."
                                   + case["module"][len("nvmeof.fleet."):]).main
    before = snapshot(host.root)
    connections = host.configfs.controllers() if host.configfs else None
    result = run_main(main, case["args"])
    problems = []
    if result["rc"] == 0 or result.get("failed") is not True:
        problems.append("the module did not fail (rc %s): %r" % (result["rc"], result))
    missing = _missing(result.get("msg"), case["expect"])
    if missing:
        problems.append("the message %r lacks %r" % (result.get("msg"), missing))
    problems += ["the tree changed: " + line for line in tree_changes(before, snapshot(host.root))]
    problems += ["a change ran: " + change for change in host.changes()]
    if host.configfs and host.configfs.controllers() != connections:
        problems.append("live connections changed: %r -> %r" % (connections, host.configfs.controllers()))
    return problems


def _role_case(case, role_results):
    stage, message = role_results["results"][case["id"]]
    problems = []
    if stage not in ("argument_spec", "assert"):
        problems.append("the role was not refused by its argument spec or its checks: it %s (%s)" % (stage, message))
        if stage.startswith("passed"):
            problems.append("the ansible-playbook run said:\n" + role_results["output"][-3000:])
    missing = _missing(message, case["expect"])
    if missing:
        problems.append("the message %r lacks %r" % (message, missing))
    return problems


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case(case, lab_host, request):
    if "module" in case:
        problems = _module_case(case, lab_host(case["host"]))
    else:
        problems = _role_case(case, request.getfixturevalue("role_results"))
    assert not problems, "%s (%s) did not hold:\n%s" % (case["id"], case["about"], "\n".join(problems))
