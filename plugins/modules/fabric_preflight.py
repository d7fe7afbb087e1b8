#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fabric_preflight
short_description: Check the network paths of an NVMe/TCP fabric from this host to its peers
version_added: 0.1.0
description:
  - NVMe/TCP usually fails in the field on the network, in ways a plain connect does not show. This module checks,
    from the host it runs on and in one call, the paths toward a list of peers, and fails with one line per failing
    check naming the host pair and the interface.
  - B(Route.) C(ip -j route get <address>) gives the local interface the path leaves by and its source address.
    With O(peers[].interface), a route leaving by another interface is a failure.
  - B(Path MTU.) Unfragmentable pings (C(ping -M do)) of exactly the MTU to prove (O(peers[].mtu), by default the MTU
    of the local interface) less the headers, 28 bytes for IPv4 and ICMP, 48 for IPv6. An MTU mismatch lets NVMe/TCP
    connect and then stall on large transfers. When the big pings get no reply, a small ping tells a path that drops
    big packets (the peer or a switch between has a smaller MTU) from a peer that is not reachable at all.
  - B(TCP ports.) One connection to each of O(peers[].ports), from the route's source address; a refused
    connection (nothing listens) is told from one that gets no answer (filtered or unreachable).
  - B(Retransmissions.) The host's TCP retransmission counters (C(RetransSegs) and C(OutSegs) from
    C(/proc/net/snmp); C(TCPLostRetransmit), C(TCPSynRetrans), C(TCPTimeouts) and C(TCPFastRetrans) from
    C(/proc/net/netstat)) are read before and after the checks. They count all of the host's traffic, not only
    the checks.
  - Peers are checked concurrently, up to 8 at a time, so that hundreds of peers stay cheap.
  - Changes nothing; in check mode it runs the same read-only probes.
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
requirements:
  - the C(ip) command (iproute2) and C(ping) from iputils (Debian's C(iputils-ping)), which can set
    the don't-fragment bit (C(-M do))
extends_documentation_fragment:
  - nvmeof.fleet.attributes.info_module
options:
  host:
    description:
      - The name of this host in messages, such as C(inventory_hostname).
    type: str
    required: true
  peers:
    description:
      - The peers to check, in the order of the results. An empty list checks nothing.
    type: list
    elements: dict
    required: true
    suboptions:
      host:
        description: The peer's name in messages.
        type: str
        required: true
      address:
        description: The peer's IPv4 or IPv6 address (without a zone).
        type: str
        required: true
      mtu:
        description:
          - The path MTU to prove, from 68 to 65535.
          - By default the MTU of the local interface the route leaves by.
          - Larger than the local interface's MTU is a failure, without pinging.
        type: int
      ports:
        description: TCP ports of the peer that must accept a connection, such as V(4420) and V(8009).
        type: list
        elements: int
        default: []
      interface:
        description: The local interface expected to reach the peer; a route leaving by another one is a failure.
        type: str
  ping_count:
    description: Pings of each size sent.
    type: int
    default: 2
  timeout:
    description: Seconds to wait for each ping reply (C(ping -W)) and for each TCP connection.
    type: int
    default: 2
  max_retransmissions:
    description:
      - Fail when the host's TCP C(RetransSegs) grew by more than this during the checks (one more check).
      - Not checked by default.
    type: int
  fail_on_error:
    description:
      - Fail when a check fails. With V(false), failures are only reported in the result
        (RV(failed_checks), RV(summary), RV(msg)).
    type: bool
    default: true
notes:
  - Meant to run as root (C(become)). C(ping -I) binds to the interface, which kernels before 5.7 allow only to
    privileged users.
seealso:
  - module: nvmeof.fleet.sysctl_tuning
    description: The network tuning of NVMe/TCP hosts.
"""

EXAMPLES = r"""
- name: Prove jumbo frames and the NVMe/TCP ports from each initiator to each target
  nvmeof.fleet.fabric_preflight:
    host: "{{ inventory_hostname }}"
    peers:
      - {host: target1, address: 10.90.1.11, mtu: 9000, ports: [4420], interface: eth1}
      - {host: target2, address: 10.90.1.12, mtu: 9000, ports: [4420, 8009], interface: eth1}
    max_retransmissions: 10

- name: Over IPv6, at the MTU of the interface the route leaves by
  nvmeof.fleet.fabric_preflight:
    host: "{{ inventory_hostname }}"
    peers:
      - {host: target1, address: "fd00:90::11", ports: [4420]}

- name: Report without failing, then show what failed
  nvmeof.fleet.fabric_preflight:
    host: "{{ inventory_hostname }}"
    peers:
      - {host: target1, address: 10.90.1.11, mtu: 9000, ports: [4420]}
    fail_on_error: false
  register: preflight

- name: Show the result per peer
  ansible.builtin.debug:
    var: preflight.summary
"""

RETURN = r"""
checks:
  description: One entry per peer, in the order of O(peers).
  returned: always
  type: list
  elements: dict
  contains:
    host: {description: "This host (O(host)).", type: str, returned: always}
    peer: {description: "The peer (O(peers[].host)).", type: str, returned: always}
    address: {description: "The peer's address, in canonical form.", type: str, returned: always}
    interface: {description: "The local interface the route leaves by; null without a route.", type: str, returned: always}
    source: {description: "The source address of the route; null without a route.", type: str, returned: always}
    mtu: {description: "The path MTU checked: O(peers[].mtu), or the local interface's.", type: int, returned: always}
    ports: {description: "The ports checked.", type: list, elements: int, returned: always}
    route_ok: {description: "Whether there is a route, leaving by O(peers[].interface) if given.", type: bool, returned: always}
    mtu_ok: {description: "Whether the path carries the MTU; null when not checked (no route).", type: bool, returned: always}
    ports_ok: {description: "Port -> whether it accepted a connection; null when not checked (no route).", type: dict, returned: always}
    ok: {description: "Whether every check toward the peer passed.", type: bool, returned: always}
    messages: {description: "The failing checks, each naming the pair, the interface and the cause.", type: list, elements: str, returned: always}
  sample:
    - host: initiator1
      peer: target1
      address: 10.90.1.11
      interface: eth1
      source: 10.90.1.21
      mtu: 9000
      ports: [4420]
      route_ok: true
      mtu_ok: false
      ports_ok: {"4420": true}
      ok: false
      messages:
        - "initiator1 (eth1 10.90.1.21) -> target1 (10.90.1.11): path MTU 9000: unfragmentable 8972-byte pings get
          no reply though small ones do: the peer or a switch between has an MTU below 9000"
failed_checks:
  description: How many checks failed (routes, path MTUs, ports and O(max_retransmissions)).
  returned: always
  type: int
  sample: 1
total_checks:
  description: How many checks ran; those skipped for want of a route are not counted.
  returned: always
  type: int
  sample: 3
retransmissions:
  description: The host's TCP retransmission counters before and after the checks, and their growth.
  returned: always
  type: dict
  contains:
    before: {description: "Counter -> value before the checks; counters the kernel does not show are left out.", type: dict, returned: always}
    after: {description: "Counter -> value after the checks.", type: dict, returned: always}
    delta: {description: "Counter -> growth during the checks.", type: dict, returned: always}
  sample:
    before: {RetransSegs: 112, OutSegs: 1131870, TCPLostRetransmit: 3, TCPSynRetrans: 9, TCPTimeouts: 14, TCPFastRetrans: 41}
    after: {RetransSegs: 112, OutSegs: 1131874, TCPLostRetransmit: 3, TCPSynRetrans: 9, TCPTimeouts: 14, TCPFastRetrans: 41}
    delta: {RetransSegs: 0, OutSegs: 4, TCPLostRetransmit: 0, TCPSynRetrans: 0, TCPTimeouts: 0, TCPFastRetrans: 0}
summary:
  description: One line per peer, naming the pair, with V(ok) or the failing checks.
  returned: always
  type: list
  elements: str
  sample:
    - "initiator1 (eth1 10.90.1.21) -> target1 (10.90.1.11): ok"
    - "initiator1 (eth1 10.90.1.21) -> target2 (10.90.1.12): TCP 4420: nothing listens on 10.90.1.12:4420 (connection refused)"
msg:
  description: The count of failed checks and one line per failing check, or that all passed.
  returned: always
  type: str
  sample: "1 of 3 fabric checks failed:\ninitiator1 (eth1 10.90.1.21) -> target2 (10.90.1.12): TCP 4420: nothing
    listens on 10.90.1.12:4420 (connection refused)"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError, CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.fabric_preflight import PreflightError, run_checks
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError

ARGUMENT_SPEC = dict(
    host=dict(type="str", required=True),
    peers=dict(type="list", elements="dict", required=True, options=dict(
        host=dict(type="str", required=True),
        address=dict(type="str", required=True),
        mtu=dict(type="int"),
        ports=dict(type="list", elements="int", default=[]),
        interface=dict(type="str"),
    )),
    ping_count=dict(type="int", default=2),
    timeout=dict(type="int", default=2),
    max_retransmissions=dict(type="int"),
    fail_on_error=dict(type="bool", default=True),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    tools = {}
    if module.params["peers"]:
        # resolved here, in the main thread: a missing command fails once, not in every worker
        tools = dict((name, module.get_bin_path(name, required=True)) for name in ("ip", "ping"))
    try:
        result = run_checks(HostFS(), CommandRunner(module.run_command), module.params, tools=tools)
    except (PreflightError, HostFSError, CommandError) as error:
        module.fail_json(msg=str(error))
    if result["failed_checks"] and module.params["fail_on_error"]:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
