#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nvmet_target
short_description: Reconcile the subsystems of a kernel NVMe-oF target (nvmet) in one call
version_added: 0.1.0
description:
  - Makes every subsystem in O(subsystems) match its declaration, exactly as M(nvmeof.fleet.nvmet_subsystem)
    does for one, in a single call. A target with hundreds of subsystems is one module run, not one per
    subsystem. Subsystems not listed are left alone.
  - Each subsystem is planned on the target as the ones listed before it leave it, with the same guards as
    M(nvmeof.fleet.nvmet_subsystem) (missing or already exported devices, listener addresses this host does
    not have, more than one host without O(subsystems[].cluster_aware), live connections without
    O(subsystems[].allow_disruptive)). A refusal names the subsystem by its index and NQN, and nothing is
    written.
  - Atomic across all the subsystems. If the kernel refuses a step, everything the call did is undone and the
    target is back to its state before the call.
  - With O(persist=true) each applied subsystem is saved under O(config_dir) for the restore service installed
    by role C(nvmeof.fleet.target); a subsystem with V(state=absent) loses its saved copy.
  - Needs the C(nvmet) and C(nvmet-tcp) kernel modules loaded (role nvmeof.fleet.target loads them).
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
requirements:
  - the C(ip) command (iproute2)
extends_documentation_fragment:
  - nvmeof.fleet.attributes
options:
  subsystems:
    description:
      - The subsystems, each with the options of M(nvmeof.fleet.nvmet_subsystem). An NQN may appear once.
    type: list
    elements: dict
    required: true
    suboptions:
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
          - Admit every host that reaches a listener. Cannot be combined with O(subsystems[].hosts).
        type: bool
        default: false
      cluster_aware:
        description:
          - State that the consumer of the namespaces is cluster-aware (GFS2, OCFS2, clustered LVM, a cluster
            database), which is required for more than one entry in O(subsystems[].hosts). ext4 or xfs mounted on two hosts
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
              - DH-HMAC-CHAP secret of the controller, for bidirectional authentication. Needs O(subsystems[].hosts[].dhchap_key).
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
            description: Namespace globally unique id (32 hexadecimal digits). Derived like O(subsystems[].namespaces[].uuid) when not given.
            type: str
          enabled:
            description: Whether hosts see the namespace.
            type: bool
            default: true
          ana_group:
            description: ANA group of the namespace, 1 to 128; its state is set per listener in O(subsystems[].listeners[].ana_groups).
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
          - Allow changes to this subsystem that cut live connections. Defaults to O(allow_disruptive).
        type: bool
  allow_disruptive:
    description:
      - Allow changes that cut live connections, for every subsystem that does not set its own
        O(subsystems[].allow_disruptive). These are removing a subsystem, a namespace, an allowed host or a
        listener, and replacing a namespace's device or ids while hosts are connected, and changing a port's
        parameters while hosts use it.
      - The kernel does not tell which subsystem or host a connection belongs to, so every connection on
        a port linked to the subsystem counts.
    type: bool
    default: false
  persist:
    description:
      - Save each applied subsystem under O(config_dir) for the restore at boot (V(state=absent) removes
        the saved copy). With V(false) nothing is saved and existing saved copies are left alone.
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
  - module: nvmeof.fleet.nvmet_subsystem
  - module: nvmeof.fleet.host_state
"""

EXAMPLES = r"""
- name: Export the volumes of a target, two subsystems on two storage networks
  nvmeof.fleet.nvmet_target:
    subsystems:
      - nqn: nqn.2024-05.com.example:storage:db1
        namespaces:
          - nsid: 1
            device_path: /dev/vg0/db1-data
        listeners:
          - address: 10.90.1.11
          - address: 10.90.2.11
        hosts:
          - nqn: nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10
      - nqn: nqn.2024-05.com.example:storage:logs
        namespaces:
          - nsid: 1
            device_path: /dev/vg0/logs
        listeners:
          - address: 10.90.1.11
        hosts:
          - nqn: nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10

- name: Retire a subsystem while hosts are still connected, keep the other
  nvmeof.fleet.nvmet_target:
    subsystems:
      - nqn: nqn.2024-05.com.example:storage:old
        state: absent
        allow_disruptive: true
      - nqn: nqn.2024-05.com.example:storage:logs
        namespaces:
          - nsid: 1
            device_path: /dev/vg0/logs
        listeners:
          - address: 10.90.1.11
        hosts:
          - nqn: nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10
"""

RETURN = r"""
subsystems:
  description: One entry per declared subsystem, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    nqn:
      description: Subsystem NQN.
      type: str
      sample: nqn.2024-05.com.example:storage:db1
    changed:
      description: Whether this subsystem changed (or would in check mode).
      type: bool
    subsystem:
      description:
        - The subsystem after the call (in check mode, as it would be), shaped like RV(nvmeof.fleet.nvmet_subsystem#module:subsystem).
          Secrets show as C((hidden)).
      type: dict
    actions:
      description: The configfs operations and saved-copy writes for this subsystem, in order; secrets hidden.
      type: list
      elements: str
    saved:
      description: Path of the saved copy for the boot-time restore, or null when O(persist=false) or absent.
      type: str
      sample: /etc/nvmeof-fleet/nvmet/subsystems/nqn.2024-05.com.example:storage:db1.json
actions:
  description: Every configfs operation of the call (in the order applied) and then the saved-copy writes; secrets hidden.
  returned: always
  type: list
  elements: str
  sample:
    - mkdir /sys/kernel/config/nvmet/subsystems/nqn.2024-05.com.example:storage:db1/namespaces/2
    - save /etc/nvmeof-fleet/nvmet/subsystems/nqn.2024-05.com.example:storage:db1.json
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.module_job import finish
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.names import SpecError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_guards import GuardError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_reconcile import NvmetError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_target import TARGET_ARGUMENT_SPEC, apply_target

ARGUMENT_SPEC = TARGET_ARGUMENT_SPEC


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    fs = HostFS()
    finish(module, lambda: apply_target(fs, CommandRunner(module.run_command), module.params, module.check_mode),
           errors=(SpecError, GuardError, NvmetError), lock_fs=fs)


if __name__ == "__main__":
    main()
