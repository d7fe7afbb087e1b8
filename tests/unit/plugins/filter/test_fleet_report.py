# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters nvmeof.fleet.fleet_report, fleet_report_markdown and fleet_report_html: declared against live."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import json
import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nvmeof.fleet.plugins.filter import fleet_report as report_filter
from ansible_collections.nvmeof.fleet.plugins.filter import fleet_report_html as html_filter
from ansible_collections.nvmeof.fleet.plugins.filter import fleet_report_markdown as markdown_filter
from ansible_collections.nvmeof.fleet.plugins.filter.fleet_report import fleet_report
from ansible_collections.nvmeof.fleet.plugins.filter.fleet_report_html import fleet_report_html
from ansible_collections.nvmeof.fleet.plugins.filter.fleet_report_markdown import fleet_report_markdown

DB = "nqn.2026-05.com.example:target1:db"
LOGS = "nqn.2026-05.com.example:target1:logs"
HOST1 = "nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"
HOST2 = "nqn.2014-08.org.nvmexpress:uuid:5d8e2a7c-3b1f-4e6d-8c2a-9f4e1b7d3a22"
KEY = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"
CTRL_KEY = "DHHC-1:01:gZCLpLMVW1LvzLvUiz4qJUMhMJpBHXVQvCBCGVJNw2e9lUJ6:"
PLAIN_SECRET = "not-in-dhhc-format-but-secret"
NETWORKS = ["10.90.1.0/24", "10.90.2.0/24"]
ADDRESSES = ("10.90.1.11", "10.90.2.11")


def declared(nqn=DB, addresses=ADDRESSES, hosts=((HOST1, "initiator1"), (HOST2, "initiator2")), **extra):
    subsystem = {"nqn": nqn, "cluster_aware": len(hosts) > 1,
                 "namespaces": [{"nsid": 1, "device_path": "/dev/vg/" + nqn.rsplit(":", 1)[-1]}],
                 "listeners": [{"address": address} for address in addresses],
                 "hosts": [{"nqn": host, "inventory_host": name} for host, name in hosts]}
    subsystem.update(extra)
    return subsystem


def target_live(*subsystems):
    """The 'target' value of nvme_info for declared subsystems, every namespace enabled, ANA group 1 optimized."""
    return {"available": True, "subsystems": [{
        "nqn": subsystem["nqn"], "state": "present", "allow_any_host": False,
        "namespaces": [dict(namespace, enabled=True, ana_group=1) for namespace in subsystem["namespaces"]],
        "listeners": [{"port_id": number + 1, "transport": "tcp", "address": listener["address"],
                       "service_id": listener.get("service_id", 4420),
                       "ana_groups": [{"group": 1, "state": "optimized"}]}
                      for number, listener in enumerate(subsystem["listeners"])],
        "hosts": [{"nqn": host["nqn"], "dhchap_key": "(hidden)" if host.get("dhchap_key") else None}
                  for host in subsystem["hosts"]]} for subsystem in subsystems]}


def controller(name, address, state="live", ana="optimized", port="4420"):
    return {"name": name, "transport": "tcp", "traddr": address, "trsvcid": port, "state": state,
            "address": "traddr=%s,trsvcid=%s" % (address, port), "options": {"ctrl_loss_tmo": -1},
            "namespaces": [{"name": name + "n1", "nsid": 1, "ana_grpid": 1, "ana_state": ana}]}


def initiator_live(nqn=DB, controllers=None, iopolicy="round-robin"):
    controllers = [controller("nvme%d" % n, address) for n, address in enumerate(ADDRESSES)] \
        if controllers is None else controllers
    return {"multipath": True, "default_iopolicy": "numa", "controllers": controllers, "subsystems": [
        {"name": "nvme-subsys0", "nqn": nqn, "subsystype": "nvm", "iopolicy": iopolicy,
         "namespaces": [{"name": "nvme0n1", "nsid": 1}], "controllers": controllers}]}


def expected(nqn=DB, addresses=ADDRESSES):
    return [{"nqn": nqn, "paths": [{"address": address, "service_id": 4420} for address in addresses]}]


