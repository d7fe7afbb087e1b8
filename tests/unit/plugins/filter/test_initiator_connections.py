# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter nvmeof.fleet.initiator_connections: targets' subsystems -> one host's connections."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nvmeof.fleet.plugins.filter.initiator_connections import (
    FilterModule, initiator_connections)

ME = "nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"
OTHER = "nqn.2014-08.org.nvmexpress:uuid:5d8e2a7c-3b1f-4e6d-8c2a-9f4e1b7d3a22"
DB = "nqn.2026-05.com.example:storage1:db"
LOGS = "nqn.2026-05.com.example:storage1:logs"
KEY = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"
CTRL_KEY = "DHHC-1:00:gZCLpLMVW1LvzLvUiz4qJUMhMJpBHXVQvCBCGVJNw2e9lUJ6:"
LISTENERS = [{"address": "10.90.1.11"}, {"address": "10.90.2.11"}]


def subsystem(nqn, hosts=(ME,), listeners=None, **extra):
    declared = {"nqn": nqn, "hosts": [{"nqn": host} for host in hosts],
                "listeners": copy.deepcopy(LISTENERS if listeners is None else listeners),
                "namespaces": [{"nsid": 1, "device_path": "/dev/vg/" + nqn.rsplit(":", 1)[-1]}]}
    declared.update(extra)
    return declared


def paths(*addresses):
    return [{"address": address, "service_id": port} for address, port in addresses]


def test_registered_under_its_name():
    assert FilterModule().filters() == {"initiator_connections": initiator_connections}


def test_connects_every_subsystem_that_lists_the_host_on_every_listener():
    targets = [[subsystem(DB), subsystem(LOGS)]]
    assert initiator_connections(targets, ME) == [
        {"nqn": DB, "paths": paths(("10.90.1.11", 4420), ("10.90.2.11", 4420))},
        {"nqn": LOGS, "paths": paths(("10.90.1.11", 4420), ("10.90.2.11", 4420))},
    ]


def test_only_subsystems_that_name_the_host():
    targets = [[subsystem(DB, hosts=[OTHER]), subsystem(LOGS, hosts=[OTHER, ME]),
                subsystem("nqn.2026-05.com.example:nobody", hosts=[])]]
    assert [c["nqn"] for c in initiator_connections(targets, ME)] == [LOGS]
    assert [c["nqn"] for c in initiator_connections(targets, OTHER)] == [DB, LOGS]


def test_allow_any_host_is_not_a_reason_to_connect():
    targets = [[subsystem(DB, hosts=[], allow_any_host=True)]]
    assert initiator_connections(targets, ME) == []


def test_absent_subsystems_are_not_connected():
    targets = [[subsystem(DB, state="absent"), subsystem(LOGS, state="present")]]
    assert [c["nqn"] for c in initiator_connections(targets, ME)] == [LOGS]


def test_default_options_are_added_and_nqn_and_paths_win():
    options = {"ctrl_loss_tmo": -1, "reconnect_delay": 5, "nqn": "ignored", "paths": []}
    result = initiator_connections([[subsystem(DB)]], ME, options)
    assert result == [{"nqn": DB, "paths": paths(("10.90.1.11", 4420), ("10.90.2.11", 4420)),
                       "ctrl_loss_tmo": -1, "reconnect_delay": 5}]
    assert options == {"ctrl_loss_tmo": -1, "reconnect_delay": 5, "nqn": "ignored", "paths": []}


def test_each_connection_gets_its_own_copy_of_the_options():
    result = initiator_connections([[subsystem(DB), subsystem(LOGS)]], ME, {"ctrl_loss_tmo": -1})
    result[0]["ctrl_loss_tmo"] = 0
    assert result[1]["ctrl_loss_tmo"] == -1


def test_same_nqn_on_two_targets_merges_paths_in_declared_order():
    storage1 = [subsystem(DB, listeners=[{"address": "10.90.1.11"}, {"address": "10.90.2.11", "service_id": 4421}])]
    storage2 = [subsystem(DB, listeners=[{"address": "10.90.1.12"}, {"address": "10.90.1.11"}]),
                subsystem(LOGS)]
    assert initiator_connections([storage1, storage2], ME) == [
        {"nqn": DB, "paths": paths(("10.90.1.11", 4420), ("10.90.2.11", 4421), ("10.90.1.12", 4420))},
        {"nqn": LOGS, "paths": paths(("10.90.1.11", 4420), ("10.90.2.11", 4420))},
    ]


