#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nvme_connect
short_description: Connect this host to NVMe/TCP subsystems, discover them, and keep the connections across reboots
version_added: 0.1.0
description:
  - Connects the host (an NVMe over Fabrics initiator) to one subsystem by NQN on one or more paths, or to what a
    discovery controller offers, through the kernel's own interface (C(/dev/nvme-fabrics)).
  - Idempotent from the live kernel state (C(/sys/class/nvme-fabrics/ctl)). A live path is left alone. A path that
    exists with other options is reported (RV(paths[].action=differs)) and changed only with
    O(replace_differing=true) - timeouts live through sysfs, other options by reconnecting that path.
  - O(state=absent) disconnects only the paths this call describes, never anything else on the host (a host may
    boot from another fabric).
  - O(state=discovered) only queries the discovery controller O(discovery) and returns its log entries.
  - With O(persist=true) the connection comes back at boot through nvme-cli's own mechanism, the
    C(nvmf-autoconnect) service. With nvme-cli 2.x (Debian 12) it is a managed block of C(/etc/nvme/discovery.conf),
    one line per endpoint, and C(nvme connect-all) then connects every subsystem that endpoint offers to this host.
    With nvme-cli 3.x it is the drop-in C(/etc/nvme/nvme-fabrics.conf.d/nvmeof-fleet.conf). The role
    C(nvmeof.fleet.initiator) makes the service run after the storage interfaces are up.
  - Ensures the host identity first. C(/etc/nvme/hostnqn) and C(/etc/nvme/hostid) exist and agree, or are set to
    O(hostnqn) and O(hostid), or are regenerated with O(regenerate_host_identity=true) (cloned images share them, and
    the kernel then refuses connects). A call with neither O(nqn) nor O(discovery) only does that.
  - A refused connect fails with the likely cause taken from the kernel's log, for example a host NQN the target
    does not allow, a wrong NQN, a closed port or an unreachable address. Paths this call connected before the
    failure are disconnected again.
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
requirements:
  - the C(nvme-tcp) kernel module loaded
  - nvme-cli for O(discovery) and O(persist=true) (role C(nvmeof.fleet.initiator) installs it)
extends_documentation_fragment:
  - nvmeof.fleet.attributes
