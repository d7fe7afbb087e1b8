#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sysctl_tuning
short_description: Apply a set of kernel parameters (sysctl) live and at boot through one sysctl.d drop-in
version_added: 0.1.0
description:
  - Applies a whole set of kernel parameters in one call, for example the network tuning of NVMe/TCP hosts.
    They are set live and written to one drop-in file, C(/etc/sysctl.d/<name>.conf), which
    C(systemd-sysctl.service) applies at every boot.
  - Files in C(sysctl.d) are applied in lexical order of their names, and a later file overrides an earlier one
    for the same key, so the leading number of O(name) decides which file wins (C(/etc/sysctl.conf) and
    C(99-sysctl.conf) come last on most distributions).
  - Every key must exist on this kernel (under C(/proc/sys)) and be readable and writable. Invalid keys and values
    (such as values with line breaks), unknown keys, and read-only or write-only keys are refused with nothing
    changed; the error names every key with that problem, not only the first.
  - Only the values that differ are written live, directly to C(/proc/sys) (the C(sysctl) command is not used).
    Values are compared with every run of whitespace made one space, so C(4096 87380 16777216) matches the
    tab-separated way the kernel prints C(net.ipv4.tcp_rmem).
  - Atomic. If the kernel refuses a value (for example an unknown C(net.core.default_qdisc)), the error names the
    key and the value, the values this call already wrote are set back, and the drop-in is not written.
  - The drop-in lists the keys sorted by name under a comment saying it is managed, the same bytes for the same
    settings whatever their order; it is rewritten only when its text differs. Live values are written in the
    same order.
  - On the first apply, the values that were live before are recorded in C(/etc/nvmeof-fleet/sysctl/<name>.json)
    (mode 0600, directories 0700). A key added to the set later gets the value it had before that apply recorded
    then; a recorded value is never replaced, so the record holds the values from before the collection
    changed anything. Keys removed from O(settings) keep their record and their live value.
  - V(state=absent) removes the drop-in and the record. The values stay live as they are until the next boot,
    unless O(restore=true).
  - C(net.core.default_qdisc) only applies to qdiscs created after it is set. O(reapply_qdisc_interfaces) makes
    the kernel attach the new default on the listed interfaces now.
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
requirements:
  - the C(tc) command (iproute2) for O(reapply_qdisc_interfaces)
extends_documentation_fragment:
  - nvmeof.fleet.attributes
options:
  name:
    description:
      - Name of the drop-in, without C(.conf); letters, digits, C(.), C(_) and C(-), not starting with C(.).
      - The file is C(/etc/sysctl.d/<name>.conf).
    type: str
    required: true
  settings:
    description:
      - The kernel parameters of the drop-in, exactly; a key is a parameter name such as C(net.ipv4.tcp_ecn).
      - As with sysctl, when the first separator of a key is a dot, a slash stands for a dot inside a name
        (C(net.ipv4.conf.eth0/100.rp_filter) is C(/proc/sys/net/ipv4/conf/eth0.100/rp_filter)).
      - A value is a string, an integer, a boolean (written as V(1) or V(0)) or, for keys that take several numbers,
        a list or a string with the numbers separated by spaces.
      - Required, not empty, with V(state=present); ignored with V(state=absent).
    type: dict
    default: {}
  state:
    description:
      - V(present) applies O(settings) live and writes the drop-in; V(absent) removes the drop-in and the record.
    type: str
    choices: [present, absent]
    default: present
  restore:
    description:
      - With V(state=absent), also write back live the values recorded from before the first apply. Keys no longer
        on this host (such as those of a removed interface) are skipped with a warning.
    type: bool
    default: false
  reapply_qdisc_interfaces:
    description:
      - Network interfaces whose qdiscs the kernel attaches again after the call, so that they follow the
        C(net.core.default_qdisc) this call sets (with V(state=present) it must be in O(settings), with V(state=absent)
        and O(restore=true) in the record).
      - On an interface whose qdiscs the kernel attached and whose kind differs from the default, the module
        replaces the root with a temporary C(pfifo) and deletes it; the kernel then attaches C(mq) with one default
        qdisc per queue on a multi-queue device, and the default qdisc itself otherwise. Packets queued on the
        interface at that moment are dropped (TCP sends them again).
      - Qdiscs configured explicitly (with a handle of their own, for example by C(tc) or a traffic shaper) are left
        alone and reported as V(kept); so are interfaces without a queue (V(noqueue)) and interfaces not yet up.
      - Every interface must exist (C(/sys/class/net/<name>)), else nothing is changed.
    type: list
    elements: str
    default: []
