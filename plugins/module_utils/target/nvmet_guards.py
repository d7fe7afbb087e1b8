# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks made before anything is written, for dangers the kernel would not catch
(or would report obscurely): a missing or doubly exported backing device, a
listener on an address the host does not have, and changes that would cut live
connections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import stat

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.host_state import read_addresses
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.kernel_features import (
    kernel_release_and_config, tls_handshake_problem)
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_model import (
    HOST_ATTRS, HOSTS, LIO_CORE, NAMESPACE_FIXED_ATTRS, PORTS, TLS13, port_view)
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_plan import port_edited

TCP_ESTABLISHED = "01"
# The kernel's own file systems: their regular files are kernel interfaces, never volumes.
KERNEL_FILE_SYSTEMS = ("/proc", "/sys")
# The operating system's own trees: a regular file there is the host's configuration or code.
SYSTEM_TREES = ("/dev", "/run", "/etc", "/boot", "/usr", "/bin", "/sbin", "/lib", "/lib64")
WILDCARDS = ("0.0.0.0", "::")


class GuardError(Exception):
    """A declared change is unsafe or cannot work on this host; nothing was written."""


# -- backing devices -----------------------------------------------------------------

def device_identity(fs, path):
    """What makes two paths the same backing store: the device number or the inode."""
    info = fs.stat(path)
    if info is None:
        return None
    if stat.S_ISBLK(info.st_mode):
        return ("block", info.st_rdev)
    return ("file", info.st_dev, info.st_ino)


def tree_of(fs, path, trees):
    """The one of ``trees`` that ``path`` lies in once its links are followed, or None."""
    real = os.path.realpath(fs.path(path))
    root = os.path.realpath(fs.root)
    if root != "/":
        real = "/" + os.path.relpath(real, root)
    for top in trees:
        if real == top or real.startswith(top + "/"):
            return top
    return None


def _lio_exports(fs):
    """LIO (iSCSI, SRP, ...) backstores: {identity: 'core/<hba>/<name>'}."""
    exports = {}
    for hba in fs.list_dir(LIO_CORE):
        for name in fs.list_dir("%s/%s" % (LIO_CORE, hba)):
            # next to the backstore directories an HBA has attributes (hba_info, hba_mode)
            if not fs.is_dir("%s/%s/%s" % (LIO_CORE, hba, name)):
                continue
            udev_path = fs.read("%s/%s/%s/udev_path" % (LIO_CORE, hba, name))
            identity = device_identity(fs, udev_path) if udev_path else None
            if identity:
                exports[identity] = "core/%s/%s" % (hba, name)
    return exports


def check_devices(fs, spec, desired):
    nqn = spec["nqn"]
    exported = {}
    for other, subsystem in desired["subsystems"].items():
        if other == nqn:
            continue
        for nsid, namespace in subsystem["namespaces"].items():
            # A namespace whose device was never written shows "(null)": it exports nothing.
            device = namespace.get("device_path") or ""
            identity = device_identity(fs, device) if device.startswith("/") else None
            if identity:
                exported[identity] = "namespace %d of subsystem %s" % (nsid, other)
    lio = _lio_exports(fs)
    for namespace in spec["namespaces"]:
        option = "namespaces[nsid=%d].device_path" % namespace["nsid"]
        path = namespace["device_path"]
        info = fs.stat(path)
        if info is None:
            raise GuardError("%s: %r does not exist on this host" % (option, path))
        if not (stat.S_ISBLK(info.st_mode) or stat.S_ISREG(info.st_mode)):
            raise GuardError("%s: %r is neither a block device nor a regular file" % (option, path))
        kernel = tree_of(fs, path, KERNEL_FILE_SYSTEMS)
        if kernel:
            raise GuardError("%s: %r is a file of the kernel's %s, not a volume: hosts would read and write "
                             "the kernel's state through it" % (option, path, kernel))
        system = not fs.is_block_device(path) and tree_of(fs, path, SYSTEM_TREES)
        if system:
            raise GuardError("%s: %r is a file of the operating system (under %s), not a volume: hosts would "
                             "read and write it; keep image files elsewhere (/srv, /var/lib)" % (option, path, system))
        identity = device_identity(fs, path)
        if identity in exported:
            raise GuardError("%s: %r is already exported as %s; two exports of one device "
                             "corrupt it silently" % (option, path, exported[identity]))
        if identity in lio:
            raise GuardError("%s: %r is already exported by the LIO target (iSCSI) as backstore "
                             "%s; exporting it over NVMe too corrupts it silently"
                             % (option, path, lio[identity]))
        exported[identity] = "namespace %d of subsystem %s" % (namespace["nsid"], nqn)