options:
  nqn:
    description:
      - NQN of the subsystem to connect.
      - With O(discovery), only this subsystem of what the discovery controller offers.
    type: str
  paths:
    description: The paths to the subsystem, one per target address and service id.
    type: list
    elements: dict
    suboptions:
      address:
        description: Target address, IPv4 or IPv6.
        type: str
        required: true
      service_id:
        description: Target TCP port.
        type: int
        default: 4420
      transport:
        description: Transport; only NVMe/TCP.
        type: str
        choices: [tcp]
        default: tcp
      host_iface:
        description: Network interface of this host the path must use (for example the NIC of one storage network).
        type: str
      host_traddr:
        description: Source address of this host for the path.
        type: str
  discovery:
    description:
      - A discovery controller. With O(state=discovered), query it; otherwise connect what it offers to this host
        (only O(nqn) when given), on every path it lists.
      - Mutually exclusive with O(paths).
    type: dict
    suboptions:
      address:
        description: Discovery controller address.
        type: str
        required: true
      service_id:
        description: Its TCP port (a Linux target serves discovery on every listener port too).
        type: int
        default: 8009
      transport:
        description: Transport; only NVMe/TCP.
        type: str
        choices: [tcp]
        default: tcp
      host_iface:
        description: Network interface of this host to use.
        type: str
      host_traddr:
        description: Source address of this host to use.
        type: str
  state:
    description:
      - V(present) connects every path, V(absent) disconnects the described paths only,
        V(discovered) only queries O(discovery).
    type: str
    choices: [present, absent, discovered]
    default: present
  ctrl_loss_tmo:
    description: Seconds the kernel keeps reconnecting a lost path before giving up; V(-1) retries forever.
    type: int
  reconnect_delay:
    description: Seconds between reconnect attempts.
    type: int
  fast_io_fail_tmo:
    description: Seconds after which I/O on a lost path fails instead of waiting (V(-1) never); multipath then uses other paths.
    type: int
  keep_alive_tmo:
    description: Keep-alive timeout in seconds.
    type: int
  nr_io_queues:
    description: Number of I/O queues (the kernel caps it at the number of CPUs).
    type: int
  nr_poll_queues:
    description: Number of polling queues.
    type: int
  dhchap_secret:
    description:
      - DH-HMAC-CHAP secret of this host (C(DHHC-1:...), see C(nvme gen-dhchap-key)). Never logged or shown in diffs.
      - Refused before any change on a kernel without NVMe in-band authentication on the host (Debian 12's 6.1),
        which would otherwise connect unauthenticated wherever the target does not insist.
    type: str
  dhchap_ctrl_secret:
    description: DH-HMAC-CHAP secret of the controller, for bidirectional authentication. Never logged or shown in diffs.
    type: str
  tls:
    description:
      - Connect with NVMe/TCP TLS 1.3 (the kernel's C(tls) connect option), on every path.
      - Needs Linux 6.7 or later built with C(CONFIG_NVME_TCP_TLS), the kernel's C(.nvme) keyring with the
        pre-shared keys, and the C(tlshd) handshake daemon (ktls-utils) running; the call fails before any change,
        naming what is missing, where one of them is absent. nvme-cli 2.x cannot persist it (O(persist=false)).
      - Live paths are not checked for TLS; a path connected without it stays as it is.
    type: bool
    default: false
  replace_differing:
    description:
      - Change live paths whose options differ from the declared ones. Timeouts (O(ctrl_loss_tmo),
        O(reconnect_delay), O(fast_io_fail_tmo)) are changed live; other options reconnect the path, a short
        interruption of that path.
      - When false, such paths are left alone and reported.
    type: bool
    default: false
  persist:
    description: Make the connection come back at boot through nvme-cli's C(nvmf-autoconnect); V(false) for a connection of this boot only.
    type: bool
    default: true
  hostnqn:
    description: The host NQN this host must have (written to C(/etc/nvme/hostnqn)); by default the existing one is kept.
    type: str
  hostid:
    description: The host ID (a UUID) this host must have; by default the UUID of a uuid-form host NQN.
    type: str
  regenerate_host_identity:
    description:
      - Write a new random host NQN and host ID. Not idempotent, for a one-off run on cloned hosts; targets must then
        allow the new NQN. Connections already up keep the old identity until they reconnect.
    type: bool
    default: false
notes:
  - With nvme-cli 2.x, C(discovery.conf) cannot carry O(fast_io_fail_tmo) or DH-HMAC-CHAP secrets, and connections
    sharing an endpoint share its options; the module refuses such a persisted connection with nothing changed.
  - At boot, nvme-cli 2.x connects every subsystem that a persisted endpoint offers to this host. To keep a
    subsystem away for good, remove this host from the subsystem's allowed hosts on the target.
seealso:
  - module: nvmeof.fleet.nvme_info
  - module: nvmeof.fleet.nvmet_subsystem
"""

EXAMPLES = r"""
- name: Connect a database volume over two storage networks, retrying forever
  nvmeof.fleet.nvme_connect:
    nqn: nqn.2024-05.com.example:storage:db1
    paths:
      - {address: 192.0.2.10, host_iface: ens1f0}
      - {address: 198.51.100.10, host_iface: ens1f1}
    ctrl_loss_tmo: -1
    reconnect_delay: 5

- name: What does the discovery controller offer this host?
  nvmeof.fleet.nvme_connect:
    discovery: {address: 192.0.2.10, service_id: 8009}
    state: discovered
  register: offered

- name: Connect everything it offers, and again after every boot
  nvmeof.fleet.nvme_connect:
    discovery: {address: 192.0.2.10, service_id: 8009}

- name: Disconnect one path of a subsystem, and only that one
  nvmeof.fleet.nvme_connect:
    nqn: nqn.2024-05.com.example:storage:db1
    paths: [{address: 198.51.100.10, host_iface: ens1f1}]
    state: absent

- name: Give a cloned host its own identity, derived from its inventory name
  nvmeof.fleet.nvme_connect:
    hostnqn: "nqn.2014-08.org.nvmexpress:uuid:{{ inventory_hostname | ansible.builtin.to_uuid }}"
"""

RETURN = r"""
host:
  description: The host identity used (after any change).
  returned: always
  type: dict
  contains:
    hostnqn: {description: Host NQN., type: str, returned: always}
    hostid: {description: Host ID., type: str, returned: always}
    changed: {description: Whether the identity files were written (or would be in check mode)., type: bool, returned: always}
  sample: {hostnqn: "nqn.2014-08.org.nvmexpress:uuid:8ae91f10-eac8-5944-8fc9-0d07f409ce5c",
           hostid: 8ae91f10-eac8-5944-8fc9-0d07f409ce5c, changed: false}
paths:
  description:
    - Every declared path with what was done. C(action) is one of C(kept), C(connected), C(differs) (reported, not
      changed), C(updated) (timeouts set live), C(replaced), C(disconnected), C(absent) (nothing to disconnect).
    - C(controller) is the kernel's controller (C(nvme3)), null for a path connected in check mode.
  returned: always
  type: list
  elements: dict
  contains:
    nqn: {description: Subsystem NQN., type: str, returned: always}
    transport: {description: Transport., type: str, returned: always}
    address: {description: Target address., type: str, returned: always}
    service_id: {description: Target port., type: int, returned: always}
    host_iface: {description: "Host interface of the path, if declared.", type: str, returned: always}
    host_traddr: {description: "Host address of the path, if declared.", type: str, returned: always}
    action: {description: What was done to the path (see above)., type: str, returned: always}
    controller: {description: The kernel's controller of the path., type: str, returned: always}
    state: {description: "The controller's state after the call: C(live), C(connecting), C(resetting) or C(deleting).", type: str, returned: always}
    differences:
      description: For C(differs), C(updated) and C(replaced), each differing option with its C(live) and C(declared) value.
      type: dict
      returned: when options differ
  sample:
    - {nqn: "nqn.2024-05.com.example:storage:db1", transport: tcp, address: 192.0.2.10, service_id: 4420,
       host_iface: ens1f0, host_traddr: null, action: kept, controller: nvme1, state: live}
    - {nqn: "nqn.2024-05.com.example:storage:db1", transport: tcp, address: 198.51.100.10, service_id: 4420,
       host_iface: ens1f1, host_traddr: null, action: differs, controller: nvme2, state: live,
       differences: {keep_alive_tmo: {live: 5, declared: 15}}}
discovery_log:
  description: The discovery log entries (with O(discovery)), else null.
  returned: always
  type: list
  elements: dict
  sample:
    - {subtype: nvme subsystem, nqn: "nqn.2024-05.com.example:storage:db1", transport: tcp, address: 192.0.2.10,
       service_id: 4420, port_id: 1, address_family: ipv4, security: none}
persistence:
  description: Where the connection is kept for the boot (null with O(persist=false) or O(state=discovered)).
  returned: always
  type: dict
  sample: {file: /etc/nvme/discovery.conf, format: discovery.conf, record: "nqn.2024-05.com.example:storage:db1",
           changed: true}
actions:
  description: What was done (or would be in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["connect nqn.2024-05.com.example:storage:db1 on 192.0.2.10 port 4420 via ens1f0"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError, CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.host_lock import HostLockError, host_lock
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_persist import PersistError
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_reconcile import (
    NvmeConnectError, reconcile)
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_fabrics import KernelFabrics
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.names import SpecError

_ENDPOINT = dict(
    address=dict(type="str", required=True),
    transport=dict(type="str", choices=["tcp"], default="tcp"),
    host_iface=dict(type="str"),
    host_traddr=dict(type="str"),
)

ARGUMENT_SPEC = dict(
    nqn=dict(type="str"),
    paths=dict(type="list", elements="dict",
               options=dict(_ENDPOINT, service_id=dict(type="int", default=4420))),
    discovery=dict(type="dict", options=dict(_ENDPOINT, service_id=dict(type="int", default=8009))),
    state=dict(type="str", choices=["present", "absent", "discovered"], default="present"),
    ctrl_loss_tmo=dict(type="int"),
    reconnect_delay=dict(type="int"),
    fast_io_fail_tmo=dict(type="int"),
    keep_alive_tmo=dict(type="int"),
    nr_io_queues=dict(type="int"),
    nr_poll_queues=dict(type="int"),
    dhchap_secret=dict(type="str", no_log=True),
    dhchap_ctrl_secret=dict(type="str", no_log=True),
    tls=dict(type="bool", default=False),
    replace_differing=dict(type="bool", default=False),
    persist=dict(type="bool", default=True),
    hostnqn=dict(type="str"),
    hostid=dict(type="str"),
    regenerate_host_identity=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           mutually_exclusive=[("paths", "discovery")])
    fs = HostFS()
    try:
        with host_lock(fs, check_mode=module.check_mode):
            result = reconcile(fs, CommandRunner(module.run_command), KernelFabrics(fs), module.params,
                               check_mode=module.check_mode)
    except (SpecError, NvmeConnectError, PersistError, HostFSError, CommandError, HostLockError) as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