notes:
  - Run as root. In a container, most C(net.*) keys belong to the container's network namespace.
  - Values the kernel accepts but shows in another form (such as C(0x10) for C(16)) are reported in a warning,
    because every run would write them again.
seealso:
  - module: ansible.posix.sysctl
    description: One key at a time, in C(/etc/sysctl.conf) or a file of your choice.
"""

EXAMPLES = r"""
- name: NVMe/TCP network tuning, live and at boot
  nvmeof.fleet.sysctl_tuning:
    name: 90-nvmeof-fleet-network
    settings:
      net.core.default_qdisc: fq_codel
      net.ipv4.tcp_ecn: 1
      net.core.rmem_max: 16777216
      net.core.wmem_max: 16777216
      net.ipv4.tcp_rmem: 4096 87380 16777216
      net.ipv4.tcp_wmem: [4096, 65536, 16777216]
    reapply_qdisc_interfaces: [ens1f0, ens1f1]

- name: Latency profile (busy polling costs CPU on the whole host)
  nvmeof.fleet.sysctl_tuning:
    name: 91-nvmeof-fleet-latency
    settings:
      net.core.busy_poll: 10000
      net.core.busy_read: 10000

- name: Remove the latency profile and put back the values from before
  nvmeof.fleet.sysctl_tuning:
    name: 91-nvmeof-fleet-latency
    state: absent
    restore: true
"""

RETURN = r"""
settings:
  description:
    - Every key of the call with its live value before, the value after (in check mode, as it would be) and whether
      it was written. Values in compare form (whitespace runs as one space).
    - With V(state=absent), the restored keys (none without O(restore=true)).
  returned: always
  type: dict
  sample:
    net.ipv4.tcp_ecn: {before: "2", after: "1", changed: true}
    net.ipv4.tcp_rmem: {before: "4096 131072 6291456", after: "4096 87380 16777216", changed: true}
actions:
  description: What was done (or would be in check mode), in order.
  returned: always
  type: list
  elements: str
  sample:
    - write '1' to /proc/sys/net/ipv4/tcp_ecn
    - record the values before the first apply in /etc/nvmeof-fleet/sysctl/90-nvmeof-fleet-network.json
    - write /etc/sysctl.d/90-nvmeof-fleet-network.conf
file:
  description: Path of the drop-in.
  returned: always
  type: str
  sample: /etc/sysctl.d/90-nvmeof-fleet-network.conf
saved:
  description: Path of the record of the values from before the first apply; null with V(state=absent).
  returned: always
  type: str
  sample: /etc/nvmeof-fleet/sysctl/90-nvmeof-fleet-network.json
qdisc:
  description:
    - One entry per interface of O(reapply_qdisc_interfaces) with C(interface), C(before) and C(after) (C(fq_codel),
      or C(mq (fq_codel)) for a multi-queue root and the kinds of its children), C(action) (V(reapplied),
      V(unchanged) or V(kept)), C(changed) and C(reason).
  returned: always
  type: list
  elements: dict
  sample:
    - {interface: ens1f0, before: mq (pfifo_fast), after: mq (fq_codel), action: reapplied, changed: true,
       reason: qdiscs attached before net.core.default_qdisc was fq_codel}
diff:
  description:
    - Two differences, each with C(before), C(after) and their headers, the live values by key and the text of
      the drop-in.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.module_job import finish
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.sysctl_tuning import ARGUMENT_SPEC, SysctlError, apply


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    fs = HostFS()
    finish(module, lambda: apply(fs, CommandRunner(module.run_command), module.params,
                                 check_mode=module.check_mode), (SysctlError,), lock_fs=fs)


if __name__ == "__main__":
    main()
