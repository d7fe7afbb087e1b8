# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake memory side of a host (sysfs, procfs, /etc) and a fake daxctl that changes it as the kernel would.

FakeMemoryHost builds the layout Linux 6.1 / 6.12 show: NUMA nodes and memory tiers, memory blocks,
dax devices of NVDIMM namespaces (``.../ndbus0/region0/dax0.0/dax0.0``) and of CXL RAM regions
(``.../region0/dax_region0/dax0.0``), CXL memory devices, the tiering knobs and /proc/vmstat.
FakeDaxctl is a run_command for daxctl and udevadm: it binds kmem or device_dax, adds and removes
memory blocks, onlines and offlines them in a zone, applies auto_online_blocks, and moves a node
into the dax memory tier when its first memory comes online.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS

from test_nvme_host import FakeSys  # same directory, on sys.path

MiB = 1024 * 1024
GiB = 1024 * MiB
BLOCK = 128 * MiB
R61 = "6.1.0-28-amd64"
R612 = "6.12.9-amd64"
DAXCTL = "/usr/bin/daxctl"
UDEVADM = "/usr/bin/udevadm"
DRAM_TIER = 4
DAX_TIER = 22
NVDIMM_UUID = "9a1c5b7e-4f1d-4d2b-8b0e-3c6f2d9e7a10"
DEBIAN_RULE = 'ACTION=="add", SUBSYSTEM=="dax",\\\n  RUN+="/usr/bin/daxctl -C $env{DEVNAME}"\n'
UPSTREAM_RULE = ('ACTION=="add", SUBSYSTEM=="dax", TAG+="systemd",\\\n'
                 '  PROGRAM="/usr/bin/systemd-escape -p --template=daxdev-reconfigure@.service $env{DEVNAME}",\\\n'
                 '  ENV{SYSTEMD_WANTS}="%c"\n')
MEMORY = "/sys/devices/system/memory"
NODES = "/sys/devices/system/node"
TIERS = "/sys/devices/virtual/memory_tiering"


class KernelFS(HostFS):
    """HostFS whose sysfs and procfs attributes read back as the kernel prints them (with a newline), and
    whose memory block ``state`` files online and offline the block."""

    def __init__(self, root, host):
        HostFS.__init__(self, root)
        self.host = host

    def write(self, path, value, secret=False):
        parts = path.split("/")
        if path.startswith(MEMORY + "/memory") and parts[-1] == "state" and value in ("offline", "online_movable"):
            block = parts[-2]
            return self.host.offline_block(block) if value == "offline" else self.host.online_block(block, "Movable")
        if path.startswith(("/sys/", "/proc/")):
            value = "%s\n" % value
        return HostFS.write(self, path, value, secret)


