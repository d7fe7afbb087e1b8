#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nvme_multipath
short_description: Native NVMe multipath and its I/O policies on an NVMe over Fabrics initiator
version_added: 0.1.0
description:
  - Turns Linux native NVMe multipath on or off and sets the I/O policy with which the kernel spreads I/O over
    the paths of each NVMe subsystem, live where the kernel allows it and at boot. Reports every multipath
    subsystem with its paths, their states and ANA states.
  - O(multipath) is the C(multipath) parameter of the kernel module C(nvme_core), which it reads once when it
    loads (C(/sys/module/nvme_core/parameters/multipath) shows it as V(Y) or V(N)). It is written to
    C(/etc/modprobe.d/nvmeof-fleet-multipath.conf) (C(options nvme_core multipath=Y)) and RV(reboot_required)
    says whether the live value differs; the module never reboots (use M(ansible.builtin.reboot)).
  - When C(nvme_core) is in the initramfs of the running kernel, the initramfs carries its own copy of
    C(/etc/modprobe.d), so it is rebuilt (C(update-initramfs -u -k <release>)) whenever this call writes or
    removes the modprobe.d file. The module looks into C(/boot/initrd.img-<release>) with C(lsinitramfs) to
    tell, because with Debian's C(MODULES=most) the module is included without being named in
    C(/etc/initramfs-tools/modules). Images of other installed kernels are not rebuilt.
  - When C(nvme_core) is built into the kernel (listed in C(modules.builtin); without a module index, when
    C(/sys/module/nvme_core) has no C(initstate)), modprobe.d does not apply to it and only the kernel command
    line (C(nvme_core.multipath=)) does, which this module does not edit. A live multipath that differs from
    O(multipath) is then refused; RV(multipath.persisted) is false.
  - O(iopolicy) is set live as C(nvme_core)'s default (C(/sys/module/nvme_core/parameters/iopolicy), which
    subsystems created later start with) and on every existing multipath subsystem that no entry of
    O(subsystems) matches (C(/sys/class/nvme-subsystem/nvme-subsysN/iopolicy)). It persists as
    C(options nvme_core iopolicy=...) in the modprobe.d file and in the udev rule
    C(/etc/udev/rules.d/71-nvmeof-fleet-iopolicy.rules), which sets the policy of each subsystem as it appears
    (C(ACTION=="add|change"), C(SUBSYSTEM=="nvme-subsystem"), C(ATTR{subsystype}=="nvm")).
  - The udev rule has one line for all subsystems (from O(iopolicy)) first, then one line per entry of
    O(subsystems) in their order; udev applies them in order and the last assignment wins, and the live values
    follow the same rule. After the rule changes, C(udevadm control --reload) loads it; no trigger is needed
    because the live values are written directly.
  - Every option is checked against the running kernel before anything changes (C(round-robin) needs Linux
    5.1, C(queue-depth) Linux 6.11, read from C(/proc/sys/kernel/osrelease)); the error names each option and
    value. The kernel refuses unknown policies too (C(EINVAL)).
  - Atomic. If a step fails (the kernel refuses a policy, a file cannot be written, C(update-initramfs) fails),
    what this call did is taken back, newest first, and the error says what failed and what was taken back.
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
requirements:
  - C(lsinitramfs) and C(update-initramfs) (initramfs-tools) where the initramfs holds C(nvme_core)
  - C(udevadm) to load a changed udev rule
extends_documentation_fragment:
  - nvmeof.fleet.attributes
options:
  multipath:
    description:
      - Whether native NVMe multipath is wanted (C(nvme_core) parameter C(multipath)).
      - Takes effect when C(nvme_core) loads next, normally at the next boot; see RV(reboot_required).
    type: bool
    default: true
  iopolicy:
    description:
      - The I/O policy of C(nvme_core) (the default of new subsystems) and of every multipath subsystem that no
        entry of O(subsystems) matches, live and at boot. Multipath subsystems are those of type C(nvm), local PCIe
        drives included; discovery subsystems are left alone.
      - V(numa) uses the path nearest to the submitting CPU, V(round-robin) (Linux 5.1+) alternates between the
        optimized paths, V(queue-depth) (Linux 6.11+) takes the path with the fewest outstanding requests.
      - Not given, the default policy and the subsystems no entry matches are left as they are.
    type: str
    choices: [numa, round-robin, queue-depth]
  subsystems:
    description:
      - I/O policies of particular subsystems, by NQN, live and in the udev rule.
      - When several entries match a subsystem, the last one wins.
    type: list
    elements: dict
    default: []
    suboptions:
      nqn:
        description:
          - An NQN, or a glob pattern of NQNs (C(*), C(?), C([...])) as udev matches them, such as
            C(nqn.2024-01.io.example:*). At most 223 bytes, without blanks, double quotes, backslashes and C(|).
        type: str
        required: true
      iopolicy:
        description: The I/O policy of the matching subsystems.
        type: str
        required: true
        choices: [numa, round-robin, queue-depth]
  state:
    description:
      - V(present) applies the options; V(absent) removes the modprobe.d file and the udev rule (and rebuilds the
        initramfs if it holds C(nvme_core)) and leaves the live values as they are.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Run as root.
  - The udev rule is not copied into the initramfs; subsystems connected before the root file system is mounted
    get their policy when udev replays the add events at boot.