def fleet(**changes):
    """1 target, 2 initiators, 2 networks, every path live and optimized."""
    data = {
        "generated": "2026-11-22T10:00:00Z", "networks": list(NETWORKS),
        "targets": {"target1": {"subsystems": [declared()], "live": target_live(declared())}},
        "initiators": {
            name: {"hostnqn": hostnqn, "expected": expected(), "live": initiator_live(),
                   "health": {"checked": True, "problems": []}}
            for name, hostnqn in (("initiator1", HOST1), ("initiator2", HOST2))}}
    data.update(changes)
    return data


def paths_of(report, initiator="initiator1", nqn=DB):
    host = [entry for entry in report["initiators"] if entry["name"] == initiator][0]
    return [subsystem for subsystem in host["subsystems"] if subsystem["nqn"] == nqn][0]["paths"]


def test_registered_under_their_names():
    assert report_filter.FilterModule().filters() == {"fleet_report": fleet_report}
    assert markdown_filter.FilterModule().filters() == {"fleet_report_markdown": fleet_report_markdown}
    assert html_filter.FilterModule().filters() == {"fleet_report_html": fleet_report_html}


def test_one_target_two_initiators_two_networks_all_live():
    report = fleet_report(fleet())
    assert report["summary"] == {
        "targets": 1, "initiators": 2, "subsystems": 1, "paths_expected": 4, "paths_live": 4, "paths_missing": 0,
        "paths_not_optimized": 0, "paths_unexpected": 0, "healthy": True}
    assert report["generated"] == "2026-11-22T10:00:00Z"
    assert report["networks"] == NETWORKS
    assert report["targets"] == [{"name": "target1", "live": True, "subsystems": [{
        "nqn": DB, "allow_any_host": False, "cluster_aware": True, "live": True,
        "namespaces": [{"nsid": 1, "device_path": "/dev/vg/db", "ana_group": 1, "enabled": True}],
        "listeners": [{"address": address, "service_id": 4420, "network": network,
                       "ana_groups": [{"group": 1, "state": "optimized"}]}
                      for address, network in zip(ADDRESSES, NETWORKS)],
        "allowed_hosts": [{"nqn": HOST2, "inventory_host": "initiator2", "dhchap": False},
                          {"nqn": HOST1, "inventory_host": "initiator1", "dhchap": False}]}]}]
    assert [entry["name"] for entry in report["initiators"]] == ["initiator1", "initiator2"]
    assert report["initiators"][0] == {
        "name": "initiator1", "hostnqn": HOST1, "live": True, "health_problems": [],
        "subsystems": [{"nqn": DB, "iopolicy": "round-robin", "devices": ["nvme0n1"], "paths": [
            {"target": "target1", "address": address, "service_id": 4420, "network": network,
             "controller": "nvme%d" % number, "state": "live", "ana_states": ["optimized"], "expected": True}
            for number, (address, network) in enumerate(zip(ADDRESSES, NETWORKS))]}]}
    json.dumps(report)


def test_the_report_does_not_depend_on_input_order_and_does_not_change_the_input():
    data = fleet()
    data["targets"]["target1"]["subsystems"] = [declared(LOGS, hosts=[(HOST1, "initiator1")]), declared()]
    data["targets"]["target1"]["live"] = target_live(*data["targets"]["target1"]["subsystems"])
    data["initiators"] = dict(reversed(list(data["initiators"].items())))
    before = copy.deepcopy(data)
    report = fleet_report(data)
    assert data == before
    assert [entry["nqn"] for entry in report["targets"][0]["subsystems"]] == [DB, LOGS]
    assert [entry["name"] for entry in report["initiators"]] == ["initiator1", "initiator2"]
    reordered = copy.deepcopy(data)
    reordered["targets"]["target1"]["subsystems"].reverse()
    for entry in reordered["initiators"].values():
        entry["live"]["subsystems"][0]["controllers"].reverse()
    assert fleet_report(reordered) == report


