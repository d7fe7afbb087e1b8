# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root qdiscs handed back to the kernel so that they follow ``net.core.default_qdisc``.

The kernel applies ``net.core.default_qdisc`` only to qdiscs it creates after the
value is set. ``plan_qdisc()`` says, per interface, whether its qdiscs are the
kernel's own and of another kind; ``run_qdiscs()`` replaces the root by a
temporary qdisc with a handle of its own and deletes it, and the kernel attaches
its defaults again. Qdiscs somebody configured explicitly are left alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError

SYS_CLASS_NET = "/sys/class/net"

# A temporary root qdisc with a handle of its own: the kernel refuses to delete
# the qdiscs it attached itself (handle 0:), but deleting this one makes it
# attach its defaults again.
TEMPORARY_ROOT = ["root", "handle", "1:", "pfifo"]

_TEXT = (str, type(u""))


class QdiscError(Exception):
    """An interface that cannot be planned or a re-apply that failed (the message says what was done)."""


def check_interfaces(fs, interfaces):
    """The listed interfaces without duplicates; raises QdiscError naming every missing one."""
    names = []
    for name in interfaces:
        if (not isinstance(name, _TEXT) or not name or len(name) > 15 or name in (".", "..")
                or any(char in name for char in "/:") or any(char.isspace() for char in name)):
            raise QdiscError("reapply_qdisc_interfaces: %r is not a network interface name" % (name,))
        if name not in names:
            names.append(name)
    missing = [name for name in names if not fs.exists("%s/%s" % (SYS_CLASS_NET, name))]
    if missing:
        raise QdiscError("reapply_qdisc_interfaces: network interfaces not found (no %s/<name>): %s; nothing was "
                         "changed" % (SYS_CLASS_NET, ", ".join(missing)))
    return names


def read_qdiscs(runner, interface):
    """The qdiscs of an interface as ``tc -json qdisc show dev <interface>`` lists them."""
    out = runner.run(["tc", "-json", "qdisc", "show", "dev", interface])[1]
    try:
        qdiscs = json.loads(out or "[]")
    except ValueError:
        raise QdiscError("cannot parse the qdiscs of %s from tc: %r" % (interface, out[:200]))
    return [qdisc for qdisc in qdiscs if isinstance(qdisc, dict)]


def _major(handle):
    """The major number of a tc handle or parent (``8001:``, ``:1``, ``0:``)."""
    try:
        return int((handle or "").split(":")[0] or "0", 16)
    except ValueError:
        return None


def _root_and_children(qdiscs):
    root = next((qdisc for qdisc in qdiscs if qdisc.get("root")), None)
    if root is None:
        return None, []
    major = _major(root.get("handle"))
    children = [qdisc for qdisc in qdiscs
                if not qdisc.get("root") and qdisc.get("parent") and _major(qdisc.get("parent")) == major]
    return root, children


def describe_qdiscs(qdiscs):
    """``fq_codel``, or ``mq (fq_codel)`` for a multi-queue root with the kinds of its children."""
    root, children = _root_and_children(qdiscs)
    if root is None:
        return "none"
    if root.get("kind") == "mq":
        return "mq (%s)" % ", ".join(sorted(set(child.get("kind", "?") for child in children)))
    return root.get("kind", "?")


def plan_qdisc(runner, interface, default):
    """What to do on one interface so that its qdiscs are those the kernel creates with ``default``."""
    qdiscs = read_qdiscs(runner, interface)
    before = describe_qdiscs(qdiscs)
    entry = {"interface": interface, "before": before, "after": before, "action": "unchanged",
             "changed": False, "reason": ""}
    root, children = _root_and_children(qdiscs)
    kind = root.get("kind") if root else None
    if root is None:
        entry["reason"] = "no root qdisc"
    elif kind == "noqueue":
        entry["reason"] = "the interface has no queue (noqueue); net.core.default_qdisc does not apply"
    elif kind == "noop":
        entry["reason"] = "the interface has not been up yet; the kernel attaches the default qdisc when it is"
    elif root.get("handle") != "0:" or any(child.get("handle") != "0:" for child in children):
        entry["action"] = "kept"
        entry["reason"] = "its qdiscs were configured explicitly (not attached by the kernel); left alone"
    elif kind == "mq":
        if set(child.get("kind") for child in children) <= set([default]):
            entry["reason"] = "already the default"
        else:
            entry.update(action="reapplied", changed=True, after="mq (%s)" % default,
                         reason="qdiscs attached before net.core.default_qdisc was %s" % default)
    elif kind == default:
        entry["reason"] = "already the default"
    else:
        entry.update(action="reapplied", changed=True, after=default,
                     reason="qdisc attached before net.core.default_qdisc was %s" % default)
    return entry


def reapply_qdisc(runner, entry):
    """Hands the root qdisc back to the kernel, which attaches its defaults; records what it now is."""
    interface = entry["interface"]
    steps = [["tc", "qdisc", "replace", "dev", interface] + TEMPORARY_ROOT,
             ["tc", "qdisc", "del", "dev", interface, "root"]]
    for step in steps:
        runner.run(step)
    entry["after"] = describe_qdiscs(read_qdiscs(runner, interface))


def qdisc_actions(entries):
    return ["reapply the default qdisc on %s (%s -> %s): tc qdisc replace dev %s %s; tc qdisc del dev %s root"
            % (e["interface"], e["before"], e["after"], e["interface"], " ".join(TEMPORARY_ROOT), e["interface"])
            for e in entries if e["changed"]]


def run_qdiscs(runner, entries, check_mode):
    if check_mode:
        return
    done = []
    for entry in entries:
        if not entry["changed"]:
            continue
        try:
            reapply_qdisc(runner, entry)
        except CommandError as error:
            raise QdiscError(
                "the kernel parameters and files were applied, but reapplying the default qdisc on %s failed: %s. "
                "Check its root qdisc with 'tc qdisc show dev %s' (it may be the temporary 'pfifo 1:'; "
                "'tc qdisc del dev %s root' hands it back to the kernel)%s"
                % (entry["interface"], error, entry["interface"], entry["interface"],
                   "; reapplied before it: " + ", ".join(done) if done else ""))
        done.append(entry["interface"])


def plan_qdiscs(fs, runner, interfaces, default, why_not):
    if not interfaces:
        return []
    if default is None:
        raise QdiscError("reapply_qdisc_interfaces is pointless here: %s. It hands qdiscs back to the kernel "
                         "so that they follow a new net.core.default_qdisc" % why_not)
    return [plan_qdisc(runner, interface, default) for interface in check_interfaces(fs, interfaces)]
