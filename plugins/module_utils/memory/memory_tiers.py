# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The memory side of a host, read only: CXL devices, dax devices, NUMA nodes, memory tiers, tiering knobs.

The read half of module ``nvmeof.fleet.cxl_tiering``; ``read_host()`` gathers it all through HostFS,
so tests point it at a fake tree. Nothing here writes.

- CXL (``/sys/bus/cxl/devices``): memory devices ``memN`` (``ram/size``, ``pmem/size``, ``serial``,
  ``numa_node``) and regions ``regionN`` (``mode``, since Linux 6.3; 6.1 has pmem regions only,
  ``size``, ``commit``, ``targetN``). A host without ``/sys/bus/cxl`` has none.
- dax devices (``/sys/bus/dax/devices/daxX.Y``): ``size``, ``target_node``, ``resource`` and the
  driver they are bound to: ``kmem`` is system-ram mode, ``device_dax`` devdax mode. Where a device
  comes from is told by its place in the device tree: under ``regionN/dax_regionN`` a CXL RAM region;
  under an NVDIMM ``daxX.Y`` device (with ``uuid`` and ``namespace``) an NVDIMM namespace in devdax
  mode, itself under ``pmem_regionN`` when a CXL pmem region backs it.
- memory blocks of a system-ram device, found as daxctl finds them (libdaxctl
  ``memblock_in_dev``): block N (``/sys/devices/system/memory/memoryN``, whose ``phys_index`` is N)
  belongs to the device when N * ``block_size_bytes`` lies in ``[resource, resource + size)``. An
  online block's ``valid_zones`` names the zone it is in (``Movable``, ``Normal``); an offline one's
  lists where it could go.
- NUMA nodes (``/sys/devices/system/node``) and memory tiers
  (``/sys/devices/virtual/memory_tiering/memory_tierN/nodelist``, Linux 6.1+; a higher N is
  slower). Memory from kmem lands in a lower tier (memory_tier22 on 6.1 and 6.12) than DRAM
  (memory_tier4); a plain CPU-less RAM node lands with DRAM.
- knobs: ``/sys/kernel/mm/numa/demotion_enabled``, ``kernel.numa_balancing`` (bit 1 normal,
  bit 2 memory tiering), ``kernel.numa_balancing_promote_rate_limit_MBps``, and the
  ``pgdemote_*`` / ``pgpromote_*`` counters of ``/proc/vmstat``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.nvme_host import _matching as matching

CXL_BUS = "/sys/bus/cxl"
CXL_DEVICES = CXL_BUS + "/devices"
DAX_DEVICES = "/sys/bus/dax/devices"
MEMORY = "/sys/devices/system/memory"
NODES = "/sys/devices/system/node"
TIERS = "/sys/devices/virtual/memory_tiering"
DEMOTION_ENABLED = "/sys/kernel/mm/numa/demotion_enabled"
NUMA_BALANCING = "/proc/sys/kernel/numa_balancing"
PROMOTE_RATE_LIMIT = "/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps"
VMSTAT = "/proc/vmstat"
OSRELEASE = "/proc/sys/kernel/osrelease"

# The drivers a dax device can be bound to, and the daxctl mode each one means.
DRIVER_MODES = {"kmem": "system-ram", "device_dax": "devdax"}
# kernel.numa_balancing values by name: bit 1 is NUMA_BALANCING_NORMAL, bit 2 NUMA_BALANCING_MEMORY_TIERING.
NUMA_BALANCING_MODES = ("disabled", "normal", "tiering", "normal_and_tiering")
VMSTAT_PREFIXES = ("pgdemote_", "pgpromote_")

_MEMINFO_TOTAL = re.compile(r"^Node\s+\d+\s+MemTotal:\s+(\d+)\s+kB", re.MULTILINE)


def number(text, base=0):
    """An integer attribute (``0x10000000``, ``42``, ``-1``), or None when absent or not a number."""
    try:
        return int(text.strip(), base)
    except (AttributeError, ValueError):
        return None


def parse_list(text):
    """A kernel list such as ``0-2,5`` as [0, 1, 2, 5]; empty or absent gives []."""
    items = []
    for part in (text or "").strip().split(","):
        low, _dash, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            continue
        items.extend(range(int(low), int(high or low) + 1))
    return sorted(set(items))


def numbered(fs, directory, prefix):
    """The entries ``<prefix>N`` of a directory as [(N, name)], in the order of N."""
    return [(int(name[len(prefix):]), name) for name in matching(fs, directory, re.compile(r"^%s(\d+)$" % prefix))]


def _driver(fs, path):
    link = path + "/driver"
    return fs.read_link(link).rsplit("/", 1)[-1] if fs.is_link(link) else None


# -- CXL -----------------------------------------------------------------------------------

