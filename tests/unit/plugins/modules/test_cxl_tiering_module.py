# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module nvmeof.fleet.cxl_tiering: its documentation matches its options, and main() reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.nvmeof.fleet.plugins.modules import cxl_tiering

from test_nvme_info import run_module as run_nvme_info_style  # same directory, on sys.path
from test_nvme_multipath_module import _same_spec

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "module_utils"))
from fake_memory import DAXCTL, FakeDaxctl, FakeMemoryHost  # noqa: E402  (the fake trees of the module_utils tests)

DAXCTL_CONF = "/etc/daxctl.conf.d/nvmeof-fleet-tiering.conf"


def test_documentation_matches_the_argument_spec():
    documentation = yaml.safe_load(cxl_tiering.DOCUMENTATION)
    options = documentation["options"]
    assert sorted(options) == sorted(cxl_tiering.ARGUMENT_SPEC)
    for name, spec in cxl_tiering.ARGUMENT_SPEC.items():
        _same_spec(options[name], spec, name)
    assert documentation["extends_documentation_fragment"] == ["nvmeof.fleet.attributes"]
    returned = yaml.safe_load(cxl_tiering.RETURN)
    assert sorted(returned) == sorted([
        "kernel_release", "cxl", "dax_devices", "numa_nodes", "memory_tiers", "lower_tier_nodes",
        "expected_lower_tier_nodes", "knobs", "vmstat", "files", "actions", "diff"])
    assert [task["nvmeof.fleet.cxl_tiering"] for task in yaml.safe_load(cxl_tiering.EXAMPLES)
            if "nvmeof.fleet.cxl_tiering" in task][0]["dax_devices"] == ["dax0.0"]


@pytest.fixture
def host(tmp_path, monkeypatch):
    """The lab's NVDIMM in devdax mode; daxctl and udevadm answer through FakeDaxctl."""
    memory = FakeMemoryHost(tmp_path)
    memory.nvdimm_dax()
    daxctl = FakeDaxctl(memory)
    monkeypatch.setattr(cxl_tiering, "HostFS", lambda: memory.fs)
    monkeypatch.setattr(basic.AnsibleModule, "run_command",
                        lambda module, args, check_rc=False, data=None, environ_update=None: daxctl(
                            args, check_rc=check_rc, data=data, environ_update=environ_update))
    memory.daxctl = daxctl
    return memory


def run_module(capsys, args):
    return run_nvme_info_style(capsys, args, main=cxl_tiering.main)


def test_applies_and_reports(host, capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda module, warning: seen.append(warning))
    args = {"dax_devices": ["dax*"], "demotion": True, "numa_balancing": "normal_and_tiering"}
    checked = run_module(capsys, dict(args, _ansible_check_mode=True))
    assert checked["rc"] == 0 and checked["changed"] is True and host.daxctl.calls == []
    assert checked["expected_lower_tier_nodes"] == [2] and checked["lower_tier_nodes"] == []
    assert not os.path.exists(host.real(DAXCTL_CONF))
    result = run_module(capsys, args)
    assert result["rc"] == 0 and result["changed"] is True
    assert result["actions"] == checked["actions"]
    assert host.daxctl.calls[0] == [DAXCTL, "reconfigure-device", "--mode=system-ram", "dax0.0"]
    assert result["lower_tier_nodes"] == [2]
    assert result["knobs"]["demotion_enabled"] == {"before": False, "after": True}
    assert [(d["name"], d["mode"], d["onlining"], d["persisted"]) for d in result["dax_devices"]] == [
        ("dax0.0", "system-ram", "reconfigure", True)]
    assert seen == [] and not result.get("warnings")
    again = run_module(capsys, args)
    assert again["changed"] is False and again["actions"] == []


def test_refusals_fail_with_the_message(host, capsys):
    result = run_module(capsys, {"dax_devices": ["dax3.*"]})
    assert result["rc"] == 1 and result["failed"] is True
    assert result["msg"] == ("dax_devices: 'dax3.*' matches no dax device with capacity on this host (dax0.0). "
                             "Nothing was changed.")
    assert host.daxctl.calls == []


def test_options_are_checked_by_the_argument_spec(host, capsys):
    result = run_module(capsys, {"numa_balancing": "on"})
    assert result["rc"] == 1 and "numa_balancing" in result["msg"] and "normal_and_tiering" in result["msg"]
