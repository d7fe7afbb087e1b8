# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module nvmeof.fleet.nvme_multipath: its documentation matches its options, and main() reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.modules import nvme_multipath

from test_nvme_info import write  # same directory, on sys.path
from test_nvme_info import run_module as run_nvme_info_style

MODPROBE_FILE = "/etc/modprobe.d/nvmeof-fleet-multipath.conf"
UDEV_RULE = "/etc/udev/rules.d/71-nvmeof-fleet-iopolicy.rules"
SUBSYS = "/sys/class/nvme-subsystem/nvme-subsys0"
NQN = "nqn.2024-01.io.example:storage:vol1"


def _same_spec(documented, spec, name):
    for field in ("type", "default", "choices", "elements", "required"):
        assert documented.get(field) == spec.get(field), (name, field)
    assert sorted(documented.get("suboptions") or {}) == sorted(spec.get("options") or {}), name
    for sub, sub_spec in (spec.get("options") or {}).items():
        _same_spec(documented["suboptions"][sub], sub_spec, "%s.%s" % (name, sub))


def test_documentation_matches_the_argument_spec():
    options = yaml.safe_load(nvme_multipath.DOCUMENTATION)["options"]
    assert sorted(options) == sorted(nvme_multipath.ARGUMENT_SPEC)
    for name, spec in nvme_multipath.ARGUMENT_SPEC.items():
        _same_spec(options[name], spec, name)
    for part in ("EXAMPLES", "RETURN"):
        assert yaml.safe_load(getattr(nvme_multipath, part))


@pytest.fixture
def host(tmp_path, monkeypatch):
    """nvme_core loaded as a module with multipath off, one subsystem with one path; no initramfs, no udevadm."""
    write(tmp_path, "/proc/sys/kernel/osrelease", "6.1.0-28-amd64")
    write(tmp_path, "/lib/modules/6.1.0-28-amd64/modules.builtin", "kernel/fs/ext4/ext4.ko")
    write(tmp_path, "/lib/modules/6.1.0-28-amd64/modules.dep", "kernel/drivers/nvme/host/nvme-core.ko:")
    write(tmp_path, "/sys/module/nvme_core/initstate", "live")
    write(tmp_path, "/sys/module/nvme_core/parameters/multipath", "N")
    write(tmp_path, "/sys/module/nvme_core/parameters/iopolicy", "numa")
    for name, value in (("subsysnqn", NQN), ("subsystype", "nvm"), ("iopolicy", "numa"),
                        ("nvme0/transport", "tcp"), ("nvme0/state", "live"),
                        ("nvme0/address", "traddr=192.0.2.10,trsvcid=4420"),
                        ("nvme0/nvme0c0n1/nsid", "1"), ("nvme0/nvme0c0n1/ana_grpid", "1"),
                        ("nvme0/nvme0c0n1/ana_state", "optimized")):
        write(tmp_path, "%s/%s" % (SUBSYS, name), value)
    monkeypatch.setattr(nvme_multipath, "HostFS", lambda: HostFS(str(tmp_path)))
    return tmp_path


def run_module(capsys, args):
    return run_nvme_info_style(capsys, args, main=nvme_multipath.main)


def test_applies_and_reports(host, capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda module, warning: seen.append(warning))
    args = {"iopolicy": "round-robin", "subsystems": [{"nqn": "nqn.2024-01.io.example:*", "iopolicy": "numa"}]}
    checked = run_module(capsys, dict(args, _ansible_check_mode=True))
    assert checked["changed"] is True and checked["reboot_required"] is True
    assert not os.path.exists(str(host / MODPROBE_FILE.lstrip("/")))
    result = run_module(capsys, args)
    assert result["rc"] == 0 and result["changed"] is True and result["reboot_required"] is True
    assert result["multipath"] == {"live": False, "wanted": True, "builtin": False, "persisted": True}
    assert result["default_iopolicy"] == {"before": "numa", "after": "round-robin"}
    assert result["subsystems"] == [{
        "name": "nvme-subsys0", "nqn": NQN, "iopolicy_before": "numa", "iopolicy": "numa",
        "paths": [{"controller": "nvme0", "transport": "tcp", "address": "traddr=192.0.2.10,trsvcid=4420",
                   "state": "live", "device": "nvme0c0n1", "nsid": 1, "ana_grpid": 1, "ana_state": "optimized"}]}]
    assert (host / UDEV_RULE.lstrip("/")).read_text().count("ATTR{iopolicy}") == 2
    assert "warnings" not in result or result["warnings"] == []
    assert seen == ["udevadm is not installed: %s was not loaded" % UDEV_RULE] * 2
    again = run_module(capsys, args)
    assert again["changed"] is False and again["reboot_required"] is True


def test_refusals_fail_with_the_message(host, capsys):
    result = run_module(capsys, {"iopolicy": "queue-depth"})
    assert result["rc"] == 1 and result["failed"] is True
    assert result["msg"] == ("iopolicy queue-depth needs Linux 6.11 or later; this host runs 6.1.0-28-amd64; "
                             "use round-robin. Nothing was changed.")
    assert not os.path.exists(str(host / MODPROBE_FILE.lstrip("/")))


def test_options_are_checked_by_the_argument_spec(host, capsys):
    result = run_module(capsys, {"subsystems": [{"nqn": NQN}]})
    assert result["rc"] == 1 and "iopolicy" in result["msg"]
