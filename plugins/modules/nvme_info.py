#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nvme_info
short_description: Read the NVMe over Fabrics state of targets and initiators
version_added: 0.1.0
description:
  - Reports what a host looks like to NVMe over Fabrics, on either side, without changing anything.
  - V(kernel) reads the kernel release and, for the modules C(nvmet), C(nvmet_tcp), C(nvme_tcp), C(nvme_fabrics) and
    C(nvme_core), whether each is loaded (C(/sys/module/<name>) exists), built in (listed in C(modules.builtin)) or
    installed (listed in C(modules.dep) under C(/lib/modules/<release>)).
  - V(host) reads the host identity from C(/etc/nvme/hostnqn) and C(/etc/nvme/hostid) and checks that they agree.
  - V(target) reads the kernel target configuration under C(/sys/kernel/config/nvmet).
  - V(initiator) reads the connected fabrics controllers (C(/sys/class/nvme-fabrics/ctl)), the NVMe subsystems with
    every path, its state and ANA state (C(/sys/class/nvme-subsystem)), and the native multipath settings of
    C(nvme_core).
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
options:
  gather:
    description:
      - The parts to read; the others are left out of the result.
    type: list
    elements: str
    choices: [kernel, host, target, initiator]
    default: [kernel, host, target, initiator]
extends_documentation_fragment:
  - nvmeof.fleet.attributes.info_module
notes:
  - Reading is cheap; module files are looked up in C(modules.dep) rather than by walking C(/lib/modules).
  - DH-HMAC-CHAP secrets are never returned, only whether one is configured.
seealso:
  - name: Linux NVMe multipath
    description: The kernel's documentation of native NVMe multipath and its I/O policies.
    link: https://docs.kernel.org/admin-guide/nvme-multipath.html
"""

EXAMPLES = r"""
- name: Read the NVMe state of every storage host
  nvmeof.fleet.nvme_info:
  register: nvme

- name: Refuse hosts whose NQN and host ID disagree (cloned images)
  ansible.builtin.assert:
    that: nvme.host.problems | length == 0
    fail_msg: "{{ inventory_hostname }}: {{ nvme.host.problems | join('; ') }}"

- name: Refuse host NQNs that another initiator uses too
  ansible.builtin.assert:
    that: >-
      groups['nvme_initiators']
      | map('extract', hostvars, ['nvme', 'host', 'hostnqn'])
      | select('equalto', nvme.host.hostnqn) | list | length == 1
  when: inventory_hostname in groups['nvme_initiators']

- name: Check that targets can load the NVMe/TCP target modules
  ansible.builtin.assert:
    that:
      - nvme.kernel.modules.nvmet.available
      - nvme.kernel.modules.nvmet_tcp.available
  when: inventory_hostname in groups['nvme_targets']

- name: Read only the initiator side
  nvmeof.fleet.nvme_info:
    gather: [initiator]
  register: nvme_paths

- name: List the paths that are not live
  ansible.builtin.debug:
    msg: "{{ item.name }} to {{ item.traddr }}:{{ item.trsvcid }} is {{ item.state }}"
  loop: "{{ nvme_paths.initiator.subsystems | map(attribute='controllers') | flatten }}"
  loop_control:
    label: "{{ item.name }}"
  when: item.state != 'live'

- name: Count optimized paths per subsystem
  ansible.builtin.debug:
    msg: >-
      {{ item.nqn }}: {{ item.controllers | map(attribute='namespaces') | flatten
         | selectattr('ana_state', 'equalto', 'optimized') | list | length }} optimized paths
  loop: "{{ nvme_paths.initiator.subsystems }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
