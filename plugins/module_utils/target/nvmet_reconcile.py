# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconciles one declared nvmet subsystem: read -> guard -> plan -> apply (or roll back).

Used by the nvmet_subsystem module and by the boot-time restore. The spec
is in normal form (nvmet_spec.normalize, or a saved copy of it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno

from ansible_collections.nvmeof.fleet.plugins.module_utils.target import nvmet_guards as guards
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_model import (
    NVMET, read_world, subsystem_view)
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_plan import (
    ApplyError, apply, desired_world, plan)


class NvmetError(Exception):
    """The subsystem could not be reconciled; str() says why and what state the target is in."""


def _hint(op, error):
    """What a bare errno from configfs most likely means, for the operation that got it."""
    code = getattr(error, "errno", None)
    name = op.path.rsplit("/", 1)[-1]
    if name in ("attr_serial", "attr_model") and code == errno.EINVAL:
        return ("the kernel fixes serial and model once a host has identified the subsystem; "
                "remove the subsystem (state=absent) and declare it again to change them")
    if name == "enable":
        return ("the kernel could not open the backing device: is it in exclusive use "
                "(mounted, an LVM PV, an md member) or gone?")
    if "/subsystems/" in op.path and op.kind == "link":
        if code == errno.EADDRNOTAVAIL:
            return "the listener address is not configured on this host"
        if code == errno.EADDRINUSE:
            return "another port or program already listens on this address and service id"
    if code in (errno.ENOENT, errno.EACCES) and op.kind == "write" and name.startswith("dhchap_"):
        return "this kernel has no NVMe target authentication (CONFIG_NVME_TARGET_AUTH)"
    if name == "addr_tsas" and code == errno.EINVAL:
        return ("the kernel refused TLS on this port: it takes tls1.3 only with CONFIG_NVME_TARGET_TCP_TLS and "
                "the .nvme keyring (module nvme_keyring) present when the port was created")
    if code == errno.ENOENT and op.kind == "write":
        return "this kernel has no such attribute (an older kernel or a missing kernel option)"
    return None


def resolved_spec(spec, ports):
    """The spec with each listener's port id filled in: what is saved for the restore."""
    saved = dict(spec)
    if spec["state"] == "present":
        saved["listeners"] = [dict(listener, port_id=ports[index])
                              for index, listener in enumerate(spec["listeners"])]
    return saved


def _apply_or_roll_back(fs, ops, before):
    try:
        apply(fs, ops)
    except ApplyError as failure:
        hint = _hint(failure.op, failure.error)
        message = "%s (step %d of %d)%s" % (failure.error, failure.done + 1, len(ops),
                                            ": " + hint if hint else "")
        try:
            apply(fs, plan(read_world(fs), before))
        except ApplyError as second:
            raise NvmetError("%s. Rolling back failed too (%s): the target is partly changed; "
                             "run again once the cause is fixed" % (message, second.error))
        raise NvmetError("%s. The target was returned to its state before this run." % message)


def _prefixed(error, label):
    return type(error)("%s%s" % (label, error)) if label else error


def _step(fs, runner, world, spec, allow_disruptive, checks):
    """The world after ``spec``, checked by the guards; returns (world, {listener index: port id})."""
    desired, ports = desired_world(world, spec)
    if spec["state"] == "present":
        guards.check_devices(fs, spec, desired)
        guards.check_auth(fs, spec)
        guards.check_tls(fs, runner, spec, world, ports)
        guards.check_port_addresses(desired)
        if spec["listeners"]:
            if "addresses" not in checks:
                checks["addresses"] = guards.local_addresses(runner)
            guards.check_addresses(spec, checks["addresses"])
    if not allow_disruptive:
        if "connections" not in checks:
            checks["connections"] = guards.established_connections(fs)
        guards.check_disruptions(world, desired, spec["nqn"],
                                 guards.live_ports(fs, world, checks["connections"]))
    return desired, ports


def reconcile_all(fs, runner, declared, check_mode=False, labels=None):
    """Makes the kernel match every (spec, allow_disruptive) of ``declared``, in one plan.

    Each subsystem is planned on the world the ones before it leave, with its own guards,
    as if each were a call of its own; then everything is applied at once and, if the kernel
    refuses a step, all of it is undone. ``labels`` prefix each subsystem's errors. Returns
    changed, actions and, per subsystem, changed, before, after, actions and spec (resolved).
    """
    if not fs.is_dir(NVMET) and not check_mode and any(
            spec["state"] == "present" for spec, _allow in declared):
        raise NvmetError("%s does not exist: load the nvmet and nvmet-tcp kernel modules "
                         "(role nvmeof.fleet.target does)" % NVMET)
    # Without nvmet loaded there is nothing to remove, and in check mode the plan from an
    # empty target is what a real run would do once the modules are loaded.
    current = read_world(fs)
    world, checks, steps = current, {}, []
    for index, (spec, allow_disruptive) in enumerate(declared):
        label = labels[index] if labels else ""
        try:
            desired, ports = _step(fs, runner, world, spec, allow_disruptive, checks)
        except (guards.GuardError, NvmetError) as error:
            raise _prefixed(error, label)
        steps.append((spec, world, desired, ports))
        world = desired
    ops = plan(current, world)
    subsystems = []
    for spec, before, after, ports in steps:
        actions = [op.describe() for op in plan(before, after)] if ops else []
        subsystems.append({"changed": bool(actions), "actions": actions,
                           "before": subsystem_view(current, spec["nqn"]),
                           "after": subsystem_view(world, spec["nqn"]),
                           "spec": resolved_spec(spec, ports)})
    if ops and not check_mode:
        _apply_or_roll_back(fs, ops, current)
        applied = read_world(fs)
        for spec, entry in zip(declared, subsystems):
            entry["after"] = subsystem_view(applied, spec[0]["nqn"])
    return {"changed": bool(ops), "actions": [op.describe() for op in ops], "subsystems": subsystems}


def reconcile(fs, runner, spec, check_mode=False, allow_disruptive=False):
    """Makes the kernel match ``spec``; returns changed, before, after, actions, spec (resolved)."""
    result = reconcile_all(fs, runner, [(spec, allow_disruptive)], check_mode=check_mode)
    return dict(result["subsystems"][0], changed=result["changed"], actions=result["actions"])
