# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""From the live nvmet tree and one declared subsystem to the operations that reconcile them.

``desired_world`` applies a normalized subsystem (see nvmet_spec) to the live
world: the subsystem exactly as declared, its listeners found among the ports
(or new ones), hosts and ports it no longer uses dropped when nothing else
uses them. ``plan`` turns the difference of two worlds into configfs
operations in an order the kernel accepts; everything that does not differ is
left alone, so hosts that keep their access keep their connections.
``apply`` runs them; when one fails, the caller plans back to the world read
before and applies that (nvmet_reconcile).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_model import (
    HOST_ATTRS, NAMESPACE_FIXED_ATTRS, PORT_ATTRS, SECRET_HOST_ATTRS, SUBSYSTEM_ATTRS, TLS13, copy_world, host_path, namespace_path, port_path, subsystem_path)


class Op:
    """One configfs operation: mkdir, rmdir, write, link or unlink."""

    def __init__(self, kind, path, value=None, secret=False):
        self.kind = kind
        self.path = path
        self.value = value
        self.secret = secret

    def describe(self):
        if self.kind == "write":
            shown = "(hidden)" if self.secret else repr(self.value)
            return "write %s to %s" % (shown, self.path)
        if self.kind == "link":
            return "link %s -> %s" % (self.path, self.value)
        return "%s %s" % (self.kind, self.path)

    def __repr__(self):
        return "<Op %s>" % self.describe()


class ApplyError(Exception):
    """An operation failed; ``done`` operations before it took effect."""

    def __init__(self, op, error, done):
        self.op = op
        self.error = error
        self.done = done
        super(ApplyError, self).__init__(str(error))


# -- the desired world ------------------------------------------------------------

def _same_address(left, right):
    try:
        return ipaddress.ip_address(left) == ipaddress.ip_address(right)
    except ValueError:
        return left == right


def _port_serves(port, listener):
    attrs = port["attrs"]
    return (attrs.get("addr_trtype") == listener["transport"]
            and attrs.get("addr_trsvcid") == str(listener["service_id"])
            and _same_address(attrs.get("addr_traddr", ""), listener["address"]))


def _resolve_port(world, listener, claimed, pinned):
    """The port id serving a listener: pinned, an existing port on its address, or a new id."""
    if listener["port_id"]:
        return listener["port_id"]
    for port_id, port in sorted(world["ports"].items()):
        if port_id not in claimed and port_id not in pinned and _port_serves(port, listener):
            return port_id
    port_id = 1
    while port_id in world["ports"] or port_id in claimed or port_id in pinned:
        port_id += 1
    return port_id


def _namespace_attrs(namespace):
    return {
        "device_path": namespace["device_path"],
        "device_uuid": namespace["uuid"],
        "device_nguid": namespace["nguid"],
        "buffered_io": "1" if namespace["buffered_io"] else "0",
        "ana_grpid": str(namespace["ana_group"]),
        "enable": "1" if namespace["enabled"] else "0",
    }


def _apply_listener(world, port_id, listener, nqn):
    port = world["ports"].setdefault(
        port_id, {"attrs": {}, "subsystems": [], "ana_groups": {1: "optimized"}})
    attrs = port["attrs"]
    if not _port_serves(port, listener) or attrs.get("addr_adrfam") != listener["address_family"]:
        attrs.update({"addr_trtype": listener["transport"],
                      "addr_adrfam": listener["address_family"],
                      "addr_traddr": listener["address"],
                      "addr_trsvcid": str(listener["service_id"])})
    if listener.get("tls"):
        attrs["addr_tsas"] = TLS13
    elif attrs.get("addr_tsas") == TLS13:
        attrs["addr_tsas"] = "none"
    if listener["inline_data_size"] is not None:
        attrs["param_inline_data_size"] = str(listener["inline_data_size"])
    for group in listener["ana_groups"]:
        port["ana_groups"][group["group"]] = group["state"]
    if nqn not in port["subsystems"]:
        port["subsystems"] = sorted(port["subsystems"] + [nqn])


