# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel nvmet target as plain data: read from configfs, shown to users.

A *world* is the part of /sys/kernel/config/nvmet the collection manages,
with every value in the kernel's own string format so that comparing the
live tree with a desired one is plain dict equality::

    {"subsystems": {nqn: {"attrs": {...}, "namespaces": {nsid: {...}},
                          "allowed_hosts": [nqn, ...]}},
     "ports": {port_id: {"attrs": {...}, "subsystems": [nqn, ...],
                         "ana_groups": {group: state}}},
     "hosts": {nqn: {attribute: value}}}

Only the standard library is used: the boot-time restore runs this code too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib

NVMET = "/sys/kernel/config/nvmet"
SUBSYSTEMS = NVMET + "/subsystems"
PORTS = NVMET + "/ports"
HOSTS = NVMET + "/hosts"
LIO_CORE = "/sys/kernel/config/target/core"

SUBSYSTEM_ATTRS = ("attr_serial", "attr_model", "attr_allow_any_host")
# Written while the namespace is disabled: the kernel answers EBUSY otherwise.
NAMESPACE_FIXED_ATTRS = ("device_path", "device_uuid", "device_nguid", "buffered_io")
NAMESPACE_ATTRS = NAMESPACE_FIXED_ATTRS + ("ana_grpid", "enable")
# addr_tsas (Linux 6.7+) after addr_trtype: the kernel takes it only on a TCP port.
PORT_ATTRS = ("addr_trtype", "addr_adrfam", "addr_traddr", "addr_trsvcid", "addr_tsas", "param_inline_data_size")
TLS13 = "tls1.3"
HOST_ATTRS = ("dhchap_key", "dhchap_ctrl_key", "dhchap_hash", "dhchap_dhgroup")
SECRET_HOST_ATTRS = ("dhchap_key", "dhchap_ctrl_key")
HIDDEN = "(hidden)"


def subsystem_path(nqn):
    return "%s/%s" % (SUBSYSTEMS, nqn)


def namespace_path(nqn, nsid):
    return "%s/%s/namespaces/%d" % (SUBSYSTEMS, nqn, nsid)


def port_path(port_id):
    return "%s/%d" % (PORTS, port_id)


def host_path(nqn):
    return "%s/%s" % (HOSTS, nqn)


def empty_world():
    return {"subsystems": {}, "ports": {}, "hosts": {}}


def copy_world(world):
    return copy.deepcopy(world)


def _read_attrs(fs, directory, names):
    """The attributes this kernel has (dhchap_* need CONFIG_NVME_TARGET_AUTH)."""
    values = {}
    for name in names:
        value = fs.read("%s/%s" % (directory, name))
        if value is not None:
            # attr_serial comes back padded with spaces to 20 characters.
            values[name] = value.rstrip(" ") if name in ("attr_serial", "attr_model") else value
    return values


def _numeric_entries(fs, directory):
    return sorted(int(name) for name in fs.list_dir(directory) if name.isdigit())


def read_world(fs):
    """The live nvmet tree; an empty world when nvmet is not loaded."""
    world = empty_world()
    for nqn in fs.list_dir(SUBSYSTEMS):
        base = subsystem_path(nqn)
        world["subsystems"][nqn] = {
            "attrs": _read_attrs(fs, base, SUBSYSTEM_ATTRS),
            "namespaces": dict(
                (nsid, _read_attrs(fs, namespace_path(nqn, nsid), NAMESPACE_ATTRS))
                for nsid in _numeric_entries(fs, base + "/namespaces")),
            "allowed_hosts": fs.list_dir(base + "/allowed_hosts"),
        }
    for port_id in _numeric_entries(fs, PORTS):
        base = port_path(port_id)
        world["ports"][port_id] = {
            "attrs": _read_attrs(fs, base, PORT_ATTRS),
            "subsystems": fs.list_dir(base + "/subsystems"),
            "ana_groups": dict(
                (group, fs.read("%s/ana_groups/%d/ana_state" % (base, group)))
                for group in _numeric_entries(fs, base + "/ana_groups")),
        }
    for nqn in fs.list_dir(HOSTS):
        world["hosts"][nqn] = _read_attrs(fs, host_path(nqn), HOST_ATTRS)
    return world


# -- the world as JSON: what module host_state hands the controller's plan ----------

