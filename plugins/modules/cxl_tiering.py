#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cxl_tiering
short_description: CXL and NVDIMM memory as a lower memory tier, with demotion and NUMA balancing
version_added: 0.1.0
description:
  - Turns the memory of CXL Type 3 expanders and NVDIMM namespaces (dax devices) into a slower tier of RAM that
    Linux demotes cold pages to, in one call, and reports the host's memory layout.
  - Always returns, in check mode too, the CXL memory devices and regions (none on a host without
    C(/sys/bus/cxl)), every dax device with its mode, where it comes from and its memory blocks, the NUMA nodes
    with their memory tier, the memory tiers (C(/sys/devices/virtual/memory_tiering/memory_tierN), a higher N is
    slower), the nodes of the lower tiers, the tiering knobs and the C(pgdemote_*) and C(pgpromote_*) counters of
    C(/proc/vmstat).
  - O(dax_devices) are onlined as system RAM (the C(kmem) driver) in the zone O(zone). A device in devdax mode is
    reconfigured with C(daxctl reconfigure-device --mode=system-ram) (C(--no-movable) for V(normal)). A device in
    system-ram mode already, for example memory of a CXL RAM region that the kernel onlined by itself, is left
    alone when all its memory blocks are online in O(zone); blocks that are offline are onlined with
    C(daxctl online-memory). A device online in the other zone is refused, naming the device and both zones,
    unless O(allow_zone_change) lets C(daxctl offline-memory) and C(daxctl online-memory) move it. After daxctl
    the module checks that every memory block of the device is online in O(zone).
  - Where C(/sys/devices/system/memory/auto_online_blocks) makes the kernel online hot-added memory by itself,
    only the zone it picks can be had; V(online_movable) with O(zone=movable) runs daxctl with C(--force) (which
    daxctl otherwise demands), the other mismatches are refused before anything changes.
  - O(demotion), O(numa_balancing) and O(promote_rate_limit_mbps) are set live and at boot; the ones not given are
    left as they are, live and in the files. A knob this kernel does not have is refused, naming the option and the
    kernel release.
  - Memory tiering asked for (O(demotion=true), or O(numa_balancing) V(tiering) or V(normal_and_tiering)) on a host
    without a lower memory tier is refused before anything changes, naming the tiers found, unless
    O(require_lower_tier=false). The dax devices this call onlines count as lower tier, since memory onlined by
    C(kmem) lands in a lower tier than DRAM (C(memory_tier22) on Linux 6.1 and 6.12, with DRAM in C(memory_tier4)).
    A CPU-less NUMA node of plain RAM lands in the same tier as DRAM and does not count. The lower tiers are those
    numerically above the slowest tier that holds a node with CPUs.
  - What lasts across a reboot. C(kernel.numa_balancing) and C(kernel.numa_balancing_promote_rate_limit_MBps) are
    written to the sysctl.d drop-in C(/etc/sysctl.d/90-nvmeof-fleet-tiering.conf) (the format of
    M(nvmeof.fleet.sysctl_tuning)). C(demotion_enabled), which is not a sysctl, is written at boot by
    systemd-tmpfiles from C(/etc/tmpfiles.d/nvmeof-fleet-tiering.conf)
    (C(w /sys/kernel/mm/numa/demotion_enabled - - - - true)).
  - The onlining of a dax device that comes from an NVDIMM namespace is persisted with daxctl's own mechanism, a
    section in C(/etc/daxctl.conf.d/nvmeof-fleet-tiering.conf) (C([reconfigure-device nvmeof-fleet-<uuid>]) with
    C(nvdimm.uuid = <uuid>), C(mode = system-ram), C(online = true), C(movable = true) or C(false)), which
    C(daxctl reconfigure-device --check-config <device>) reads when udev sees the device appear. The uuid is the
    one C(ndctl list) shows for the devdax namespace. Sections of earlier calls for other devices stay. A section
    for the same uuid in another file of C(/etc/daxctl.conf.d) is refused, since daxctl would join both.
  - "Debian 12's daxctl (ndctl 76.1) installs C(/lib/udev/rules.d/90-daxctl-device.rules) with the command
    C(daxctl -C <device>), which daxctl refuses (C(Unknown option: -C)), so the config is never read there. Where
    that rule is installed, this module writes C(/etc/udev/rules.d/90-daxctl-device.rules), which takes its place,
    with C(daxctl reconfigure-device --check-config $kernel), and reloads udev's rules. A file of that name that this
    module did not write is left alone, with a warning. The rule runs daxctl from udev, as Debian's rule meant to;
    onlining a very large device can outlast udev's event timeout (180 seconds by default)."
  - A dax device with no NVDIMM uuid (one of a CXL region, or of EFI soft-reserved memory) cannot be named in the
    daxctl config, and this module does not persist its onlining; a warning says so. The kernel onlines the memory
    of a CXL RAM region by itself when the region is assembled, which at boot happens for regions the platform
    firmware sets up, in the zone C(auto_online_blocks) or C(memhp_default_state=) picks; a region created by hand
    (C(cxl create-region), sysfs) has to be created again after a reboot.
  - Atomic. If a step fails (daxctl, the kernel refusing a value, a file that cannot be written, daxctl leaving a
    device in another state than asked), what this call did is taken back, newest first, and the error says what
    failed and what was taken back (offlining memory can fail on a busy host; the error then says what is left).
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
requirements:
  - C(daxctl) (Debian package C(daxctl)) when O(dax_devices) is given
  - C(udevadm) to load a changed udev rule