def desired_world(current, spec):
    """The live world with ``spec`` applied; returns (world, {listener index: port id})."""
    world = copy_world(current)
    nqn = spec["nqn"]
    old_ports = [port_id for port_id, port in world["ports"].items() if nqn in port["subsystems"]]
    old_hosts = list(world["subsystems"].get(nqn, {}).get("allowed_hosts", []))
    resolved = {}
    if spec["state"] == "absent":
        world["subsystems"].pop(nqn, None)
    else:
        subsystem = world["subsystems"].setdefault(
            nqn, {"attrs": {}, "namespaces": {}, "allowed_hosts": []})
        subsystem["attrs"]["attr_serial"] = spec["serial"]
        if spec["model"] is not None:
            subsystem["attrs"]["attr_model"] = spec["model"]
        subsystem["attrs"]["attr_allow_any_host"] = "1" if spec["allow_any_host"] else "0"
        subsystem["namespaces"] = dict((namespace["nsid"], _namespace_attrs(namespace))
                                       for namespace in spec["namespaces"])
        subsystem["allowed_hosts"] = sorted(host["nqn"] for host in spec["hosts"])
        for host in spec["hosts"]:
            entry = world["hosts"].setdefault(host["nqn"], {})
            # Keys not declared are left as they are: hosts are shared by subsystems.
            entry.update(dict((name, host[name]) for name in HOST_ATTRS if host.get(name) is not None))
        pinned = set(listener["port_id"] for listener in spec["listeners"] if listener["port_id"])
        for index, listener in enumerate(spec["listeners"]):
            port_id = _resolve_port(world, listener, set(resolved.values()), pinned)
            resolved[index] = port_id
            _apply_listener(world, port_id, listener, nqn)
    for port_id in old_ports:
        if port_id in resolved.values():
            continue
        port = world["ports"][port_id]
        port["subsystems"] = [name for name in port["subsystems"] if name != nqn]
        if not port["subsystems"]:
            del world["ports"][port_id]
    still_allowed = set()
    for subsystem in world["subsystems"].values():
        still_allowed.update(subsystem["allowed_hosts"])
    for host in old_hosts:
        if host not in still_allowed:
            world["hosts"].pop(host, None)
    return world, resolved


# -- operations -----------------------------------------------------------------------

def _writes(directory, current, desired, names, secret_names=()):
    """Writes for the attributes that differ; empty values are kernel defaults, never written."""
    ops = []
    for name in names:
        value = desired.get(name)
        if value in (None, "") or (current is not None and current.get(name) == value):
            continue
        ops.append(Op("write", "%s/%s" % (directory, name), value, secret=name in secret_names))
    return ops


def port_edited(current, desired, port_id):
    """Whether an existing port's attributes change: it must then be unlinked, written, relinked."""
    return (port_id in current["ports"] and port_id in desired["ports"]
            and bool(_writes("", current["ports"][port_id]["attrs"],
                             desired["ports"][port_id]["attrs"], PORT_ATTRS)))


def _removals(current, desired):
    ops = []
    for port_id, port in sorted(current["ports"].items()):
        keep = set() if (port_id not in desired["ports"] or port_edited(current, desired, port_id)) \
            else set(desired["ports"][port_id]["subsystems"])
        ops += [Op("unlink", "%s/subsystems/%s" % (port_path(port_id), nqn))
                for nqn in port["subsystems"] if nqn not in keep]
    for nqn, subsystem in sorted(current["subsystems"].items()):
        wanted = desired["subsystems"].get(nqn)
        keep = set(wanted["allowed_hosts"]) if wanted else set()
        ops += [Op("unlink", "%s/allowed_hosts/%s" % (subsystem_path(nqn), host))
                for host in subsystem["allowed_hosts"] if host not in keep]
        keep_namespaces = wanted["namespaces"] if wanted else {}
        for nsid, namespace in sorted(subsystem["namespaces"].items()):
            if nsid not in keep_namespaces:
                if namespace.get("enable") == "1":
                    ops.append(Op("write", namespace_path(nqn, nsid) + "/enable", "0"))
                ops.append(Op("rmdir", namespace_path(nqn, nsid)))
        if not wanted:
            ops.append(Op("rmdir", subsystem_path(nqn)))
    for port_id, port in sorted(current["ports"].items()):
        wanted = desired["ports"].get(port_id)
        ops += [Op("rmdir", "%s/ana_groups/%d" % (port_path(port_id), group))
                for group in sorted(port["ana_groups"])
                if group != 1 and (wanted is None or group not in wanted["ana_groups"])]
        if wanted is None:
            ops.append(Op("rmdir", port_path(port_id)))
    ops += [Op("rmdir", host_path(nqn)) for nqn in sorted(current["hosts"])
            if nqn not in desired["hosts"]]
    return ops