seealso:
  - module: nvmeof.fleet.nvme_info
    description: The host's NVMe facts, read only.
  - module: ansible.builtin.reboot
    description: Reboot when RV(reboot_required) is true.
"""

EXAMPLES = r"""
- name: Native multipath with round-robin on every subsystem
  nvmeof.fleet.nvme_multipath:
    iopolicy: round-robin
  register: multipath

- name: Reboot for a changed multipath setting
  ansible.builtin.reboot:
  when: multipath.reboot_required

- name: Queue-depth for the database subsystems, round-robin for the others (Linux 6.11 and later)
  nvmeof.fleet.nvme_multipath:
    iopolicy: round-robin
    subsystems:
      - nqn: "nqn.2024-01.io.example:db-*"
        iopolicy: queue-depth

- name: Remove the files of this module (live values stay)
  nvmeof.fleet.nvme_multipath:
    state: absent
"""

RETURN = r"""
multipath:
  description: Native NVMe multipath.
  returned: always
  type: dict
  contains:
    live:
      description: The live value; null when C(nvme_core) is not loaded.
      type: bool
      returned: always
      sample: false
    wanted:
      description: O(multipath); null with V(state=absent).
      type: bool
      returned: always
      sample: true
    persisted:
      description:
        - Whether the wanted value applies when C(nvme_core) loads next (after this call, or as it would in
          check mode). False with V(state=absent) and when C(nvme_core) is built into the kernel.
      type: bool
      returned: always
      sample: true
    builtin:
      description: Whether C(nvme_core) is built into the kernel, where only the kernel command line sets it.
      type: bool
      returned: always
      sample: false
reboot_required:
  description:
    - Whether the live multipath value differs from O(multipath), so that it takes a reboot to apply.
    - False when C(nvme_core) is not loaded (it reads the file when it loads) and with V(state=absent).
  returned: always
  type: bool
  sample: true
default_iopolicy:
  description: The live default I/O policy of C(nvme_core); null when it is not loaded.
  returned: always
  type: dict
  contains:
    before:
      description: Before this call.
      type: str
      returned: always
      sample: numa
    after:
      description: After this call (in check mode, as it would be).
      type: str
      returned: always
      sample: round-robin
subsystems:
  description: Every multipath (C(nvm)) subsystem, with its I/O policy and its paths.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The kernel's name of the subsystem.
      type: str
      returned: always
      sample: nvme-subsys0
    nqn:
      description: The subsystem NQN.
      type: str
      returned: always
      sample: "nqn.2024-01.io.example:storage:vol1"
    iopolicy_before:
      description: The live I/O policy before this call.
      type: str
      returned: always
      sample: numa
    iopolicy:
      description: The live I/O policy after this call (in check mode, as it would be).
      type: str
      returned: always
      sample: round-robin
    paths:
      description:
        - One entry per path device (C(nvmeXcYnZ)) of each controller of the subsystem; a controller without
          namespaces has one entry whose C(device) is null.
        - C(controller), C(transport), C(address) and C(state) describe the controller; C(device), C(nsid),
          C(ana_grpid) and C(ana_state) (V(optimized), V(non-optimized), V(inaccessible), V(persistent-loss) or
          V(change); null without ANA) the path device.
      type: list
      elements: dict
      returned: always
      sample:
        - {controller: nvme0, transport: tcp, address: "traddr=192.0.2.10,trsvcid=4420,src_addr=192.0.2.21",
           state: live, device: nvme0c0n1, nsid: 1, ana_grpid: 1, ana_state: optimized}
initramfs:
  description: The initramfs of the running kernel, looked at only when the modprobe.d file changes.
  returned: always
  type: dict
  contains:
    image:
      description: Its path; null when there is none or it was not looked at.
      type: str
      returned: always
      sample: /boot/initrd.img-6.12.9-amd64
    contains_nvme_core:
      description: Whether it holds C(nvme_core); null when it was not looked at or could not be read.
      type: bool
      returned: always
      sample: true
    rebuilt:
      description: Whether it was rebuilt (in check mode, would be).
      type: bool
      returned: always
      sample: true
files:
  description: The modprobe.d file and the udev rule.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
      returned: always
      sample: /etc/modprobe.d/nvmeof-fleet-multipath.conf
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
    - write 'round-robin' to /sys/module/nvme_core/parameters/iopolicy (was numa)
    - write /etc/modprobe.d/nvmeof-fleet-multipath.conf
    - run /usr/sbin/update-initramfs -u -k 6.12.9-amd64
diff:
  description:
    - The live I/O policies by sysfs path, then the text of the modprobe.d file and of the udev rule, each with
      C(before), C(after) and their headers.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.module_job import finish
from ansible_collections.nvmeof.fleet.plugins.module_utils.multipath.nvme_multipath import (
    ARGUMENT_SPEC, NvmeMultipathError, apply)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    fs = HostFS()
    finish(module, lambda: apply(fs, CommandRunner(module.run_command), module.params,
                                 check_mode=module.check_mode), (NvmeMultipathError,), lock_fs=fs)


if __name__ == "__main__":
    main()