class FakeMemoryHost(FakeSys):
    """A host with NUMA node 0 (two CPUs, 1.5 GiB of DRAM) in memory_tier4 and the tiering knobs of ``release``."""

    def __init__(self, root, release=R61, auto_online="offline", promote_rate_limit=65536, rule=DEBIAN_RULE,
                 tools=(DAXCTL, UDEVADM)):
        FakeSys.__init__(self, root)
        self.fs = KernelFS(self.root, self)
        self.nodes = {}       # node: (cpulist, kB of boot memory)
        self.tiers = {}       # tier: set of nodes
        self.devices = {}     # dax device: {path, node, resource, size}
        self.file("/proc/sys/kernel/osrelease", release + "\n")
        self.attrs(MEMORY, {"block_size_bytes": "%x" % BLOCK, "auto_online_blocks": auto_online})
        self.attrs("/sys/kernel/mm/numa", {"demotion_enabled": "false"})
        self.attrs("/proc/sys/kernel", {"numa_balancing": "1"})
        if promote_rate_limit is not None:
            self.attrs("/proc/sys/kernel", {"numa_balancing_promote_rate_limit_MBps": promote_rate_limit})
        self.file("/proc/vmstat", "nr_free_pages 1000\npgdemote_kswapd 0\npgdemote_direct 0\npgpromote_success 0\n"
                                  "pgpromote_candidate 0\npgsteal_kswapd 5\n")
        if rule is not None:
            self.file("/usr/lib/udev/rules.d/90-daxctl-device.rules", rule)
        for tool in tools:
            self.file(tool, "", mode=0o755)
        for directory in ("/etc/sysctl.d", "/etc/tmpfiles.d", "/etc/udev/rules.d", "/sys/bus/dax/drivers/kmem",
                          "/sys/bus/dax/drivers/device_dax"):
            self.dir(directory)
        if DAXCTL in tools:
            self.file("/etc/daxctl.conf.d/daxctl.example.conf",
                      "# [reconfigure-device unique_identifier_foo]\n# nvdimm.uuid=%s\n# mode = system-ram\n"
                      % NVDIMM_UUID)
        self.node(0, cpus="0-1", mem_kb=1536 * 1024)
        self.tier(DRAM_TIER, [0])

    # -- NUMA nodes and tiers ------------------------------------------------------------------------
    def node(self, node, cpus="", mem_kb=0):
        self.nodes[node] = (cpus, mem_kb)
        self.file("%s/node%d/cpulist" % (NODES, node), cpus + "\n")
        self.file(NODES + "/online", ",".join(str(n) for n in sorted(self.nodes)) + "\n")
        self.meminfo(node)

    def meminfo(self, node):
        online = [name for name in os.listdir(self.real("%s/node%d" % (NODES, node))) if name.startswith("memory")
                  and self.fs.read("%s/%s/state" % (MEMORY, name)) == "online"]
        total = self.nodes[node][1] + len(online) * BLOCK // 1024
        self.file("%s/node%d/meminfo" % (NODES, node), "Node %d MemTotal:       %d kB\nNode %d MemFree:        0 kB\n"
                  % (node, total, node))
        return total

    def tier(self, tier, nodes):
        self.tiers.setdefault(tier, set()).update(nodes)
        self._write_tiers()

    def _write_tiers(self):
        for tier, nodes in list(self.tiers.items()):
            path = self.real("%s/memory_tier%d" % (TIERS, tier))
            if not nodes:
                del self.tiers[tier]
                shutil.rmtree(path, ignore_errors=True)
            else:
                self.file("%s/memory_tier%d/nodelist" % (TIERS, tier), ",".join(str(n) for n in sorted(nodes)) + "\n")

    def tier_of(self, node):
        return next((tier for tier, nodes in self.tiers.items() if node in nodes), None)

    # -- dax devices ---------------------------------------------------------------------------------
    def nvdimm_dax(self, region=0, index=0, size=GiB, resource=0x180000000, node=2, uuid=NVDIMM_UUID,
                   mode="devdax", zone="Movable", offline=0):
        """A devdax namespace of an NVDIMM region and its dax device daxR.I on CPU-less node ``node``."""
        if node not in self.nodes:
            self.node(node)
        nd = "/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0/region%d/dax%d.%d" % (region, region, index)
        self.attrs(nd, {"uuid": uuid, "namespace": "namespace%d.%d" % (region, index), "mode": "devdax"})
        self.file("/sys/bus/nd/devices/namespace%d.%d/uuid" % (region, index), "1c2d3e4f-0000-4000-8000-00000000000%d\n"
                  % index)
        return self._dax("dax%d.%d" % (region, index), nd, size, resource, node, mode, zone, offline)

    def cxl_ram_region(self, region=0, memdev=0, size=256 * MiB, resource=0x390000000, node=2, mode="system-ram",
                       zone="Movable", offline=0, release_has_mode=True):
        """A CXL memory device behind endpoint2 and a committed RAM region with its dax device dax<region>.0."""
        if node not in self.nodes:
            self.node(node)
        root = "/sys/devices/platform/ACPI0017:00/root0"
        mem = "/sys/devices/pci0000:0c/0000:0c:00.0/0000:0d:00.0/mem%d" % memdev
        self.attrs(mem, {"ram/size": "0x%x" % size, "pmem/size": "0x0", "serial": "0x0", "numa_node": "0",
                         "firmware_version": "BWFW VERSION 00"})
        self.link("/sys/bus/cxl/devices/mem%d" % memdev, mem)
        endpoint = "%s/port1/endpoint2" % root
        self.dir(endpoint)
        self.link(endpoint + "/uport", mem)
        self.link("/sys/bus/cxl/devices/endpoint2", endpoint)
        self.attrs(endpoint + "/decoder2.0", {"mode": "ram", "dpa_size": "0x%x" % size})
        self.link("/sys/bus/cxl/devices/decoder2.0", endpoint + "/decoder2.0")
        path = "%s/decoder0.0/region%d" % (root, region)
        attrs = {"uuid": "", "size": "0x%x" % size, "resource": "0x%x" % resource, "commit": "1",
                 "interleave_ways": "1", "interleave_granularity": "256", "target0": "decoder2.0"}
        if release_has_mode:
            attrs["mode"] = "ram"
        self.attrs(path, attrs)
        self.link("/sys/bus/cxl/devices/region%d" % region, path)
        self.attrs("%s/dax_region%d/dax_region" % (path, region), {"id": region, "size": size, "align": 2 * MiB})
        self.link("/sys/bus/cxl/devices/dax_region%d" % region, "%s/dax_region%d" % (path, region))
        return self._dax("dax%d.0" % region, "%s/dax_region%d" % (path, region), size, resource, node, mode, zone,
                         offline)

    def _dax(self, name, parent, size, resource, node, mode, zone, offline):
        path = "%s/%s" % (parent, name)
        self.attrs(path, {"size": size, "target_node": node, "numa_node": 0, "resource": "0x%x" % resource,
                          "align": 2 * MiB, "modalias": "dax:t0-"})
        self.link("/sys/bus/dax/devices/" + name, path)
        self.devices[name] = {"path": path, "node": node, "resource": resource, "size": size}
        self.bind(name, "kmem" if mode == "system-ram" else "device_dax")
        if mode == "system-ram":
            self.add_blocks(name)
            names = self.block_names(name)
            for block in names[:len(names) - offline]:  # the last ``offline`` blocks stay offline
                self.online_block(block, zone)
        return name

    def seed(self, name, parent_device):
        """A dax device of size 0 beside another (the seed of a dynamic dax region)."""
        parent = self.devices[parent_device]["path"].rsplit("/", 1)[0]
        self.attrs("%s/%s" % (parent, name), {"size": 0, "target_node": 2, "resource": "0x0"})
        self.link("/sys/bus/dax/devices/" + name, "%s/%s" % (parent, name))

    def bind(self, name, driver):
        link = self.real(self.devices[name]["path"] + "/driver")
        if os.path.lexists(link):
            os.unlink(link)
        self.link(self.devices[name]["path"] + "/driver", "/sys/bus/dax/drivers/%s" % driver)

    def block_names(self, name):
        device = self.devices[name]
        first = device["resource"] // BLOCK
        return ["memory%d" % index for index in range(first, first + device["size"] // BLOCK)]

    def add_blocks(self, name):
        node = self.devices[name]["node"]
        for block in self.block_names(name):
            self.attrs("%s/%s" % (MEMORY, block), {"state": "offline", "phys_index": "%08x" % int(block[6:]),
                                                   "valid_zones": "Normal Movable", "removable": "1"})
            self.link("%s/node%d/%s" % (NODES, node, block), "%s/%s" % (MEMORY, block))

    def remove_blocks(self, name):
        node = self.devices[name]["node"]
        for block in self.block_names(name):
            shutil.rmtree(self.real("%s/%s" % (MEMORY, block)), ignore_errors=True)
            if os.path.lexists(self.real("%s/node%d/%s" % (NODES, node, block))):
                os.unlink(self.real("%s/node%d/%s" % (NODES, node, block)))
        self.settle(node)

    def online_block(self, block, zone):
        self.attrs("%s/%s" % (MEMORY, block), {"state": "online", "valid_zones": zone})
        self.settle(self.node_of(block))

    def offline_block(self, block):
        self.attrs("%s/%s" % (MEMORY, block), {"state": "offline", "valid_zones": "Normal Movable"})
        self.settle(self.node_of(block))

    def node_of(self, block):
        return next(device["node"] for name, device in self.devices.items() if block in self.block_names(name))

    def settle(self, node):
        """The node's MemTotal, and its tier: the dax tier while it has memory online and no other tier."""
        total = self.meminfo(node)
        if total and self.tier_of(node) is None:
            self.tier(DAX_TIER, [node])
        elif not total and self.tier_of(node) == DAX_TIER:
            self.tiers[DAX_TIER].discard(node)
            self._write_tiers()

    def blocks(self, name):
        """[(block, state, zone)] of a device, as the kernel shows them."""
        return [(block, self.fs.read("%s/%s/state" % (MEMORY, block)), self.fs.read("%s/%s/valid_zones" % (MEMORY, block)))
                for block in self.block_names(name) if self.fs.exists("%s/%s/state" % (MEMORY, block))]

    def driver(self, name):
        return os.readlink(self.real(self.devices[name]["path"] + "/driver")).rsplit("/", 1)[-1]

    def snapshot(self):
        """Every directory, file (text and mode) and symlink (target) under the root."""
        tree = {}
        for directory, dirs, names in os.walk(self.root):
            for name in dirs + names:
                real = os.path.join(directory, name)
                key = os.path.relpath(real, self.root)
                if os.path.islink(real):
                    tree[key] = ("->", os.readlink(real))
                elif os.path.isdir(real):
                    tree[key] = None
                else:
                    with open(real) as handle:
                        tree[key] = (handle.read(), os.stat(real).st_mode & 0o7777)
        return tree


class FakeDaxctl:
    """run_command for daxctl and udevadm over a FakeMemoryHost; records every call.

    ``fail`` holds word tuples: a call fails when it has every word of one of them (the command by its
    base name), such as ("offline-memory",) or ("reconfigure-device", "--mode=devdax"); with ``fail_once``
    each tuple fails one call only. ``auto_zone``
    makes the kernel online new memory in that zone whatever daxctl asks (a race with another agent).
    """

    def __init__(self, host):
        self.host = host
        self.calls = []
        self.fail = []
        self.fail_once = False  # each entry fails one call only
        self.auto_zone = None

    def __call__(self, args, check_rc=False, data=None, environ_update=None):
        assert environ_update["LANG"] == "C"
        self.calls.append(list(args))
        words = [args[0].rsplit("/", 1)[-1]] + list(args[1:])
        failing = [entry for entry in self.fail if all(word in words for word in entry)]
        if failing:
            if self.fail_once:
                self.fail.remove(failing[0])
            return 1, "", "%s: failed: Device or resource busy\n" % args[-1]
        if args[0] == UDEVADM:
            return 0, "", ""
        assert args[0] == DAXCTL, args
        command, device, flags = args[1], args[-1], args[2:-1]
        return getattr(self, command.replace("-", "_"))(device, flags)

    def names(self):
        return [" ".join(call[1:]) if call[0] == DAXCTL else "udevadm " + " ".join(call[1:]) for call in self.calls]

    def reconfigure_device(self, device, flags):
        host = self.host
        policy = host.fs.read(MEMORY + "/auto_online_blocks")
        if "--mode=devdax" in flags:
            if any(state == "online" for _b, state, _z in host.blocks(device)) and "--force" not in flags:
                return 1, "", "%s: memory is online, use --force" % device
            for block in host.block_names(device):
                if host.fs.exists("%s/%s" % (MEMORY, block)):
                    host.offline_block(block)
            host.remove_blocks(device)
            host.bind(device, "device_dax")
            return 0, '[{"chardev":"%s","mode":"devdax"}]\n' % device, "reconfigured 1 device\n"
        movable = "--no-movable" not in flags
        if movable and "--force" not in flags and policy.startswith("online"):
            return 1, "", "%s: error: kernel policy will auto-online memory, aborting\n" % device
        if host.driver(device) != "kmem":
            host.bind(device, "kmem")
            host.add_blocks(device)
            if policy.startswith("online") or self.auto_zone:
                zone = self.auto_zone or ("Movable" if policy == "online_movable" else "Normal")
                for block in host.block_names(device):
                    host.online_block(block, zone)
        return self.online_memory(device, flags)

    def online_memory(self, device, flags):
        zone = "Normal" if "--no-movable" in flags else "Movable"
        for block, state, _zone in self.host.blocks(device):
            if state != "online":
                self.host.online_block(block, zone)
        return 0, '[{"chardev":"%s","mode":"system-ram"}]\n' % device, "onlined memory for 1 device\n"

    def offline_memory(self, device, flags):
        for block, state, _zone in self.host.blocks(device):
            if state == "online":
                self.host.offline_block(block)
        return 0, "", "offlined memory for 1 device\n"