def _memdev(fs, name):
    base = "%s/%s" % (CXL_DEVICES, name)
    return {
        "name": name,
        "ram_size": number(fs.read(base + "/ram/size")) or 0,
        "pmem_size": number(fs.read(base + "/pmem/size")) or 0,
        "serial": fs.read(base + "/serial"),
        "numa_node": number(fs.read(base + "/numa_node")),
    }


def _endpoint_memdev(fs, decoder):
    """The memory device behind an endpoint decoder (decoderX.Y of port endpointX), or None."""
    port = "endpoint" + decoder[len("decoder"):].split(".", 1)[0]
    uport = "%s/%s/uport" % (CXL_DEVICES, port)
    return fs.read_link(uport).rsplit("/", 1)[-1] if fs.is_link(uport) else None


def _region(fs, name):
    base = "%s/%s" % (CXL_DEVICES, name)
    uuid = fs.read(base + "/uuid") or None
    mode = fs.read(base + "/mode") or ("pmem" if fs.exists(base + "/uuid") else None)  # 6.1: pmem only
    ways = number(fs.read(base + "/interleave_ways")) or 0
    targets = [fs.read("%s/target%d" % (base, position)) or None for position in range(ways)]
    return {
        "name": name,
        "mode": mode,
        "uuid": uuid,
        "size": number(fs.read(base + "/size")) or 0,
        "resource": number(fs.read(base + "/resource")),
        "committed": fs.read(base + "/commit") == "1",
        "interleave_ways": ways,
        "targets": targets,
        "memdevs": [_endpoint_memdev(fs, target) for target in targets if target],
        "dax_region": next((child for child in fs.list_dir(base) if re.match(r"^dax_region\d+$", child)), None),
        "dax_devices": [],
    }


def cxl_facts(fs):
    """{present, memdevs, regions}; a host without /sys/bus/cxl has neither."""
    return {
        "present": fs.is_dir(CXL_BUS),
        "memdevs": [_memdev(fs, name) for _n, name in numbered(fs, CXL_DEVICES, "mem")],
        "regions": [_region(fs, name) for _n, name in numbered(fs, CXL_DEVICES, "region")],
    }


# -- dax devices and their memory blocks -------------------------------------------------------

def _origin(fs, name):
    """Where a dax device comes from: a CXL region, an NVDIMM namespace, or something else (hmem)."""
    origin = {"type": "other", "cxl_region": None, "namespace": None, "nvdimm_uuid": None}
    link = "%s/%s" % (DAX_DEVICES, name)
    if not fs.is_link(link):
        return origin
    parts = fs.read_link(link).split("/")
    parent = "/".join(parts[:-1])
    for index, part in enumerate(parts[1:], 1):
        if re.match(r"^(dax|pmem)_region\d+$", part) and re.match(r"^region\d+$", parts[index - 1]):
            origin.update(type="cxl", cxl_region=parts[index - 1])
    if fs.exists(parent + "/namespace") and fs.exists(parent + "/uuid"):
        # an NVDIMM dax device: its uuid is the one ndctl lists and daxctl's config matches
        origin.update(type="nvdimm", namespace=fs.read(parent + "/namespace") or None,
                      nvdimm_uuid=(fs.read(parent + "/uuid") or "").lower() or None)
    return origin


def memory_blocks(fs, resource, size, block_size):
    """The memory blocks of a dax device as [(name, state, zone)]; zone is None while offline."""
    if resource is None or not size or not block_size:
        return []
    first = (resource + block_size - 1) // block_size
    last = (resource + size - 1) // block_size
    blocks = []
    for index in range(first, last + 1):
        base = "%s/memory%d" % (MEMORY, index)
        state = fs.read(base + "/state")
        if state is None:
            continue
        zone = ((fs.read(base + "/valid_zones") or "").strip() or None) if state == "online" else None
        blocks.append(("memory%d" % index, state, zone))
    return blocks


def summarize_blocks(blocks):
    return {
        "total": len(blocks),
        "online": sum(1 for _name, state, _zone in blocks if state == "online"),
        "zones": sorted(set(zone for _name, state, zone in blocks if state == "online" and zone)),
        "offline_blocks": [name for name, state, _zone in blocks if state != "online"],
    }


def dax_device(fs, name, block_size):
    """One dax device with its mode, origin and memory blocks; ``blocks`` is for planning, not for output."""
    base = "%s/%s" % (DAX_DEVICES, name)
    driver = _driver(fs, base)
    size = number(fs.read(base + "/size")) or 0
    resource = number(fs.read(base + "/resource"))
    blocks = memory_blocks(fs, resource, size, block_size) if driver == "kmem" else []
    target = number(fs.read(base + "/target_node"))
    return {
        "name": name,
        "size": size,
        "resource": resource,
        "target_node": target if target is not None and target >= 0 else None,
        "driver": driver,
        "mode": DRIVER_MODES.get(driver, "unbound" if driver is None else driver),
        "origin": _origin(fs, name),
        "memory": summarize_blocks(blocks),
        "blocks": blocks,
    }