def secret_digest(value):
    """A DH-HMAC-CHAP key as its SHA-256: the controller compares keys without seeing them."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest() if value else value


def with_secret_digests(host_attrs):
    return dict((name, secret_digest(value) if name in SECRET_HOST_ATTRS else value)
                for name, value in host_attrs.items())


def export_world(world):
    """``world`` with string keys and its keys as digests, ready for JSON."""
    return {
        "subsystems": dict((nqn, dict(subsystem, namespaces=dict(
            (str(nsid), namespace) for nsid, namespace in subsystem["namespaces"].items())))
            for nqn, subsystem in world["subsystems"].items()),
        "ports": dict((str(port_id), dict(port, ana_groups=dict(
            (str(group), state) for group, state in port["ana_groups"].items())))
            for port_id, port in world["ports"].items()),
        "hosts": dict((nqn, with_secret_digests(host)) for nqn, host in world["hosts"].items()),
    }


def import_world(data):
    """The world export_world() gave, with its numeric keys back (keys stay digests)."""
    return {
        "subsystems": dict((nqn, dict(subsystem, namespaces=dict(
            (int(nsid), dict(namespace)) for nsid, namespace in subsystem["namespaces"].items()),
            allowed_hosts=list(subsystem["allowed_hosts"]), attrs=dict(subsystem["attrs"])))
            for nqn, subsystem in data["subsystems"].items()),
        "ports": dict((int(port_id), dict(port, ana_groups=dict(
            (int(group), state) for group, state in port["ana_groups"].items()),
            subsystems=list(port["subsystems"]), attrs=dict(port["attrs"])))
            for port_id, port in data["ports"].items()),
        "hosts": dict((nqn, dict(host)) for nqn, host in data["hosts"].items()),
    }


# -- views: what users see in diffs, results and facts --------------------------

def _flag(value):
    return value == "1"


def _optional_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def port_view(port_id, port):
    attrs = port["attrs"]
    return {
        "port_id": port_id,
        "transport": attrs.get("addr_trtype") or None,
        "address_family": attrs.get("addr_adrfam") or None,
        "address": attrs.get("addr_traddr") or None,
        "service_id": _optional_int(attrs.get("addr_trsvcid")),
        "inline_data_size": _optional_int(attrs.get("param_inline_data_size")),
        "tls": attrs.get("addr_tsas") == TLS13,
        "ana_groups": [{"group": group, "state": state}
                       for group, state in sorted(port["ana_groups"].items())],
    }


def host_view(nqn, host):
    """A host with its secrets masked: keys must never reach output or diffs."""
    view = {"nqn": nqn}
    for name in HOST_ATTRS:
        if name in SECRET_HOST_ATTRS:
            view[name] = HIDDEN if host.get(name) else None
        else:
            view[name] = host.get(name)
    return view


def namespace_view(nsid, namespace):
    return {
        "nsid": nsid,
        "device_path": namespace.get("device_path") or None,
        "uuid": namespace.get("device_uuid"),
        "nguid": namespace.get("device_nguid"),
        "enabled": _flag(namespace.get("enable")),
        "ana_group": _optional_int(namespace.get("ana_grpid")),
        "buffered_io": _flag(namespace.get("buffered_io")),
    }


def subsystem_view(world, nqn):
    """One subsystem with its namespaces, hosts and listeners; state absent if missing."""
    subsystem = world["subsystems"].get(nqn)
    if subsystem is None:
        return {"nqn": nqn, "state": "absent"}
    attrs = subsystem["attrs"]
    return {
        "nqn": nqn,
        "state": "present",
        "serial": attrs.get("attr_serial"),
        "model": attrs.get("attr_model"),
        "allow_any_host": _flag(attrs.get("attr_allow_any_host")),
        "hosts": [host_view(host, world["hosts"].get(host, {}))
                  for host in sorted(subsystem["allowed_hosts"])],
        "namespaces": [namespace_view(nsid, namespace)
                       for nsid, namespace in sorted(subsystem["namespaces"].items())],
        "listeners": [port_view(port_id, port)
                      for port_id, port in sorted(world["ports"].items())
                      if nqn in port["subsystems"]],
    }


def describe_target(fs):
    """Facts about the whole nvmet target (secrets masked)."""
    world = read_world(fs)
    ports = []
    for port_id, port in sorted(world["ports"].items()):
        view = port_view(port_id, port)
        view["subsystems"] = sorted(port["subsystems"])
        ports.append(view)
    return {
        "available": fs.is_dir(NVMET),
        "subsystems": [subsystem_view(world, nqn) for nqn in sorted(world["subsystems"])],
        "ports": ports,
        "hosts": [{"nqn": nqn, "dhchap": bool(host.get("dhchap_key"))}
                  for nqn, host in sorted(world["hosts"].items())],
    }
