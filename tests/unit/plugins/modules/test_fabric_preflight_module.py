# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module nvmeof.fleet.fabric_preflight: its documentation matches its options, and main() reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import socket

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.modules import fabric_preflight

from test_nvme_info import write  # same directory, on sys.path
from test_nvme_info import run_module as run_nvme_info_style

ROUTE = '[{"dst":"10.90.1.11","dev":"eth1","prefsrc":"10.90.1.21","flags":[],"uid":0,"cache":[]}]\n'
STATISTICS = "\n--- 10.90.1.11 ping statistics ---\n2 packets transmitted, %d received, %d%% packet loss, time 1002ms\n"
PEER = {"host": "target1", "address": "10.90.1.11", "mtu": 9000, "ports": [4420], "interface": "eth1"}


def _compare(options, spec, where):
    assert sorted(options) == sorted(spec), where
    for name, entry in spec.items():
        for field in ("type", "default", "choices", "elements", "required"):
            assert options[name].get(field) == entry.get(field), (where, name, field)
        if "options" in entry:
            _compare(options[name]["suboptions"], entry["options"], name)


def test_documentation_matches_the_argument_spec():
    _compare(yaml.safe_load(fabric_preflight.DOCUMENTATION)["options"], fabric_preflight.ARGUMENT_SPEC, "options")
    for part in ("EXAMPLES", "RETURN"):
        assert yaml.safe_load(getattr(fabric_preflight, part))


class RefusingSocket:
    """Every connection refused, as when nothing listens."""

    def __init__(self, family, kind):
        pass

    def settimeout(self, timeout):
        pass

    def bind(self, address):
        pass

    def connect(self, address):
        raise OSError(errno.ECONNREFUSED, "Connection refused")

    def close(self):
        pass


@pytest.fixture
def host(tmp_path, monkeypatch):
    """eth1 at MTU 9000; 8972-byte pings to 10.90.1.11 get no reply, smaller ones do."""
    write(tmp_path, "/sys/class/net/eth1/mtu", "9000")
    write(tmp_path, "/proc/net/snmp", "Tcp: OutSegs RetransSegs\nTcp: 1131870 112")
    calls = []

    def run_command(module, args, check_rc=False, data=None, environ_update=None, **kwargs):
        calls.append(args)
        if args[:2] == ["/usr/sbin/ip", "-j"]:
            return 0, ROUTE, ""
        if "8972" in args:
            return 1, STATISTICS % (0, 100), ""
        return 0, STATISTICS % (2, 0), ""

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda module, name, required=False, opt_dirs=None: {"ip": "/usr/sbin/ip"}.get(name, "/bin/" + name))
    monkeypatch.setattr(socket, "socket", RefusingSocket)
    monkeypatch.setattr(fabric_preflight, "HostFS", lambda: HostFS(str(tmp_path)))
    return calls


def run_module(capsys, args):
    return run_nvme_info_style(capsys, args, main=fabric_preflight.main)


def test_failures_name_the_host_pair_and_the_interface(host, capsys):
    result = run_module(capsys, {"host": "initiator1", "peers": [PEER]})
    assert result["rc"] == 1 and result["failed"] is True and result["changed"] is False
    assert result["msg"] == (
        "2 of 3 fabric checks failed:\n"
        "initiator1 (eth1 10.90.1.21) -> target1 (10.90.1.11): path MTU 9000: unfragmentable 8972-byte pings get "
        "no reply though small ones do: the peer or a switch between has an MTU below 9000\n"
        "initiator1 (eth1 10.90.1.21) -> target1 (10.90.1.11): TCP 4420: nothing listens on 10.90.1.11:4420 "
        "(connection refused)")
    assert result["checks"][0]["ports_ok"] == {"4420": False}
    assert result["retransmissions"]["delta"] == {"OutSegs": 0, "RetransSegs": 0}
    assert host[0] == ["/usr/sbin/ip", "-j", "route", "get", "10.90.1.11"]
    assert host[1] == ["/bin/ping", "-M", "do", "-s", "8972", "-c", "2", "-W", "2", "-I", "eth1", "10.90.1.11"]


def test_fail_on_error_false_reports_in_check_mode(host, capsys):
    result = run_module(capsys, {"host": "initiator1", "peers": [dict(PEER, mtu=1500, ports=[])],
                                 "fail_on_error": False, "_ansible_check_mode": True})
    assert result["rc"] == 0 and not result.get("failed") and result["changed"] is False
    assert (result["failed_checks"], result["total_checks"]) == (0, 2)
    assert result["summary"] == ["initiator1 (eth1 10.90.1.21) -> target1 (10.90.1.11): ok"]
    result = run_module(capsys, {"host": "initiator1", "peers": [PEER], "fail_on_error": False})
    assert result["rc"] == 0 and result["failed_checks"] == 2 and result["msg"].startswith("2 of 3")


def test_invalid_options_fail_with_the_option_path(host, capsys):
    result = run_module(capsys, {"host": "initiator1", "peers": [PEER, PEER, dict(PEER, address="10.0.0.300")]})
    assert result["rc"] == 1 and host == []
    assert result["msg"] == ("invalid options, nothing was checked: peers[2].address: '10.0.0.300' is not an IPv4 or "
                             "IPv6 address")


def test_no_peers_is_ok_without_commands(host, capsys, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda *args, **kwargs: pytest.fail("looked up"))
    result = run_module(capsys, {"host": "initiator1", "peers": []})
    assert result["rc"] == 0 and result["total_checks"] == 0 and host == []
    assert result["retransmissions"]["before"] == {"OutSegs": 1131870, "RetransSegs": 112}