def _namespace_ops(nqn, nsid, current, desired):
    directory = namespace_path(nqn, nsid)
    if current is None:
        ops = [Op("mkdir", directory)]
        ops += _writes(directory, None, desired, NAMESPACE_FIXED_ATTRS + ("ana_grpid",))
        if desired["enable"] == "1":
            ops.append(Op("write", directory + "/enable", "1"))
        return ops
    fixed = _writes(directory, current, desired, NAMESPACE_FIXED_ATTRS)
    enabled = current.get("enable") == "1"
    ops = []
    if fixed and enabled:
        ops.append(Op("write", directory + "/enable", "0"))
    ops += fixed + _writes(directory, current, desired, ("ana_grpid",))
    if desired["enable"] != ("0" if fixed else current.get("enable")):
        ops.append(Op("write", directory + "/enable", desired["enable"]))
    return ops


def _additions(current, desired):
    ops = []
    for nqn, host in sorted(desired["hosts"].items()):
        existing = current["hosts"].get(nqn)
        if existing is None:
            ops.append(Op("mkdir", host_path(nqn)))
        ops += _writes(host_path(nqn), existing, host, HOST_ATTRS, SECRET_HOST_ATTRS)
    for nqn, subsystem in sorted(desired["subsystems"].items()):
        existing = current["subsystems"].get(nqn)
        if existing is None:
            ops.append(Op("mkdir", subsystem_path(nqn)))
        ops += _writes(subsystem_path(nqn), existing and existing["attrs"], subsystem["attrs"],
                       SUBSYSTEM_ATTRS)
        linked = set(existing["allowed_hosts"]) if existing else set()
        ops += [Op("link", "%s/allowed_hosts/%s" % (subsystem_path(nqn), host), host_path(host))
                for host in subsystem["allowed_hosts"] if host not in linked]
        namespaces = existing["namespaces"] if existing else {}
        for nsid, namespace in sorted(subsystem["namespaces"].items()):
            ops += _namespace_ops(nqn, nsid, namespaces.get(nsid), namespace)
    for port_id, port in sorted(desired["ports"].items()):
        existing = current["ports"].get(port_id)
        directory = port_path(port_id)
        if existing is None:
            ops.append(Op("mkdir", directory))
        ops += _writes(directory, existing and existing["attrs"], port["attrs"], PORT_ATTRS)
        groups = existing["ana_groups"] if existing else {1: "optimized"}
        for group, state in sorted(port["ana_groups"].items()):
            if group not in groups:
                ops.append(Op("mkdir", "%s/ana_groups/%d" % (directory, group)))
            if groups.get(group) != state:
                ops.append(Op("write", "%s/ana_groups/%d/ana_state" % (directory, group), state))
        kept = set() if (existing is None or port_edited(current, desired, port_id)) \
            else set(existing["subsystems"])
        ops += [Op("link", "%s/subsystems/%s" % (directory, nqn), subsystem_path(nqn))
                for nqn in port["subsystems"] if nqn not in kept]
    return ops


def plan(current, desired):
    """The operations turning ``current`` into ``desired``, in an order the kernel accepts.

    Links go first (ports refuse edits while linked, nothing linked can be
    removed), then removals, then creations and writes, then new links.
    """
    return _removals(current, desired) + _additions(current, desired)


def apply(fs, ops):
    for done, op in enumerate(ops):
        try:
            if op.kind == "write":
                fs.write(op.path, op.value, secret=op.secret)
            elif op.kind == "mkdir":
                fs.make_dir(op.path)
            elif op.kind == "rmdir":
                fs.remove_dir(op.path)
            elif op.kind == "link":
                fs.link(op.value, op.path)
            elif op.kind == "unlink":
                fs.unlink(op.path)
        except Exception as error:  # HostFSError, or anything a fake tree raises
            raise ApplyError(op, error, done)
