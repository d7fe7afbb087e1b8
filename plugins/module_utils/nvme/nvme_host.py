# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only facts about a host's NVMe over Fabrics state, for both sides.

Plain Python over a HostFS, so unit tests run the same code on fake trees:

- ``kernel_facts``: kernel release and the NVMe/TCP kernel modules (loaded,
  built in, installed), from ``/sys/module`` and ``modules.builtin`` /
  ``modules.dep`` (no walk of ``/lib/modules``).
- ``host_identity``: ``/etc/nvme/hostnqn`` and ``/etc/nvme/hostid`` and
  whether they agree.
- ``initiator_facts``: fabrics controllers (``/sys/class/nvme-fabrics/ctl``),
  NVMe subsystems with their paths and ANA states
  (``/sys/class/nvme-subsystem``), and the ``nvme_core`` multipath settings.
- ``target_facts``: the kernel target (nvmet configfs) tree, described by
  ``nvmet_model.describe_target``.

Sysfs layout (Linux 6.1 and 6.12 alike): fabrics controllers are
``/sys/devices/virtual/nvme-fabrics/ctl/nvmeN``; a subsystem directory holds a
symlink per controller (``nvmeN``) and, with native multipath, one directory
per namespace head (``nvmeSnM``). The per-path block devices
(``nvmeScNnM``, hidden) sit below their controller and carry ``ana_grpid`` and
``ana_state`` when the controller uses ANA. Without native multipath the
namespace devices (``nvmeNnM``) sit below the controller and no head exists.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import re
import uuid

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_model import describe_target

PARTS = ("kernel", "host", "target", "initiator")

# The modules both sides need, by the name the kernel gives them in /sys/module.
MODULES = ("nvmet", "nvmet_tcp", "nvme_tcp", "nvme_fabrics", "nvme_core")

FABRICS_CTL = "/sys/class/nvme-fabrics/ctl"
SUBSYSTEMS = "/sys/class/nvme-subsystem"
NVME_CORE_PARAMS = "/sys/module/nvme_core/parameters"
HOSTNQN_FILE = "/etc/nvme/hostnqn"
HOSTID_FILE = "/etc/nvme/hostid"

# The form nvme-cli and the kernel use for generated host NQNs.
UUID_NQN_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:"
NQN_MAX_BYTES = 223

_MODULE_SUFFIX = re.compile(r"\.ko(\.(xz|zst|gz))?$")
_CONTROLLER = re.compile(r"^nvme(\d+)$")
_SUBSYSTEM = re.compile(r"^nvme-subsys(\d+)$")
# nvme0n1 (head or non-multipath namespace), nvme0c1n1 (one path of a head).
_NAMESPACE = re.compile(r"^nvme(\d+)(?:c(\d+))?n(\d+)$")
_ADDRESS_KEYS = ("traddr", "trsvcid", "host_traddr", "host_iface", "src_addr")
# Controller settings sysfs shows (fabrics controllers only for the first three).
_TIMEOUTS = ("ctrl_loss_tmo", "reconnect_delay", "fast_io_fail_tmo")
_COUNTS = ("kato", "queue_count", "sqsize")
# errnos with which sysfs answers for a device that went away while we read it.
_GONE = (errno.ENODEV, errno.ENXIO)


# -- small readers ---------------------------------------------------------------
def _attr(fs, path):
    """A sysfs attribute, stripped; None if absent or its device just went away."""
    try:
        value = fs.read(path)
    except HostFSError as exc:
        if exc.errno in _GONE:
            return None
        raise
    return None if value is None else value.strip()


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _timeout(value):
    """Seconds as the kernel shows them; ``off`` (never, or disabled) becomes -1."""
    if value == "off":
        return -1
    return _int(value)


def _yes_no(value):
    """A bool module parameter as sysfs shows it (Y/N); None if absent."""
    if value is None:
        return None
    return value.upper() in ("Y", "1")


def _matching(fs, directory, pattern):
    """Entries of ``directory`` matching ``pattern``, by their numbers (nvme2 before nvme10)."""
    keyed = []
    for name in fs.list_dir(directory):
        match = pattern.match(name)
        if match:
            keyed.append((tuple(int(g) if g is not None else -1 for g in match.groups()), name))
    return [name for _key, name in sorted(keyed)]


# -- kernel ------------------------------------------------------------------------
def module_name(path):
    """The kernel's name for a module file: ``kernel/.../nvme-tcp.ko.xz`` -> ``nvme_tcp``."""
    base = path.strip().rsplit("/", 1)[-1]
    return _MODULE_SUFFIX.sub("", base).replace("-", "_")