def test_duplicate_listeners_give_one_path_and_ports_keep_paths_apart():
    listeners = [{"address": "fd00::11"}, {"address": "FD00:0:0::11", "service_id": 4420},
                 {"address": "fd00::11", "service_id": "4421"}, {"address": "10.90.1.11", "transport": "tcp"}]
    result = initiator_connections([[subsystem(DB, listeners=listeners)]], ME)
    assert result[0]["paths"] == paths(("fd00::11", 4420), ("fd00::11", 4421), ("10.90.1.11", 4420))


def test_a_single_subsystem_or_an_empty_target_is_accepted():
    assert initiator_connections([subsystem(DB), [], None], ME)[0]["nqn"] == DB


def test_a_dictionary_by_target_gives_the_same_connections_in_its_order():
    storage1 = [subsystem(DB, listeners=[{"address": "10.90.1.11"}])]
    storage2 = [subsystem(DB, listeners=[{"address": "10.90.2.11"}]), subsystem(LOGS)]
    by_target = initiator_connections({"storage1": storage1, "storage2": storage2, "storage3": None}, ME)
    assert by_target == initiator_connections([storage1, storage2], ME)
    assert by_target[0]["paths"] == paths(("10.90.1.11", 4420), ("10.90.2.11", 4420))


def test_host_nqn_is_compared_exactly_after_stripping_whitespace():
    assert initiator_connections([[subsystem(DB)]], " %s\n" % ME)[0]["nqn"] == DB
    assert initiator_connections([[subsystem(DB)]], ME.upper()) == []


def test_dhchap_keys_of_the_host_entry_become_the_connection_secrets():
    declared = subsystem(DB, hosts=[])
    declared["hosts"] = [{"nqn": OTHER, "dhchap_key": "DHHC-1:00:other:"},
                         {"nqn": ME, "dhchap_key": KEY, "dhchap_ctrl_key": CTRL_KEY, "dhchap_hash": "hmac(sha256)"}]
    result = initiator_connections([[declared]], ME, {"dhchap_secret": "default"})
    assert result[0]["dhchap_secret"] == KEY
    assert result[0]["dhchap_ctrl_secret"] == CTRL_KEY
    assert "dhchap_hash" not in result[0]


def test_conflicting_secrets_for_one_nqn_fail_without_showing_them():
    first = subsystem(DB, hosts=[])
    first["hosts"] = [{"nqn": ME, "dhchap_key": KEY}]
    second = copy.deepcopy(first)
    second["hosts"][0]["dhchap_key"] = CTRL_KEY
    with pytest.raises(AnsibleFilterError) as error:
        initiator_connections([[first], [second]], ME)
    assert "dhchap_key" in str(error.value) and DB in str(error.value)
    assert KEY not in str(error.value) and CTRL_KEY not in str(error.value)


def test_a_subsystem_without_listeners_gives_no_connection():
    assert initiator_connections([[subsystem(DB, listeners=[]), subsystem(LOGS)]], ME)[0]["nqn"] == LOGS


