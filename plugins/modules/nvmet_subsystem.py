#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nvmet_subsystem
short_description: Reconcile one kernel NVMe-oF target (nvmet) subsystem with its namespaces, listeners and hosts
version_added: 0.1.0
description:
  - Makes one subsystem of the Linux kernel NVMe target (C(/sys/kernel/config/nvmet)) match its declaration
    exactly, that is serial and model, namespaces, listeners (nvmet ports), allowed hosts with their DH-HMAC-CHAP keys,
    and ANA group states.
  - Reconciles instead of rebuilding. Only what differs is changed, so hosts that keep their access keep
    their connections. A namespace is disabled before its device or ids change and enabled again after.
  - A listener is an nvmet port shared by every subsystem on the same address and service id. The module
    finds the port serving a listener or creates one, and removes a port only when no subsystem uses it any
    more. Port parameters can only change while no subsystem is linked to the port, so the module unlinks,
    changes and relinks, touching only the ports that change.
  - Guards refuse, with nothing written, a backing device that is missing or already exported (by another
    nvmet namespace or by the LIO/iSCSI target), a listener address this host does not have, more than one
    allowed host unless O(cluster_aware=true), and changes that cut live connections unless
    O(allow_disruptive=true).
  - Atomic. If the kernel refuses a step, everything already done is undone and the target is back to its
    state before the call.
  - With O(persist=true) the applied subsystem is saved under O(config_dir) so that the restore service
    installed by role C(nvmeof.fleet.target) brings it back at boot.
  - Needs the C(nvmet) and C(nvmet-tcp) kernel modules loaded (role nvmeof.fleet.target loads them).
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
requirements:
  - the C(ip) command (iproute2)
extends_documentation_fragment:
  - nvmeof.fleet.attributes
