# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter nvmeof.fleet.fabric_peers: who checks whom on the storage fabric, at which MTU."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nvmeof.fleet.plugins.filter.fabric_peers import fabric_peers


def storage(*entries):
    return [{"interface": name, "mtu": mtu, "addresses": list(addresses)} for name, mtu, addresses in entries]


TARGET = {"name": "target1", "role": "target",
          "storage": storage(("eth1", 9000, ["10.90.1.11/24", "fd00:90:1::11/64"]), ("eth2", 9000, ["10.90.2.11/24"])),
          "listeners": [{"address": "10.90.1.11", "port": 4420}, {"address": "10.90.2.11", "port": 4420},
                        {"address": "10.90.1.11", "port": 8009}]}
INITIATOR = {"name": "initiator1", "role": "initiator",
             "storage": storage(("eth1", 9000, ["10.90.1.21/24", "fd00:90:1::21/64"]), ("eth2", 9000, ["10.90.2.21/24"]))}
OTHER_INITIATOR = {"name": "initiator2", "role": "initiator",
                   "storage": storage(("eth1", 9000, ["10.90.1.22/24"]))}


def test_an_initiator_checks_every_target_address_on_shared_networks_and_the_listener_ports():
    peers = fabric_peers([TARGET, INITIATOR, OTHER_INITIATOR], "initiator1")
    assert peers == [
        {"host": "target1", "address": "10.90.1.11", "ports": [4420, 8009], "mtu": 9000, "interface": "eth1"},
        {"host": "target1", "address": "fd00:90:1::11", "ports": [], "mtu": 9000, "interface": "eth1"},
        {"host": "target1", "address": "10.90.2.11", "ports": [4420], "mtu": 9000, "interface": "eth2"},
    ]


def test_a_target_checks_the_initiators_without_ports_and_initiators_do_not_check_each_other():
    assert fabric_peers([TARGET, INITIATOR, OTHER_INITIATOR], "target1") == [
        {"host": "initiator1", "address": "10.90.1.21", "ports": [], "mtu": 9000, "interface": "eth1"},
        {"host": "initiator1", "address": "fd00:90:1::21", "ports": [], "mtu": 9000, "interface": "eth1"},
        {"host": "initiator1", "address": "10.90.2.21", "ports": [], "mtu": 9000, "interface": "eth2"},
        {"host": "initiator2", "address": "10.90.1.22", "ports": [], "mtu": 9000, "interface": "eth1"},
    ]
    # The listener on a network initiator2 does not share is still a path its role connects: checked too.
    assert [(p["host"], p["address"], p.get("interface")) for p in
            fabric_peers([TARGET, INITIATOR, OTHER_INITIATOR], "initiator2")] == [
        ("target1", "10.90.1.11", "eth1"), ("target1", "10.90.2.11", None)]


def test_the_larger_mtu_of_two_ends_is_proven_from_both_sides():
    small = dict(TARGET, storage=storage(("eth1", 1500, ["10.90.1.11/24"]), ("eth2", 9000, ["10.90.2.11/24"])))
    from_target = fabric_peers([small, INITIATOR], "target1")
    assert [(p["address"], p["mtu"]) for p in from_target] == [("10.90.1.21", 9000), ("10.90.2.21", 9000)]
    from_initiator = fabric_peers([small, INITIATOR], "initiator1")
    assert [(p["address"], p["mtu"]) for p in from_initiator] == [("10.90.1.11", 9000), ("10.90.2.11", 9000)]


def test_a_target_outside_the_play_is_checked_on_its_listeners_at_the_local_mtu():
    absent = dict(TARGET, storage=[])
    assert fabric_peers([absent, INITIATOR], "initiator1") == [
        {"host": "target1", "address": "10.90.1.11", "ports": [4420, 8009], "mtu": 9000, "interface": "eth1"},
        {"host": "target1", "address": "10.90.2.11", "ports": [4420], "mtu": 9000, "interface": "eth2"},
    ]
    elsewhere = dict(absent, listeners=[{"address": "192.0.2.7", "port": 4420}])
    assert fabric_peers([elsewhere, INITIATOR], "initiator1") == [
        {"host": "target1", "address": "192.0.2.7", "ports": [4420]}]


def test_wildcard_listeners_stand_for_every_storage_address_of_their_family():
    wildcard = dict(TARGET, listeners=[{"address": "0.0.0.0", "port": 4420}])
    peers = fabric_peers([wildcard, INITIATOR], "initiator1")
    assert [(p["address"], p["ports"]) for p in peers] == [
        ("10.90.1.11", [4420]), ("fd00:90:1::11", []), ("10.90.2.11", [4420])]


def test_a_host_in_both_roles_checks_everyone_else_and_unknown_hosts_have_no_peers():
    both = dict(INITIATOR, role="both")
    assert [p["host"] for p in fabric_peers([TARGET, both, OTHER_INITIATOR], "initiator1")] == [
        "target1", "target1", "target1", "initiator2"]
    assert fabric_peers([TARGET, INITIATOR], "nobody") == []


@pytest.mark.parametrize("rows, message", [
    ([dict(TARGET, role="storage"), INITIATOR], "host target1: role must be target, initiator or both"),
    ([dict(TARGET, listeners=[{"address": "10.90.1.300"}]), INITIATOR], "host target1: listeners[0]"),
    ([dict(TARGET, storage=[{"interface": "eth1", "addresses": ["10.90.1.11/33"]}]), INITIATOR],
     "host target1: storage[0]"),
    ([dict(TARGET, storage=[{"mtu": 9000}]), INITIATOR], "needs 'interface'"),
    ("target1", "input must be a list"),
])
def test_bad_rows_are_named(rows, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("[", r"\[").replace("]", r"\]")):
        fabric_peers(rows, "initiator1")
