# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_state's checks agree with the modules: on every fake lab host, for the options the roles
converge with and for changed ones, host_state reports exactly what the module reports in check
mode, so a role that skips a module host_state found nothing for skips only what would not change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvmeof.fleet.plugins.modules import (
    cxl_tiering, host_state, interface_mtu, nvme_multipath, sysctl_tuning)

from lab_hosts import run_main, snapshot

MAINS = {"cxl_tiering": cxl_tiering.main, "interface_mtu": interface_mtu.main,
         "nvme_multipath": nvme_multipath.main, "sysctl_tuning": sysctl_tuning.main}

# (module, options): what the lab's roles converge with, and changes of it.
OPTIONS = [
    ("nvme_multipath", {"multipath": True, "iopolicy": "round-robin", "subsystems": []}),
    ("nvme_multipath", {"multipath": True, "iopolicy": "numa"}),
    ("nvme_multipath", {"multipath": False}),
    ("nvme_multipath", {"multipath": True, "iopolicy": "no-such-policy"}),
    ("sysctl_tuning", {"name": "90-nvmeof-fleet-network", "settings": {"net.core.somaxconn": 4096}}),
    ("sysctl_tuning", {"name": "90-nvmeof-fleet-network", "settings": {}, "state": "absent", "restore": True}),
    ("sysctl_tuning", {"name": "90-nvmeof-fleet-network", "settings": {"net.no.such.key": 1}}),
    ("interface_mtu", {"interfaces": [{"name": "eth1", "mtu": 1500}], "persist": False}),
    ("interface_mtu", {"interfaces": [{"name": "eth1", "mtu": 9000}], "persist": False}),
    ("interface_mtu", {"interfaces": [{"name": "nosuch0", "mtu": 9000}]}),
    ("cxl_tiering", {"state": "absent"}),
]


@pytest.mark.parametrize("name", ["target1", "initiator1", "initiator2"])
def test_host_state_checks_agree_with_each_module_in_check_mode(lab_host, name):
    host = lab_host(name)
    for module, options in OPTIONS:
        before = snapshot(host.root)
        read = run_main(host_state.main, {"checks": {module: options}, "_ansible_check_mode": False})
        assert read["rc"] == 0, read
        verdict = read["checks"][module]
        alone = run_main(MAINS[module], dict(options, _ansible_check_mode=True))
        assert snapshot(host.root) == before, (module, options)
        assert host.changes() == [], (module, options, host.changes())
        if alone["rc"] != 0:
            assert verdict["changed"] and verdict["refused"] == alone["msg"], (module, options, verdict, alone)
            continue
        assert verdict["changed"] == alone["changed"], (module, options, verdict, alone)
        assert verdict.get("actions") == alone.get("actions"), (module, options)