options:
  nqn:
    description:
      - NVMe Qualified Name of the subsystem, C(nqn.yyyy-mm.reverse.domain:identifier) or
        C(nqn.2014-08.org.nvmexpress:uuid:<uuid>), at most 223 bytes.
      - The identifier may use letters, digits, C(.), C(_), C(:), C(+) and C(-).
    type: str
    required: true
  state:
    description:
      - V(present) makes the subsystem exist exactly as declared; V(absent) removes it with its namespaces,
        its links to ports and hosts, and the ports and hosts nothing else uses.
    type: str
    choices: [present, absent]
    default: present
  serial:
    description:
      - Serial number reported to hosts, 1 to 20 printable ASCII characters.
      - When not given, 20 hexadecimal digits derived from the NQN, stable across runs and different for
        every subsystem, so C(nvme list) and C(/dev/disk/by-id) names stay useful.
      - The kernel fixes serial and model once a host has identified the subsystem.
    type: str
  model:
    description:
      - Model number reported to hosts, 1 to 40 printable ASCII characters. When not given it is left as
        it is (the kernel's default is C(Linux)).
    type: str
  allow_any_host:
    description:
      - Admit every host that reaches a listener. Cannot be combined with O(hosts).
    type: bool
    default: false
  cluster_aware:
    description:
      - State that the consumer of the namespaces is cluster-aware (GFS2, OCFS2, clustered LVM, a cluster
        database), which is required for more than one entry in O(hosts). ext4 or xfs mounted on two hosts
        corrupts at once.
    type: bool
    default: false
  hosts:
    description:
      - Host NQNs allowed to connect, exactly; hosts not listed lose access.
      - Host entries are shared by all subsystems. DH-HMAC-CHAP options that are not given are left as
        they are on the host entry.
    type: list
    elements: dict
    default: []
    suboptions:
      nqn:
        description: Host NQN (as in the host's C(/etc/nvme/hostnqn)).
        type: str
        required: true
      dhchap_key:
        description:
          - DH-HMAC-CHAP secret of the host (C(DHHC-1:0N:<base64>:), see C(nvme gen-dhchap-key)).
          - Never shown in output or diff.
        type: str
      dhchap_ctrl_key:
        description:
          - DH-HMAC-CHAP secret of the controller, for bidirectional authentication. Needs O(hosts[].dhchap_key).
        type: str
      dhchap_hash:
        description: Hash for DH-HMAC-CHAP.
        type: str
        choices: ["hmac(sha256)", "hmac(sha384)", "hmac(sha512)"]
      dhchap_dhgroup:
        description: Diffie-Hellman group for DH-HMAC-CHAP.
        type: str
        choices: ["null", ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144, ffdhe8192]
  namespaces:
    description:
      - The namespaces of the subsystem, exactly; namespaces not listed are removed.
    type: list
    elements: dict
    default: []
    suboptions:
      nsid:
        description: Namespace id, 1 to 1024.
        type: int
        required: true
      device_path:
        description:
          - Backing block device or regular file. It must exist and must not be exported by another
            namespace or by the LIO target.
        type: path
        required: true
      uuid:
        description: Namespace UUID. Derived from the subsystem NQN and nsid when not given.
        type: str
      nguid:
        description: Namespace globally unique id (32 hexadecimal digits). Derived like O(namespaces[].uuid) when not given.
        type: str
      enabled:
        description: Whether hosts see the namespace.
        type: bool
        default: true
      ana_group:
        description: ANA group of the namespace, 1 to 128; its state is set per listener in O(listeners[].ana_groups).
        type: int
        default: 1
      buffered_io:
        description: Use the page cache for a file backing (C(buffered_io)).
        type: bool
        default: false
  listeners:
    description:
      - Where hosts reach the subsystem, exactly; the subsystem is unlinked from other ports.
    type: list
    elements: dict
    default: []
    suboptions:
      address:
        description: IPv4 or IPv6 address configured on this host (C(0.0.0.0) or C(::) listen on every address).
        type: str
        required: true
      service_id:
        description: TCP port.
        type: int
        default: 4420
      transport:
        description: Transport type.
        type: str
        choices: [tcp]
        default: tcp
      port_id:
        description:
          - Use this nvmet port id. Without it, the port serving the address and service id is used, or a
            new one with the lowest free id. With it, the port is moved to the address if it serves another.
        type: int
      inline_data_size:
        description: Port parameter C(param_inline_data_size) in bytes. Left as it is when not given.
        type: int
      tls:
        description:
          - Require NVMe/TCP TLS 1.3 on this listener (port attribute C(addr_tsas=tls1.3); the kernel then makes the
            secure channel C(required)).
          - Needs Linux 6.7 or later built with C(CONFIG_NVME_TARGET_TCP_TLS), the kernel's C(.nvme) keyring with
            the pre-shared keys, and the C(tlshd) handshake daemon (ktls-utils) running. The call fails before any
            change, naming what is missing, where one of them is absent (Debian 12's 6.1 kernel has no TLS; Debian
            12 has no ktls-utils package).
          - Every subsystem on one address and service id shares the port, so all of them must declare the same
            value. C(false) on a port that has TLS turns it off.
        type: bool
        default: false
      ana_groups:
        description:
          - ANA group states on this port, shared by every subsystem on the port. Groups not listed are
            left as they are.
          - The saved copy for the restore at boot holds the groups declared here, so declare every group
            a port needs in at least one subsystem that uses the port.
        type: list
        elements: dict
        default: []
        suboptions:
          group:
            description: ANA group id, 1 to 128.
            type: int
            required: true
          state:
            description: ANA state of the group on this port.
            type: str
            required: true
            choices: [optimized, non-optimized, inaccessible, persistent-loss, change]
  allow_disruptive:
    description:
      - Allow changes that cut live connections, refused otherwise. These are removing the subsystem, a
        namespace, an allowed host or a listener, and replacing a namespace's device or ids while
        hosts are connected, and changing a port's parameters while hosts use it.
      - The kernel does not tell which subsystem or host a connection belongs to, so every connection on
        a port linked to the subsystem counts.
    type: bool
    default: false
  persist:
    description:
      - Save the applied subsystem under O(config_dir) for the restore at boot (V(state=absent) removes
        the saved copy). With V(false) nothing is saved and an existing saved copy is left alone.
    type: bool
    default: true
  config_dir:
    description: Directory of the saved subsystems (mode 0700, files 0600).
    type: path
    default: /etc/nvmeof-fleet/nvmet
notes:
  - Serial, model, uuid and nguid must be unique across the fleet; the derived values are when NQNs are.
  - Subsystems that share a listener share its ANA group states and port parameters; declare them alike.
seealso:
  - module: nvmeof.fleet.nvme_info
"""

EXAMPLES = r"""
- name: Export two volumes to one host on two storage networks
  nvmeof.fleet.nvmet_subsystem:
    nqn: nqn.2024-05.com.example:storage:db1
    namespaces:
      - nsid: 1
        device_path: /dev/vg0/db1-data
      - nsid: 2
        device_path: /dev/vg0/db1-log
    listeners:
      - address: 10.90.1.11
      - address: 10.90.2.11
    hosts:
      - nqn: nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10

- name: Require DH-HMAC-CHAP from the host
  nvmeof.fleet.nvmet_subsystem:
    nqn: nqn.2024-05.com.example:storage:db1
    namespaces:
      - nsid: 1
        device_path: /dev/vg0/db1-data
    listeners:
      - address: 10.90.1.11
    hosts:
      - nqn: nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10
        dhchap_key: "{{ vault_db1_host_key }}"

- name: Mark the path through the second network inaccessible (ANA)
  nvmeof.fleet.nvmet_subsystem:
    nqn: nqn.2024-05.com.example:storage:db1
    namespaces:
      - nsid: 1
        device_path: /dev/vg0/db1-data
    listeners:
      - address: 10.90.1.11
        ana_groups: [{group: 1, state: optimized}]
      - address: 10.90.2.11
        ana_groups: [{group: 1, state: inaccessible}]
    hosts:
      - nqn: nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10

- name: Remove a subsystem even though hosts are still connected
  nvmeof.fleet.nvmet_subsystem:
    nqn: nqn.2024-05.com.example:storage:old
    state: absent
    allow_disruptive: true
"""

RETURN = r"""
subsystem:
  description: The subsystem after the call (in check mode, as it would be). Secrets show as C((hidden)).
  returned: always
  type: dict
  contains:
    nqn:
      description: Subsystem NQN.
      type: str
      sample: nqn.2024-05.com.example:storage:db1
    state:
      description: V(present) or V(absent).
      type: str
    serial:
      description: Serial number.
      type: str
      sample: 3f9a1c0d2b7e4a5f6c81
    model:
      description: Model number.
      type: str
      sample: Linux
    allow_any_host:
      description: Whether any host is admitted.
      type: bool
    hosts:
      description: Allowed hosts (C(nqn), C(dhchap_key) and C(dhchap_ctrl_key) as C((hidden)) or null, C(dhchap_hash), C(dhchap_dhgroup)).
      type: list
      elements: dict
    namespaces:
      description: Namespaces (C(nsid), C(device_path), C(uuid), C(nguid), C(enabled), C(ana_group), C(buffered_io)).
      type: list
      elements: dict
    listeners:
      description: >-
        Ports the subsystem is linked to (C(port_id), C(transport), C(address_family), C(address),
        C(service_id), C(inline_data_size), C(tls), C(ana_groups) as a list of C(group) and C(state)).
      type: list
      elements: dict
actions:
  description: The configfs operations done (or that would be done in check mode), in order; secrets hidden.
  returned: always
  type: list
  elements: str
  sample:
    - mkdir /sys/kernel/config/nvmet/subsystems/nqn.2024-05.com.example:storage:db1/namespaces/2
    - write '/dev/vg0/db1-log' to /sys/kernel/config/nvmet/subsystems/nqn.2024-05.com.example:storage:db1/namespaces/2/device_path
saved:
  description: Path of the saved copy for the boot-time restore, or null when O(persist=false).
  returned: always
  type: str
  sample: /etc/nvmeof-fleet/nvmet/subsystems/nqn.2024-05.com.example:storage:db1.json
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.module_job import finish
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_guards import GuardError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_persist import keep
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_reconcile import NvmetError, reconcile
from ansible_collections.nvmeof.fleet.plugins.module_utils.target import nvmet_spec

ARGUMENT_SPEC = dict(
    nvmet_spec.SUBSYSTEM_OPTIONS,
    allow_disruptive=dict(type="bool", default=False),
    persist=dict(type="bool", default=True),
    config_dir=dict(type="path", default="/etc/nvmeof-fleet/nvmet"),
)


def run(params, fs, runner, check_mode):
    """The whole job of one call; raises the collection's errors with their messages."""
    spec = nvmet_spec.normalize(params)
    result = reconcile(fs, runner, spec, check_mode=check_mode,
                       allow_disruptive=params["allow_disruptive"])
    actions = list(result["actions"])
    saved = None
    if params["persist"]:
        saved, action = keep(fs, params["config_dir"], result["spec"], check_mode)
        actions += [action] if action else []
    return {
        "changed": bool(actions),
        "subsystem": result["after"],
        "actions": actions,
        "saved": saved,
        "diff": {"before": result["before"], "after": result["after"]},
    }


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    fs = HostFS()
    finish(module, lambda: run(module.params, fs, CommandRunner(module.run_command), module.check_mode),
           errors=(nvmet_spec.SpecError, GuardError, NvmetError), lock_fs=fs)


if __name__ == "__main__":
    main()
