# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nvme/names: addresses in canonical form with the standard library only (managed hosts need no netaddr)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.names import SpecError, ip_address

PLUGINS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))), "plugins")


@pytest.mark.parametrize("given, canonical, family", [
    ("10.90.1.11", "10.90.1.11", "ipv4"),
    (" 10.90.1.11 ", "10.90.1.11", "ipv4"),
    ("FD90:1::11", "fd90:1::11", "ipv6"),
    ("0:0:0:0:0:0:0:1", "::1", "ipv6"),
    ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "ipv6"),
    ("0.0.0.0", "0.0.0.0", "ipv4"),
    ("::", "::", "ipv6"),
    # the dotted forms netaddr wrote, which saved subsystems and live ports hold
    ("::ffff:10.0.0.1", "::ffff:10.0.0.1", "ipv6"),
    ("::ffff:a00:1", "::ffff:10.0.0.1", "ipv6"),
    ("::1.2.3.4", "::1.2.3.4", "ipv6"),
    ("::ffff", "::ffff", "ipv6"),
])
def test_canonical_form(given, canonical, family):
    assert ip_address("listeners[0].address", given) == (canonical, family)


@pytest.mark.parametrize("given, message", [
    ("010.1.1.1", "is not an IPv4 or IPv6 address"),
    ("1.2.3", "is not an IPv4 or IPv6 address"),
    ("10.0.0.1/24", "no prefix length or zone"),
    ("fe80::1%eth1", "no prefix length or zone"),
    ("host.example", "is not an IPv4 or IPv6 address"),
])
def test_what_is_not_a_plain_address_is_named(given, message):
    with pytest.raises(SpecError) as raised:
        ip_address("listeners[0].address", given)
    assert "listeners[0].address" in str(raised.value) and given in str(raised.value)
    assert message in str(raised.value)


@pytest.mark.parametrize("part", ["modules", "module_utils"])
def test_nothing_that_runs_on_a_managed_host_imports_netaddr(part):
    """Modules and module_utils run on the managed hosts, which get the standard library only."""
    for directory, _dirs, files in os.walk(os.path.join(PLUGINS, part)):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(directory, name)) as handle:
                    tree = ast.parse(handle.read())
                imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
                imported += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
                assert not [module for module in imported if module.split(".")[0] == "netaddr"], name
