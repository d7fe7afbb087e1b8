# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MTU of network interfaces, live and in the configuration that brings them up at boot.

``apply()`` is the whole job of module ``nvmeof.fleet.interface_mtu``:

- validate every interface and MTU, against the device's own limits (``ip -d -j link show``),
  and find which network configuration sets up each interface (NetworkManager,
  systemd-networkd, ifupdown), naming every problem at once before anything is changed;
- set the live MTUs that differ with ``ip link set``, lower devices before upper ones when
  raising (a VLAN's MTU cannot exceed its parent's) and the other way round when lowering;
- persist them: ``nmcli connection modify``, a systemd-networkd drop-in, or the ``mtu``
  lines of ifupdown's stanzas (see ifupdown_config).

All of it is one transaction: when a step fails, what this call already did is undone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import posixpath
import re

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.ifupdown_config import (
    INTERFACES, load_files, read_exact, set_mtus)
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.undo import take_back

SYS_CLASS_NET = "/sys/class/net"
MTU_RANGE = (68, 65535)
BACKENDS = ("networkmanager", "networkd", "ifupdown")
NETWORKD_DIR = "/etc/systemd/network"
DROP_IN_NAME = "90-nvmeof-fleet-mtu.conf"
DROP_IN = ("# Managed by Ansible (nvmeof.fleet.interface_mtu); changes made here are overwritten.\n"
           "# systemd-networkd applies it to every interface that %s configures.\n"
           "[Link]\nMTUBytes=%d\n")
# the setting that holds the MTU, by NetworkManager connection type
NM_MTU_SETTINGS = {"802-3-ethernet": "802-3-ethernet", "vlan": "802-3-ethernet", "bond": "802-3-ethernet",
                   "bridge": "802-3-ethernet", "infiniband": "infiniband"}
LOOKED_AT = ("NetworkManager, systemd-networkd, ifupdown %s and the files it sources" % INTERFACES)
# Ansible runs modules with a PATH that may lack the sbin directories
SEARCH_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")

_TEXT = (str, type(u""))
_NETWORK_FILE = re.compile(r"^\s*Network File:\s*(\S.*?)\s*$", re.MULTILINE)


class MtuError(Exception):
    """A refusal with nothing changed, or a failure that says what was undone."""


class Interface:
    """One entry of ``interfaces`` with what this call learns about it."""

    def __init__(self, index, name, mtu):
        self.option = "interfaces[%d]" % index
        self.name = name
        self.mtu = mtu
        self.before = None
        self.depth = 0          # how many devices lie below it (a VLAN on a bond: 2)
        self.addresses = []
        self.backend = "none"
        self.config = None
        self.persist = None     # backend data: (connection, setting, old value) or a drop-in path
        self.persist_changed = False


# -- options and the live state -----------------------------------------------------------

def _bad_name(name):
    # the rule of net_qdisc.check_interfaces, but naming every problem instead of the first
    return (not isinstance(name, _TEXT) or not name or len(name) > 15 or name in (".", "..")
            or any(char in name for char in "/:") or any(char.isspace() for char in name))


def parse_interfaces(entries, problems):
    """Interface objects of the valid entries; the problems of the others are appended to ``problems``."""
    if not isinstance(entries, list):
        raise MtuError("interfaces must be a list of {name, mtu}")
    interfaces = []
    seen = set()
    for index, entry in enumerate(entries):
        option = "interfaces[%d]" % index
        if not isinstance(entry, dict):
            problems.append("%s: %r is not a dictionary with name and mtu" % (option, entry))
            continue
        name, mtu = entry.get("name"), entry.get("mtu")
        ok = True
        if _bad_name(name):
            problems.append("%s.name: %r is not a network interface name (1 to 15 characters, no '/', ':' "
                            "or whitespace)" % (option, name))
            ok = False
        elif name in seen:
            problems.append("%s.name: %s is listed more than once" % (option, name))
            ok = False
        seen.add(name)
        if isinstance(mtu, bool) or not isinstance(mtu, int) or not MTU_RANGE[0] <= mtu <= MTU_RANGE[1]:
            problems.append("%s.mtu: %r for %s is not an MTU (%d to %d)" % ((option, mtu, name) + MTU_RANGE))
            ok = False
        if ok:
            interfaces.append(Interface(index, name, mtu))
    return interfaces


def _json(runner, args):
    out = runner.run(args)[1]
    try:
        return json.loads(out or "[]")
    except ValueError:
        raise MtuError("cannot parse what '%s' printed: %r" % (" ".join(args), out[:200]))