@pytest.mark.parametrize("controllers, states, summary", [
    # the second path has no controller at all
    ([controller("nvme0", "10.90.1.11")], ["live", "missing"], {"paths_live": 3, "paths_missing": 1}),
    # a controller that reconnects is no live path either
    ([controller("nvme0", "10.90.1.11"), controller("nvme1", "10.90.2.11", state="connecting", ana=None)],
     ["live", "connecting"], {"paths_live": 3, "paths_missing": 1}),
])
def test_a_missing_path_makes_the_fleet_unhealthy(controllers, states, summary):
    data = fleet()
    data["initiators"]["initiator1"]["live"] = initiator_live(controllers=controllers)
    report = fleet_report(data)
    paths = paths_of(report)
    assert [path["state"] for path in paths] == states
    assert paths[1]["target"] == "target1" and paths[1]["network"] == "10.90.2.0/24" and paths[1]["expected"]
    if states[1] == "missing":
        assert paths[1]["controller"] is None and paths[1]["ana_states"] == []
    assert dict((key, report["summary"][key]) for key in summary) == summary
    assert report["summary"]["healthy"] is False


@pytest.mark.parametrize("ana", ["non-optimized", "inaccessible"])
def test_a_path_not_optimized_is_counted_but_does_not_make_the_fleet_unhealthy(ana):
    data = fleet()
    data["initiators"]["initiator2"]["live"] = initiator_live(controllers=[
        controller("nvme0", "10.90.1.11"), controller("nvme1", "10.90.2.11", ana=ana)])
    report = fleet_report(data)
    assert [path["ana_states"] for path in paths_of(report, "initiator2")] == [["optimized"], [ana]]
    assert report["summary"]["paths_not_optimized"] == 1
    assert report["summary"]["healthy"] is True


def test_ipv6_written_any_way_is_the_same_address():
    addresses = ("fd00:90:1:0:0:0:0:11", "FD00:90:2::11")
    data = fleet(networks=["fd00:90:1::/64", "fd00:90:2::/64"])
    data["targets"]["target1"]["subsystems"] = [declared(addresses=addresses)]
    data["targets"]["target1"]["live"] = target_live(declared(addresses=("fd00:90:1::11", "fd00:90:2:0::11")))
    for entry in data["initiators"].values():
        entry["expected"] = expected(addresses=("fd00:90:1::0:11", "fd00:90:2::11"))
        entry["live"] = initiator_live(controllers=[controller("nvme0", "fd00:90:1::11"),
                                                    controller("nvme1", "fd00:0090:0002::0011")])
    report = fleet_report(data)
    assert [(path["address"], path["network"], path["state"], path["target"]) for path in paths_of(report)] == [
        ("fd00:90:1::11", "fd00:90:1::/64", "live", "target1"), ("fd00:90:2::11", "fd00:90:2::/64", "live", "target1")]
    listeners = report["targets"][0]["subsystems"][0]["listeners"]
    assert [(item["address"], item["ana_groups"]) for item in listeners] == [
        ("fd00:90:1::11", [{"group": 1, "state": "optimized"}]), ("fd00:90:2::11", [{"group": 1, "state": "optimized"}])]
    assert report["summary"]["healthy"] is True
    markdown = fleet_report_markdown(report)
    assert "[fd00:90:1::11]:4420" in markdown


def test_without_declared_networks_every_network_is_null():
    report = fleet_report(fleet(networks=[]))
    assert report["networks"] == []
    assert {path["network"] for path in paths_of(report)} == {None}
    assert {item["network"] for item in report["targets"][0]["subsystems"][0]["listeners"]} == {None}
    assert "(no declared network)" in fleet_report_html(report)
    assert "none declared" in fleet_report_markdown(report)


def test_the_most_specific_network_wins():
    report = fleet_report(fleet(networks=["10.0.0.0/8", "10.90.1.0/24", "10.90.0.0/16"]))
    assert [path["network"] for path in paths_of(report)] == ["10.90.1.0/24", "10.90.0.0/16"]


def test_live_data_not_read():
    data = fleet()
    data["targets"]["target1"]["live"] = None
    data["initiators"]["initiator1"]["live"] = None
    report = fleet_report(data)
    subsystem = report["targets"][0]["subsystems"][0]
    assert report["targets"][0]["live"] is False and subsystem["live"] is False
    assert [namespace["enabled"] for namespace in subsystem["namespaces"]] == [None]
    # without live listeners the declared ANA groups show (none declared here)
    assert [listener["ana_groups"] for listener in subsystem["listeners"]] == [[], []]
    initiator = report["initiators"][0]
    assert initiator["live"] is False
    assert initiator["subsystems"] == [{"nqn": DB, "iopolicy": None, "devices": [], "paths": [
        {"target": "target1", "address": address, "service_id": 4420, "network": network, "controller": None,
         "state": "missing", "ana_states": [], "expected": True} for address, network in zip(ADDRESSES, NETWORKS)]}]
    assert report["summary"]["healthy"] is False
    assert "- initiator1: live data not read" in fleet_report_markdown(report)


