# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters nvmeof.fleet.fleet_plan and fleet_health: the fleet before any change, and the health gate."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nvmeof.fleet.plugins.filter.fleet_health import fleet_health
from ansible_collections.nvmeof.fleet.plugins.filter.fleet_plan import fleet_plan

PREFIX = "nqn.2014-08.org.nvmexpress:uuid:"
UUIDS = {"initiator1": "11111111-1111-5111-8111-111111111111", "initiator2": "22222222-2222-5222-8222-222222222222"}
VOL1 = "nqn.2026-11.invalid.lab:vol1"
SHARED = "nqn.2026-11.invalid.lab:shared"
LISTENERS = [{"address": "10.90.1.11"}, {"address": "10.90.2.11"}]
KEY = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"


def ip_json(*interfaces):
    """`ip -json address show` for (ifname, mtu, address) triples, plus the loopback."""
    links = [{"ifname": "lo", "mtu": 65536, "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]}]
    for ifname, mtu, address in interfaces:
        family = "inet6" if ":" in address else "inet"
        links.append({"ifname": ifname, "mtu": mtu, "addr_info": [{"family": family, "local": address, "prefixlen": 24}]})
    return links


def fleet(**changes):
    """One target exporting vol1 to initiator1 and shared to both; both initiators with their own identity."""
    data = {
        "networks": ["10.90.1.0/24", "10.90.2.0/24"],
        "targets": {"target1": {
            "subsystems": [
                {"nqn": VOL1, "namespaces": [{"nsid": 1, "device_path": "/dev/vdb"}], "listeners": LISTENERS,
                 "hosts": [{"inventory_host": "initiator1", "dhchap_key": KEY}]},
                {"nqn": SHARED, "cluster_aware": True, "namespaces": [{"nsid": 1, "device_path": "/dev/vdc"}],
                 "listeners": LISTENERS, "hosts": [{"inventory_host": "initiator1"}, {"inventory_host": "initiator2"}]}],
            "ip_addresses": ip_json(("eth1", 1500, "10.90.1.11"), ("eth2", 1500, "10.90.2.11")),
            "planned_mtu": {"eth1": 9000, "eth2": 9000}}},
        "initiators": {},
    }
    for number, name in enumerate(sorted(UUIDS), start=1):
        data["initiators"][name] = {
            "identity": {"hostnqn": PREFIX + UUIDS[name], "hostid": UUIDS[name], "problems": []},
            "derived_hostnqn": PREFIX + "derived-" + name, "unique_identity": True,
            "ip_addresses": ip_json(("eth1", 9000, "10.90.1.2%d" % number), ("eth2", 9000, "10.90.2.2%d" % number))}
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return data


def test_a_sound_fleet_has_no_finding_and_access_lists_by_nqn():
    plan = fleet_plan(fleet())
    assert plan["findings"] == []
    vol1, shared = plan["target_subsystems"]["target1"]
    assert vol1["hosts"] == [{"nqn": PREFIX + UUIDS["initiator1"], "dhchap_key": KEY}]
    assert [host["nqn"] for host in shared["hosts"]] == [PREFIX + UUIDS["initiator1"], PREFIX + UUIDS["initiator2"]]
    assert all("inventory_host" not in host for sub in plan["target_subsystems"]["target1"] for host in sub["hosts"])
    assert [host["inventory_host"] for host in plan["report_subsystems"]["target1"][1]["hosts"]] == \
        ["initiator1", "initiator2"]
    assert [c["nqn"] for c in plan["expected"]["initiator1"]] == [VOL1, SHARED]
    assert [c["nqn"] for c in plan["expected"]["initiator2"]] == [SHARED]
    assert plan["expected"]["initiator2"][0]["paths"] == [
        {"target": "target1", "address": "10.90.1.11", "service_id": 4420, "ana_states": {"1": "optimized"}},
        {"target": "target1", "address": "10.90.2.11", "service_id": 4420, "ana_states": {"1": "optimized"}}]


def test_the_input_is_not_changed():
    data = fleet()
    before = copy.deepcopy(data)
    fleet_plan(data)
    assert data == before


@pytest.mark.parametrize("identity, extra, expected, source", [
    ({"hostnqn": PREFIX + "own", "hostid": "own", "problems": []}, {}, PREFIX + "own", "read on the host"),
    ({"hostnqn": PREFIX + "own", "hostid": "x", "problems": ["host ID and host NQN disagree"]}, {},
     PREFIX + "derived-initiator1", "derived from the inventory name"),
    ({"hostnqn": None, "hostid": None, "problems": ["missing"]}, {}, PREFIX + "derived-initiator1",
     "derived from the inventory name"),
    ({"hostnqn": PREFIX + "own", "hostid": "own", "problems": []}, {"hostnqn": "nqn.2026-01.com.example:h1"},
     "nqn.2026-01.com.example:h1", "initiator_hostnqn"),
    ({"hostnqn": PREFIX + "own", "hostid": "x", "problems": ["disagree"]}, {"unique_identity": False},
     PREFIX + "own", "read on the host (broken, kept)"),
])
def test_the_identity_is_the_one_the_initiator_role_will_give(identity, extra, expected, source):
    data = fleet()
    data["initiators"]["initiator1"].update(identity=identity, **extra)
    plan = fleet_plan(data)
    assert plan["identities"]["initiator1"]["hostnqn"] == expected
    assert plan["identities"]["initiator1"]["source"] == source
    assert plan["target_subsystems"]["target1"][0]["hosts"][0]["nqn"] == expected


def test_a_cloned_identity_is_a_finding_naming_both_hosts():
    data = fleet()
    data["initiators"]["initiator2"]["identity"] = dict(data["initiators"]["initiator1"]["identity"])
    findings = fleet_plan(data)["findings"]
    assert len(findings) == 1
    assert "host NQN %s%s is shared by initiator1 and initiator2" % (PREFIX, UUIDS["initiator1"]) in findings[0]
    assert "host ID %s is shared by initiator1 and initiator2" % UUIDS["initiator1"] in findings[0]


def test_an_own_identity_equal_to_another_hosts_derived_one_is_a_finding():
    data = fleet()
    data["initiators"]["initiator1"]["identity"]["problems"] = ["missing"]
    data["initiators"]["initiator2"]["identity"] = {"hostnqn": PREFIX + "derived-initiator1",
                                                    "hostid": "derived-initiator1", "problems": []}
    assert "is shared by initiator1 and initiator2" in fleet_plan(data)["findings"][0]


def test_mtus_are_compared_as_network_tuning_will_leave_them():
    assert fleet_plan(fleet())["findings"] == []  # the target's 1500 becomes 9000
    data = fleet(targets__target1__planned_mtu={"eth1": 9000})
    assert fleet_plan(data)["findings"] == [
        "storage network 10.90.2.0/24 has different MTUs: 1500 on target1 (eth2); 9000 on initiator1 (eth2), "
        "initiator2 (eth2)"]


def test_no_networks_no_network_checks():
    data = fleet(networks=[], targets__target1__planned_mtu={})
    assert fleet_plan(data)["findings"] == []


@pytest.mark.parametrize("listener, finding", [
    ({"address": "10.90.3.11"}, "listens on 10.90.3.11, outside the storage networks 10.90.1.0/24, 10.90.2.0/24"),
    ({"address": "10.90.1.99"}, "listens on 10.90.1.99, which is not an address of target1"),
])
def test_listener_addresses_are_checked(listener, finding):
    data = fleet()
    data["targets"]["target1"]["subsystems"][0]["listeners"] = [listener]
    assert any(finding in text and text.startswith("target1: subsystem " + VOL1)
               for text in fleet_plan(data)["findings"])


def test_a_wildcard_listener_is_not_an_address_finding():
    data = fleet()
    data["targets"]["target1"]["subsystems"][0]["listeners"] = [{"address": "0.0.0.0"}]
    plan = fleet_plan(data)
    assert plan["findings"] == []
    assert [c["nqn"] for c in plan["expected"]["initiator1"]] == [SHARED]


def test_several_hosts_without_cluster_aware_is_a_finding():
    data = fleet()
    del data["targets"]["target1"]["subsystems"][1]["cluster_aware"]
    assert fleet_plan(data)["findings"] == [
        "target1: subsystem %s allows 2 hosts (initiator1, initiator2) but is not cluster_aware: a file system "
        "mounted on two hosts corrupts; set cluster_aware: true if its users are" % SHARED]


def test_a_host_not_in_the_run_is_a_finding_not_a_dropped_entry():
    data = fleet()
    del data["initiators"]["initiator2"]
    findings = fleet_plan(data)["findings"]
    assert findings == ["target1: target_subsystems[1].hosts[1] (subsystem %s) names inventory host initiator2, "
                        "which is not an initiator of this run (left out by --limit, or unreachable)" % SHARED]


def test_explicit_nqn_entries_are_kept_and_doubles_dropped():
    data = fleet()
    data["targets"]["target1"]["subsystems"][1]["hosts"].append({"nqn": PREFIX + UUIDS["initiator2"]})
    data["targets"]["target1"]["subsystems"][1]["hosts"].append({"nqn": "nqn.2026-01.com.example:outside"})
    plan = fleet_plan(data)
    hosts = plan["report_subsystems"]["target1"][1]["hosts"]
    assert [(h["nqn"], h["inventory_host"]) for h in hosts] == [
        (PREFIX + UUIDS["initiator1"], "initiator1"), (PREFIX + UUIDS["initiator2"], "initiator2"),
        ("nqn.2026-01.com.example:outside", None)]


def test_declared_ana_states_are_expected_per_group():
    data = fleet()
    vol1 = data["targets"]["target1"]["subsystems"][0]
    vol1["namespaces"][0]["ana_group"] = 2
    vol1["listeners"] = [{"address": "10.90.1.11", "ana_groups": [{"group": 2, "state": "optimized"}]},
                         {"address": "10.90.2.11", "service_id": 4421,
                          "ana_groups": [{"group": 2, "state": "non-optimized"}]}]
    paths = fleet_plan(data)["expected"]["initiator1"][0]["paths"]
    assert [(p["service_id"], p["ana_states"]) for p in paths] == [(4420, {"2": "optimized"}),
                                                                   (4421, {"2": "non-optimized"})]


def test_ipv6_networks_and_listeners():
    data = fleet(networks=["fd00:90:1::/64"], targets__target1__planned_mtu={})
    data["targets"]["target1"]["ip_addresses"] = ip_json(("eth1", 9000, "fd00:90:1::11"))
    for name in ("initiator1", "initiator2"):
        data["initiators"][name]["ip_addresses"] = ip_json(("eth1", 9000, "fd00:90:1::2" + name[-1]))
    for subsystem in data["targets"]["target1"]["subsystems"]:
        subsystem["listeners"] = [{"address": "FD00:90:1:0::11"}]
    assert fleet_plan(data)["findings"] == []


@pytest.mark.parametrize("change, message", [
    ({"networks": ["10.90.1.0"]}, "fleet_storage_networks[0]: '10.90.1.0' has no prefix length"),
    ({"networks": ["10.90.1.0/33"]}, "fleet_storage_networks[0]: '10.90.1.0/33' is not a network"),
    ({"networks": "10.90.1.0/24"}, "fleet_storage_networks must be a list"),
    ({"targets": []}, "targets must be a dictionary"),
])
def test_bad_input_fails_naming_the_place(change, message):
    data = fleet()
    data.update(change)
    with pytest.raises(AnsibleFilterError, match=r"^fleet_plan: ") as raised:
        fleet_plan(data)
    assert message in str(raised.value)


def test_a_host_entry_with_both_nqn_and_inventory_host_fails():
    data = fleet()
    data["targets"]["target1"]["subsystems"][0]["hosts"] = [{"nqn": PREFIX + "x", "inventory_host": "initiator1"}]
    with pytest.raises(AnsibleFilterError, match=r"target1: target_subsystems\[0\].hosts\[0\] \(subsystem "
                                                 r".*vol1\) gives both nqn and inventory_host \(initiator1\)"):
        fleet_plan(data)


# -- the health gate ----------------------------------------------------------------------------
def live(*controllers, nqn=SHARED):
    return {"subsystems": [{"nqn": nqn, "iopolicy": "round-robin", "controllers": list(controllers)}]}


def controller(address, state="live", ana_state="optimized", port="4420", name="nvme1"):
    return {"name": name, "traddr": address, "trsvcid": port, "state": state,
            "namespaces": [{"nsid": 1, "ana_grpid": 1, "ana_state": ana_state}]}


def expected_shared():
    return fleet_plan(fleet())["expected"]["initiator2"]


def test_every_path_live_and_optimized_is_healthy():
    assert fleet_health(live(controller("10.90.1.11"), controller("10.90.2.11")), expected_shared()) == []


@pytest.mark.parametrize("controllers, problem", [
    ([controller("10.90.1.11")], "%s via 10.90.2.11 port 4420 (target1): no path" % SHARED),
    ([controller("10.90.1.11"), controller("10.90.2.11", state="connecting", name="nvme4")],
     "%s via 10.90.2.11 port 4420 (target1): path nvme4 is connecting, not live" % SHARED),
    ([controller("10.90.1.11"), controller("10.90.2.11", ana_state="inaccessible")],
     "%s via 10.90.2.11 port 4420 (target1): namespace 1 is ANA inaccessible, declared optimized" % SHARED),
    ([controller("10.90.1.11"), controller("10.90.2.11", port="4421")],
     "%s via 10.90.2.11 port 4420 (target1): no path" % SHARED),
])
def test_each_path_problem_is_named(controllers, problem):
    assert fleet_health(live(*controllers), expected_shared()) == [problem]


def test_a_missing_subsystem_names_every_path():
    assert len(fleet_health({"subsystems": []}, expected_shared())) == 2


def test_bad_health_input_fails():
    with pytest.raises(AnsibleFilterError, match="^fleet_health: "):
        fleet_health("not a dict", expected_shared())