kernel:
  description: The running kernel and its NVMe over Fabrics modules.
  returned: when O(gather) contains V(kernel)
  type: dict
  contains:
    release:
      description: The kernel release, from C(/proc/sys/kernel/osrelease).
      type: str
      returned: always
      sample: 6.1.0-28-amd64
    module_index_found:
      description:
        - Whether C(/lib/modules/<release>/modules.dep) was found.
        - When false, RV(kernel.modules) can only report loaded modules; C(available) is false for every module that is
          not built in.
      type: bool
      returned: always
      sample: true
    modules:
      description: One entry per module, keyed by the name the kernel gives it in C(/sys/module).
      type: dict
      returned: always
      contains:
        nvmet:
          description: The NVMe target core.
          type: dict
          returned: always
          contains: &module_state
            loaded:
              description: C(/sys/module/<name>) exists (also true for built-in modules that have parameters).
              type: bool
              returned: always
            builtin:
              description: The module is built into the kernel (C(modules.builtin)).
              type: bool
              returned: always
            available:
              description: The module is built in or its file (C(.ko), C(.ko.xz), C(.ko.zst)) is listed in C(modules.dep).
              type: bool
              returned: always
            path:
              description: The module file, or V(null) when it is built in or not installed.
              type: str
              returned: always
              sample: /lib/modules/6.1.0-28-amd64/kernel/drivers/nvme/target/nvmet-tcp.ko
        nvmet_tcp:
          description: The NVMe/TCP target transport.
          type: dict
          returned: always
          contains: *module_state
        nvme_tcp:
          description: The NVMe/TCP host transport.
          type: dict
          returned: always
          contains: *module_state
        nvme_fabrics:
          description: The NVMe over Fabrics host core.
          type: dict
          returned: always
          contains: *module_state
        nvme_core:
          description: The NVMe host core (native multipath lives here).
          type: dict
          returned: always
          contains: *module_state
host:
  description: The host identity initiators present to targets.
  returned: when O(gather) contains V(host)
  type: dict
  contains:
    hostnqn:
      description: The host NQN from C(/etc/nvme/hostnqn), or V(null) when missing or empty.
      type: str
      returned: always
      sample: nqn.2014-08.org.nvmexpress:uuid:3a1f6e2c-8d0b-4f47-9e52-0c6f1b2a7d11
    hostid:
      description: The host ID from C(/etc/nvme/hostid), or V(null) when missing or empty.
      type: str
      returned: always
      sample: 3a1f6e2c-8d0b-4f47-9e52-0c6f1b2a7d11
    hostnqn_uuid:
      description: The UUID of a host NQN of the form C(nqn.2014-08.org.nvmexpress:uuid:<uuid>), in lower case, else V(null).
      type: str
      returned: always
      sample: 3a1f6e2c-8d0b-4f47-9e52-0c6f1b2a7d11
    ids_agree:
      description:
        - Whether the host ID equals the UUID in the host NQN.
        - V(null) when that cannot be told (a host NQN not of the UUID form, or a missing or invalid value).
      type: bool
      returned: always
      sample: true
    problems:
      description: What is wrong with the identity, in words; empty when nothing is.
      type: list
      elements: str
      returned: always
      sample:
        - host ID 0f9c... differs from the UUID in the host NQN (3a1f6e2c-8d0b-4f47-9e52-0c6f1b2a7d11)