def test_declared_ana_groups_show_when_the_listener_is_not_live():
    data = fleet()
    groups = [{"group": 2, "state": "inaccessible"}, {"group": 1, "state": "optimized"}]
    data["targets"]["target1"]["subsystems"][0]["listeners"][1]["ana_groups"] = groups
    data["targets"]["target1"]["live"]["subsystems"][0]["listeners"].pop(1)
    listeners = fleet_report(data)["targets"][0]["subsystems"][0]["listeners"]
    assert listeners[1]["ana_groups"] == sorted(groups, key=lambda item: item["group"])


@pytest.mark.parametrize("change, healthy", [
    (lambda data: data["targets"]["target1"]["live"]["subsystems"].clear(), False),
    (lambda data: data["targets"]["target1"]["live"]["subsystems"][0]["namespaces"][0].update(enabled=False), False),
    (lambda data: data["targets"]["target1"]["subsystems"][0]["namespaces"][0].update(enabled=False) or
     data["targets"]["target1"]["live"]["subsystems"][0]["namespaces"][0].update(enabled=False), True),
    (lambda data: data["initiators"]["initiator2"]["health"]["problems"].append("hostid differs"), False),
    (lambda data: data["initiators"]["initiator2"].pop("health"), True),
    (lambda data: data["targets"]["target1"]["subsystems"].append({"nqn": LOGS, "state": "absent"}), True),
])
def test_what_makes_the_fleet_unhealthy(change, healthy):
    data = fleet()
    change(data)
    assert fleet_report(data)["summary"]["healthy"] is healthy


def test_live_paths_and_subsystems_not_declared_are_listed_and_local_drives_are_not():
    data = fleet()
    live = initiator_live(controllers=[controller("nvme0", "10.90.1.11"), controller("nvme1", "10.90.2.11"),
                                       controller("nvme2", "10.90.3.11", port="4421")])
    live["subsystems"].append({"name": "nvme-subsys3", "nqn": LOGS, "iopolicy": "numa", "namespaces": [],
                               "controllers": [controller("nvme3", "10.90.1.11", state="connecting", ana=None)]})
    live["subsystems"].append({"name": "nvme-subsys4", "nqn": "nqn.2014.08.org.nvmexpress:80868086PHLJ", "namespaces": [],
                               "controllers": [{"name": "nvme4", "transport": "pcie", "traddr": "0000:00:04.0"}]})
    live["subsystems"].append({"name": "nvme-subsys5", "nqn": "nqn.2014-08.org.nvmexpress.discovery",
                               "subsystype": "discovery", "namespaces": [],
                               "controllers": [controller("nvme5", "10.90.1.11", port="8009")]})
    data["initiators"]["initiator1"]["live"] = live
    report = fleet_report(data)
    subsystems = report["initiators"][0]["subsystems"]
    assert [subsystem["nqn"] for subsystem in subsystems] == [DB, LOGS]
    assert [(path["address"], path["service_id"], path["network"], path["target"], path["expected"])
            for path in subsystems[0]["paths"]] == [
        ("10.90.1.11", 4420, "10.90.1.0/24", "target1", True), ("10.90.2.11", 4420, "10.90.2.0/24", "target1", True),
        ("10.90.3.11", 4421, None, None, False)]
    # LOGS is not declared anywhere: its target is the one that listens on the address for another subsystem
    assert subsystems[1]["paths"] == [{"target": "target1", "address": "10.90.1.11", "service_id": 4420,
                                       "network": "10.90.1.0/24", "controller": "nvme3", "state": "connecting",
                                       "ana_states": [], "expected": False}]
    assert report["summary"]["paths_unexpected"] == 2
    assert report["summary"]["healthy"] is True
    markdown = fleet_report_markdown(report)
    assert "| initiator1 | %s | 10.90.3.11:4421 | - | - | live (not declared) | optimized | round-robin |" % DB \
        in markdown
    assert "stroke-dasharray" in fleet_report_html(report)


