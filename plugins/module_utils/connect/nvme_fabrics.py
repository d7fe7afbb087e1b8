# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel's NVMe over Fabrics host interface, and what its refusals mean.

A path is connected by writing an option string to /dev/nvme-fabrics and
reading back ``instance=N,cntlid=M`` from the same descriptor: the kernel's own
interface, the same on every nvme-cli version. When the kernel refuses, the
errno alone cannot tell a host that is not allowed from a wrong NQN (both are
EIO), so the kernel log records written during the attempt are read from
/dev/kmsg and turned into a message that names the likely cause.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import re

from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_persist import hide_secrets

FABRICS_DEVICE = "/dev/nvme-fabrics"
KMSG = "/dev/kmsg"
CONTROLLERS = "/sys/class/nvme"
# Controller settings the kernel lets us change on a live controller.
LIVE_OPTIONS = ("reconnect_delay", "ctrl_loss_tmo", "fast_io_fail_tmo")

_INSTANCE = re.compile(r"instance=(\d+)")
_CONNECT_LOG = re.compile(r"nvme|nvmf|fabrics", re.IGNORECASE)


class ConnectError(Exception):
    """The kernel refused a connect; ``errno`` and ``kernel_log`` tell why."""

    def __init__(self, code, kernel_log):
        self.errno = code
        self.kernel_log = list(kernel_log)
        super(ConnectError, self).__init__(os.strerror(code) if code else "connect failed")


class KernelFabrics:
    """Connects and disconnects controllers on the running kernel."""

    def __init__(self, fs):
        self.fs = fs

    def connect(self, options):
        """Writes one option string; returns the new controller's name (``nvme3``)."""
        log = _KernelLog(self.fs.path(KMSG))
        try:
            handle = os.open(self.fs.path(FABRICS_DEVICE), os.O_RDWR)
        except OSError as error:
            log.close()
            raise ConnectError(error.errno, [])
        try:
            os.write(handle, options.encode("utf-8"))
            answer = os.read(handle, 4096).decode("utf-8", "replace")
        except OSError as error:
            raise ConnectError(error.errno, log.read())
        finally:
            os.close(handle)
            log.close()
        match = _INSTANCE.search(answer)
        if not match:
            raise ConnectError(errno.EPROTO, ["/dev/nvme-fabrics answered %r" % answer])
        return "nvme%s" % match.group(1)

    def disconnect(self, name):
        self.fs.write("%s/%s/delete_controller" % (CONTROLLERS, name), "1")

    def set_option(self, name, option, value):
        """Changes a live controller's timeout; -1 is the kernel's "off" (forever, never)."""
        self.fs.write("%s/%s/%s" % (CONTROLLERS, name, option), str(value))


class _KernelLog:
    """The kernel log records written from now on (best effort: no /dev/kmsg, no records)."""

    def __init__(self, path):
        try:
            self.handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            os.lseek(self.handle, 0, os.SEEK_END)
        except OSError:
            self.handle = None

    def read(self):
        records = []
        while self.handle is not None:
            try:
                record = os.read(self.handle, 8192)
            except OSError as error:
                if error.errno == errno.EPIPE:  # records were overwritten: keep reading
                    continue
                break
            if not record:
                break
            text = record.decode("utf-8", "replace").split(";", 1)[-1].split("\n", 1)[0]
            if _CONNECT_LOG.search(text):
                records.append(text)
        return records

    def close(self):
        if self.handle is not None:
            os.close(self.handle)
            self.handle = None


def explain(error, nqn, path, hostnqn):
    """A sentence naming the likely cause of a refused connect, with the kernel's own words."""
    where = "%s port %s" % (path["address"], path["service_id"])
    records = [hide_secrets(record) for record in error.kernel_log]
    log = " ".join(records)
    code = error.errno
    if "is not allowed" in log:
        cause = ("the target does not allow host NQN %s to connect to %s: add this host to the "
                 "subsystem's allowed hosts on the target, or check /etc/nvme/hostnqn" % (hostnqn, nqn))
    elif "Invalid Data Parameter" in log:
        cause = ("the target at %s has no subsystem %s on that port: wrong NQN, or the subsystem "
                 "is not exported through this listener" % (where, nqn))
    elif code == errno.EINVAL:
        cause = "the kernel rejected the connect options for %s" % where
    elif "authentication" in log.lower():
        cause = "DH-HMAC-CHAP authentication with %s failed: check the secrets on both sides" % where
    elif code == errno.ECONNREFUSED:
        cause = ("nothing listens on %s (connection refused): the listener is not configured "
                 "there, or a firewall rejects the port" % where)
    elif code in (errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH):
        cause = ("%s is unreachable from this host (%s): check the address, routes, the "
                 "storage interface and firewalls that drop traffic" % (where, os.strerror(code)))
    elif code == errno.ENOENT:
        cause = "%s does not exist: load the nvme-tcp kernel module" % FABRICS_DEVICE
    elif code == errno.EALREADY:
        cause = "the kernel already has a controller for %s on %s with these parameters" % (nqn, where)
    else:
        cause = "the kernel refused to connect %s on %s (%s)" % (nqn, where, os.strerror(code or errno.EIO))
    if records:
        cause += ". Kernel log: %s" % "; ".join(records)
    return cause
