# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel's fabrics interface: what refusals mean, and what KernelFabrics writes where.

/dev/nvme-fabrics and /dev/kmsg are character devices whose behaviour a
regular file cannot imitate (one answer per write, one record per read), so
the connect tests hand nvme_fabrics an ``os`` whose open/read/write/lseek/close
play those two devices and pass everything else to the real os module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.connect import nvme_fabrics
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_fabrics import (
    FABRICS_DEVICE, KMSG, LIVE_OPTIONS, ConnectError, KernelFabrics, explain)

DB = "nqn.2026-11.invalid.example:db"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:3a1f6e2c-8d0b-4f47-9e52-0c6f1b2a7d11"
PATH = {"transport": "tcp", "address": "10.90.2.11", "service_id": 4420, "host_iface": None, "host_traddr": None}
OPTIONS = ("nqn=%s,transport=tcp,traddr=10.90.1.11,trsvcid=4420,hostnqn=%s,"
           "hostid=3a1f6e2c-8d0b-4f47-9e52-0c6f1b2a7d11,ctrl_loss_tmo=-1,keep_alive_tmo=7" % (DB, HOSTNQN))


# -- explain -------------------------------------------------------------------------------
@pytest.mark.parametrize("code, log, cause", [
    (errno.EIO, ["nvme nvme1: Connect for subsystem %s is not allowed, hostnqn: %s" % (DB, HOSTNQN),
                 "nvme nvme1: failed to connect queue: 0 ret=16772"],
     "the target does not allow host NQN %s to connect to %s: add this host to the subsystem's allowed "
     "hosts on the target, or check /etc/nvme/hostnqn" % (HOSTNQN, DB)),
    (errno.EIO, ['nvme nvme1: Connect Invalid Data Parameter, subsysnqn "%s"' % DB],
     "the target at 10.90.2.11 port 4420 has no subsystem %s on that port: wrong NQN, or the subsystem is "
     "not exported through this listener" % DB),
    (errno.EKEYREJECTED, ["nvme nvme1: qid 0: authentication failed"],
     "DH-HMAC-CHAP authentication with 10.90.2.11 port 4420 failed: check the secrets on both sides"),
    (errno.ECONNREFUSED, ["nvme nvme1: failed to connect socket: -111"],
     "nothing listens on 10.90.2.11 port 4420 (connection refused): the listener is not configured there, "
     "or a firewall rejects the port"),
    (errno.ETIMEDOUT, ["nvme nvme1: failed to connect socket: -110"],
     "10.90.2.11 port 4420 is unreachable from this host (Connection timed out): check the address, routes, "
     "the storage interface and firewalls that drop traffic"),
    (errno.EHOSTUNREACH, [], "10.90.2.11 port 4420 is unreachable from this host (No route to host)"),
    (errno.ENETUNREACH, [], "10.90.2.11 port 4420 is unreachable from this host (Network is unreachable)"),
    (errno.ENOENT, [], "/dev/nvme-fabrics does not exist: load the nvme-tcp kernel module"),
    (errno.EALREADY, [], "the kernel already has a controller for %s on 10.90.2.11 port 4420 with these "
                         "parameters" % DB),
    (errno.EINVAL, ["nvme_fabrics: unknown parameter or missing value 'foo=1' in ctrl creation request"],
     "the kernel rejected the connect options for 10.90.2.11 port 4420"),
    (errno.EIO, [], "the kernel refused to connect %s on 10.90.2.11 port 4420 (Input/output error)" % DB),
    (0, [], "the kernel refused to connect %s on 10.90.2.11 port 4420 (Input/output error)" % DB),
], ids=["not-allowed", "wrong-nqn", "authentication", "refused", "timeout", "no-route", "no-network",
        "no-module", "duplicate", "bad-option", "other", "no-errno"])
def test_explain_names_the_cause(code, log, cause):
    text = explain(ConnectError(code, log), DB, PATH, HOSTNQN)
    assert text.startswith(cause)
    if log:
        assert text.endswith(". Kernel log: %s" % "; ".join(log))
    else:
        assert "Kernel log" not in text


def test_explain_quotes_every_record():
    log = ["nvme_fabrics: ctrl_loss_tmo < 0 will reconnect forever", "nvme nvme1: failed to connect socket: -111"]
    text = explain(ConnectError(errno.ECONNREFUSED, log), DB, PATH, HOSTNQN)
    assert text.endswith("Kernel log: nvme_fabrics: ctrl_loss_tmo < 0 will reconnect forever; "
                         "nvme nvme1: failed to connect socket: -111")


