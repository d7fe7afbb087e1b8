# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fabric_peers
short_description: The peers one host must reach on the storage fabric, for module fabric_preflight
version_added: 0.1.0
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
description:
  - Takes one row per host of the storage fabric and returns the O(_input[].name) host's peers in the form
    module M(nvmeof.fleet.fabric_preflight) takes them.
  - An initiator's peers are the targets' storage addresses on the networks it shares with them, and the listener
    addresses of the targets (whose ports must accept connections). A target's peers are the initiators' storage
    addresses on shared networks. Targets and initiators do not check their own kind.
  - The MTU to prove on a path is the larger of the two ends' interface MTUs. Two ends that disagree fail the check
    from the end with the smaller MTU, which cannot send the larger packets; a check in one direction only could
    pass, because many NICs accept frames larger than their MTU.
  - Listeners on V(0.0.0.0) or V(::) stand for every storage address of their target.
positional: _input, host
options:
  _input:
    description:
      - One row per host, a dictionary with C(name), C(role) (V(target), V(initiator) or V(both)), C(storage) and,
        for targets, C(listeners) (C(address) and C(port)).
      - C(storage) lists the storage interfaces as role C(nvmeof.fleet.network_tuning) reports them in the fact
        C(network_tuning_storage), each with C(interface), C(mtu) and C(addresses) (V(address/prefix)). A host
        whose storage is unknown (not in the play) has an empty C(storage).
    type: list
    elements: dict
    required: true
  host:
    description: The name of the host whose peers are returned.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Check the fabric from this host
  nvmeof.fleet.fabric_preflight:
    host: "{{ inventory_hostname }}"
    peers: "{{ fabric_rows | nvmeof.fleet.fabric_peers(inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description:
    - The peers, each with C(host), C(address), C(ports) (a list, empty for MTU-only checks), C(mtu) and C(interface)
      (the local storage interface on the same network) where they are known.
  type: list
  elements: dict
"""

import ipaddress

from ansible.errors import AnsibleFilterError


ROLES = ("target", "initiator", "both")
SERVES = ("target", "both")
INITIATES = ("initiator", "both")


def _fail(message):
    raise AnsibleFilterError("fabric_peers: %s" % message)


def _interface(entry, where):
    """(name, mtu, [IPv4Interface|IPv6Interface]) of one storage entry."""
    if not isinstance(entry, dict) or not entry.get("interface"):
        _fail("%s: a storage entry needs 'interface', got %r" % (where, entry))
    try:
        mtu = int(entry.get("mtu") or 0) or None
        addresses = [ipaddress.ip_interface(u"%s" % address) for address in entry.get("addresses") or []]
    except ValueError as error:
        _fail("%s: %s" % (where, error))
    return entry["interface"], mtu, addresses


def _storage(row):
    where = "host %s" % row.get("name")
    return [_interface(entry, "%s: storage[%d]" % (where, index))
            for index, entry in enumerate(row.get("storage") or [])]


def _on_network(interfaces, address):
    """The (name, mtu) of the interface whose network holds address, or (None, None)."""
    for name, mtu, addresses in interfaces:
        if any(address in local.network for local in addresses):
            return name, mtu
    return None, None


def _add(peers, host, address, port, mtu, interface):
    key = (host, address)
    for peer in peers:
        if (peer["host"], peer["address"]) == key:
            if port is not None and port not in peer["ports"]:
                peer["ports"].append(port)
            return
    peer = {"host": host, "address": address, "ports": [] if port is None else [port]}
    if mtu:
        peer["mtu"] = mtu
    if interface:
        peer["interface"] = interface
    peers.append(peer)


def _listeners(row):
    result = []
    for index, listener in enumerate(row.get("listeners") or []):
        try:
            address = ipaddress.ip_address(u"%s" % listener.get("address"))
            port = int(listener.get("port") or 4420)
        except (ValueError, TypeError, AttributeError) as error:
            _fail("host %s: listeners[%d]: %s" % (row.get("name"), index, error))
        result.append((address, port))
    return result


def _peer_addresses(row):
    """Every storage address of a row: (address, its interface mtu)."""
    return [(address.ip, mtu) for _name, mtu, addresses in _storage(row) for address in addresses]


def fabric_peers(rows, host):
    if not isinstance(rows, list):
        _fail("input must be a list of host rows, got %s" % type(rows).__name__)
    by_name = dict((row.get("name"), row) for row in rows if isinstance(row, dict))
    me = by_name.get(host)
    if me is None:
        return []
    mine = _storage(me)
    peers = []
    for row in rows:
        if row is me:
            continue
        if row.get("role") not in ROLES:
            _fail("host %s: role must be target, initiator or both, got %r" % (row.get("name"), row.get("role")))
        connects_to_it = me.get("role") in INITIATES and row.get("role") in SERVES
        connected_by_it = me.get("role") in SERVES and row.get("role") in INITIATES
        if not (connects_to_it or connected_by_it):
            continue
        theirs = _peer_addresses(row)
        for address, peer_mtu in theirs:
            interface, my_mtu = _on_network(mine, address)
            if interface is not None:
                _add(peers, row["name"], str(address), None, max(my_mtu or 0, peer_mtu or 0), interface)
        if not connects_to_it:
            continue
        for address, port in _listeners(row):
            if address.is_unspecified:
                targets = [a for a, _mtu in theirs if a.version == address.version]
            else:
                targets = [address]
            for target_address in targets:
                interface, my_mtu = _on_network(mine, target_address)
                peer_mtu = dict(theirs).get(target_address)
                _add(peers, row["name"], str(target_address), port, max(my_mtu or 0, peer_mtu or 0), interface)
    return peers


class FilterModule(object):
    """nvmeof.fleet filters."""

    def filters(self):
        return {"fabric_peers": fabric_peers}
