# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""memory_tiers: the facts of CXL devices, dax devices, NUMA nodes, tiers and knobs, from fake trees."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.memory.memory_tiers import (
    describe_tiers, lower_tier_nodes, memory_blocks, numa_balancing_name, parse_list, read_host)

from fake_memory import BLOCK, GiB, MiB, NVDIMM_UUID, R612, FakeMemoryHost  # same directory, on sys.path


@pytest.fixture
def host(tmp_path):
    return FakeMemoryHost(tmp_path)


def dax(facts, name):
    return next(device for device in facts["dax_devices"] if device["name"] == name)


def test_a_host_without_cxl_or_dax(host):
    facts = read_host(host.fs)
    assert facts["release"] == "6.1.0-28-amd64"
    assert facts["cxl"] == {"present": False, "memdevs": [], "regions": []}
    assert facts["dax_devices"] == []
    assert facts["numa_nodes"] == [{"node": 0, "online": True, "cpus": "0-1", "cpu_less": False,
                                    "mem_total": 1536 * MiB, "tier": 4}]
    assert facts["memory_tiers"] == [{"tier": 4, "nodes": [0]}]
    assert facts["lower_tier_nodes"] == []
    assert facts["knobs"] == {"demotion_enabled": False, "numa_balancing": "normal", "promote_rate_limit_mbps": 65536}
    assert facts["vmstat"] == {"pgdemote_kswapd": 0, "pgdemote_direct": 0, "pgpromote_success": 0,
                               "pgpromote_candidate": 0}
    assert facts["auto_online_blocks"] == "offline" and facts["block_size"] == BLOCK


def test_a_cpu_less_ram_node_in_the_dram_tier_is_no_lower_tier(host):
    host.node(1, mem_kb=512 * 1024)
    host.tier(4, [1])
    facts = read_host(host.fs)
    assert [(n["node"], n["cpu_less"], n["tier"], n["mem_total"]) for n in facts["numa_nodes"]] == [
        (0, False, 4, 1536 * MiB), (1, True, 4, 512 * MiB)]
    assert facts["memory_tiers"] == [{"tier": 4, "nodes": [0, 1]}]
    assert facts["lower_tier_nodes"] == []


def test_an_nvdimm_dax_device_in_devdax_mode(host):
    host.nvdimm_dax(size=GiB, resource=0x180000000, node=2)
    device = dax(read_host(host.fs), "dax0.0")
    assert device == {
        "name": "dax0.0", "size": GiB, "resource": 0x180000000, "target_node": 2, "driver": "device_dax",
        "mode": "devdax", "blocks": [],
        "origin": {"type": "nvdimm", "cxl_region": None, "namespace": "namespace0.0", "nvdimm_uuid": NVDIMM_UUID},
        "memory": {"total": 0, "online": 0, "zones": [], "offline_blocks": []},
    }
    facts = read_host(host.fs)
    assert [(n["node"], n["cpu_less"], n["mem_total"], n["tier"]) for n in facts["numa_nodes"]] == [
        (0, False, 1536 * MiB, 4), (2, True, 0, None)]  # the NVDIMM node has no memory yet, and no tier


def test_system_ram_blocks_are_found_by_address_and_report_their_zone(host):
    host.nvdimm_dax(mode="system-ram", zone="Normal", offline=3)
    device = dax(read_host(host.fs), "dax0.0")
    assert device["mode"] == "system-ram" and device["driver"] == "kmem"
    assert device["memory"] == {"total": 8, "online": 5, "zones": ["Normal"],
                                "offline_blocks": ["memory53", "memory54", "memory55"]}
    assert device["blocks"][0] == ("memory48", "online", "Normal")  # 0x180000000 / 128 MiB
    facts = read_host(host.fs)
    assert facts["memory_tiers"] == [{"tier": 4, "nodes": [0]}, {"tier": 22, "nodes": [2]}]
    assert facts["lower_tier_nodes"] == [2]
    assert [n["mem_total"] for n in facts["numa_nodes"]] == [1536 * MiB, 5 * BLOCK]