extends_documentation_fragment:
  - nvmeof.fleet.attributes
options:
  dax_devices:
    description:
      - dax devices to online as system RAM, by name (C(dax0.0)) or glob pattern (C(dax*)). Devices of size 0 (the
        seeds of dynamic dax regions) never match.
      - A name or pattern that matches no device is refused, naming it.
    type: list
    elements: str
    default: []
  zone:
    description:
      - The memory zone of the memory of O(dax_devices).
      - V(movable) (ZONE_MOVABLE) holds only pages that can move, so the memory can be offlined again later;
        V(normal) lets the kernel use it for its own allocations too, which may keep it from going offline.
    type: str
    choices: [movable, normal]
    default: movable
  allow_zone_change:
    description:
      - Whether a device of O(dax_devices) that is online in the other zone may be offlined and onlined again in
        O(zone). Offlining has to move every page away first; it can fail or disturb a running host.
    type: bool
    default: false
  demotion:
    description:
      - Whether reclaim demotes cold pages to a lower memory tier instead of dropping or swapping them
        (C(/sys/kernel/mm/numa/demotion_enabled), Linux 5.15 and later).
      - Not given, it is left as it is.
    type: bool
  numa_balancing:
    description:
      - The NUMA balancing mode, C(kernel.numa_balancing). V(disabled) is 0, V(normal) 1 (moves pages to the node of
        the CPU that uses them), V(tiering) 2 (promotes hot pages of a lower tier to a faster one, Linux 5.18 and
        later), V(normal_and_tiering) 3.
      - Not given, it is left as it is.
    type: str
    choices: [disabled, normal, tiering, normal_and_tiering]
  promote_rate_limit_mbps:
    description:
      - At most how many MB/s the tiering mode of NUMA balancing promotes,
        C(kernel.numa_balancing_promote_rate_limit_MBps); from 0 to 2147483647.
      - Refused, naming the kernel release, on a kernel without it. Not given, it is left as it is.
    type: int
  require_lower_tier:
    description:
      - Whether memory tiering (O(demotion=true), or O(numa_balancing) with tiering) is refused on a host without a
        lower memory tier. V(false) applies it anyway, with a warning, for hosts where that is expected.
    type: bool
    default: true
  state:
    description:
      - V(present) applies the options; V(absent) removes the files of this module (the sysctl.d drop-in, the
        tmpfiles.d file, the daxctl config and the udev rule it wrote) and leaves the live values, and the memory
        online, as they are. With V(absent) the other options are ignored.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Run as root. The C(resource) of dax devices, which tells their memory blocks, is readable by root only.
  - This module does not give memory back, not even with O(state=absent); it offlines memory only to move it to
    O(zone) (O(allow_zone_change)) and to take back a failed call. Use C(daxctl offline-memory) and
    C(daxctl reconfigure-device --mode=devdax) to give it back.
seealso:
  - module: nvmeof.fleet.sysctl_tuning
    description: The same drop-in format for other kernel parameters.