@pytest.mark.parametrize("targets, message", [
    ([[{"hosts": [{"nqn": ME}], "listeners": LISTENERS}]], "input[0][0] (a subsystem) has no 'nqn'"),
    ([[subsystem(DB), {"nqn": "", "hosts": []}]], "input[0][1] (a subsystem) has no 'nqn'"),
    ([[subsystem(DB, listeners=[{"address": "10.90.1.11"}, {"service_id": 4420}])]],
     "input[0][0].listeners[1] (subsystem %s) has no 'address'" % DB),
    # checked on every subsystem, not only on the ones of this host
    ([[subsystem(DB, hosts=[OTHER], listeners=[{"port": 4420}])]],
     "input[0][0].listeners[0] (subsystem %s) has no 'address'" % DB),
    ([[subsystem(DB, hosts=[])], [subsystem(LOGS, hosts=[])]], None),
    ([[dict(subsystem(DB), hosts=[{"name": "db1"}])]], "input[0][0].hosts[0] (subsystem %s) has no 'nqn'" % DB),
    ([[dict(subsystem(DB), hosts=[ME])]], "input[0][0].hosts[0] (subsystem %s) must be a dictionary" % DB),
    ([[subsystem(DB, listeners=[{"address": "10.90.1.11", "transport": "rdma"}])]], "transport 'rdma' is not supported"),
    ([[subsystem(DB, listeners=[{"address": "10.90.1.11", "service_id": "nvme"}])]], "service_id must be a TCP port"),
    ([[subsystem(DB, listeners=[{"address": "10.90.1.11", "service_id": 70000}])]], "service_id 70000 is not a TCP port"),
    ([[subsystem(DB, state="gone")]], "state must be present or absent"),
    ([["nqn.2026-05.com.example:db"]], "input[0][0] must be a subsystem (a dictionary), not str"),
    ([DB], "input[0] must be a list of subsystems or one subsystem"),
    ("storage1", "the input must be a list of target_subsystems lists or a dictionary of them by target"),
    ({"storage1": [subsystem(DB), {"hosts": []}]}, "storage1: target_subsystems[1] (a subsystem) has no 'nqn'"),
    ({"storage1": {"nqn": DB, "hosts": [{"nqn": ME}], "listeners": [{"port": 1}]}},
     "storage1: target_subsystems.listeners[0] (subsystem %s) has no 'address'" % DB),
    ({"storage1": 42}, "storage1: target_subsystems must be a list of subsystems or one subsystem"),
    ([[subsystem(DB, listeners=[{"address": "0.0.0.0"}])]], "listens on 0.0.0.0 (every address of the target)"),
    ([[subsystem(DB, listeners=[{"address": "::"}])]], "listens on :: (every address of the target)"),
])
def test_bad_input_fails_naming_what_is_missing(targets, message):
    if message is None:  # nothing wrong, nothing for this host
        assert initiator_connections(targets, ME) == []
        return
    with pytest.raises(AnsibleFilterError) as error:
        initiator_connections(targets, ME)
    assert str(error.value).startswith("initiator_connections: ")
    assert message in str(error.value)


def test_a_wildcard_listener_of_another_host_subsystem_is_not_an_error():
    targets = [[subsystem(DB, hosts=[OTHER], listeners=[{"address": "0.0.0.0"}]), subsystem(LOGS)]]
    assert [c["nqn"] for c in initiator_connections(targets, ME)] == [LOGS]


@pytest.mark.parametrize("hostnqn", [None, "", "  ", 42])
def test_the_host_nqn_is_required(hostnqn):
    with pytest.raises(AnsibleFilterError, match="hostnqn must be the host NQN"):
        initiator_connections([[subsystem(DB)]], hostnqn)


def test_default_options_must_be_a_dictionary():
    with pytest.raises(AnsibleFilterError, match="default_options must be a dictionary"):
        initiator_connections([[subsystem(DB)]], ME, ["ctrl_loss_tmo"])


def test_the_input_is_not_modified():
    targets = [[subsystem(DB), subsystem(LOGS, state="absent")]]
    before = copy.deepcopy(targets)
    initiator_connections(targets, ME, {"ctrl_loss_tmo": -1})
    assert targets == before


def test_tls_listeners_make_a_tls_connection():
    tls = [dict(listener, tls=True) for listener in LISTENERS]
    assert initiator_connections([[subsystem(DB, listeners=tls), subsystem(LOGS)]], ME) == [
        {"nqn": DB, "paths": paths(("10.90.1.11", 4420), ("10.90.2.11", 4420)), "tls": True},
        {"nqn": LOGS, "paths": paths(("10.90.1.11", 4420), ("10.90.2.11", 4420))},
    ]


def test_listeners_with_and_without_tls_are_refused():
    mixed = [dict(LISTENERS[0], tls=True), LISTENERS[1]]
    with pytest.raises(AnsibleFilterError) as error:
        initiator_connections([[subsystem(DB, listeners=mixed)]], ME)
    assert str(error.value).startswith(
        "initiator_connections: input[0][0].listeners[1] (subsystem %s): subsystem %s has listeners with and "
        "without tls" % (DB, DB))
