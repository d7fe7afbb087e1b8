# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's DOCUMENTATION agrees with its ARGUMENT_SPEC, and EXAMPLES and RETURN are YAML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

FIELDS = ("type", "default", "choices", "elements", "required")


def assert_documented(module):
    options = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert sorted(options) == sorted(module.ARGUMENT_SPEC)
    for name, spec in module.ARGUMENT_SPEC.items():
        for field in FIELDS:
            assert options[name].get(field) == spec.get(field), (name, field)
    for part in ("EXAMPLES", "RETURN"):
        assert yaml.safe_load(getattr(module, part))
