# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: initiator_connections
short_description: The NVMe/TCP connections of one host, from the targets' subsystem declarations
version_added: 0.1.0
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
description:
  - Reads the C(target_subsystems) of the target hosts (the variable of role C(nvmeof.fleet.target)) and returns the
    connections one initiator must make, in the form module M(nvmeof.fleet.nvme_connect) takes them.
  - A subsystem counts when its C(state) is V(present) (the default) and its C(hosts) list O(hostnqn). Subsystems
    declared with C(allow_any_host) are not connected, because they do not name the host. They admit every host
    that reaches them, and connecting every initiator to them would attach their namespaces to every host at once,
    and ext4 or xfs mounted on two hosts corrupts. Connect such a subsystem with an explicit connection.
  - One connection per NQN, with one path per listener (C(address), C(service_id)), without duplicates, in the
    order they are declared. The same NQN declared on several targets (for example two controllers of one
    array) gives one connection with the paths of every target.
  - When the host entry of O(hostnqn) carries DH-HMAC-CHAP keys, the connection carries them too
    (C(dhchap_key) becomes C(dhchap_secret), C(dhchap_ctrl_key) becomes C(dhchap_ctrl_secret)).
  - Subsystems that list the host but have no listener give no connection (there is nothing to connect to).
  - Fails, naming the place in the input, on a subsystem without C(nqn), a host entry without C(nqn), a listener
    without C(address), a transport other than V(tcp), and on a listener on V(0.0.0.0) or V(::) of a subsystem
    this host must connect. Such a listener accepts connections on every address of the target, but the host
    needs one address to connect to.
positional: _input, hostnqn, default_options
options:
  _input:
    description:
      - The subsystems of the targets, either as a dictionary with one entry per target, its name and its
        C(target_subsystems) list, or as a list of such lists. A subsystem (a dictionary) may stand for a list
        of one; V(null) for none.
      - 'Errors name the target with the dictionary form, for example C(storage2: target_subsystems[0].listeners[1]),
        and only the position with the list form, for example C(input[1][0].listeners[1]).'
      - Typically the C(target_subsystems) of every host of the targets' inventory group, read through C(hostvars)
        (see the examples).
    type: raw
    required: true
  hostnqn:
    description: The host NQN of the initiator, as in its C(/etc/nvme/hostnqn).
    type: str
    required: true
  default_options:
    description:
      - Options of M(nvmeof.fleet.nvme_connect) added to every connection, for example C(ctrl_loss_tmo).
      - C(nqn), C(paths) and secrets that come from the host entry take precedence over keys given here.
    type: dict
    default: {}
seealso:
  - module: nvmeof.fleet.nvme_connect
  - module: nvmeof.fleet.nvmet_subsystem
"""

EXAMPLES = r"""
# What role nvmeof.fleet.initiator does: connect what the targets of the inventory allow this host.
- name: Connect every subsystem that lists this host, on every listener
  nvmeof.fleet.nvme_connect:
    nqn: "{{ item.nqn }}"
    paths: "{{ item.paths }}"
    ctrl_loss_tmo: "{{ item.ctrl_loss_tmo }}"
  loop: >-
    {{ dict(groups['nvme_targets'] | zip(groups['nvme_targets'] | map('extract', hostvars, 'target_subsystems')
                                         | map('default', none)))
       | nvmeof.fleet.initiator_connections(my_hostnqn, {'ctrl_loss_tmo': -1}) }}
  loop_control:
    label: "{{ item.nqn }}"
  no_log: true  # the items may carry DH-HMAC-CHAP secrets

# Given the target_subsystems of two targets:
#   storage1: [{nqn: "nqn.2026-05.com.example:db", listeners: [{address: 10.90.1.11}],
#               hosts: [{nqn: "nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"}]}]
#   storage2: [{nqn: "nqn.2026-05.com.example:db", listeners: [{address: 10.90.2.11, service_id: 4421}],
#               hosts: [{nqn: "nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"}]}]
# the filter returns for that host NQN:
#   [{nqn: "nqn.2026-05.com.example:db",
#     paths: [{address: 10.90.1.11, service_id: 4420}, {address: 10.90.2.11, service_id: 4421}]}]
- name: Show the connections of one host NQN
  ansible.builtin.debug:
    msg: >-
      {{ [hostvars['storage1'].target_subsystems, hostvars['storage2'].target_subsystems]
         | nvmeof.fleet.initiator_connections('nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10')
         | map(attribute='nqn') }}