def _module_files(text):
    """Module name -> path relative to /lib/modules/<release>, from modules.dep text."""
    files = {}
    for line in (text or "").splitlines():
        path = line.split(":", 1)[0].strip()
        if path:
            files.setdefault(module_name(path), path)
    return files


def kernel_facts(fs, modules=MODULES):
    release = _attr(fs, "/proc/sys/kernel/osrelease")
    base = "/lib/modules/%s" % release if release else None
    builtin_text = fs.read(base + "/modules.builtin") if base else None
    dep_text = fs.read(base + "/modules.dep") if base else None
    builtin = set(_module_files(builtin_text))
    files = _module_files(dep_text)
    facts = {}
    for name in modules:
        is_builtin = name in builtin
        path = files.get(name)
        facts[name] = {
            "loaded": fs.exists("/sys/module/%s" % name),
            "builtin": is_builtin,
            "available": is_builtin or path is not None,
            "path": "%s/%s" % (base, path) if path else None,
        }
    return {
        "release": release,
        "module_index_found": dep_text is not None,
        "modules": facts,
    }


def modules_present(fs, names):
    """{name: whether the module is loaded or built into the running kernel}, as modprobe sees it;
    ``names`` as modprobe takes them (nvmet-tcp or nvmet_tcp)."""
    if not names:
        return {}
    facts = kernel_facts(fs, [module_name(name) for name in names])["modules"]
    return dict((name, facts[module_name(name)]["loaded"] or facts[module_name(name)]["builtin"]) for name in names)


# -- host identity -------------------------------------------------------------------
def _uuid(text):
    try:
        return str(uuid.UUID(text))
    except (TypeError, ValueError, AttributeError):
        return None


def host_identity(fs):
    hostnqn = _attr(fs, HOSTNQN_FILE) or None
    hostid = _attr(fs, HOSTID_FILE) or None
    problems = []
    nqn_uuid = None
    if hostnqn is None:
        problems.append("%s is missing or empty" % HOSTNQN_FILE)
    else:
        if not hostnqn.startswith("nqn."):
            problems.append("host NQN %r does not start with 'nqn.'" % hostnqn)
        if len(hostnqn.encode("utf-8")) > NQN_MAX_BYTES:
            problems.append("host NQN is longer than %d bytes" % NQN_MAX_BYTES)
        if hostnqn.startswith(UUID_NQN_PREFIX):
            nqn_uuid = _uuid(hostnqn[len(UUID_NQN_PREFIX):])
            if nqn_uuid is None:
                problems.append("host NQN %r has the uuid form but no valid UUID" % hostnqn)
    hostid_uuid = None
    if hostid is None:
        problems.append("%s is missing or empty" % HOSTID_FILE)
    else:
        hostid_uuid = _uuid(hostid)
        if hostid_uuid is None:
            problems.append("host ID %r is not a UUID; the kernel refuses it" % hostid)
    agree = None
    if nqn_uuid and hostid_uuid:
        agree = nqn_uuid == hostid_uuid
        if not agree:
            problems.append("host ID %s differs from the UUID in the host NQN (%s)"
                            % (hostid, nqn_uuid))
    return {
        "hostnqn": hostnqn,
        "hostid": hostid,
        "hostnqn_uuid": nqn_uuid,
        "ids_agree": agree,
        "problems": problems,
    }


# -- initiator -------------------------------------------------------------------------
def _address_items(text):
    return [item.strip() for item in re.split(r"[,\n]", text or "") if item.strip()]


def parse_address(text):
    """Splits a controller's ``address`` attribute into its fields.

    ``traddr=10.0.0.1,trsvcid=4420,host_iface=eth1,src_addr=10.0.0.2``: every
    key is optional; src_addr only shows while the admin queue is connected.
    PCIe controllers show a bare PCI address, which stays in ``address`` only.
    """
    fields = dict((key, None) for key in _ADDRESS_KEYS)
    for item in _address_items(text):
        key, sep, value = item.partition("=")
        if sep and key in fields:
            fields[key] = value
    return fields


def _path_devices(fs, controller_dir):
    """Namespace block devices below one controller, with their ANA state."""
    devices = []
    for name in _matching(fs, controller_dir, _NAMESPACE):
        directory = "%s/%s" % (controller_dir, name)
        devices.append({
            "name": name,
            "nsid": _int(_attr(fs, directory + "/nsid")),
            "ana_grpid": _int(_attr(fs, directory + "/ana_grpid")),
            "ana_state": _attr(fs, directory + "/ana_state"),
        })
    return devices