def read_links(runner):
    """{name: link} from one ``ip -d -j link show``: mtu, min_mtu, max_mtu of every interface."""
    return dict((link.get("ifname"), link) for link in _json(runner, ["ip", "-d", "-j", "link", "show"]))


def read_addresses(runner):
    """{name: ["addr/prefix", ...]} from one ``ip -j addr show``: global scope, IPv4 before IPv6."""
    addresses = {}
    for link in _json(runner, ["ip", "-j", "addr", "show"]):
        infos = [info for info in link.get("addr_info", []) if info.get("scope") == "global"]
        addresses[link.get("ifname")] = ["%s/%s" % (info.get("local"), info.get("prefixlen"))
                                         for family in ("inet", "inet6") for info in infos
                                         if info.get("family") == family]
    return addresses


def _lower_devices(fs, name):
    return [entry[len("lower_"):] for entry in fs.list_dir("%s/%s" % (SYS_CLASS_NET, name))
            if entry.startswith("lower_")]


def _depth(fs, name, above=()):
    lowers = [lower for lower in _lower_devices(fs, name) if lower not in above]
    return 1 + max(_depth(fs, lower, above + (name,)) for lower in lowers) if lowers else 0


def check_live(fs, interfaces, links, addresses, problems):
    """The interfaces that exist, with their live MTU; problems of the others appended."""
    found = []
    for iface in interfaces:
        link = links.get(iface.name)
        if not fs.exists("%s/%s" % (SYS_CLASS_NET, iface.name)) or link is None:
            problems.append("%s.name: no network interface %s on this host (not in %s or 'ip link show')"
                            % (iface.option, iface.name, SYS_CLASS_NET))
            continue
        iface.before = link.get("mtu")
        iface.depth = _depth(fs, iface.name)
        iface.addresses = addresses.get(iface.name, [])
        # the kernel has no maximum when max_mtu is 0 (dev_validate_mtu)
        if link.get("max_mtu") and iface.mtu > link["max_mtu"]:
            problems.append("%s.mtu: %d is above the maximum MTU of %s (%d)"
                            % (iface.option, iface.mtu, iface.name, link["max_mtu"]))
        elif link.get("min_mtu") and iface.mtu < link["min_mtu"]:
            problems.append("%s.mtu: %d is below the minimum MTU of %s (%d)"
                            % (iface.option, iface.mtu, iface.name, link["min_mtu"]))
        else:
            found.append(iface)
    return found


def live_order(interfaces):
    """The interfaces whose live MTU changes, in an order the kernel accepts."""
    lowering = [iface for iface in interfaces if iface.mtu < iface.before]
    raising = [iface for iface in interfaces if iface.mtu > iface.before]
    return (sorted(lowering, key=lambda iface: -iface.depth)
            + sorted(raising, key=lambda iface: iface.depth))


# -- which configuration sets up an interface ----------------------------------------------

class _NotHere(Exception):
    """The backend asked for is not what configures this interface."""


