# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role nvmeof.fleet.target: its variables and argument spec agree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def test_every_default_is_in_the_argument_spec_with_the_same_value(check_role_defaults):
    check_role_defaults("target")
