# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the bad-input table is and how it is read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TABLE = os.path.join(ROOT, "tests", "bad_input", "cases.yml")


def load_cases():
    """The cases of tests/bad_input/cases.yml, in table order."""
    with open(TABLE) as handle:
        return yaml.safe_load(handle)