def test_without_native_multipath_the_devices_are_below_the_controllers():
    data = fleet()
    data["initiators"]["initiator1"]["live"]["subsystems"][0]["namespaces"] = []
    assert fleet_report(data)["initiators"][0]["subsystems"][0]["devices"] == ["nvme0n1", "nvme1n1"]


def test_no_key_or_secret_reaches_any_output():
    data = fleet()
    subsystem = data["targets"]["target1"]["subsystems"][0]
    subsystem["hosts"][0].update(dhchap_key=KEY, dhchap_ctrl_key=CTRL_KEY, dhchap_hash="hmac(sha256)")
    subsystem["hosts"][1].update(dhchap_key=PLAIN_SECRET)
    data["targets"]["target1"]["live"] = target_live(subsystem)
    data["initiators"]["initiator1"]["expected"][0].update(dhchap_secret=KEY, dhchap_ctrl_secret=CTRL_KEY)
    data["initiators"]["initiator2"]["expected"][0].update(dhchap_secret=PLAIN_SECRET)
    data["initiators"]["initiator1"]["health"]["problems"] = [
        "nvme connect --dhchap-secret=%s failed" % KEY, "key %s refused" % PLAIN_SECRET,
        "another key DHHC-1:03:bm90LWRlY2xhcmVkLWFueXdoZXJlLWJ1dC1zdGlsbC1hLWtleQ==: in a log"]
    report = fleet_report(data)
    outputs = [json.dumps(report), fleet_report_markdown(report), fleet_report_html(report)]
    for output in outputs:
        for secret in (KEY, CTRL_KEY, PLAIN_SECRET, "bm90LWRlY2xhcmVk", "ia6zGodOr4SEG0Zz", "gZCLpLMVW1Lv"):
            assert secret not in output
        assert "DHHC-1" not in output
        assert "(hidden)" in output
    hosts = report["targets"][0]["subsystems"][0]["allowed_hosts"]
    assert [(host["inventory_host"], host["dhchap"]) for host in hosts] == [("initiator2", True), ("initiator1", True)]
    assert "(DH-HMAC-CHAP)" in outputs[1]


BAD_INPUTS = [
    ("not a fleet", "the input must be a dictionary"),
    (fleet(targets=["target1"]), "targets must be a dictionary by target name, not list"),
    (fleet(initiators="initiator1"), "initiators must be a dictionary by initiator name, not str"),
    (fleet(networks="10.90.1.0/24"), "networks must be a list, not str"),
    (fleet(networks=["10.90.1.0/33"]), "networks[0]: '10.90.1.0/33' is not a network in CIDR notation"),
    (fleet(targets={"target1": {"subsystems": [{"namespaces": []}]}}),
     "targets.target1.subsystems[0] (a subsystem) has no 'nqn'"),
    (fleet(targets={"target1": {"subsystems": ["nqn.x"]}}),
     "targets.target1.subsystems[0] must be a subsystem (a dictionary), not str"),
    (fleet(targets={"target1": {"subsystems": [declared(), declared()]}}),
     "targets.target1.subsystems[1]: subsystem %s is declared twice on target target1" % DB),
    (fleet(targets={"target1": {"subsystems": [declared(state="gone")]}}), "state must be present or absent"),
    (fleet(targets={"target1": {"subsystems": [declared(listeners=[{"service_id": 4420}])]}}),
     "targets.target1.subsystems[0] (subsystem %s).listeners[0] has no 'address'" % DB),
    (fleet(targets={"target1": {"subsystems": [declared(listeners=[{"address": "10.90.1.11", "service_id": 0}])]}}),
     "listeners[0]: service_id 0 is out of range (1-65535)"),
    (fleet(targets={"target1": {"subsystems": [declared(hosts=[(None, "initiator1")])]}}),
     "targets.target1.subsystems[0] (subsystem %s).hosts[0] has no 'nqn'" % DB),
    (fleet(targets={"target1": {"subsystems": [declared(namespaces=[{"nsid": "one"}])]}}),
     "namespaces[0]: nsid must be a number, not 'one'"),
    (fleet(targets={"target1": {"subsystems": [], "live": []}}),
     "targets.target1.live must be the 'target' value of nvmeof.fleet.nvme_info or null, not list"),
    (fleet(initiators={"initiator1": {"expected": [{"paths": []}]}}),
     "initiators.initiator1.expected[0] (a connection) has no 'nqn'"),
    (fleet(initiators={"initiator1": {"expected": [{"nqn": DB, "paths": [{"service_id": 4420}]}]}}),
     "initiators.initiator1.expected[0].paths[0] (subsystem %s) has no 'address'" % DB),
    (fleet(initiators={"initiator1": {"live": "nvme0"}}),
     "initiators.initiator1.live must be the 'initiator' value of nvmeof.fleet.nvme_info or null, not str"),
    (fleet(initiators={"initiator1": {"health": {"problems": "bad"}}}),
     "initiators.initiator1.health.problems must be a list, not str"),
    (fleet(generated=20261122), "the input: generated must be a string or null"),
]