def test_an_unknown_authentication_option_is_no_authentication_failure():
    """A kernel without DH-HMAC-CHAP rejects the option itself (EINVAL): the secrets are not at fault."""
    log = ["nvme_fabrics: unknown parameter or missing value "
           "'dhchap_secret=DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:' in ctrl creation request"]
    text = explain(ConnectError(errno.EINVAL, log), DB, PATH, HOSTNQN)
    assert text.startswith("the kernel rejected the connect options for 10.90.2.11 port 4420")
    assert "check the secrets" not in text


def test_connect_error_carries_errno_and_log():
    error = ConnectError(errno.EIO, iter(["nvme nvme0: x"]))
    assert (error.errno, error.kernel_log, str(error)) == (errno.EIO, ["nvme nvme0: x"], "Input/output error")
    assert str(ConnectError(0, [])) == "connect failed"


def test_only_timeouts_are_live_options_and_the_delay_comes_first():
    assert LIVE_OPTIONS == ("reconnect_delay", "ctrl_loss_tmo", "fast_io_fail_tmo")


# -- KernelFabrics.connect -------------------------------------------------------------------
def test_connect_without_the_fabrics_device(tmp_path):
    fabrics = KernelFabrics(HostFS(str(tmp_path)))
    with pytest.raises(ConnectError) as info:
        fabrics.connect(OPTIONS)
    assert (info.value.errno, info.value.kernel_log) == (errno.ENOENT, [])
    assert "load the nvme-tcp kernel module" in explain(info.value, DB, PATH, HOSTNQN)


class KernelDevices:
    """An ``os`` for nvme_fabrics in which /dev/nvme-fabrics and /dev/kmsg behave as on Linux.

    ``answer`` is what a read of /dev/nvme-fabrics gives after the write, or an errno that
    the write fails with; ``records`` are logged during the write. /dev/kmsg gives one
    record per read (``<prio>,<seq>,<usec>,<flags>;<text>`` plus dictionary lines), EAGAIN
    at the end (O_NONBLOCK), and EPIPE once where ``overrun`` says records were lost.
    """

    def __init__(self, fs, answer="instance=0,cntlid=1\n", records=(), earlier=(), kmsg=True, overrun=False):
        self.fabrics_path = fs.path(FABRICS_DEVICE)
        self.kmsg_path = fs.path(KMSG)
        self.answer = answer
        self.records = list(records)
        self.log = ["6,%d,100,-;%s\n" % (seq, text) for seq, text in enumerate(earlier)]
        self.kmsg = kmsg
        self.overrun = overrun
        self.open_fds = {}
        self.written = []
        self.next_fd = 1000

    def __getattr__(self, name):
        return getattr(os, name)

    def open(self, path, flags, mode=0o777):
        if path == self.fabrics_path:
            assert flags & os.O_RDWR
            kind = ["fabrics", None]
        elif path == self.kmsg_path and self.kmsg:
            assert flags & os.O_NONBLOCK
            kind = ["kmsg", 0]
        elif path == self.kmsg_path:
            raise OSError(errno.ENOENT, os.strerror(errno.ENOENT))
        else:
            return os.open(path, flags, mode)
        self.next_fd += 1
        self.open_fds[self.next_fd] = kind
        return self.next_fd

    def lseek(self, fd, offset, whence):
        assert self.open_fds[fd][0] == "kmsg" and (offset, whence) == (0, os.SEEK_END)
        self.open_fds[fd][1] = len(self.log)
        return len(self.log)

    def write(self, fd, data):
        assert self.open_fds[fd][0] == "fabrics"
        self.written.append(data)
        for text in self.records:
            self.log.append('6,%d,200,-;%s\n SUBSYSTEM=nvme\n DEVICE=c244:1\n' % (len(self.log), text))
        if isinstance(self.answer, int):
            raise OSError(self.answer, os.strerror(self.answer))
        return len(data)

    def read(self, fd, size):
        kind = self.open_fds[fd]
        if kind[0] == "fabrics":
            return self.answer.encode("utf-8")
        if self.overrun:
            self.overrun = False
            raise OSError(errno.EPIPE, os.strerror(errno.EPIPE))
        if kind[1] >= len(self.log):
            raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        kind[1] += 1
        return self.log[kind[1] - 1].encode("utf-8")

    def close(self, fd):
        del self.open_fds[fd]


@pytest.fixture
def devices(tmp_path, monkeypatch):
    fs = HostFS(str(tmp_path))

    def install(**kwargs):
        fake = KernelDevices(fs, **kwargs)
        monkeypatch.setattr(nvme_fabrics, "os", fake)
        return KernelFabrics(fs), fake
    return install


