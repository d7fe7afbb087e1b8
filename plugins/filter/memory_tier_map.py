# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: memory_tier_map
short_description: The memory tier map of a host, from the result of module cxl_tiering
version_added: 0.1.0
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
description:
  - Takes what module M(nvmeof.fleet.cxl_tiering) returned and gives one row per NUMA node with memory, fastest
    tier first, saying which tier the node is in, whether it is a lower tier (a demotion target), its CPUs, its size
    and the dax devices whose memory it holds, with where they come from (a CXL region, an NVDIMM namespace).
  - Each row has a one-line C(summary) for reports.
positional: _input
options:
  _input:
    description: The registered result of M(nvmeof.fleet.cxl_tiering).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Report the tier map
  ansible.builtin.debug:
    msg: "{{ tiering | nvmeof.fleet.memory_tier_map | map(attribute='summary') }}"
"""

RETURN = r"""
_value:
  description:
    - "One row per NUMA node with memory - C(node), C(tier) (null when the kernel has no memory tiers), C(lower)
      (whether it is in a lower tier), C(cpus) (the kernel's list, empty for a CPU-less node), C(mem_total_mib),
      C(dax_devices) (names) and C(summary), a line such as
      C(node 1: tier 22 (lower\\), CPU-less, 512 MiB, dax0.0 from CXL region0)."
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

MIB = 1024 * 1024


def _origin(device):
    origin = device.get("origin") or {}
    if origin.get("type") == "cxl":
        return "CXL %s" % origin.get("cxl_region")
    if origin.get("type") == "nvdimm":
        return "NVDIMM %s" % origin.get("namespace")
    return "other memory"


def _summary(row, sources):
    tier = "no tier" if row["tier"] is None else "tier %s%s" % (row["tier"], " (lower)" if row["lower"] else "")
    cpus = "CPUs %s" % row["cpus"] if row["cpus"] else "CPU-less"
    text = "node %s: %s, %s, %s MiB" % (row["node"], tier, cpus, row["mem_total_mib"])
    return text + "".join(", %s from %s" % pair for pair in sources)


def memory_tier_map(result):
    """Rows of the NUMA nodes with memory, fastest tier first."""
    if not isinstance(result, dict) or "numa_nodes" not in result:
        raise AnsibleFilterError("memory_tier_map: expects the result of nvmeof.fleet.cxl_tiering, got %r"
                                 % (type(result).__name__,))
    lower = set(result.get("lower_tier_nodes") or [])
    devices = [device for device in result.get("dax_devices") or [] if device.get("mode") == "system-ram"]
    rows = []
    for node in result["numa_nodes"]:
        if not node.get("mem_total"):
            continue
        sources = [(device["name"], _origin(device)) for device in devices if device.get("target_node") == node["node"]]
        row = {
            "node": node["node"],
            "tier": node.get("tier"),
            "lower": node["node"] in lower,
            "cpus": node.get("cpus") or "",
            "mem_total_mib": node["mem_total"] // MIB,
            "dax_devices": [name for name, dummy in sources],
        }
        row["summary"] = _summary(row, sources)
        rows.append(row)
    return sorted(rows, key=lambda row: (row["tier"] is None, row["tier"], row["node"]))


class FilterModule(object):
    """nvmeof.fleet filters."""

    def filters(self):
        return {"memory_tier_map": memory_tier_map}
