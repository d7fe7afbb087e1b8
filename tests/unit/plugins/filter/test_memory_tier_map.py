# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter nvmeof.fleet.memory_tier_map: the tier map of a host from the result of cxl_tiering."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nvmeof.fleet.plugins.filter.memory_tier_map import memory_tier_map

MIB = 1024 * 1024


def dax(name, node, origin, mode="system-ram"):
    return {"name": name, "target_node": node, "mode": mode, "origin": origin}


def node(number, cpus, mib, tier):
    return {"node": number, "online": True, "cpus": cpus, "cpu_less": not cpus, "mem_total": mib * MIB, "tier": tier}


CXL_HOST = {
    "numa_nodes": [node(1, "", 512, 22), node(0, "0-3", 900, 4)],
    "lower_tier_nodes": [1],
    "dax_devices": [dax("dax0.0", 1, {"type": "cxl", "cxl_region": "region0"})],
}


def test_rows_come_fastest_tier_first_with_a_summary():
    rows = memory_tier_map(CXL_HOST)
    assert [row["summary"] for row in rows] == [
        "node 0: tier 4, CPUs 0-3, 900 MiB",
        "node 1: tier 22 (lower), CPU-less, 512 MiB, dax0.0 from CXL region0",
    ]
    assert rows[1]["lower"] and not rows[0]["lower"]
    assert (rows[1]["mem_total_mib"], rows[1]["dax_devices"]) == (512, ["dax0.0"])


def test_an_nvdimm_namespace_is_named_and_a_devdax_device_is_not_memory():
    result = {
        "numa_nodes": [node(0, "0", 893, 4), node(1, "", 128, 22)],
        "lower_tier_nodes": [1],
        "dax_devices": [dax("dax0.0", 1, {"type": "nvdimm", "namespace": "namespace0.0"}),
                        dax("dax1.0", 1, {"type": "nvdimm", "namespace": "namespace1.0"}, mode="devdax")],
    }
    assert memory_tier_map(result)[1]["summary"] == "node 1: tier 22 (lower), CPU-less, 128 MiB, dax0.0 from NVDIMM namespace0.0"


def test_a_cpu_less_dram_node_in_the_dram_tier_is_not_lower_and_empty_nodes_are_left_out():
    result = {"numa_nodes": [node(0, "0", 900, 4), node(1, "", 256, 4), node(2, "", 0, None)],
              "lower_tier_nodes": [], "dax_devices": []}
    assert [row["summary"] for row in memory_tier_map(result)] == [
        "node 0: tier 4, CPUs 0, 900 MiB", "node 1: tier 4, CPU-less, 256 MiB"]


def test_a_kernel_without_memory_tiers_gives_rows_without_a_tier():
    result = {"numa_nodes": [node(0, "0", 900, None)]}
    assert memory_tier_map(result)[0]["summary"] == "node 0: no tier, CPUs 0, 900 MiB"


@pytest.mark.parametrize("value", [None, [], {"changed": False}])
def test_anything_but_a_cxl_tiering_result_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="expects the result of nvmeof.fleet.cxl_tiering"):
        memory_tier_map(value)
