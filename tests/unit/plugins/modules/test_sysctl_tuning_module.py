# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module nvmeof.fleet.sysctl_tuning: its documentation matches its options, and main() reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.modules import sysctl_tuning

from test_nvme_info import write  # same directory, on sys.path
from test_nvme_info import run_module as run_nvme_info_style

DROP_IN = "/etc/sysctl.d/90-nvmeof-fleet-network.conf"


def test_documentation_matches_the_argument_spec():
    options = yaml.safe_load(sysctl_tuning.DOCUMENTATION)["options"]
    assert sorted(options) == sorted(sysctl_tuning.ARGUMENT_SPEC)
    for name, spec in sysctl_tuning.ARGUMENT_SPEC.items():
        documented = options[name]
        for field in ("type", "default", "choices", "elements", "required"):
            assert documented.get(field) == spec.get(field), (name, field)
    for part in ("EXAMPLES", "RETURN"):
        assert yaml.safe_load(getattr(sysctl_tuning, part))


@pytest.fixture
def host(tmp_path, monkeypatch):
    write(tmp_path, "/proc/sys/net/ipv4/tcp_ecn", "2")
    write(tmp_path, "/proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456")
    monkeypatch.setattr(sysctl_tuning, "HostFS", lambda: HostFS(str(tmp_path)))
    return tmp_path


def run_module(capsys, args):
    return run_nvme_info_style(capsys, args, main=sysctl_tuning.main)


def test_applies_and_reports(host, capsys):
    args = {"name": "90-nvmeof-fleet-network",
            "settings": {"net.ipv4.tcp_ecn": 1, "net.ipv4.tcp_rmem": [4096, 87380, 16777216]}}
    checked = run_module(capsys, dict(args, _ansible_check_mode=True))
    assert checked["changed"] is True and not os.path.exists(str(host / DROP_IN.lstrip("/")))
    result = run_module(capsys, args)
    assert result["rc"] == 0 and result["changed"] is True
    assert result["settings"]["net.ipv4.tcp_ecn"] == {"before": "2", "after": "1", "changed": True}
    assert result["file"] == DROP_IN and result["saved"].endswith("/90-nvmeof-fleet-network.json")
    assert (host / "proc/sys/net/ipv4/tcp_rmem").read_text() == "4096 87380 16777216"
    assert run_module(capsys, args)["changed"] is False


def test_refusals_fail_with_the_message(host, capsys):
    result = run_module(capsys, {"name": "90-nvmeof-fleet-network", "settings": {"net.ipv4.tcp_bogus": 1}})
    assert result["rc"] == 1 and result["failed"] is True
    assert "net.ipv4.tcp_bogus" in result["msg"] and "nothing was changed" in result["msg"]


def test_warnings_reach_the_user(host, capsys, monkeypatch):
    # recorded at module.warn: where ansible-core puts them next depends on its version and on what
    # else this test process imported
    seen = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda module, warning: seen.append(warning))
    result = run_module(capsys, {"name": "x", "state": "absent", "restore": True})
    assert result["changed"] is False
    assert len(seen) == 1 and seen[0].startswith("nothing to restore")