def block_size(fs):
    return number(fs.read(MEMORY + "/block_size_bytes"), 16)


def dax_facts(fs):
    size = block_size(fs)
    return [dax_device(fs, name, size) for name in matching(fs, DAX_DEVICES, re.compile(r"^dax(\d+)\.(\d+)$"))]


# -- NUMA nodes and memory tiers ---------------------------------------------------------------

def lower_tier_nodes(tiers, cpu_nodes):
    """The memory nodes of the tiers below (numerically above) the slowest tier that holds a node with CPUs.

    ``tiers`` is [(tier, [nodes])]. Without a tier holding a CPU node there is no lower tier.
    """
    with_cpus = [tier for tier, nodes in tiers if set(nodes) & set(cpu_nodes)]
    if not with_cpus:
        return []
    return sorted(node for tier, nodes in tiers if tier > max(with_cpus) for node in nodes)


def node_facts(fs):
    """{nodes, tiers, lower_tier_nodes} from /sys/devices/system/node and the memory tiers."""
    tiers = [(tier, parse_list(fs.read("%s/%s/nodelist" % (TIERS, name))))
             for tier, name in numbered(fs, TIERS, "memory_tier")]
    tier_of = dict((node, tier) for tier, nodes in tiers for node in nodes)
    listed = numbered(fs, NODES, "node")
    online_text = fs.read(NODES + "/online")
    online = set(parse_list(online_text)) if online_text is not None else set(n for n, _name in listed)
    nodes = []
    for node, name in listed:
        meminfo = _MEMINFO_TOTAL.search(fs.read("%s/%s/meminfo" % (NODES, name)) or "")
        cpus = fs.read("%s/%s/cpulist" % (NODES, name)) or ""
        nodes.append({
            "node": node,
            "online": node in online,
            "cpus": cpus,
            "cpu_less": not parse_list(cpus),
            "mem_total": int(meminfo.group(1)) * 1024 if meminfo else 0,
            "tier": tier_of.get(node),
        })
    cpu_nodes = [entry["node"] for entry in nodes if not entry["cpu_less"]]
    return {
        "nodes": nodes,
        "tiers": [{"tier": tier, "nodes": members} for tier, members in tiers],
        "lower_tier_nodes": lower_tier_nodes(tiers, cpu_nodes),
    }


def describe_tiers(tiers):
    """``memory_tier4 (nodes 0, 1), memory_tier22 (node 2)``, or what shows there are none."""
    if not tiers:
        return "no memory tiers (%s is empty or missing)" % TIERS
    return ", ".join("memory_tier%d (node%s %s)" % (entry["tier"], "s" if len(entry["nodes"]) != 1 else "",
                                                    ", ".join(str(node) for node in entry["nodes"]) or "-")
                     for entry in tiers)


# -- knobs and counters ------------------------------------------------------------------------

def numa_balancing_name(value):
    """The name of a kernel.numa_balancing value; an unknown value as it is."""
    return NUMA_BALANCING_MODES[value] if value in range(len(NUMA_BALANCING_MODES)) else value


def knob_facts(fs):
    """The live tiering knobs; None for each one this kernel does not have."""
    demotion = fs.read(DEMOTION_ENABLED)
    return {
        "demotion_enabled": {"true": True, "false": False}.get(demotion, demotion),
        "numa_balancing": numa_balancing_name(number(fs.read(NUMA_BALANCING))),
        "promote_rate_limit_mbps": number(fs.read(PROMOTE_RATE_LIMIT)),
    }


def vmstat_counters(fs):
    counters = {}
    for line in (fs.read(VMSTAT) or "").splitlines():
        words = line.split()
        if len(words) == 2 and words[0].startswith(VMSTAT_PREFIXES) and words[1].isdigit():
            counters[words[0]] = int(words[1])
    return counters


def read_host(fs):
    """Every fact the module returns; dax devices keep their ``blocks`` for planning."""
    facts = node_facts(fs)
    dax = dax_facts(fs)
    cxl = cxl_facts(fs)
    for region in cxl["regions"]:
        region["dax_devices"] = [device["name"] for device in dax if device["origin"]["cxl_region"] == region["name"]]
    return {
        "release": fs.read(OSRELEASE),
        "cxl": cxl,
        "dax_devices": dax,
        "numa_nodes": facts["nodes"],
        "memory_tiers": facts["tiers"],
        "lower_tier_nodes": facts["lower_tier_nodes"],
        "knobs": knob_facts(fs),
        "vmstat": vmstat_counters(fs),
        "auto_online_blocks": fs.read(MEMORY + "/auto_online_blocks"),
        "block_size": block_size(fs),
    }