"""

EXAMPLES = r"""
- name: Online the NVDIMM namespace as movable system RAM and turn on demotion and tiering NUMA balancing
  nvmeof.fleet.cxl_tiering:
    dax_devices: [dax0.0]
    demotion: true
    numa_balancing: normal_and_tiering
    promote_rate_limit_mbps: 256
  register: tiering

- name: Show the memory tiers
  ansible.builtin.debug:
    msg: "{{ tiering.memory_tiers }}, lower tier nodes {{ tiering.lower_tier_nodes }}"

- name: Every dax device, in zone normal, moving the ones onlined as movable
  nvmeof.fleet.cxl_tiering:
    dax_devices: ["dax*"]
    zone: normal
    allow_zone_change: true

- name: Tiering settings on a host that may have no lower tier yet
  nvmeof.fleet.cxl_tiering:
    demotion: true
    require_lower_tier: false

- name: Read the facts only (check mode changes nothing)
  nvmeof.fleet.cxl_tiering: {}
  check_mode: true
  register: memory

- name: Remove the files of this module (live values and online memory stay)
  nvmeof.fleet.cxl_tiering:
    state: absent
"""

RETURN = r"""
kernel_release:
  description: The running kernel.
  returned: always
  type: str
  sample: 6.12.9-amd64
cxl:
  description: CXL memory devices and regions; after this call (in check mode, as they are).
  returned: always
  type: dict
  contains:
    present:
      description: Whether the kernel has a CXL bus (C(/sys/bus/cxl)).
      type: bool
      returned: always
      sample: true
    memdevs:
      description:
        - The CXL memory devices C(memN) with C(ram_size) and C(pmem_size) in bytes, C(serial) and C(numa_node)
          (null when the platform gives none, C(-1)).
      type: list
      elements: dict
      returned: always
      sample:
        - {name: mem0, ram_size: 268435456, pmem_size: 0, serial: "0x0", numa_node: 0}
    regions:
      description:
        - The CXL regions C(regionN) with C(mode) (V(ram) or V(pmem); V(pmem) on Linux 6.1, which has no
          C(mode) attribute and only pmem regions), C(uuid) (pmem only), C(size) and C(resource) in bytes,
          C(committed), C(interleave_ways), C(targets) (endpoint decoders), C(memdevs) behind them,
          C(dax_region) (its dax region, for RAM regions) and the C(dax_devices) it feeds.
      type: list
      elements: dict
      returned: always
      sample:
        - {name: region0, mode: ram, uuid: null, size: 268435456, resource: 6710886400, committed: true,
           interleave_ways: 1, targets: [decoder2.0], memdevs: [mem0], dax_region: dax_region0,
           dax_devices: [dax0.0]}
dax_devices:
  description: Every dax device; after this call (in check mode, as it is).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The device.
      type: str
      returned: always
      sample: dax0.0
    size:
      description: Its capacity in bytes.
      type: int
      returned: always
      sample: 1073741824
    resource:
      description: Its physical start address; null when it cannot be read.
      type: int
      returned: always
      sample: 6442450944
    target_node:
      description: The NUMA node its memory joins as system RAM; null when none.
      type: int
      returned: always
      sample: 2
    driver:
      description: The driver it is bound to (V(kmem), V(device_dax)); null when none.
      type: str
      returned: always
      sample: kmem
    mode:
      description: V(system-ram) (C(kmem)), V(devdax) (C(device_dax)), V(unbound), or another driver's name.
      type: str
      returned: always
      sample: system-ram
    origin:
      description:
        - Where it comes from. C(type) is V(cxl) (a CXL region, C(cxl_region)), V(nvdimm) (an NVDIMM namespace
          in devdax mode, C(namespace), with C(nvdimm_uuid), the uuid daxctl's config matches; C(cxl_region) too
          when a CXL pmem region backs it) or V(other) (for example EFI soft-reserved memory).
      type: dict
      returned: always
      sample: {type: nvdimm, cxl_region: null, namespace: namespace0.0, nvdimm_uuid: 9a1c5b7e-4f1d-4d2b-8b0e-3c6f2d9e7a10}
    memory:
      description:
        - Its memory blocks in system-ram mode (none in devdax mode) - C(total), how many are C(online), the
          C(zones) of the online ones (such as V(Movable), V(Normal)) and the C(offline_blocks) by name.
      type: dict
      returned: always
      sample: {total: 8, online: 8, zones: [Movable], offline_blocks: []}
    selected:
      description: Whether O(dax_devices) named it.
      type: bool
      returned: always
      sample: true
    onlining:
      description:
        - What this call did to it (in check mode, would do) - V(none), V(reconfigure) (devdax to system-ram),
          V(online_blocks) (offline blocks onlined), V(reonline) (moved to O(zone)); null when not selected.
      type: str
      returned: always
      sample: reconfigure
    persisted:
      description: Whether the daxctl config onlines it at boot (after this call).
      type: bool
      returned: always
      sample: true