- name: The same with a dictionary by target, whose errors name the target
  ansible.builtin.debug:
    msg: >-
      {{ {'storage1': hostvars['storage1'].target_subsystems, 'storage2': hostvars['storage2'].target_subsystems}
         | nvmeof.fleet.initiator_connections('nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10')
         | map(attribute='nqn') }}
"""

RETURN = r"""
_value:
  description:
    - One connection per subsystem NQN, in the order the NQNs first appear, each with the keys of
      O(default_options) plus C(nqn), C(paths) (a list of C(address) and C(service_id)), C(tls=true) when the
      subsystem's listeners declare C(tls) (all of them must agree) and, when the host entry has them,
      C(dhchap_secret) and C(dhchap_ctrl_secret).
  type: list
  elements: dict
"""

import ipaddress
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

DEFAULT_SERVICE_ID = 4420
# host entry key on the target -> option of nvmeof.fleet.nvme_connect
_SECRETS = (("dhchap_key", "dhchap_secret"), ("dhchap_ctrl_key", "dhchap_ctrl_secret"))


def _fail(message):
    raise AnsibleFilterError("initiator_connections: %s" % message)


def _text(value, what, where):
    """A required, non-empty string."""
    if not isinstance(value, str) or not value.strip():
        _fail("%s has no %s" % (where, what) if value is None or value == ""
              else "%s: %s must be a non-empty string, not %r" % (where, what, value))
    return value.strip()


def _service_id(value, where):
    if value is None:
        return DEFAULT_SERVICE_ID
    if isinstance(value, bool):
        _fail("%s: service_id must be a TCP port, not %r" % (where, value))
    try:
        port = int(value)
    except (TypeError, ValueError):
        _fail("%s: service_id must be a TCP port, not %r" % (where, value))
    if not 0 < port < 65536:
        _fail("%s: service_id %d is not a TCP port" % (where, port))
    return port


def _address_key(address):
    """The address as one string per host: IPv6 written any way is the same address."""
    try:
        return ipaddress.ip_address(address).compressed
    except ValueError:
        return address.lower()


def _is_wildcard(address):
    try:
        return ipaddress.ip_address(address).is_unspecified
    except ValueError:
        return False


def _subsystems(target_subsystems):
    """(where, subsystem) for every subsystem of the input."""
    if isinstance(target_subsystems, Mapping):
        entries = [("%s: target_subsystems" % name, declared) for name, declared in target_subsystems.items()]
    elif isinstance(target_subsystems, str) or not hasattr(target_subsystems, "__iter__"):
        _fail("the input must be a list of target_subsystems lists or a dictionary of them by target, not %s"
              % type(target_subsystems).__name__)
    else:
        entries = [("input[%d]" % index, declared) for index, declared in enumerate(target_subsystems)]
    for prefix, entry in entries:
        if entry is None:
            continue
        if isinstance(entry, Mapping):
            yield prefix, entry
        elif isinstance(entry, str) or not hasattr(entry, "__iter__"):
            _fail("%s must be a list of subsystems or one subsystem (a dictionary), not %s"
                  % (prefix, type(entry).__name__))
        else:
            for position, subsystem in enumerate(entry):
                where = "%s[%d]" % (prefix, position)
                if not isinstance(subsystem, Mapping):
                    _fail("%s must be a subsystem (a dictionary), not %s" % (where, type(subsystem).__name__))
                yield where, subsystem


def _host_entry(subsystem, nqn, where, hostnqn):
    """The entry of ``hostnqn`` in the subsystem's hosts, or None."""
    hosts = subsystem.get("hosts") or []
    if isinstance(hosts, (Mapping, str)):
        _fail("%s (%s): hosts must be a list" % (where, nqn))
    found = None
    for position, host in enumerate(hosts):
        host_where = "%s.hosts[%d] (subsystem %s)" % (where, position, nqn)
        if not isinstance(host, Mapping):
            _fail("%s must be a dictionary with 'nqn', not %s" % (host_where, type(host).__name__))
        if _text(host.get("nqn"), "'nqn'", host_where) == hostnqn and found is None:
            found = host
    return found