target:
  description:
    - The kernel NVMe target (nvmet) configuration in configfs, in the same shape the C(nvmeof.fleet.nvmet_*) modules
      report.
    - DH-HMAC-CHAP keys are masked.
  returned: when O(gather) contains V(target)
  type: dict
  contains:
    available:
      description: Whether C(/sys/kernel/config/nvmet) exists (the C(nvmet) module is loaded and configfs is mounted).
      type: bool
      returned: always
      sample: true
    subsystems:
      description: The exported subsystems, by NQN.
      type: list
      elements: dict
      returned: always
      contains:
        nqn:
          description: The subsystem NQN.
          type: str
          returned: always
          sample: nqn.2024-01.io.example:storage:vol1
        state:
          description: V(present).
          type: str
          returned: always
          sample: present
        serial:
          description: The serial number the subsystem reports (C(attr_serial)), without padding.
          type: str
          returned: always
        model:
          description: The model number the subsystem reports (C(attr_model)).
          type: str
          returned: always
          sample: Linux
        allow_any_host:
          description: Whether any host may connect (C(attr_allow_any_host)); false means only RV(target.subsystems[].hosts).
          type: bool
          returned: always
        hosts:
          description: The hosts allowed to connect (C(allowed_hosts)).
          type: list
          elements: dict
          returned: always
          contains:
            nqn:
              description: The host NQN.
              type: str
              returned: always
            dhchap_key:
              description: V((hidden)) when the host has a DH-HMAC-CHAP key, else V(null).
              type: str
              returned: always
            dhchap_ctrl_key:
              description: V((hidden)) when the host has a controller (bidirectional) key, else V(null).
              type: str
              returned: always
            dhchap_hash:
              description: The DH-HMAC-CHAP hash, V(null) on kernels without target authentication.
              type: str
              returned: always
              sample: hmac(sha256)
            dhchap_dhgroup:
              description: The DH-HMAC-CHAP Diffie-Hellman group, V(null) on kernels without target authentication.
              type: str
              returned: always
              sample: "null"
        namespaces:
          description: The namespaces of the subsystem, by ID.
          type: list
          elements: dict
          returned: always
          contains:
            nsid:
              description: The namespace ID.
              type: int
              returned: always
              sample: 1
            device_path:
              description: The backing block device or file.
              type: str
              returned: always
              sample: /dev/vg0/vol1
            uuid:
              description: The namespace UUID (C(device_uuid)).
              type: str
              returned: always
            nguid:
              description: The namespace globally unique identifier (C(device_nguid)).
              type: str
              returned: always
            enabled:
              description: Whether the namespace is enabled.
              type: bool
              returned: always
            ana_group:
              description: The ANA group the namespace belongs to (C(ana_grpid)).
              type: int
              returned: always
              sample: 1
            buffered_io:
              description: Whether the target uses buffered I/O on the backing file or device.
              type: bool
              returned: always
        listeners:
          description: The ports this subsystem is linked to, with the same fields as RV(target.ports) but C(subsystems).
          type: list
          elements: dict
          returned: always
    ports:
      description: Every configured port, by ID, linked to subsystems or not.
      type: list
      elements: dict
      returned: always
      contains:
        port_id:
          description: The port ID (the directory name under C(ports/)).
          type: int
          returned: always
          sample: 1
        transport:
          description: The transport type (C(addr_trtype)).
          type: str
          returned: always
          sample: tcp
        address_family:
          description: The address family (C(addr_adrfam)).
          type: str
          returned: always
          sample: ipv4
        address:
          description: The listening address (C(addr_traddr)).
          type: str
          returned: always
          sample: 192.0.2.10
        service_id:
          description: The transport service ID, the TCP port for C(tcp) (C(addr_trsvcid)).
          type: int
          returned: always
          sample: 4420
        inline_data_size:
          description: The inline data size in bytes (C(param_inline_data_size)), where the kernel has it.
          type: int
          returned: always
        subsystems:
          description: The NQNs of the subsystems linked to the port.
          type: list
          elements: str
          returned: always
        ana_groups:
          description: The ANA groups of the port and their states.
          type: list
          elements: dict
          returned: always
          contains:
            group:
              description: The ANA group ID.
              type: int
              returned: always
              sample: 1
            state:
              description: V(optimized), V(non-optimized), V(inaccessible), V(persistent-loss) or V(change).
              type: str
              returned: always
              sample: optimized
    hosts:
      description: Every host defined under C(hosts/), by NQN.
      type: list
      elements: dict
      returned: always
      contains:
        nqn:
          description: The host NQN.
          type: str
          returned: always
        dhchap:
          description: Whether the host has a DH-HMAC-CHAP key.
          type: bool
          returned: always