def _secret_set(fs, path):
    """Whether a DH-HMAC-CHAP secret is configured, never the secret itself."""
    value = _attr(fs, path)
    if value is None:
        return None
    return value not in ("", "none")


def _path_facts(fs, directory):
    """What identifies a controller as a path: its name, transport, address and state."""
    address = _attr(fs, directory + "/address")
    facts = {
        "name": directory.rstrip("/").rsplit("/", 1)[-1],
        "transport": _attr(fs, directory + "/transport"),
        "address": ",".join(_address_items(address)) if address else address,
        "state": _attr(fs, directory + "/state"),
        "cntlid": _int(_attr(fs, directory + "/cntlid")),
    }
    facts.update(parse_address(address))
    return facts


def controller_facts(fs, directory):
    """One controller directory, with its identity and connection settings."""
    facts = _path_facts(fs, directory)
    for key in ("subsysnqn", "hostnqn", "hostid", "cntrltype", "model", "serial", "firmware_rev"):
        facts[key] = _attr(fs, "%s/%s" % (directory, key))
    facts["numa_node"] = _int(_attr(fs, directory + "/numa_node"))
    facts["dhchap_secret_set"] = _secret_set(fs, directory + "/dhchap_secret")
    facts["dhchap_ctrl_secret_set"] = _secret_set(fs, directory + "/dhchap_ctrl_secret")
    options = {}
    for key in _TIMEOUTS:
        value = _timeout(_attr(fs, "%s/%s" % (directory, key)))
        if value is not None:
            options[key] = value
    for key in _COUNTS:
        value = _int(_attr(fs, "%s/%s" % (directory, key)))
        if value is not None:
            options[key] = value
    facts["options"] = options
    return facts


def fabrics_controllers(fs):
    return [controller_facts(fs, "%s/%s" % (FABRICS_CTL, name))
            for name in _matching(fs, FABRICS_CTL, _CONTROLLER)]


def _namespace_heads(fs, subsys_dir):
    heads = []
    for name in _matching(fs, subsys_dir, _NAMESPACE):
        directory = "%s/%s" % (subsys_dir, name)
        if not fs.is_dir(directory):
            continue
        sectors = _int(_attr(fs, directory + "/size"))
        heads.append({
            "name": name,
            "nsid": _int(_attr(fs, directory + "/nsid")),
            "uuid": _attr(fs, directory + "/uuid"),
            "nguid": _attr(fs, directory + "/nguid"),
            "wwid": _attr(fs, directory + "/wwid"),
            "size_bytes": sectors * 512 if sectors is not None else None,
        })
    return heads


def subsystem_facts(fs, name):
    directory = "%s/%s" % (SUBSYSTEMS, name)
    controllers = []
    for ctrl in _matching(fs, directory, _CONTROLLER):
        path = _path_facts(fs, "%s/%s" % (directory, ctrl))
        path["namespaces"] = _path_devices(fs, "%s/%s" % (directory, ctrl))
        controllers.append(path)
    return {
        "name": name,
        "nqn": _attr(fs, directory + "/subsysnqn"),
        "model": _attr(fs, directory + "/model"),
        "serial": _attr(fs, directory + "/serial"),
        "firmware_rev": _attr(fs, directory + "/firmware_rev"),
        "subsystype": _attr(fs, directory + "/subsystype"),
        "iopolicy": _attr(fs, directory + "/iopolicy"),
        "namespaces": _namespace_heads(fs, directory),
        "controllers": controllers,
    }


def subsystems(fs):
    return [subsystem_facts(fs, name) for name in _matching(fs, SUBSYSTEMS, _SUBSYSTEM)]


def initiator_facts(fs):
    return {
        "multipath": _yes_no(_attr(fs, NVME_CORE_PARAMS + "/multipath")),
        "default_iopolicy": _attr(fs, NVME_CORE_PARAMS + "/iopolicy"),
        "controllers": fabrics_controllers(fs),
        "subsystems": subsystems(fs),
    }


# -- target ------------------------------------------------------------------------------
def target_facts(fs):
    """The nvmet configfs tree; nvmet_model owns its shape (secrets masked there)."""
    return describe_target(fs)


# -- everything ----------------------------------------------------------------------------
_GATHERERS = {
    "kernel": kernel_facts,
    "host": host_identity,
    "target": target_facts,
    "initiator": initiator_facts,
}


def gather(fs, parts=PARTS):
    """The facts for each requested part, keyed by part name."""
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError("unknown parts: %s (known: %s)" % (", ".join(unknown), ", ".join(PARTS)))
    return dict((part, _GATHERERS[part](fs)) for part in PARTS if part in parts)