def test_memory_blocks_of_a_device_follow_daxctl(host):
    host.nvdimm_dax(mode="system-ram", resource=0x180000000, size=GiB)  # blocks memory48 to memory55
    # a range that does not start on a block boundary owns the blocks that start inside it (and exist)
    names = [name for name, _state, _zone in memory_blocks(host.fs, 0x180000000 + 64 * MiB, GiB, BLOCK)]
    assert names == ["memory%d" % index for index in range(49, 56)]
    assert memory_blocks(host.fs, None, GiB, BLOCK) == [] and memory_blocks(host.fs, 0, GiB, None) == []


def test_a_cxl_ram_region_onlined_by_the_kernel(tmp_path):
    host = FakeMemoryHost(tmp_path, release=R612)
    host.cxl_ram_region(size=256 * MiB, node=2)
    host.seed("dax0.1", "dax0.0")
    facts = read_host(host.fs)
    assert facts["cxl"] == {"present": True, "memdevs": [
        {"name": "mem0", "ram_size": 256 * MiB, "pmem_size": 0, "serial": "0x0", "numa_node": 0}], "regions": [
        {"name": "region0", "mode": "ram", "uuid": None, "size": 256 * MiB, "resource": 0x390000000,
         "committed": True, "interleave_ways": 1, "targets": ["decoder2.0"], "memdevs": ["mem0"],
         "dax_region": "dax_region0", "dax_devices": ["dax0.0", "dax0.1"]}]}
    device = dax(facts, "dax0.0")
    assert device["origin"] == {"type": "cxl", "cxl_region": "region0", "namespace": None, "nvdimm_uuid": None}
    assert device["memory"] == {"total": 2, "online": 2, "zones": ["Movable"], "offline_blocks": []}
    assert dax(facts, "dax0.1")["size"] == 0 and dax(facts, "dax0.1")["mode"] == "unbound"
    assert facts["lower_tier_nodes"] == [2]


def test_a_6_1_pmem_region_has_no_mode_attribute(host):
    host.cxl_ram_region(release_has_mode=False)
    host.attrs("/sys/bus/cxl/devices/region0", {"uuid": "5b6d2c1a-0000-4000-8000-000000000001"})
    region = read_host(host.fs)["cxl"]["regions"][0]
    assert region["mode"] == "pmem" and region["uuid"] == "5b6d2c1a-0000-4000-8000-000000000001"


def test_knobs_a_kernel_lacks_are_none(tmp_path):
    host = FakeMemoryHost(tmp_path, promote_rate_limit=None)
    os.unlink(host.real("/sys/kernel/mm/numa/demotion_enabled"))
    host.attrs("/proc/sys/kernel", {"numa_balancing": "3"})
    host.file("/proc/vmstat", "pgdemote_kswapd 12\npgdemote_direct 3\npgpromote_success 7\nnr_free_pages 9\n")
    facts = read_host(host.fs)
    assert facts["knobs"] == {"demotion_enabled": None, "numa_balancing": "normal_and_tiering",
                              "promote_rate_limit_mbps": None}
    assert facts["vmstat"] == {"pgdemote_kswapd": 12, "pgdemote_direct": 3, "pgpromote_success": 7}


@pytest.mark.parametrize("text, items", [
    ("0-2,5", [0, 1, 2, 5]), ("", []), (None, []), ("3", [3]), ("1,1-2", [1, 2]), ("x", [])])
def test_parse_list(text, items):
    assert parse_list(text) == items


def test_lower_tiers_are_below_the_slowest_tier_with_cpus():
    tiers = [(4, [0, 1]), (22, [2]), (30, [3])]
    assert lower_tier_nodes(tiers, cpu_nodes=[0]) == [2, 3]
    assert lower_tier_nodes(tiers, cpu_nodes=[0, 2]) == [3]
    assert lower_tier_nodes(tiers, cpu_nodes=[]) == []
    assert lower_tier_nodes([], cpu_nodes=[0]) == []


def test_describing_tiers_and_modes():
    assert describe_tiers([{"tier": 4, "nodes": [0, 1]}, {"tier": 22, "nodes": [2]}]) == (
        "memory_tier4 (nodes 0, 1), memory_tier22 (node 2)")
    assert describe_tiers([]).startswith("no memory tiers (/sys/devices/virtual/memory_tiering")
    assert [numa_balancing_name(value) for value in (0, 1, 2, 3, 7, None)] == [
        "disabled", "normal", "tiering", "normal_and_tiering", 7, None]
