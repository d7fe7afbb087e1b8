# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input table (tests/bad_input/cases.yml) for pytest: the cases, the fake lab hosts, the role runs,
and the line that says how many cases ran and held."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.dirname(HERE)
# The fakes of the module_utils tests and the helpers of the module tests, imported by their file names
# as the tests there import them.
for directory in (os.path.join(UNIT, "plugins", "module_utils"), os.path.join(UNIT, "plugins", "modules")):
    if directory not in sys.path:
        sys.path.insert(0, directory)

from lab_hosts import lab_host  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from role_cases import role_results  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

TEST = "test_bad_input.py::test_case["
_OUTCOMES = {}


def pytest_runtest_logreport(report):
    """Keeps whether each case held: its call passed (a failed setup or call means it did not)."""
    if TEST not in report.nodeid:
        return
    case = report.nodeid.split(TEST, 1)[1].rstrip("]")
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _OUTCOMES[case] = report.passed


def pytest_terminal_summary(terminalreporter):
    if not _OUTCOMES:
        return
    held = sorted(case for case, passed in _OUTCOMES.items() if passed)
    failed = sorted(case for case, passed in _OUTCOMES.items() if not passed)
    terminalreporter.write_line("bad input: %d cases ran, %d held" % (len(_OUTCOMES), len(held)))
    if failed:
        terminalreporter.write_line("bad input: did not hold: %s" % ", ".join(failed))