initiator:
  description: The NVMe host side; empty lists when nothing is connected.
  returned: when O(gather) contains V(initiator)
  type: dict
  contains:
    multipath:
      description:
        - Whether native NVMe multipath is on (C(/sys/module/nvme_core/parameters/multipath)).
        - V(null) when C(nvme_core) is not loaded or was built without multipath support.
        - It can only change when C(nvme_core) is loaded, that is at boot for most hosts.
      type: bool
      returned: always
      sample: true
    default_iopolicy:
      description:
        - The I/O policy given to subsystems that appear from now on (C(/sys/module/nvme_core/parameters/iopolicy)).
        - V(numa), V(round-robin), or V(queue-depth) (Linux 6.11 and later); V(null) without multipath support.
      type: str
      returned: always
      sample: numa
    controllers:
      description: The fabrics controllers (connections), from C(/sys/class/nvme-fabrics/ctl), in instance order.
      type: list
      elements: dict
      returned: always
      contains:
        name:
          description: The controller device name.
          type: str
          returned: always
          sample: nvme0
        transport: &transport
          description: The transport, V(tcp), V(rdma), V(fc), V(loop) (V(pcie) for local drives in RV(initiator.subsystems)).
          type: str
          returned: always
          sample: tcp
        address: &address
          description:
            - The kernel's address string, lines joined by commas; for PCIe controllers the PCI address.
            - V(null) for transports without one.
          type: str
          returned: always
          sample: traddr=192.0.2.10,trsvcid=4420,src_addr=192.0.2.21
        traddr: &traddr
          description: The target address from RV(initiator.controllers[].address).
          type: str
          returned: always
          sample: 192.0.2.10
        trsvcid: &trsvcid
          description: The target service ID (TCP port).
          type: str
          returned: always
          sample: "4420"
        host_traddr: &host_traddr
          description: The local address the connection was asked to use, if one was given.
          type: str
          returned: always
        host_iface: &host_iface
          description: The local interface the connection was asked to use, if one was given.
          type: str
          returned: always
        src_addr: &src_addr
          description:
            - The local address in use (TCP only); shown by the kernel only while the admin queue is connected.
          type: str
          returned: always
          sample: 192.0.2.21
        state: &ctrl_state
          description: >-
            The controller state: V(new), V(live), V(resetting), V(connecting), V(deleting),
            V(deleting (no IO)) or V(dead).
          type: str
          returned: always
          sample: live
        subsysnqn:
          description: The NQN of the subsystem the controller belongs to.
          type: str
          returned: always
          sample: nqn.2024-01.io.example:storage:vol1
        hostnqn:
          description: The host NQN the connection was made with.
          type: str
          returned: always
        hostid:
          description: The host ID the connection was made with.
          type: str
          returned: always
        cntlid:
          description: The controller ID the target assigned.
          type: int
          returned: always
          sample: 1
        cntrltype:
          description: V(io), V(discovery) or V(admin), where the kernel shows it.
          type: str
          returned: always
          sample: io
        model:
          description: The model number the controller reports.
          type: str
          returned: always
          sample: Linux
        serial:
          description: The serial number the controller reports.
          type: str
          returned: always
        firmware_rev:
          description: The firmware revision the controller reports.
          type: str
          returned: always
        numa_node:
          description: The NUMA node of the controller (V(-1) for none).
          type: int
          returned: always
        dhchap_secret_set:
          description: Whether the connection has a host DH-HMAC-CHAP secret; V(null) where the kernel lacks authentication.
          type: bool
          returned: always
        dhchap_ctrl_secret_set:
          description: Whether the connection has a controller (bidirectional) DH-HMAC-CHAP secret.
          type: bool
          returned: always
        options:
          description: The connection settings sysfs shows; a key is left out when the kernel does not show it.
          type: dict
          returned: always
          contains:
            ctrl_loss_tmo:
              description: Seconds of reconnect attempts before the controller is removed; V(-1) for forever.
              type: int
              returned: when shown
              sample: 600
            reconnect_delay:
              description: Seconds between reconnect attempts.
              type: int
              returned: when shown
              sample: 10
            fast_io_fail_tmo:
              description: Seconds after which I/O fails while reconnecting; V(-1) when off.
              type: int
              returned: when shown
              sample: -1
            kato:
              description: The keep-alive timeout in seconds.
              type: int
              returned: when shown
              sample: 5
            queue_count:
              description: The number of queues, the admin queue included.
              type: int
              returned: when shown
              sample: 5
            sqsize:
              description: The size of the I/O submission queues.
              type: int
              returned: when shown
              sample: 127
    subsystems:
      description: The NVMe subsystems this host sees, fabrics and local (PCIe), from C(/sys/class/nvme-subsystem).
      type: list
      elements: dict
      returned: always
      contains:
        name:
          description: The subsystem device name.
          type: str
          returned: always
          sample: nvme-subsys0
        nqn:
          description: The subsystem NQN.
          type: str
          returned: always
          sample: nqn.2024-01.io.example:storage:vol1
        model:
          description: The model number, without padding.
          type: str
          returned: always
        serial:
          description: The serial number, without padding.
          type: str
          returned: always
        firmware_rev:
          description: The firmware revision.
          type: str
          returned: always
        subsystype:
          description: V(nvm) or V(discovery).
          type: str
          returned: always
          sample: nvm
        iopolicy:
          description: The multipath I/O policy of this subsystem; V(null) without multipath support.
          type: str
          returned: always
          sample: round-robin
        namespaces:
          description:
            - The multipath namespace heads (the C(/dev/nvmeXnY) devices I/O goes to).
            - Empty when native multipath is off; the namespaces are then in RV(initiator.subsystems[].controllers[].namespaces).
          type: list
          elements: dict
          returned: always
          contains:
            name:
              description: The block device name.
              type: str
              returned: always
              sample: nvme0n1
            nsid:
              description: The namespace ID.
              type: int
              returned: always
              sample: 1
            uuid:
              description: The namespace UUID (the NGUID when the namespace has no UUID), if it has either.
              type: str
              returned: always
            nguid:
              description: The namespace NGUID, if it has one.
              type: str
              returned: always
            wwid:
              description: The world wide identifier udev builds C(/dev/disk/by-id) names from.
              type: str
              returned: always
            size_bytes:
              description: The size in bytes.
              type: int
              returned: always
              sample: 10737418240
        controllers:
          description: The paths to the subsystem, one per controller.
          type: list
          elements: dict
          returned: always
          contains:
            name:
              description: The controller device name.
              type: str
              returned: always
              sample: nvme0
            transport: *transport
            address: *address
            traddr: *traddr
            trsvcid: *trsvcid
            host_traddr: *host_traddr
            host_iface: *host_iface
            src_addr: *src_addr
            state: *ctrl_state
            cntlid:
              description: The controller ID the target assigned.
              type: int
              returned: always
              sample: 1
            namespaces:
              description: The namespace devices below this controller, one per namespace it reaches.
              type: list
              elements: dict
              returned: always
              contains:
                name:
                  description: The device name, C(nvme<subsys>c<ctrl>n<ns>) for a multipath path, else C(nvme<ctrl>n<ns>).
                  type: str
                  returned: always
                  sample: nvme0c0n1
                nsid:
                  description: The namespace ID.
                  type: int
                  returned: always
                  sample: 1
                ana_grpid:
                  description: The ANA group of the namespace on this path; V(null) when the controller does not use ANA.
                  type: int
                  returned: always
                  sample: 1
                ana_state:
                  description:
                    - The ANA state of this path, V(optimized), V(non-optimized), V(inaccessible), V(persistent-loss) or
                      V(change).
                    - V(null) when the controller does not use ANA (native multipath off, or a target without ANA).
                  type: str
                  returned: always
                  sample: optimized
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.nvme_host import PARTS, gather


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gather=dict(type="list", elements="str", choices=list(PARTS), default=list(PARTS)),
        ),
        supports_check_mode=True,
    )
    try:
        facts = gather(HostFS(), module.params["gather"])
    except HostFSError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
