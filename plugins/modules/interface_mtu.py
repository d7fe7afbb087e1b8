#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: interface_mtu
short_description: Set the MTU of network interfaces live and in the network configuration that survives a reboot
version_added: 0.1.0
description:
  - Sets the MTU of several network interfaces in one call, for example MTU 9000 on the interfaces that carry
    NVMe/TCP. The MTU is set live (C(ip link set)) where it differs, and written to the configuration that brings
    the interface up at boot.
  - Everything is checked before anything changes, and the error names every problem at once with its option
    and value. Every interface must exist (C(/sys/class/net/<name>)); every MTU must be within 68 to 65535 and
    within the limits of its device (C(min_mtu) and C(max_mtu) of C(ip -d link show)).
  - With O(persist=true), each interface must be set up by NetworkManager, systemd-networkd or ifupdown. With
    O(backend=auto) they are looked at in that order, per interface. NetworkManager counts when it is running
    and has an active connection on the interface; the MTU is written to that connection with
    C(nmcli connection modify) (C(802-3-ethernet.mtu) for Ethernet, VLAN, bond and bridge connections,
    C(infiniband.mtu) for InfiniBand). systemd-networkd counts when it is running and a C(.network) file
    configures the interface; the MTU goes into the drop-in
    C(/etc/systemd/network/<file>.network.d/90-nvmeof-fleet-mtu.conf), which applies to every interface that
    file matches. ifupdown counts when C(/etc/network/interfaces) or a file it includes (C(source),
    C(source-directory)) has an C(iface) stanza for the interface.
  - In ifupdown files, every stanza of the interface gets the MTU. Stanzas with the methods C(static), C(manual)
    and C(loopback) get an C(mtu) line (an existing one is replaced; a new one goes right after the C(iface) line,
    indented like the stanza's other lines). The other methods (C(dhcp), C(auto), ...) do not take C(mtu), so
    they get C(post-up ip link set dev <name> mtu <mtu>). Every other line and byte of the files stays as it
    was; a changed file is replaced at once, keeping its mode.
  - When MTUs are raised, lower devices are changed before upper ones (a VLAN's MTU cannot exceed its parent's,
    as C(/sys/class/net/<name>/lower_*) tells), and the other way round when MTUs are lowered.
  - Atomic. If a step fails (the kernel refuses an MTU, a file cannot be written, C(nmcli) fails), what this
    call did is undone (live MTUs, files byte for byte, NetworkManager connections) and the error says what
    failed and what was undone.
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
requirements:
  - the C(ip) command (iproute2)
extends_documentation_fragment:
  - nvmeof.fleet.attributes
options:
  interfaces:
    description:
      - The interfaces and their MTUs. Each name at most once.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the network interface, such as C(ens1f0) or C(ens1f0.100).
        type: str
        required: true
      mtu:
        description: The MTU, 68 to 65535 and within the device's own limits.
        type: int
        required: true
  persist:
    description:
      - Also write the MTU to the network configuration, so that it survives a reboot.
      - With V(false) the MTU is set live only, and O(backend) is ignored.
    type: bool
    default: true
  backend:
    description:
      - The network configuration to write with O(persist=true).
      - V(auto) takes, per interface, the first of NetworkManager, systemd-networkd and ifupdown that sets it up.
      - Any other value takes that one, and fails for interfaces it does not set up.
    type: str
    choices: [auto, ifupdown, networkmanager, networkd]
    default: auto
notes:
  - Run as root.
  - NetworkManager and systemd-networkd are not asked to apply the new configuration; the MTU is set live
    directly, and the services use the new value the next time they bring the interface up.
seealso:
  - module: community.general.nmcli
    description: Manage NetworkManager connections in full.
"""

EXAMPLES = r"""
- name: Jumbo frames on the NVMe/TCP storage interfaces, live and at boot
  nvmeof.fleet.interface_mtu:
    interfaces:
      - {name: ens1f0, mtu: 9000}
      - {name: ens1f1, mtu: 9000}
  register: storage_mtu

- name: The storage addresses of this host
  ansible.builtin.debug:
    msg: "{{ storage_mtu.interfaces | map(attribute='addresses') | flatten }}"

- name: Try an MTU live only
  nvmeof.fleet.interface_mtu:
    interfaces:
      - {name: ens1f0, mtu: 4200}
    persist: false
"""

RETURN = r"""
interfaces:
  description:
    - One entry per interface of O(interfaces), in that order, with C(name), C(mtu) (the MTU asked for),
      C(before) (the live MTU before), C(after) (the live MTU after, in check mode as it would be) and C(changed)
      (the live MTU or its configuration changed).
    - C(backend) is V(networkmanager), V(networkd), V(ifupdown), or V(none) with O(persist=false).
    - C(config) is the NetworkManager connection, the systemd-networkd drop-in or the ifupdown file (the first
      one with a stanza of the interface) the MTU is persisted to; null with O(persist=false).
    - C(addresses) lists the interface's addresses of global scope as C(address/prefix), IPv4 before IPv6.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: ens1f0, mtu: 9000, before: 1500, after: 9000, changed: true, backend: ifupdown,
       config: /etc/network/interfaces, addresses: [10.90.1.11/24, "fd00:90:1::11/64"]}
actions:
  description: What was done (or would be in check mode), in order.
  returned: always
  type: list
  elements: str
  sample:
    - set the MTU of ens1f0 from 1500 to 9000 (ip link set dev ens1f0 mtu 9000)
    - write /etc/network/interfaces (mtu 9000 for ens1f0)
diff:
  description:
    - One difference per file written and per NetworkManager connection modified, then one of the live MTUs by
      interface name, each with C(before), C(after) and their headers.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.ifupdown_config import IfupdownError
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.interface_mtu import ARGUMENT_SPEC, MtuError, apply
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.module_job import finish


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    fs = HostFS()
    finish(module, lambda: apply(fs, CommandRunner(module.run_command), module.params,
                                 check_mode=module.check_mode), (MtuError, IfupdownError), lock_fs=fs)


if __name__ == "__main__":
    main()