@pytest.mark.parametrize("data, message", BAD_INPUTS)
def test_bad_input_is_named(data, message):
    with pytest.raises(AnsibleFilterError, match="^fleet_report: .*" + re.escape(message)):
        fleet_report(data)


@pytest.mark.parametrize("render, name", [(fleet_report_markdown, "fleet_report_markdown"),
                                          (fleet_report_html, "fleet_report_html")])
@pytest.mark.parametrize("report, message", [
    ([], "the input must be the output of nvmeof.fleet.fleet_report (a dictionary), not list"),
    ({"targets": []}, "report.summary must be a dictionary, not NoneType"),
    ({"summary": {}, "initiators": {"initiator1": {}}}, "report.initiators must be a list, not dict"),
    ({"summary": {}, "initiators": [{"name": "initiator1", "subsystems": [{"nqn": DB, "paths": ["10.90.1.11"]}]}]},
     "report.initiators[0].subsystems[0].paths[0] must be a dictionary, not str"),
])
def test_renderers_name_bad_reports(render, name, report, message):
    with pytest.raises(AnsibleFilterError, match="^%s: %s" % (name, re.escape(message))):
        render(report)


def test_markdown_has_the_title_summary_and_a_row_per_path_and_per_subsystem():
    data = fleet()
    data["initiators"]["initiator1"]["live"] = initiator_live(controllers=[controller("nvme0", "10.90.1.11")])
    data["initiators"]["initiator2"]["health"]["problems"] = ["host ID differs from the host NQN"]
    markdown = fleet_report_markdown(fleet_report(data))
    lines = markdown.splitlines()
    assert lines[0] == "# NVMe/TCP fleet report, 2026-11-22T10:00:00Z"
    assert lines[2].startswith("Not healthy. targets: 1, initiators: 2, subsystems: 1; paths expected: 4, live: 3, "
                               "missing: 1, not optimized: 0")
    assert "| initiator | subsystem | path | network | target | state | ANA | iopolicy |" in lines
    assert "| initiator1 | %s | 10.90.1.11:4420 | 10.90.1.0/24 | target1 | live | optimized | round-robin |" % DB \
        in lines
    assert "| initiator1 | %s | 10.90.2.11:4420 | 10.90.2.0/24 | target1 | missing | - | round-robin |" % DB in lines
    assert sum(1 for line in lines if line.startswith("| initiator2 |")) == 2
    assert "## Target target1" in lines
    assert "| subsystem | namespaces | listeners | allowed hosts |" in lines
    assert ("| %s<br>live, cluster-aware | 1 /dev/vg/db (ANA group 1, enabled) | 10.90.1.11:4420 (10.90.1.0/24); "
            "ANA 1 optimized<br>10.90.2.11:4420 (10.90.2.0/24); ANA 1 optimized | initiator2: %s<br>initiator1: %s |"
            % (DB, HOST2, HOST1)) in lines
    assert lines[-3:] == ["## Problems", "", "- initiator2: host ID differs from the host NQN"]
    assert markdown.endswith("\n")


def test_markdown_without_problems_has_no_problem_list():
    assert "## Problems" not in fleet_report_markdown(fleet_report(fleet()))


NASTY = "nqn.2026-05.com.example:a|b<script>alert(1)</script>&c"