# -- in-band authentication --------------------------------------------------------------

def _built_with(fs, option, directory, attribute):
    """Whether the kernel was built with ``option``; without its config, whether the first item
    of ``directory`` has ``attribute``; None when neither can tell beforehand."""
    _release, config = kernel_release_and_config(fs)
    if config is not None:
        return option + "=y" in config.splitlines()
    items = fs.list_dir(directory)
    if items:
        return fs.exists("%s/%s/%s" % (directory, items[0], attribute))
    return None


def target_auth_supported(fs):
    """Whether this kernel's nvmet has DH-HMAC-CHAP."""
    return _built_with(fs, "CONFIG_NVME_TARGET_AUTH", HOSTS, "dhchap_key")


def check_auth(fs, spec):
    wanting = [host["nqn"] for host in spec["hosts"]
               if any(host.get(name) for name in HOST_ATTRS)]
    if wanting and target_auth_supported(fs) is False:
        raise GuardError("hosts: %s declare DH-HMAC-CHAP options, but this kernel (%s) was built "
                         "without NVMe target authentication (CONFIG_NVME_TARGET_AUTH), as Debian "
                         "12's 6.1 kernel is; use a kernel that has it (bookworm-backports 6.12 "
                         "does) or drop the dhchap options"
                         % (", ".join(wanting), fs.read("/proc/sys/kernel/osrelease")))


# -- NVMe/TCP TLS ---------------------------------------------------------------------------

def target_tls_supported(fs):
    """Whether nvmet-tcp can do TLS 1.3 (Linux 6.7+ built with it)."""
    return _built_with(fs, "CONFIG_NVME_TARGET_TCP_TLS", PORTS, "addr_tsas")


def check_tls(fs, runner, spec, current, ports):
    """TLS listeners need a kernel and a host that can do it; a shared port has one TLS setting."""
    wanting = ", ".join("listeners[%d].tls" % index for index, listener in enumerate(spec["listeners"])
                        if listener.get("tls"))
    if wanting and target_tls_supported(fs) is False:
        release, _config = kernel_release_and_config(fs)
        raise GuardError("%s: true, but this kernel (%s) has no NVMe/TCP TLS on the target "
                         "(CONFIG_NVME_TARGET_TCP_TLS, Linux 6.7 or later): Debian 12's 6.1 kernel has none, "
                         "bookworm-backports 6.12 has it" % (wanting, release))
    for index, listener in enumerate(spec["listeners"]):
        port = current["ports"].get(ports.get(index))
        others = [nqn for nqn in (port or {}).get("subsystems", []) if nqn != spec["nqn"]]
        port_tls = bool(port) and port["attrs"].get("addr_tsas") == TLS13
        if others and port_tls != bool(listener.get("tls")):
            raise GuardError("listeners[%d].tls: %s, but nvmet port %d (%s port %s) also serves %s %s TLS; "
                             "every subsystem on one address and service id must declare the same tls"
                             % (index, "true" if listener.get("tls") else "false", ports[index],
                                listener["address"], listener["service_id"], ", ".join(others),
                                "with" if port_tls else "without"))
    problem = tls_handshake_problem(fs, runner) if wanting else None
    if problem:
        raise GuardError("%s: true, but %s" % (wanting, problem))


# -- listener addresses --------------------------------------------------------------------

def local_addresses(runner):
    """{address: interface} of every address configured on this host."""
    addresses = {}
    for link in read_addresses(runner):
        for info in link.get("addr_info", []):
            try:
                addresses[str(ipaddress.ip_address(info.get("local", "")))] = link.get("ifname")
            except ValueError:
                continue
    return addresses


def missing_addresses(spec, addresses):
    return [listener["address"] for listener in spec.get("listeners", [])
            if listener["address"] not in WILDCARDS and listener["address"] not in addresses]