class Backends:
    """Finds the configuration of each interface, asking each service once."""

    def __init__(self, fs, runner):
        self.fs = fs
        self.runner = runner
        self._active = {}
        self._files = None

    def on_path(self, command):
        for directory in os.environ.get("PATH", "").split(os.pathsep) + list(SEARCH_PATH):
            found = self.fs.stat(posixpath.join(directory, command)) if directory.startswith("/") else None
            if found is not None and found.st_mode & 0o111:
                return True
        return False

    def active(self, unit):
        if unit not in self._active:
            self._active[unit] = self.on_path("systemctl") and (
                self.runner.run(["systemctl", "is-active", unit], check=False)[1].strip() == "active")
        return self._active[unit]

    def ifupdown_files(self):
        if self._files is None:
            self._files = load_files(self.fs)
        return self._files

    def find(self, iface, backend):
        """Sets the backend and config of ``iface``; returns a problem, or None."""
        for name in BACKENDS if backend == "auto" else (backend,):
            try:
                getattr(self, "_" + name)(iface)
                iface.backend = name
                return None
            except _NotHere as error:
                if backend != "auto":
                    return "%s.name: backend=%s: %s" % (iface.option, backend, error)
            except MtuError as error:
                return "%s.name: %s" % (iface.option, error)
        return ("%s.name: no network configuration on this host sets up %s (looked at: %s): its MTU would not "
                "survive a reboot; configure the interface first, or set persist=false"
                % (iface.option, iface.name, LOOKED_AT))

    def _networkmanager(self, iface):
        if not self.on_path("nmcli") or not self.active("NetworkManager"):
            raise _NotHere("NetworkManager is not running on this host")
        rc, out, _err = self.runner.run(["nmcli", "-t", "-g", "GENERAL.STATE,GENERAL.CONNECTION", "device", "show",
                                         iface.name], check=False)
        values = [line.replace("\\:", ":").replace("\\\\", "\\") for line in out.splitlines()] + ["", ""]
        if rc != 0 or "unmanaged" in values[0] or not values[1]:
            raise _NotHere("NetworkManager has no active connection on %s" % iface.name)
        connection = values[1]
        kind = self._nm_get(connection, "connection.type")
        if kind not in NM_MTU_SETTINGS:
            raise MtuError("%s is set up by NetworkManager connection '%s' of type %s, whose MTU this module does not "
                           "set (types: %s)" % (iface.name, connection, kind, ", ".join(sorted(NM_MTU_SETTINGS))))
        setting = NM_MTU_SETTINGS[kind] + ".mtu"
        iface.config = connection
        iface.persist = (connection, setting, self._nm_get(connection, setting))

    def _nm_get(self, connection, field):
        # a vlan, bond or bridge connection without a wired setting yet has no 802-3-ethernet.mtu
        rc, out, _err = self.runner.run(["nmcli", "-t", "-g", field, "connection", "show", connection], check=False)
        return out.strip() if rc == 0 else ""

    def _networkd(self, iface):
        if not self.active("systemd-networkd"):
            raise _NotHere("systemd-networkd is not running on this host")
        rc, out, _err = self.runner.run(["networkctl", "status", iface.name, "--no-pager"], check=False)
        match = _NETWORK_FILE.search(out) if rc == 0 else None
        if not match or not match.group(1).startswith("/"):
            raise _NotHere("systemd-networkd does not configure %s (networkctl status shows no network file)"
                           % iface.name)
        network = posixpath.basename(match.group(1))
        iface.config = "%s/%s.d/%s" % (NETWORKD_DIR, network, DROP_IN_NAME)
        iface.persist = network

    def _ifupdown(self, iface):
        files = [config for config in self.ifupdown_files() if iface.name in config.names()]
        if not files:
            raise _NotHere("no iface stanza for %s in %s or the files it sources" % (iface.name, INTERFACES))
        iface.config = files[0].path


# -- the changes --------------------------------------------------------------------------

def _ip_set(name, mtu):
    return ["ip", "link", "set", "dev", name, "mtu", str(mtu)]


def _nm_modify(connection, setting, value):
    return ["nmcli", "connection", "modify", connection, setting, value]


def plan_files(fs, backends, interfaces, problems):
    """[(path, old text or None, new text, mode, why)] of the ifupdown files and networkd drop-ins to write."""
    files = []
    ifupdown = dict((iface.name, iface) for iface in interfaces if iface.backend == "ifupdown")
    for config in backends.ifupdown_files() if ifupdown else []:
        text, changed = set_mtus(config, dict((name, iface.mtu) for name, iface in ifupdown.items()))
        for name in changed:
            ifupdown[name].persist_changed = True
        if text != config.text:
            names = [name for name in sorted(ifupdown) if name in config.names()]
            files.append((config.write_path, config.text, text, config.mode,
                          ", ".join("mtu %d for %s" % (ifupdown[name].mtu, name) for name in names)))
    drop_ins = {}
    for iface in interfaces:
        if iface.backend != "networkd":
            continue
        other = drop_ins.get(iface.config)
        if other is not None and other.mtu != iface.mtu:
            problems.append("%s.mtu: %s and %s share the systemd-networkd file %s, so their MTUs cannot differ "
                            "(%d and %d)" % (iface.option, other.name, iface.name, iface.persist, other.mtu, iface.mtu))
        drop_ins[iface.config] = iface
        old = read_exact(fs, iface.config)
        new = DROP_IN % (iface.persist, iface.mtu)
        iface.persist_changed = old != new
        if old != new and iface.config not in [entry[0] for entry in files]:
            files.append((iface.config, old, new, 0o644, "MTUBytes=%d for %s" % (iface.mtu, iface.persist)))
    return files


class _Transaction:
    """The changes of one call with what undoes each, so that a failure leaves the host as it was."""

    def __init__(self, fs, runner):
        self.fs = fs
        self.runner = runner
        self.undo = []

    def run(self, args, undo_args, what):
        self.runner.run(args)
        self.undo.append((what, lambda: self.runner.run(undo_args)))

    def write_file(self, path, old, new, mode):
        missing = []
        directory = posixpath.dirname(path)
        while not self.fs.is_dir(directory):
            missing.insert(0, directory)
            directory = posixpath.dirname(directory)
        for directory in missing:
            self.fs.make_dir(directory, mode=0o755)
            self.undo.append(("removed %s" % directory, lambda directory=directory: self.fs.remove_dir(directory)))
        self.fs.write_file_atomic(path, new, mode=mode)
        if old is None:
            self.undo.append(("removed %s" % path, lambda: self.fs.unlink(path)))
        else:
            self.undo.append(("restored %s" % path, lambda: self.fs.write_file_atomic(path, old, mode=mode)))

    def fail(self, what, error):
        """The MtuError for a failed step, after undoing everything, newest first."""
        return MtuError(take_back(self.undo, what, error))