numa_nodes:
  description:
    - The NUMA nodes with C(online), C(cpus) (the kernel's list, empty for a CPU-less node), C(cpu_less),
      C(mem_total) in bytes and C(tier) (null for a node without memory); after this call.
  returned: always
  type: list
  elements: dict
  sample:
    - {node: 0, online: true, cpus: "0-1", cpu_less: false, mem_total: 1610612736, tier: 4}
    - {node: 2, online: true, cpus: "", cpu_less: true, mem_total: 1073741824, tier: 22}
memory_tiers:
  description: The kernel's memory tiers with their nodes, fastest first; after this call.
  returned: always
  type: list
  elements: dict
  sample:
    - {tier: 4, nodes: [0, 1]}
    - {tier: 22, nodes: [2]}
lower_tier_nodes:
  description: The memory nodes of the tiers below the slowest tier with CPUs, the demotion targets; after this call.
  returned: always
  type: list
  elements: int
  sample: [2]
expected_lower_tier_nodes:
  description:
    - The lower-tier nodes the check of O(require_lower_tier) counted before anything changed - those found plus
      the target nodes of the dax devices this call onlines that had no tier yet.
  returned: always
  type: list
  elements: int
  sample: [2]
knobs:
  description:
    - The tiering knobs, each with C(before) and C(after) this call (in check mode, as it would be); null for a knob
      this kernel does not have.
  returned: always
  type: dict
  contains:
    demotion_enabled:
      description: C(/sys/kernel/mm/numa/demotion_enabled).
      type: dict
      returned: always
      sample: {before: false, after: true}
    numa_balancing:
      description: C(kernel.numa_balancing) by name (V(disabled), V(normal), V(tiering), V(normal_and_tiering)).
      type: dict
      returned: always
      sample: {before: normal, after: normal_and_tiering}
    promote_rate_limit_mbps:
      description: C(kernel.numa_balancing_promote_rate_limit_MBps).
      type: dict
      returned: always
      sample: {before: 65536, after: 256}
vmstat:
  description: The C(pgdemote_*) and C(pgpromote_*) counters of C(/proc/vmstat), after this call.
  returned: always
  type: dict
  sample: {pgdemote_kswapd: 1024, pgdemote_direct: 0, pgpromote_success: 12}
files:
  description: The daxctl config, the udev rule, the sysctl.d drop-in and the tmpfiles.d file.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
      returned: always
      sample: /etc/daxctl.conf.d/nvmeof-fleet-tiering.conf
    present:
      description: Whether it exists after this call.
      type: bool
      returned: always
      sample: true
    changed:
      description: Whether this call wrote or removed it.
      type: bool
      returned: always
      sample: true
actions:
  description: What was done (or would be in check mode), in order.
  returned: always
  type: list
  elements: str
  sample:
    - run /usr/bin/daxctl reconfigure-device --mode=system-ram dax0.0
    - write 'true' to /sys/kernel/mm/numa/demotion_enabled (was false)
    - write '3' to /proc/sys/kernel/numa_balancing (was 1)
    - write /etc/daxctl.conf.d/nvmeof-fleet-tiering.conf
    - write /etc/udev/rules.d/90-daxctl-device.rules
    - write /etc/sysctl.d/90-nvmeof-fleet-tiering.conf
    - write /etc/tmpfiles.d/nvmeof-fleet-tiering.conf
    - run /usr/bin/udevadm control --reload
diff:
  description:
    - The live state of the knobs given and of the dax devices onlined, then the text of each file, each with
      C(before), C(after) and their headers.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.memory.cxl_tiering import ARGUMENT_SPEC, CxlTieringError, apply
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.module_job import finish


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    fs = HostFS()
    finish(module, lambda: apply(fs, CommandRunner(module.run_command), module.params,
                                 check_mode=module.check_mode), (CxlTieringError,), lock_fs=fs)


if __name__ == "__main__":
    main()