def check_addresses(spec, addresses):
    """``addresses``: local_addresses() of this host, read once for every subsystem of a call."""
    missing = missing_addresses(spec, addresses)
    if missing:
        have = ", ".join("%s (%s)" % (address, name) for address, name in sorted(addresses.items()))
        raise GuardError("listeners: %s not configured on any interface of this host, so the kernel "
                         "could not listen there; this host has %s"
                         % (", ".join(missing) + (" is" if len(missing) == 1 else " are"), have))


def check_port_addresses(desired):
    """Two enabled ports cannot listen on the same address and service id."""
    seen = {}
    for port_id, port in sorted(desired["ports"].items()):
        if not port["subsystems"]:
            continue
        view = port_view(port_id, port)
        key = (view["transport"], view["address"], view["service_id"])
        if key in seen:
            raise GuardError("listeners: %s port %s is served by nvmet port %d already; declare "
                             "port_id %d or no port_id" % (key[1], key[2], seen[key], seen[key]))
        seen[key] = port_id


# -- live connections ------------------------------------------------------------------

def _proc_address(text):
    """An address:port from /proc/net/tcp{,6} (32-bit words in host byte order)."""
    address, port = text.split(":")
    raw = bytes.fromhex(address)
    words = b"".join(raw[index:index + 4][::-1] for index in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words)), int(port, 16)


def established_connections(fs):
    """[(local address, local port)] of every established TCP connection."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in (fs.read(table, "") or "").splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == TCP_ESTABLISHED:
                address, port = _proc_address(fields[1])
                if address.startswith("::ffff:"):
                    address = address[len("::ffff:"):]
                found.append((address, port))
    return found


def live_ports(fs, world, connections=None):
    """{port id: established connections} for the ports of ``world`` that have any.

    Connections cannot be told apart by subsystem on these kernels, so every
    subsystem linked to a busy port counts as connected. ``connections``:
    established_connections(), when already read.
    """
    if connections is None:
        connections = established_connections(fs)
    busy = {}
    for port_id, port in world["ports"].items():
        view = port_view(port_id, port)
        count = sum(1 for address, number in connections
                    if number == view["service_id"]
                    and (view["address"] in WILDCARDS or address == view["address"]))
        if count:
            busy[port_id] = count
    return busy


def disruptions(current, desired, nqn, busy):
    """Human descriptions of the planned changes that would cut live connections."""
    found = []
    live_links = [port_id for port_id, port in current["ports"].items()
                  if nqn in port["subsystems"] and port_id in busy]
    where = ", ".join("port %d (%d connections)" % (port_id, busy[port_id])
                      for port_id in sorted(live_links))
    before = current["subsystems"].get(nqn)
    after = desired["subsystems"].get(nqn)
    if before and live_links:
        if after is None:
            found.append("removing subsystem %s" % nqn)
        else:
            for nsid, namespace in sorted(before["namespaces"].items()):
                wanted = after["namespaces"].get(nsid)
                if wanted is None:
                    found.append("removing namespace %d" % nsid)
                elif namespace.get("enable") == "1" and any(
                        wanted.get(name) != namespace.get(name) for name in NAMESPACE_FIXED_ATTRS):
                    found.append("replacing the device or ids of namespace %d" % nsid)
            found += ["removing allowed host %s" % host for host in before["allowed_hosts"]
                      if host not in after["allowed_hosts"]]
            found += ["removing listener port %d" % port_id for port_id in sorted(live_links)
                      if nqn not in desired["ports"].get(port_id, {}).get("subsystems", [])]
    for port_id in sorted(busy):
        if port_edited(current, desired, port_id):
            found.append("changing port %d, which unlinks every subsystem on it (%d connections)"
                         % (port_id, busy[port_id]))
    if found and where:
        found[0] += " while hosts are connected through %s" % where
    return found


def check_disruptions(current, desired, nqn, busy):
    found = disruptions(current, desired, nqn, busy)
    if found:
        raise GuardError("refusing to cut live connections: %s. Connections on a port cannot be "
                         "told apart by subsystem or host on this kernel. Set allow_disruptive=true "
                         "to proceed anyway." % "; ".join(found))
