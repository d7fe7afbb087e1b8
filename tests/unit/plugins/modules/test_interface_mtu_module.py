# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module nvmeof.fleet.interface_mtu: its documentation matches its options, and main() reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
import yaml

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.modules import interface_mtu

from test_nvme_info import write  # same directory, on sys.path
from test_nvme_info import run_module as run_nvme_info_style

LAB = "auto eth1\niface eth1 inet static\n    address 10.90.1.11/24\n"


def test_documentation_matches_the_argument_spec():
    options = yaml.safe_load(interface_mtu.DOCUMENTATION)["options"]
    assert sorted(options) == sorted(interface_mtu.ARGUMENT_SPEC)
    suboptions = options["interfaces"]["suboptions"]
    assert sorted(suboptions) == sorted(interface_mtu.ARGUMENT_SPEC["interfaces"]["options"])
    for documented, specs in ((options, interface_mtu.ARGUMENT_SPEC),
                              (suboptions, interface_mtu.ARGUMENT_SPEC["interfaces"]["options"])):
        for name, spec in specs.items():
            for field in ("type", "default", "choices", "elements", "required"):
                assert documented[name].get(field) == spec.get(field), (name, field)
    for part in ("EXAMPLES", "RETURN"):
        assert yaml.safe_load(getattr(interface_mtu, part))


class FakeIp:
    """ip, and systemctl saying that no network service runs."""

    def __init__(self):
        self.mtu = 1500
        self.calls = []

    def run(self, args, check=True, data=None):
        self.calls.append(args)
        if args[:3] == ["ip", "-d", "-j"]:
            return 0, json.dumps([{"ifname": "eth1", "mtu": self.mtu, "min_mtu": 68, "max_mtu": 9000}]), ""
        if args[:3] == ["ip", "-j", "addr"]:
            return 0, json.dumps([{"ifname": "eth1", "addr_info": [
                {"family": "inet", "local": "10.90.1.11", "prefixlen": 24, "scope": "global"}]}]), ""
        if args[:3] == ["ip", "link", "set"]:
            self.mtu = int(args[6])
            return 0, "", ""
        if args[:2] == ["systemctl", "is-active"]:
            return 3, "inactive\n", ""
        raise AssertionError("unexpected command %r" % (args,))


@pytest.fixture
def host(tmp_path, monkeypatch):
    write(tmp_path, "/etc/network/interfaces", LAB.rstrip("\n"))
    os.makedirs(str(tmp_path / "sys/class/net/eth1"))
    ip = FakeIp()
    monkeypatch.setattr(interface_mtu, "HostFS", lambda: HostFS(str(tmp_path)))
    monkeypatch.setattr(interface_mtu, "CommandRunner", lambda run_command: ip)
    return tmp_path, ip


def run_module(capsys, args):
    return run_nvme_info_style(capsys, args, main=interface_mtu.main)


def test_sets_the_mtu_and_reports(host, capsys):
    root, ip = host
    args = {"interfaces": [{"name": "eth1", "mtu": "9000"}]}
    checked = run_module(capsys, dict(args, _ansible_check_mode=True))
    assert checked["changed"] is True and ip.mtu == 1500
    assert (root / "etc/network/interfaces").read_text() == LAB
    result = run_module(capsys, args)
    assert result["rc"] == 0 and result["changed"] is True
    assert result["interfaces"] == [{"name": "eth1", "mtu": 9000, "before": 1500, "after": 9000, "changed": True,
                                     "backend": "ifupdown", "config": "/etc/network/interfaces",
                                     "addresses": ["10.90.1.11/24"]}]
    assert (root / "etc/network/interfaces").read_text() == LAB.replace("static\n", "static\n    mtu 9000\n")
    assert ip.mtu == 9000
    assert run_module(capsys, args)["changed"] is False


def test_refusals_fail_with_the_message(host, capsys):
    result = run_module(capsys, {"interfaces": [{"name": "eth9", "mtu": 9000}, {"name": "eth1", "mtu": 70000}]})
    assert result["rc"] == 1 and result["failed"] is True
    assert result["msg"].startswith("invalid interfaces, nothing was changed: ")
    assert "eth9" in result["msg"] and "70000" in result["msg"]


def test_options_are_checked_by_ansible(host, capsys):
    result = run_module(capsys, {"interfaces": [{"name": "eth1"}]})
    assert result["rc"] == 1 and "mtu" in result["msg"]
    result = run_module(capsys, {"interfaces": [{"name": "eth1", "mtu": 9000}], "backend": "netplan"})
    assert result["rc"] == 1 and "netplan" in result["msg"]
    assert host[1].calls == []