def _commit(fs, runner, live, files, nm_changes):
    transaction = _Transaction(fs, runner)
    for iface in live:
        try:
            transaction.run(_ip_set(iface.name, iface.mtu), _ip_set(iface.name, iface.before),
                            "MTU of %s set back to %d" % (iface.name, iface.before))
        except CommandError as error:
            raise transaction.fail("setting the MTU of %s to %d failed" % (iface.name, iface.mtu), error)
    for path, old, new, mode, _why in files:
        try:
            transaction.write_file(path, old, new, mode)
        except HostFSError as error:
            raise transaction.fail("writing %s failed" % path, error)
    for connection, setting, old, new in nm_changes:
        try:
            transaction.run(_nm_modify(connection, setting, new), _nm_modify(connection, setting, old),
                            "NetworkManager connection '%s' %s set back to %s" % (connection, setting, old or "''"))
        except CommandError as error:
            raise transaction.fail("modifying NetworkManager connection '%s' failed" % connection, error)


# -- the job of one call ------------------------------------------------------------------

def apply(fs, runner, params, check_mode=False):
    """Sets the MTUs of ``params["interfaces"]`` live and, with ``persist``, at boot; returns the module result.

    ``params`` are the module's options. Raises MtuError, IfupdownError, HostFSError or CommandError
    with nothing changed, except where the message says otherwise.
    """
    problems = []
    interfaces = parse_interfaces(params["interfaces"], problems)
    links = read_links(runner)
    interfaces = check_live(fs, interfaces, links, read_addresses(runner), problems)
    backends = Backends(fs, runner)
    persist = params.get("persist", True)
    if persist:
        problems += [problem for problem in (backends.find(iface, params.get("backend") or "auto")
                                             for iface in interfaces) if problem]
    files = plan_files(fs, backends, interfaces, problems) if persist and not problems else []
    if problems:
        raise MtuError("invalid interfaces, nothing was changed: " + "; ".join(problems))

    live = live_order(interfaces)
    nm_changes = []
    for iface in interfaces:
        if iface.backend == "networkmanager" and iface.persist[2] != str(iface.mtu):
            iface.persist_changed = True
            nm_changes.append(iface.persist + (str(iface.mtu),))
    actions = ["set the MTU of %s from %d to %d (ip link set dev %s mtu %d)"
               % (iface.name, iface.before, iface.mtu, iface.name, iface.mtu) for iface in live]
    actions += ["write %s (%s)" % (path, why) for path, _old, _new, _mode, why in files]
    actions += ["nmcli connection modify '%s' %s %s (was %s)" % (connection, setting, new, old or "unset")
                for connection, setting, old, new in nm_changes]
    if not check_mode:
        _commit(fs, runner, live, files, nm_changes)
    return _result(interfaces, live, files, nm_changes, actions)


def _result(interfaces, live, files, nm_changes, actions):
    entries = [{"name": iface.name, "mtu": iface.mtu, "before": iface.before, "after": iface.mtu,
                "changed": iface in live or iface.persist_changed, "backend": iface.backend,
                "config": iface.config, "addresses": iface.addresses} for iface in interfaces]
    diff = [{"before_header": path, "after_header": path, "before": old or "", "after": new}
            for path, old, new, _mode, _why in files]
    diff += [{"before_header": "NetworkManager connection '%s'" % connection,
              "after_header": "NetworkManager connection '%s'" % connection,
              "before": "%s: %s\n" % (setting, old), "after": "%s: %s\n" % (setting, new)}
             for connection, setting, old, new in nm_changes]
    diff.append({"before_header": "MTU (live)", "after_header": "MTU (live)",
                 "before": dict((iface.name, iface.before) for iface in interfaces),
                 "after": dict((iface.name, iface.mtu) for iface in interfaces)})
    return {"changed": bool(actions), "interfaces": entries, "actions": actions, "diff": diff}


# The options of module interface_mtu (also checked by module host_state).
ARGUMENT_SPEC = dict(
    interfaces=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str", required=True),
        mtu=dict(type="int", required=True),
    )),
    persist=dict(type="bool", default=True),
    backend=dict(type="str", choices=["auto", "ifupdown", "networkmanager", "networkd"], default="auto"),
)