def _paths(subsystem, nqn, where):
    listeners = subsystem.get("listeners") or []
    if isinstance(listeners, (Mapping, str)):
        _fail("%s (%s): listeners must be a list" % (where, nqn))
    paths = []
    for position, listener in enumerate(listeners):
        listener_where = "%s.listeners[%d] (subsystem %s)" % (where, position, nqn)
        if not isinstance(listener, Mapping):
            _fail("%s must be a dictionary with 'address', not %s" % (listener_where, type(listener).__name__))
        address = _text(listener.get("address"), "'address'", listener_where)
        transport = listener.get("transport") or "tcp"
        if transport != "tcp":
            _fail("%s: transport %r is not supported, only tcp" % (listener_where, transport))
        paths.append({"address": address,
                      "service_id": _service_id(listener.get("service_id"), listener_where),
                      "tls": bool(listener.get("tls")),
                      "where": listener_where})
    return paths


def initiator_connections(target_subsystems, hostnqn, default_options=None):
    """The connections of the host ``hostnqn``: see DOCUMENTATION."""
    if not isinstance(hostnqn, str) or not hostnqn.strip():
        _fail("hostnqn must be the host NQN of the initiator, not %r" % (hostnqn,))
    hostnqn = hostnqn.strip()
    if default_options is None:
        default_options = {}
    if not isinstance(default_options, Mapping):
        _fail("default_options must be a dictionary, not %s" % type(default_options).__name__)

    connections = []  # [{nqn, paths, secrets...}] in order of first appearance
    by_nqn = {}
    seen_paths = {}  # nqn -> set of (address key, service_id)
    for where, subsystem in _subsystems(target_subsystems):
        nqn = _text(subsystem.get("nqn"), "'nqn'", where + " (a subsystem)")
        state = subsystem.get("state") or "present"
        if state not in ("present", "absent"):
            _fail("%s (%s): state must be present or absent, not %r" % (where, nqn, state))
        paths = _paths(subsystem, nqn, where)  # checked for every present or absent subsystem
        host = _host_entry(subsystem, nqn, where, hostnqn)
        if state != "present" or host is None:
            continue
        connection = by_nqn.get(nqn)
        if connection is None:
            connection = by_nqn[nqn] = {"nqn": nqn, "paths": []}
            seen_paths[nqn] = set()
            connections.append(connection)
        for key, option in _SECRETS:
            secret = host.get(key)
            if secret in (None, ""):
                continue
            if connection.get(option, secret) != secret:
                _fail("%s: subsystem %s lists host %s with a %s that differs from the one another target "
                      "declares for the same subsystem" % (where, nqn, hostnqn, key))
            connection[option] = secret
        for path in paths:
            if _is_wildcard(path["address"]):
                _fail("%s listens on %s (every address of the target), but this host (%s) needs the address "
                      "to connect to: list the target's addresses in listeners, or connect this subsystem with "
                      "an explicit connection" % (path["where"], path["address"], hostnqn))
            if connection.setdefault("tls", path["tls"]) != path["tls"]:
                _fail("%s: subsystem %s has listeners with and without tls, but a connection uses TLS on all its "
                      "paths or on none: declare the same tls on every listener of the subsystem"
                      % (path["where"], nqn))
            key = (_address_key(path["address"]), path["service_id"])
            if key not in seen_paths[nqn]:
                seen_paths[nqn].add(key)
                connection["paths"].append({"address": path["address"], "service_id": path["service_id"]})

    result = []
    for connection in connections:
        if connection.pop("tls", False):
            connection["tls"] = True
        if connection["paths"]:
            merged = dict(default_options)
            merged.update(connection)
            result.append(merged)
    return result


class FilterModule(object):
    """nvmeof.fleet filters."""

    def filters(self):
        return {"initiator_connections": initiator_connections}