def test_connect_returns_the_new_controller(devices):
    fabrics, fake = devices(answer="instance=3,cntlid=1\n", records=[
        "nvme_fabrics: ctrl_loss_tmo < 0 will reconnect forever",
        'nvme nvme3: new ctrl: NQN "%s", addr 10.90.1.11:4420' % DB])
    assert fabrics.connect(OPTIONS) == "nvme3"
    assert fake.written == [OPTIONS.encode("utf-8")]
    assert fake.open_fds == {}  # both devices closed


def test_a_refused_connect_brings_the_kernel_log_of_the_attempt(devices):
    fabrics, fake = devices(answer=errno.EIO, earlier=["nvme nvme0: an older record", "e1000e: eth0 link up"],
                            records=["nvme nvme1: Connect for subsystem %s is not allowed, hostnqn: %s" % (DB, HOSTNQN),
                                     "nvme nvme1: failed to connect queue: 0 ret=16772"])
    with pytest.raises(ConnectError) as info:
        fabrics.connect(OPTIONS)
    assert info.value.errno == errno.EIO
    assert info.value.kernel_log == [
        "nvme nvme1: Connect for subsystem %s is not allowed, hostnqn: %s" % (DB, HOSTNQN),
        "nvme nvme1: failed to connect queue: 0 ret=16772"]
    assert fake.open_fds == {}


def test_only_nvme_records_are_kept(devices):
    fabrics, _fake = devices(answer=errno.ECONNREFUSED, records=[
        "e1000e: eth1 NIC Link is Up", "nvme nvme1: failed to connect socket: -111"])
    with pytest.raises(ConnectError) as info:
        fabrics.connect(OPTIONS)
    assert (info.value.errno, info.value.kernel_log) == (
        errno.ECONNREFUSED, ["nvme nvme1: failed to connect socket: -111"])


def test_overwritten_kernel_log_records_are_skipped(devices):
    fabrics, _fake = devices(answer=errno.ETIMEDOUT, overrun=True,
                             records=["nvme nvme1: failed to connect socket: -110"])
    with pytest.raises(ConnectError) as info:
        fabrics.connect(OPTIONS)
    assert info.value.kernel_log == ["nvme nvme1: failed to connect socket: -110"]


def test_a_refused_connect_without_kmsg(devices):
    fabrics, fake = devices(answer=errno.EALREADY, kmsg=False)
    with pytest.raises(ConnectError) as info:
        fabrics.connect(OPTIONS)
    assert (info.value.errno, info.value.kernel_log) == (errno.EALREADY, [])
    assert fake.open_fds == {}


def test_an_answer_without_instance_is_a_protocol_error(devices):
    fabrics, _fake = devices(answer="error\n")
    with pytest.raises(ConnectError) as info:
        fabrics.connect(OPTIONS)
    assert info.value.errno == errno.EPROTO
    assert info.value.kernel_log == ["/dev/nvme-fabrics answered 'error\\n'"]


# -- KernelFabrics.disconnect / set_option ----------------------------------------------------
@pytest.fixture
def controller(tmp_path):
    """nvme3 as sysfs has it: the class link to the device directory with its attributes."""
    fs = HostFS(str(tmp_path))
    device = "/sys/devices/virtual/nvme-fabrics/ctl/nvme3"
    os.makedirs(fs.path(device))
    for name, value in (("delete_controller", ""), ("ctrl_loss_tmo", "600\n"), ("reconnect_delay", "10\n"),
                        ("fast_io_fail_tmo", "off\n")):
        with open(fs.path(device + "/" + name), "w") as handle:
            handle.write(value)
    os.makedirs(fs.path("/sys/class/nvme"))
    os.symlink("../../devices/virtual/nvme-fabrics/ctl/nvme3", fs.path("/sys/class/nvme/nvme3"))
    return fs, device


def read(fs, path):
    with open(fs.path(path)) as handle:
        return handle.read()


def test_disconnect_writes_delete_controller(controller):
    fs, device = controller
    KernelFabrics(fs).disconnect("nvme3")
    assert read(fs, device + "/delete_controller") == "1"


def test_disconnect_of_a_controller_that_is_gone(controller):
    fs, _device = controller
    with pytest.raises(HostFSError) as info:
        KernelFabrics(fs).disconnect("nvme4")
    assert info.value.errno == errno.ENOENT
    assert "/sys/class/nvme/nvme4/delete_controller" in str(info.value)


@pytest.mark.parametrize("option, value, written", [
    ("reconnect_delay", 5, "5"), ("ctrl_loss_tmo", -1, "-1"), ("fast_io_fail_tmo", 20, "20")])
def test_set_option_writes_the_attribute(controller, option, value, written):
    fs, device = controller
    KernelFabrics(fs).set_option("nvme3", option, value)
    assert read(fs, "%s/%s" % (device, option)) == written
