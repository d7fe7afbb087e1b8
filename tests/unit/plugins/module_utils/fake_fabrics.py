# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake kernel NVMe over Fabrics host (nvme-fabrics + nvme-tcp) over a FakeSys tree.

FakeFabrics has the interface of nvme_fabrics.KernelFabrics (``connect``,
``disconnect``, ``set_option``) and answers as Linux 6.1 does (measured in
the lab on Debian 12):

* ``connect`` parses the option string like ``nvmf_parse_options()``
  (an unknown token is EINVAL with the kernel's log record), then plays the
  target: an address without a target times out (ETIMEDOUT, ``failed to
  connect socket: -110``), a port without a listener refuses (ECONNREFUSED,
  ``-111``), an NQN the port does not export is ``Connect Invalid Data
  Parameter`` (EIO), a host the subsystem does not allow is ``Connect for
  subsystem ... is not allowed`` (EIO), a second connect of a live path with
  the same identifying options is EALREADY with nothing logged;
* a connected controller appears as ``/sys/devices/virtual/nvme-fabrics/ctl/nvmeN``
  (linked from ``/sys/class/nvme`` and ``/sys/class/nvme-fabrics/ctl``), on the
  lowest free instance, with the attributes the kernel shows: ``address``
  (``traddr=...,trsvcid=...[,host_traddr=...][,host_iface=...],src_addr=...``),
  ``ctrl_loss_tmo`` as ``off`` or max_reconnects * reconnect_delay where
  max_reconnects = ceil(ctrl_loss_tmo / reconnect_delay), ``fast_io_fail_tmo``
  as ``off`` for -1, ``kato``, ``queue_count`` (I/O queues capped to the CPUs);
* ``set_option`` follows the sysfs stores: ctrl_loss_tmo recomputes
  max_reconnects from the current delay, reconnect_delay keeps max_reconnects
  (so the shown loss timeout follows the delay), fast_io_fail_tmo -1 is off,
  every other attribute (kato, ...) is read-only (EACCES);
* ``disconnect`` is the write to ``delete_controller``: the controller is gone.

Every call is recorded in ``calls`` (so a test can assert that nothing was
written), and every kernel log record in ``kmsg``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import shutil

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_fabrics import ConnectError

FABRICS_CTL = "/sys/devices/virtual/nvme-fabrics/ctl"
CLASS_NVME = "/sys/class/nvme"

# Kernel defaults (drivers/nvme/host/fabrics.h, core.c)
DEFAULT_CTRL_LOSS_TMO = 600          # NVMF_DEF_CTRL_LOSS_TMO
DEFAULT_RECONNECT_DELAY = 10         # NVMF_DEF_RECONNECT_DELAY
DEFAULT_KATO = 5                     # NVME_DEFAULT_KATO
DEFAULT_QUEUE_SIZE = 128             # NVMF_DEF_QUEUE_SIZE

# Tokens of nvmf_parse_options() (6.1); the value-less ones are flags.
VALUE_TOKENS = frozenset([
    "transport", "nqn", "traddr", "trsvcid", "queue_size", "nr_io_queues", "reconnect_delay",
    "keep_alive_tmo", "hostnqn", "host_traddr", "host_iface", "hostid", "ctrl_loss_tmo",
    "nr_write_queues", "nr_poll_queues", "tos", "fast_io_fail_tmo"])
FLAG_TOKENS = frozenset(["duplicate_connect", "disable_sqflow", "hdr_digest", "data_digest", "discovery"])
AUTH_TOKENS = frozenset(["dhchap_secret", "dhchap_ctrl_secret"])
INT_TOKENS = frozenset([
    "queue_size", "nr_io_queues", "reconnect_delay", "keep_alive_tmo", "ctrl_loss_tmo",
    "nr_write_queues", "nr_poll_queues", "tos", "fast_io_fail_tmo"])

# sysfs attributes with a store() on a fabrics controller
WRITABLE = ("ctrl_loss_tmo", "reconnect_delay", "fast_io_fail_tmo")


def _off(value):
    return "off" if value == -1 else str(value)


def _ceil_div(value, divisor):
    return -(-value // divisor)


def default_source(address):
    """The host's address on the target's network: the target's with host part 21."""
    separator = ":" if ":" in address else "."
    return address.rsplit(separator, 1)[0] + separator + "21"


def _hostfs_error(path, code, value):
    return HostFSError("writing", path, OSError(code, os.strerror(code)), value=value)


class FakeFabrics:
    """A fake nvme-fabrics host over ``sysfs`` (a test_nvme_host.FakeSys)."""

    def __init__(self, sysfs, targets=None, unreachable=(), cpus=4, auth=True, sources=None):
        self.sysfs = sysfs
        # {(address, service_id): {subsystem nqn: set(allowed host nqns)}}
        self.targets = {}
        for (address, service_id), subsystems in (targets or {}).items():
            for nqn, hosts in subsystems.items():
                self.allow(address, service_id, nqn, *hosts)
        self.unreachable = set(unreachable)
        self.cpus = cpus
        self.auth = auth  # False: a kernel without DH-HMAC-CHAP options (before 5.19)
        self.tls = False  # True: CONFIG_NVME_TCP_TLS (6.7+), the bare "tls" option is known
        self.sources = dict(sources or {})
        self.calls = []
        self.kmsg = []
        self.controllers = {}  # name -> what the kernel keeps about it
        self._cntlids = {}

    # -- the target side --------------------------------------------------------------
    def allow(self, address, service_id, nqn, *hostnqns):
        """Exports ``nqn`` on the port, to these hosts (none: the subsystem allows nobody)."""
        hosts = self.targets.setdefault((address, int(service_id)), {}).setdefault(nqn, set())
        hosts.update(hostnqns)

    def forbid(self, address, service_id, nqn, hostnqn):
        self.targets[(address, int(service_id))][nqn].discard(hostnqn)

    # -- the KernelFabrics interface ---------------------------------------------------
    def connect(self, options):
        self.calls.append(("connect", options))
        log = []
        try:
            return self._connect(options, log)
        finally:
            self.kmsg.extend(log)

    def disconnect(self, name):
        self.calls.append(("disconnect", name))
        path = "%s/%s/delete_controller" % (CLASS_NVME, name)
        if not self.sysfs.fs.exists("%s/%s" % (CLASS_NVME, name)):
            raise _hostfs_error(path, errno.ENOENT, "1")
        state = self._state(name)
        self.kmsg.append('nvme %s: Removing ctrl: NQN "%s"' % (name, state["nqn"]))
        directory = self.sysfs.fs.read_link("%s/%s" % (CLASS_NVME, name))
        shutil.rmtree(self.sysfs.real(directory))
        for link in ("%s/%s" % (CLASS_NVME, name), "/sys/class/nvme-fabrics/ctl/%s" % name):
            if os.path.lexists(self.sysfs.real(link)) and not os.path.exists(self.sysfs.real(link)):
                os.unlink(self.sysfs.real(link))
        self.controllers.pop(name, None)

    def set_option(self, name, option, value):
        self.calls.append(("set_option", name, option, value))
        path = "%s/%s/%s" % (CLASS_NVME, name, option)
        text = str(value)
        if not self.sysfs.fs.exists("%s/%s" % (CLASS_NVME, name)):
            raise _hostfs_error(path, errno.ENOENT, text)
        if option not in WRITABLE:  # kato and the rest: no store(), kernfs says EACCES
            raise _hostfs_error(path, errno.EACCES, text)
        try:
            number = int(text)
        except ValueError:
            raise _hostfs_error(path, errno.EINVAL, text)
        state = self._state(name)
        if option == "reconnect_delay":
            if number <= 0:  # kstrtou32, then "v == 0"
                raise _hostfs_error(path, errno.EINVAL, text)
            state["reconnect_delay"] = number  # max_reconnects stays: the shown loss timeout follows
        elif option == "ctrl_loss_tmo":
            state["max_reconnects"] = -1 if number < 0 else _ceil_div(number, state["reconnect_delay"])
        else:
            state["fast_io_fail_tmo"] = -1 if number < 0 else number
        self._show(name)

    # -- what the kernel keeps -------------------------------------------------------
    def controller_names(self):
        return sorted(self.sysfs.fs.list_dir(CLASS_NVME), key=lambda name: int(name[4:]))

    def attribute(self, name, attribute):
        return self.sysfs.fs.read("%s/%s/%s" % (CLASS_NVME, name, attribute))

    def _connect(self, options, log):
        instance = self._free_instance()
        name = "nvme%d" % instance
        opts = {}
        for item in options.split(","):
            key, sep, value = item.partition("=")
            known = VALUE_TOKENS | (AUTH_TOKENS if self.auth else frozenset())
            flags = FLAG_TOKENS | (frozenset(["tls"]) if self.tls else frozenset())
            if (sep and key in known and value) or (not sep and key in flags):
                if key in INT_TOKENS:
                    try:
                        value = int(value)
                    except ValueError:
                        log.append("nvme_fabrics: unknown parameter or missing value '%s' in ctrl "
                                   "creation request" % item)
                        raise ConnectError(errno.EINVAL, log)
                opts[key] = value if sep else True
                if key == "ctrl_loss_tmo" and value < 0:  # logged while parsing, like the kernel
                    log.append("nvme_fabrics: ctrl_loss_tmo < 0 will reconnect forever")
                continue
            log.append("nvme_fabrics: unknown parameter or missing value '%s' in ctrl creation request"
                       % item)
            raise ConnectError(errno.EINVAL, log)
        if opts.get("reconnect_delay", 1) <= 0:
            log.append("nvme_fabrics: Invalid reconnect_delay %d" % opts["reconnect_delay"])
            raise ConnectError(errno.EINVAL, log)
        if opts.get("transport") != "tcp":
            log.append("nvme_fabrics: no handler found for transport %s." % opts.get("transport"))
            raise ConnectError(errno.EINVAL, log)
        for required in ("nqn", "traddr"):
            if required not in opts:
                log.append("nvme_fabrics: missing parameter '%s=%%s'" % required)
                raise ConnectError(errno.EINVAL, log)
        iface = opts.get("host_iface")
        if iface and not self.sysfs.fs.is_dir("/sys/class/net/%s" % iface):
            log.append("nvme_tcp: invalid interface passed: %s" % iface)
            raise ConnectError(errno.EINVAL, log)
        opts.setdefault("trsvcid", "4420")
        opts["trsvcid"] = str(opts["trsvcid"])
        hostnqn = opts.get("hostnqn")
        if not opts.get("duplicate_connect") and self._existing(opts):
            raise ConnectError(errno.EALREADY, log)
        address, service_id = opts["traddr"], int(opts["trsvcid"])
        ports = dict((port, subsystems) for port, subsystems in self.targets.items()
                     if port[0] == address)
        if address in self.unreachable or not ports:
            log.append("nvme %s: failed to connect socket: -110" % name)
            raise ConnectError(errno.ETIMEDOUT, log)
        if (address, service_id) not in ports:
            log.append("nvme %s: failed to connect socket: -111" % name)
            raise ConnectError(errno.ECONNREFUSED, log)
        subsystems = ports[(address, service_id)]
        if opts["nqn"] not in subsystems:
            log.append('nvme %s: Connect Invalid Data Parameter, subsysnqn "%s"' % (name, opts["nqn"]))
            log.append("nvme %s: failed to connect queue: 0 ret=16770" % name)
            raise ConnectError(errno.EIO, log)
        if hostnqn not in subsystems[opts["nqn"]]:
            log.append("nvme %s: Connect for subsystem %s is not allowed, hostnqn: %s"
                       % (name, opts["nqn"], hostnqn))
            log.append("nvme %s: failed to connect queue: 0 ret=16772" % name)
            raise ConnectError(errno.EIO, log)
        delay = opts.get("reconnect_delay", DEFAULT_RECONNECT_DELAY)
        loss = opts.get("ctrl_loss_tmo", DEFAULT_CTRL_LOSS_TMO)
        io_queues = min(opts.get("nr_io_queues", self.cpus), self.cpus)
        cntlid = self._cntlids.get(opts["nqn"], 0) + 1
        self._cntlids[opts["nqn"]] = cntlid
        self.controllers[name] = {
            "nqn": opts["nqn"], "traddr": address, "trsvcid": opts["trsvcid"],
            "host_traddr": opts.get("host_traddr"), "host_iface": iface,
            "hostnqn": hostnqn, "hostid": opts.get("hostid"), "cntlid": cntlid,
            "reconnect_delay": delay, "max_reconnects": -1 if loss < 0 else _ceil_div(loss, delay),
            "fast_io_fail_tmo": opts.get("fast_io_fail_tmo", -1),
            "kato": opts.get("keep_alive_tmo", DEFAULT_KATO),
            "queue_count": io_queues + opts.get("nr_poll_queues", 0) + opts.get("nr_write_queues", 0) + 1,
            "dhchap_secret": opts.get("dhchap_secret"), "dhchap_ctrl_secret": opts.get("dhchap_ctrl_secret"),
            "src_addr": opts.get("host_traddr") or self.sources.get(address) or default_source(address),
        }
        self.sysfs.controller(instance, **self._attributes(name))
        log.append("nvme %s: creating %d I/O queues." % (name, io_queues))
        log.append('nvme %s: new ctrl: NQN "%s", addr %s:%s' % (name, opts["nqn"], address, opts["trsvcid"]))
        return name

    def _attributes(self, name):
        state = self.controllers[name]
        address = "traddr=%s,trsvcid=%s" % (state["traddr"], state["trsvcid"])
        if state["host_traddr"]:
            address += ",host_traddr=%s" % state["host_traddr"]
        if state["host_iface"]:
            address += ",host_iface=%s" % state["host_iface"]
        address += ",src_addr=%s" % state["src_addr"]
        loss = -1 if state["max_reconnects"] == -1 else state["max_reconnects"] * state["reconnect_delay"]
        return {
            "address": address, "cntlid": str(state["cntlid"]), "subsysnqn": state["nqn"],
            "hostnqn": state["hostnqn"], "hostid": state["hostid"], "state": "live", "transport": "tcp",
            "ctrl_loss_tmo": _off(loss), "reconnect_delay": str(state["reconnect_delay"]),
            "fast_io_fail_tmo": _off(state["fast_io_fail_tmo"]), "kato": str(state["kato"]),
            "queue_count": str(state["queue_count"]),
            "dhchap_secret": state["dhchap_secret"] or "none",
            "dhchap_ctrl_secret": state["dhchap_ctrl_secret"] or "none",
        }

    def _show(self, name):
        directory = self.sysfs.fs.read_link("%s/%s" % (CLASS_NVME, name))
        attributes = self._attributes(name)
        self.sysfs.attrs(directory, dict((key, attributes[key]) for key in
                                         ("ctrl_loss_tmo", "reconnect_delay", "fast_io_fail_tmo")))

    def _free_instance(self):
        used = set(int(name[4:]) for name in self.sysfs.fs.list_dir(CLASS_NVME) if name[4:].isdigit())
        instance = 0
        while instance in used:
            instance += 1
        return instance

    def _state(self, name):
        """What the kernel keeps about a controller; one a test made in sysfs is read back."""
        if name not in self.controllers:
            fields = dict(item.partition("=")[::2] for item in
                          (self.attribute(name, "address") or "").replace("\n", ",").split(",") if item)
            delay = int(self.attribute(name, "reconnect_delay") or DEFAULT_RECONNECT_DELAY)
            loss = self.attribute(name, "ctrl_loss_tmo") or "off"
            fail_fast = self.attribute(name, "fast_io_fail_tmo") or "off"
            secret = self.attribute(name, "dhchap_secret")
            ctrl_secret = self.attribute(name, "dhchap_ctrl_secret")
            self.controllers[name] = {
                "nqn": self.attribute(name, "subsysnqn"), "traddr": fields.get("traddr"),
                "trsvcid": fields.get("trsvcid"), "host_traddr": fields.get("host_traddr"),
                "host_iface": fields.get("host_iface"), "hostnqn": self.attribute(name, "hostnqn"),
                "hostid": self.attribute(name, "hostid"), "cntlid": int(self.attribute(name, "cntlid") or 1),
                "reconnect_delay": delay,
                "max_reconnects": -1 if loss == "off" else int(loss) // delay,
                "fast_io_fail_tmo": -1 if fail_fast == "off" else int(fail_fast),
                "kato": int(self.attribute(name, "kato") or DEFAULT_KATO),
                "queue_count": int(self.attribute(name, "queue_count") or self.cpus + 1),
                "dhchap_secret": None if secret in (None, "", "none") else secret,
                "dhchap_ctrl_secret": None if ctrl_secret in (None, "", "none") else ctrl_secret,
                "src_addr": fields.get("src_addr") or default_source(fields.get("traddr") or "0.0.0.0"),
            }
        return self.controllers[name]

    def _existing(self, opts):
        """Whether a controller matches like nvmf_ip_options_match() (EALREADY)."""
        for name in self.controller_names():
            if self.attribute(name, "transport") != "tcp":
                continue
            state = self._state(name)
            if (state["nqn"], state["hostnqn"], state["traddr"], state["trsvcid"]) != (
                    opts["nqn"], opts.get("hostnqn"), opts["traddr"], opts["trsvcid"]):
                continue
            if (state["host_traddr"], state["host_iface"]) == (opts.get("host_traddr"), opts.get("host_iface")):
                return True
        return False


def parse_options(options):
    """An option string written to /dev/nvme-fabrics as a dict (flags map to True)."""
    parsed = {}
    for item in options.split(","):
        key, sep, value = item.partition("=")
        parsed[key] = value if sep else True
    return parsed