def nasty_fleet():
    data = fleet()
    subsystem = declared(NASTY, hosts=[(HOST1, "initiator1<b>")])
    data["targets"] = {"target<1>": {"subsystems": [subsystem], "live": target_live(subsystem)}}
    data["initiators"]["initiator1"]["expected"] = expected(NASTY)
    data["initiators"]["initiator1"]["live"] = initiator_live(NASTY)
    data["initiators"]["initiator1"]["health"]["problems"] = ["line one\nline | two <i>"]
    return data


def test_markdown_escapes_cells():
    markdown = fleet_report_markdown(fleet_report(nasty_fleet()))
    escaped = "nqn.2026-05.com.example:a\\|b&lt;script&gt;alert(1)&lt;/script&gt;&amp;c"
    assert "| initiator1 | %s | 10.90.1.11:4420 | 10.90.1.0/24 | target&lt;1&gt; | live |" % escaped in markdown
    assert "<script>" not in markdown and NASTY not in markdown
    assert "## Target target&lt;1&gt;" in markdown
    assert "- initiator1: line one line \\| two &lt;i&gt;" in markdown
    # every table row has as many unescaped separators as the header
    for line in markdown.splitlines():
        if line.startswith("| initiator1 |"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 9


def test_html_is_one_offline_page_with_escaped_text():
    page = fleet_report_html(fleet_report(nasty_fleet()))
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert "<script" not in page and "<b>" not in page and "<i>" not in page
    assert "a|b&lt;script&gt;alert(1)&lt;/script&gt;&amp;c" in page
    assert "target&lt;1&gt;" in page and "initiator1&lt;b&gt;" in page
    # nothing to fetch and no web site named: no URL, no link, no external resource
    assert not re.search(r"https?:|//[a-z]|<link|<img|<script|@import|url\(|src=|href=", page, re.IGNORECASE)


def test_html_diagram_has_a_line_per_path_coloured_by_state_and_a_legend():
    data = fleet()
    data["initiators"]["initiator1"]["live"] = initiator_live(controllers=[
        controller("nvme0", "10.90.1.11"), controller("nvme1", "10.90.2.11", ana="non-optimized")])
    data["initiators"]["initiator2"]["live"] = initiator_live(controllers=[controller("nvme0", "10.90.1.11")])
    page = fleet_report_html(fleet_report(data))
    svg = page[page.index("<svg"):page.index("</svg>")]
    colours = re.findall(r'<polyline [^>]*stroke="(#[0-9a-f]{6})"', svg)
    assert sorted(colours) == sorted(["#2e7d32", "#e69b00", "#2e7d32", "#c62828"])
    for text in ("targets", "initiators", "10.90.1.0/24", "10.90.2.0/24", "target1", "initiator1", "initiator2",
                 "live, optimized", "live, not optimized or inaccessible", "not live or missing", "not declared"):
        assert ">%s<" % text in svg
    assert "<table>" in page and "<h2>Target target1</h2>" in page
    assert '<td><span class="down">missing</span></td>' in page


def test_html_diagram_grows_with_thirty_hosts():
    data = fleet()
    data["initiators"] = dict(("initiator%02d" % number, {"hostnqn": "%s%02d" % (HOST1[:-2], number),
                                                          "expected": expected(), "live": initiator_live()})
                              for number in range(30))
    page = fleet_report_html(fleet_report(data))
    height = int(re.search(r'<svg viewBox="0 0 1000 (\d+)"', page).group(1))
    assert 30 * 40 < height < 30 * 80
    assert len(re.findall("<polyline", page)) == 60
    # no two path ends share a point on the target box
    ends = re.findall(r'<polyline points="[^"]* (\d+,[\d.]+)"', page)
    assert len(set(ends)) == 60


def test_an_empty_fleet_renders():
    report = fleet_report({"generated": None})
    assert report["summary"]["healthy"] is True and report["targets"] == [] and report["initiators"] == []
    assert "No paths." in fleet_report_markdown(report)
    assert "<svg" in fleet_report_html(report)


def test_generated_may_be_a_datetime():
    when = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.timezone.utc)
    assert fleet_report(fleet(generated=when))["generated"] == "2026-11-22T10:00:00+00:00"
