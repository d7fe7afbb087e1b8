# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole job of nvme_connect against a fake kernel (FakeFabrics over a FakeSys tree).

The fake answers as Linux 6.1 does in the lab: connects build controllers in
sysfs, refusals come with the kernel's errno and log records, sysfs shows the
loss timeout as max_reconnects * reconnect_delay. Most calls use
``persist: False``; the last tests cover the interplay with persistence.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import errno
import json
import os
import stat
import uuid

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.connect import nvme_connect_persist as persistence
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_reconcile import (
    NvmeConnectError, reconcile)
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_fabrics import ConnectError
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.nvme_host import host_identity
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_identity import (
    desired_identity, ensure_identity)
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_spec import SpecError

from fake_fabrics import FABRICS_CTL, FakeFabrics, parse_options  # same directory, on sys.path
from test_nvme_host import HOSTID, HOSTNQN, FakeSys  # same directory, on sys.path

DB = "nqn.2026-11.invalid.example:db"
LOGS = "nqn.2026-11.invalid.example:logs"
DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery"
OTHER_HOSTID = "0f9c2b7e-5a41-4c3d-8e6f-2b1a0c9d8e7f"
UUID_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:"
SECRET = "DHHC-1:00:" + base64.b64encode(bytes(bytearray(range(32)))).decode("ascii") + ":"
CTRL_SECRET = "DHHC-1:00:" + base64.b64encode(bytes(bytearray(range(100, 132)))).decode("ascii") + ":"
A, B = "10.90.1.11", "10.90.2.11"
NVME_VERSION_2 = "nvme version 2.3 (git 2.3)\nlibnvme version 1.3 (git 1.3)\n"
NVME_VERSION_3 = "nvme version 3.0 (git 3.0)\nlibnvme version 3.0 (git 3.0)\n"
DISCOVERY_CONF = "/etc/nvme/discovery.conf"


# -- the host: sysfs, identity, targets, nvme-cli ---------------------------------------
class FakeNvmeCli:
    """A run_command for CommandRunner: ``nvme discover -o json`` and ``nvme version``."""

    def __init__(self, records=None, discover=None, version=NVME_VERSION_2):
        self.records = records
        self.discover = discover  # (rc, out, err) instead of the records
        self.version = version
        self.calls = []

    def __call__(self, args, check_rc=False, data=None, environ_update=None):
        self.calls.append(list(args))
        if args[:2] == ["nvme", "discover"]:
            if self.discover is not None:
                return self.discover
            return 0, json.dumps({"genctr": 9, "records": self.records or []}, indent=2), ""
        if args == ["nvme", "version"]:
            return (0, self.version, "") if self.version else (127, "", "nvme: command not found")
        raise AssertionError("unexpected command %r" % (args,))


class Host:
    """A host with its identity, eth1/eth2, and two target addresses exporting DB and LOGS to it."""

    def __init__(self, root):
        self.sysfs = FakeSys(root)
        self.fs = self.sysfs.fs
        self.sysfs.identity()
        self.sysfs.dir("/sys/class/net/eth1")
        self.sysfs.dir("/sys/class/net/eth2")
        self.fabrics = FakeFabrics(self.sysfs, targets={
            (A, 4420): {DB: {HOSTNQN}, LOGS: {HOSTNQN}},
            (B, 4420): {DB: {HOSTNQN}, LOGS: {HOSTNQN}},
        })
        self.cli = FakeNvmeCli()
        self.runner = CommandRunner(self.cli)

    def run(self, check_mode=False, **changes):
        return reconcile(self.fs, self.runner, self.fabrics, params(**changes), check_mode=check_mode)

    def attr(self, name, attribute):
        return self.fabrics.attribute(name, attribute)

    def controllers(self):
        return self.fabrics.controller_names()

    def file(self, path):
        real = self.fs.path(path)
        if not os.path.exists(real):
            return None
        with open(real) as handle:
            return handle.read()


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


def ansible_endpoint(value, service_id):
    """A paths[] or discovery entry as AnsibleModule hands it over (every suboption present)."""
    endpoint = {"address": None, "service_id": service_id, "transport": "tcp",
                "host_iface": None, "host_traddr": None}
    endpoint.update(value if isinstance(value, dict) else {"address": value})
    return endpoint


def params(**changes):
    """module.params of nvme_connect: the argument spec's defaults, with persist off."""
    values = dict(nqn=None, paths=None, discovery=None, state="present", ctrl_loss_tmo=None,
                  reconnect_delay=None, fast_io_fail_tmo=None, keep_alive_tmo=None, nr_io_queues=None,
                  nr_poll_queues=None, dhchap_secret=None, dhchap_ctrl_secret=None,
                  replace_differing=False, persist=False, hostnqn=None, hostid=None,
                  regenerate_host_identity=False)
    values.update(changes)
    if values["paths"] is not None:
        values["paths"] = [ansible_endpoint(path, 4420) for path in values["paths"]]
    if values["discovery"] is not None:
        values["discovery"] = ansible_endpoint(values["discovery"], 8009)
    return values


def two_paths(**changes):
    values = dict(nqn=DB, paths=[A, B])
    values.update(changes)
    return values


def path_result(address, action, controller, state, nqn=DB, service_id=4420, host_iface=None, **extra):
    result = {"nqn": nqn, "transport": "tcp", "address": address, "service_id": service_id,
              "host_iface": host_iface, "host_traddr": None, "action": action,
              "controller": controller, "state": state}
    result.update(extra)
    return result


def connects(fabrics):
    return [parse_options(call[1]) for call in fabrics.calls if call[0] == "connect"]


# -- the fake kernel against the lab's measurements (Debian 12, 6.1) ---------------------
LAB_CONNECT = ("nqn=%s,transport=tcp,traddr=10.90.1.11,trsvcid=4420,hostnqn=%s,hostid=%s,ctrl_loss_tmo=-1,"
               "keep_alive_tmo=7" % (DB, HOSTNQN, HOSTID))


def test_fake_connect_as_measured(host):
    assert host.fabrics.connect(LAB_CONNECT) == "nvme0"
    assert host.fabrics.kmsg[0] == "nvme_fabrics: ctrl_loss_tmo < 0 will reconnect forever"
    assert host.fabrics.kmsg[-1].startswith('nvme nvme0: new ctrl: NQN "%s"' % DB)
    assert (host.attr("nvme0", "address"), host.attr("nvme0", "ctrl_loss_tmo"), host.attr("nvme0", "kato"),
            host.attr("nvme0", "cntlid")) == ("traddr=10.90.1.11,trsvcid=4420,src_addr=10.90.1.21", "off", "7", "1")
    logged = len(host.fabrics.kmsg)
    with pytest.raises(ConnectError) as info:  # the same path again (timeouts do not identify a path)
        host.fabrics.connect(LAB_CONNECT.replace(",ctrl_loss_tmo=-1", ""))
    assert (info.value.errno, info.value.kernel_log) == (errno.EALREADY, [])
    assert len(host.fabrics.kmsg) == logged
    with pytest.raises(ConnectError) as info:
        host.fabrics.connect(LAB_CONNECT + ",foo=1")
    assert (info.value.errno, info.value.kernel_log) == (errno.EINVAL, [
        "nvme_fabrics: ctrl_loss_tmo < 0 will reconnect forever",
        "nvme_fabrics: unknown parameter or missing value 'foo=1' in ctrl creation request"])
    assert host.controllers() == ["nvme0"]


def test_fake_timeouts_as_measured(host):
    host.fabrics.connect(LAB_CONNECT.replace("ctrl_loss_tmo=-1", "ctrl_loss_tmo=600"))
    assert (host.attr("nvme0", "ctrl_loss_tmo"), host.attr("nvme0", "reconnect_delay"),
            host.attr("nvme0", "fast_io_fail_tmo")) == ("600", "10", "off")
    host.fabrics.set_option("nvme0", "reconnect_delay", 5)
    assert host.attr("nvme0", "ctrl_loss_tmo") == "300"  # the reconnect count stays
    host.fabrics.set_option("nvme0", "ctrl_loss_tmo", 25)
    assert host.attr("nvme0", "ctrl_loss_tmo") == "25"
    host.fabrics.set_option("nvme0", "reconnect_delay", 10)
    assert host.attr("nvme0", "ctrl_loss_tmo") == "50"
    host.fabrics.set_option("nvme0", "ctrl_loss_tmo", 25)
    assert host.attr("nvme0", "ctrl_loss_tmo") == "30"  # ceil(25 / 10) reconnects
    host.fabrics.set_option("nvme0", "fast_io_fail_tmo", -1)
    assert host.attr("nvme0", "fast_io_fail_tmo") == "off"
    for option, value, code in (("kato", 7, errno.EACCES), ("reconnect_delay", 0, errno.EINVAL)):
        with pytest.raises(HostFSError) as info:
            host.fabrics.set_option("nvme0", option, value)
        assert info.value.errno == code
    host.fabrics.disconnect("nvme0")
    assert host.controllers() == [] and not os.path.exists(host.fs.path(FABRICS_CTL + "/nvme0"))


def test_fake_refusals_as_measured(host):
    host.fabrics.forbid(A, 4420, DB, HOSTNQN)
    del host.fabrics.targets[(B, 4420)][DB]
    host.fabrics.unreachable.add("10.90.3.11")
    host.fabrics.allow("10.90.3.11", 4420, DB, HOSTNQN)
    cases = [
        (A, 4420, errno.EIO, ["nvme nvme0: Connect for subsystem %s is not allowed, hostnqn: %s" % (DB, HOSTNQN),
                              "nvme nvme0: failed to connect queue: 0 ret=16772"]),
        (B, 4420, errno.EIO, ['nvme nvme0: Connect Invalid Data Parameter, subsysnqn "%s"' % DB,
                              "nvme nvme0: failed to connect queue: 0 ret=16770"]),
        (A, 4421, errno.ECONNREFUSED, ["nvme nvme0: failed to connect socket: -111"]),
        ("10.90.3.11", 4420, errno.ETIMEDOUT, ["nvme nvme0: failed to connect socket: -110"]),
        ("10.90.9.11", 4420, errno.ETIMEDOUT, ["nvme nvme0: failed to connect socket: -110"]),
    ]
    for address, service_id, code, log in cases:
        options = "nqn=%s,transport=tcp,traddr=%s,trsvcid=%d,hostnqn=%s,hostid=%s" % (
            DB, address, service_id, HOSTNQN, HOSTID)
        with pytest.raises(ConnectError) as info:
            host.fabrics.connect(options)
        assert (info.value.errno, info.value.kernel_log) == (code, log)
    assert host.controllers() == []


# -- connecting ------------------------------------------------------------------------
def test_two_paths_are_connected(host):
    result = host.run(**two_paths())
    assert result["changed"] is True
    assert result["actions"] == ["connect %s on %s port 4420" % (DB, A), "connect %s on %s port 4420" % (DB, B)]
    assert result["paths"] == [path_result(A, "connected", "nvme0", "live"),
                               path_result(B, "connected", "nvme1", "live")]
    assert result["host"] == {"hostnqn": HOSTNQN, "hostid": HOSTID, "changed": False}
    assert result["persistence"] is None and result["discovery_log"] is None
    assert host.controllers() == ["nvme0", "nvme1"]
    assert host.attr("nvme0", "address") == "traddr=10.90.1.11,trsvcid=4420,src_addr=10.90.1.21"
    assert host.attr("nvme1", "address") == "traddr=10.90.2.11,trsvcid=4420,src_addr=10.90.2.21"
    for name in ("nvme0", "nvme1"):
        assert (host.attr(name, "subsysnqn"), host.attr(name, "hostnqn"), host.attr(name, "hostid")) == (
            DB, HOSTNQN, HOSTID)
        assert (host.attr(name, "ctrl_loss_tmo"), host.attr(name, "reconnect_delay"),
                host.attr(name, "fast_io_fail_tmo"), host.attr(name, "kato")) == ("600", "10", "off", "5")
    assert host.fabrics.calls[0] == (
        "connect", "nqn=%s,transport=tcp,traddr=10.90.1.11,trsvcid=4420,hostnqn=%s,hostid=%s" % (DB, HOSTNQN, HOSTID))
    assert result["diff"]["before"]["paths"] == {
        "10.90.1.11 port 4420 " + DB: "not connected", "10.90.2.11 port 4420 " + DB: "not connected"}
    assert result["diff"]["after"]["paths"] == {
        "10.90.1.11 port 4420 " + DB: "nvme0 (live)", "10.90.2.11 port 4420 " + DB: "nvme1 (live)"}


def test_options_and_host_interfaces_reach_the_kernel(host):
    result = host.run(nqn=DB, paths=[{"address": A, "host_iface": "eth1"}, {"address": B, "host_iface": "eth2"}],
                      ctrl_loss_tmo=-1, keep_alive_tmo=7, fast_io_fail_tmo=20, reconnect_delay=5, nr_io_queues=2)
    assert [item["action"] for item in result["paths"]] == ["connected", "connected"]
    assert result["actions"][0] == "connect %s on 10.90.1.11 port 4420 via eth1" % DB
    assert host.fabrics.calls[0][1] == (
        "nqn=%s,transport=tcp,traddr=10.90.1.11,trsvcid=4420,host_iface=eth1,hostnqn=%s,hostid=%s,"
        "ctrl_loss_tmo=-1,fast_io_fail_tmo=20,keep_alive_tmo=7,nr_io_queues=2,reconnect_delay=5"
        % (DB, HOSTNQN, HOSTID))
    assert host.attr("nvme0", "address") == "traddr=10.90.1.11,trsvcid=4420,host_iface=eth1,src_addr=10.90.1.21"
    assert host.attr("nvme1", "address") == "traddr=10.90.2.11,trsvcid=4420,host_iface=eth2,src_addr=10.90.2.21"
    assert (host.attr("nvme0", "ctrl_loss_tmo"), host.attr("nvme0", "reconnect_delay"),
            host.attr("nvme0", "fast_io_fail_tmo"), host.attr("nvme0", "kato"),
            host.attr("nvme0", "queue_count")) == ("off", "5", "20", "7", "3")
    assert "nvme_fabrics: ctrl_loss_tmo < 0 will reconnect forever" in host.fabrics.kmsg
    again = host.run(nqn=DB, paths=[{"address": A, "host_iface": "eth1"}, {"address": B, "host_iface": "eth2"}],
                     ctrl_loss_tmo=-1, keep_alive_tmo=7, fast_io_fail_tmo=20, reconnect_delay=5, nr_io_queues=2)
    assert again["changed"] is False and again["actions"] == []


def test_second_run_changes_nothing(host):
    host.run(**two_paths())
    calls = list(host.fabrics.calls)
    result = host.run(**two_paths())
    assert result["changed"] is False
    assert result["actions"] == []
    assert result["paths"] == [path_result(A, "kept", "nvme0", "live"), path_result(B, "kept", "nvme1", "live")]
    assert host.fabrics.calls == calls
    assert result["diff"]["before"]["paths"] == result["diff"]["after"]["paths"]


def test_a_missing_path_is_added_next_to_a_live_one(host):
    host.run(nqn=DB, paths=[A])
    result = host.run(**two_paths())
    assert [(item["action"], item["controller"]) for item in result["paths"]] == [
        ("kept", "nvme0"), ("connected", "nvme1")]
    assert result["actions"] == ["connect %s on %s port 4420" % (DB, B)]


def test_new_controllers_take_the_lowest_free_instance(host):
    host.sysfs.pcie_controller(0)  # the boot drive
    result = host.run(**two_paths())
    assert [item["controller"] for item in result["paths"]] == ["nvme1", "nvme2"]
    assert host.controllers() == ["nvme0", "nvme1", "nvme2"]


def test_check_mode_connects_nothing(host):
    result = host.run(check_mode=True, **two_paths())
    assert result["changed"] is True
    assert result["actions"] == ["connect %s on %s port 4420" % (DB, A), "connect %s on %s port 4420" % (DB, B)]
    assert result["paths"] == [path_result(A, "connected", None, None), path_result(B, "connected", None, None)]
    assert host.fabrics.calls == []
    assert host.controllers() == []
    assert result["diff"]["after"]["paths"]["10.90.1.11 port 4420 " + DB] == "new controller (connecting)"


def test_check_mode_without_identity_writes_nothing(host):
    os.unlink(host.fs.path("/etc/nvme/hostnqn"))
    os.unlink(host.fs.path("/etc/nvme/hostid"))
    result = host.run(check_mode=True, **two_paths())
    assert result["host"]["changed"] is True and result["changed"] is True
    assert result["actions"][0].startswith("write host identity " + UUID_PREFIX)
    assert host.file("/etc/nvme/hostnqn") is None and host.file("/etc/nvme/hostid") is None
    assert host.fabrics.calls == []


def test_identity_is_written_before_the_connects_use_it(host):
    os.unlink(host.fs.path("/etc/nvme/hostid"))
    result = host.run(**two_paths())
    assert result["host"] == {"hostnqn": HOSTNQN, "hostid": HOSTID, "changed": True}
    assert result["actions"][0] == "write host identity %s (host ID %s)" % (HOSTNQN, HOSTID)
    assert host.file("/etc/nvme/hostid") == HOSTID + "\n"
    assert all(options["hostid"] == HOSTID for options in connects(host.fabrics))


def test_identity_only_call(host):
    result = host.run(hostnqn="nqn.2024-01.io.example:host:db1", hostid=OTHER_HOSTID)
    assert result["changed"] is True
    assert result["paths"] == [] and result["actions"] == [
        "write host identity nqn.2024-01.io.example:host:db1 (host ID %s)" % OTHER_HOSTID]
    assert host.file("/etc/nvme/hostnqn") == "nqn.2024-01.io.example:host:db1\n"
    assert host.fabrics.calls == [] and host.cli.calls == []


# -- differing options -----------------------------------------------------------------
def test_differing_options_are_reported_not_changed(host):
    host.run(**two_paths())
    calls = list(host.fabrics.calls)
    result = host.run(**two_paths(keep_alive_tmo=7, ctrl_loss_tmo=-1))
    assert result["changed"] is False and result["actions"] == []
    differences = {"keep_alive_tmo": {"live": 5, "declared": 7}, "ctrl_loss_tmo": {"live": 600, "declared": -1}}
    assert result["paths"] == [path_result(A, "differs", "nvme0", "live", differences=differences),
                               path_result(B, "differs", "nvme1", "live", differences=differences)]
    assert host.fabrics.calls == calls
    assert host.attr("nvme0", "kato") == "5"


def test_replace_differing_sets_timeouts_live(host):
    host.run(**two_paths())
    calls = len(host.fabrics.calls)
    declared = two_paths(ctrl_loss_tmo=300, reconnect_delay=5, fast_io_fail_tmo=20, replace_differing=True)
    result = host.run(**declared)
    assert result["changed"] is True
    assert [(item["action"], item["controller"]) for item in result["paths"]] == [
        ("updated", "nvme0"), ("updated", "nvme1")]
    assert result["paths"][0]["differences"] == {
        "ctrl_loss_tmo": {"live": 600, "declared": 300}, "reconnect_delay": {"live": 10, "declared": 5},
        "fast_io_fail_tmo": {"live": -1, "declared": 20}}
    assert result["actions"] == [
        "set ctrl_loss_tmo, fast_io_fail_tmo, reconnect_delay of %s on %s port 4420 (%s) live" % (DB, address, name)
        for address, name in ((A, "nvme0"), (B, "nvme1"))]
    # the delay first: the kernel derives the loss timeout from it
    assert host.fabrics.calls[calls:] == [
        ("set_option", "nvme0", "reconnect_delay", 5), ("set_option", "nvme0", "ctrl_loss_tmo", 300),
        ("set_option", "nvme0", "fast_io_fail_tmo", 20),
        ("set_option", "nvme1", "reconnect_delay", 5), ("set_option", "nvme1", "ctrl_loss_tmo", 300),
        ("set_option", "nvme1", "fast_io_fail_tmo", 20)]
    for name in ("nvme0", "nvme1"):
        assert (host.attr(name, "ctrl_loss_tmo"), host.attr(name, "reconnect_delay"),
                host.attr(name, "fast_io_fail_tmo")) == ("300", "5", "20")
    again = host.run(**declared)
    assert again["changed"] is False and [item["action"] for item in again["paths"]] == ["kept", "kept"]


def test_a_loss_timeout_alone_is_set_with_the_live_delay(host):
    host.run(nqn=DB, paths=[A])
    result = host.run(nqn=DB, paths=[A], ctrl_loss_tmo=1200, replace_differing=True)
    assert result["paths"][0]["action"] == "updated"
    assert host.fabrics.calls[-1:] == [("set_option", "nvme0", "ctrl_loss_tmo", 1200)]
    assert host.attr("nvme0", "ctrl_loss_tmo") == "1200"
    assert host.run(nqn=DB, paths=[A], ctrl_loss_tmo=1200)["changed"] is False


@pytest.mark.parametrize("ctrl_loss_tmo", [600, None], ids=["declared", "not-declared"])
def test_a_new_reconnect_delay_keeps_the_loss_timeout(host, ctrl_loss_tmo):
    """Changing reconnect_delay live keeps the kernel's reconnect count, so sysfs then shows
    count * new delay: 600 s at 10 s becomes 300 s at 5 s. The loss timeout the path had
    (declared or not) must be written again after the delay, as a reconnect would give it."""
    host.run(nqn=DB, paths=[A])
    assert host.attr("nvme0", "ctrl_loss_tmo") == "600"
    declared = dict(nqn=DB, paths=[A], reconnect_delay=5, ctrl_loss_tmo=ctrl_loss_tmo)
    result = host.run(replace_differing=True, **declared)
    assert result["paths"][0]["action"] == "updated"
    assert host.attr("nvme0", "reconnect_delay") == "5"
    assert host.attr("nvme0", "ctrl_loss_tmo") == "600"
    again = host.run(replace_differing=True, **declared)
    assert again["changed"] is False and again["actions"] == []


def test_a_keep_alive_difference_reconnects_the_path(host):
    host.run(**two_paths())
    calls = len(host.fabrics.calls)
    result = host.run(**two_paths(keep_alive_tmo=7, replace_differing=True))
    assert result["changed"] is True
    assert result["actions"] == [
        "disconnect %s on %s port 4420 (nvme0)" % (DB, A), "connect %s on %s port 4420" % (DB, A),
        "disconnect %s on %s port 4420 (nvme1)" % (DB, B), "connect %s on %s port 4420" % (DB, B)]
    differences = {"keep_alive_tmo": {"live": 5, "declared": 7}}
    assert result["paths"] == [path_result(A, "replaced", "nvme0", "live", differences=differences),
                               path_result(B, "replaced", "nvme1", "live", differences=differences)]
    assert [call[0] for call in host.fabrics.calls[calls:]] == ["disconnect", "connect", "disconnect", "connect"]
    assert host.attr("nvme0", "kato") == host.attr("nvme1", "kato") == "7"
    assert host.run(**two_paths(keep_alive_tmo=7, replace_differing=True))["changed"] is False


def test_kato_is_never_written_live(host):
    host.run(nqn=DB, paths=[A])
    host.run(nqn=DB, paths=[A], keep_alive_tmo=7, ctrl_loss_tmo=1200, replace_differing=True)
    assert not [call for call in host.fabrics.calls if call[0] == "set_option"]


@pytest.mark.parametrize("replace", [False, True])
def test_a_rounded_loss_timeout_is_no_difference(host, replace):
    host.run(**two_paths(ctrl_loss_tmo=25))
    assert host.attr("nvme0", "ctrl_loss_tmo") == "30"  # 3 reconnects at 10 s
    calls = list(host.fabrics.calls)
    result = host.run(**two_paths(ctrl_loss_tmo=25, replace_differing=replace))
    assert result["changed"] is False
    assert [item["action"] for item in result["paths"]] == ["kept", "kept"]
    assert host.fabrics.calls == calls


# -- absent ------------------------------------------------------------------------------
def test_absent_disconnects_only_the_declared_paths(host):
    host.sysfs.pcie_controller(0)
    host.run(**two_paths())
    host.run(nqn=LOGS, paths=[A])
    assert host.controllers() == ["nvme0", "nvme1", "nvme2", "nvme3"]
    result = host.run(nqn=DB, paths=[B], state="absent")
    assert result["changed"] is True
    assert result["actions"] == ["disconnect %s on %s port 4420 (nvme2)" % (DB, B)]
    assert result["paths"] == [path_result(B, "disconnected", "nvme2", None)]
    assert host.controllers() == ["nvme0", "nvme1", "nvme3"]  # boot drive, DB on A, LOGS on A
    assert (host.attr("nvme1", "subsysnqn"), host.attr("nvme3", "subsysnqn")) == (DB, LOGS)
    assert result["diff"]["after"]["paths"] == {"10.90.2.11 port 4420 " + DB: "not connected"}


def test_absent_when_not_connected_changes_nothing(host):
    host.run(nqn=LOGS, paths=[A, B])
    calls = list(host.fabrics.calls)
    result = host.run(state="absent", **two_paths())
    assert result["changed"] is False and result["actions"] == []
    assert result["paths"] == [path_result(A, "absent", None, None), path_result(B, "absent", None, None)]
    assert host.fabrics.calls == calls


def test_absent_in_check_mode_disconnects_nothing(host):
    host.run(**two_paths())
    result = host.run(check_mode=True, state="absent", **two_paths())
    assert result["changed"] is True
    assert [item["action"] for item in result["paths"]] == ["disconnected", "disconnected"]
    assert host.controllers() == ["nvme0", "nvme1"]


# -- refused connects ------------------------------------------------------------------
def _not_allowed(host):
    host.fabrics.forbid(B, 4420, DB, HOSTNQN)


def _not_exported(host):
    del host.fabrics.targets[(B, 4420)][DB]


def _unreachable(host):
    host.fabrics.unreachable.add(B)


@pytest.mark.parametrize("break_target, second, cause, kernel", [
    (_not_allowed, B, "the target does not allow host NQN %s to connect to %s" % (HOSTNQN, DB),
     "Connect for subsystem %s is not allowed, hostnqn: %s" % (DB, HOSTNQN)),
    (_not_exported, B, "the target at 10.90.2.11 port 4420 has no subsystem %s" % DB,
     'Connect Invalid Data Parameter, subsysnqn "%s"' % DB),
    (None, {"address": B, "service_id": 4421}, "nothing listens on 10.90.2.11 port 4421 (connection refused)",
     "failed to connect socket: -111"),
    (_unreachable, B, "10.90.2.11 port 4420 is unreachable from this host (Connection timed out)",
     "failed to connect socket: -110"),
], ids=["host-not-allowed", "wrong-nqn", "closed-port", "unreachable"])
def test_a_refused_connect_undoes_the_paths_before_it(host, break_target, second, cause, kernel):
    if break_target:
        break_target(host)
    with pytest.raises(NvmeConnectError) as info:
        host.run(nqn=DB, paths=[A, second])
    message = str(info.value)
    assert cause in message
    assert "nvme nvme1: " + kernel in message
    assert message.endswith("The paths this run connected (nvme0) were disconnected again.")
    assert host.controllers() == []
    assert [call[0] for call in host.fabrics.calls] == ["connect", "connect", "disconnect"]


def test_a_refused_first_connect_says_nothing_changed(host):
    _not_allowed(host)
    with pytest.raises(NvmeConnectError) as info:
        host.run(nqn=DB, paths=[B, A])
    assert "does not allow host NQN %s" % HOSTNQN in str(info.value)
    assert str(info.value).endswith(". Nothing was changed.")
    assert host.fabrics.calls == [("connect", host.fabrics.calls[0][1])]


def test_a_refused_connect_leaves_live_paths_of_earlier_runs(host):
    host.run(nqn=DB, paths=[A])
    _not_allowed(host)
    with pytest.raises(NvmeConnectError):
        host.run(**two_paths())
    assert host.controllers() == ["nvme0"]


def test_a_failed_reconnect_does_not_claim_nothing_changed(host):
    """replace_differing disconnected the live path before the refused connect: the path
    is gone, so the message must say so (naming the controller), not 'Nothing was changed'."""
    host.run(nqn=DB, paths=[A])
    host.fabrics.forbid(A, 4420, DB, HOSTNQN)
    with pytest.raises(NvmeConnectError) as info:
        host.run(nqn=DB, paths=[A], keep_alive_tmo=7, replace_differing=True)
    message = str(info.value)
    assert "does not allow host NQN" in message
    assert host.controllers() == []  # the path was lost
    assert "Nothing was changed" not in message
    own_words = message
    for record in host.fabrics.kmsg:  # the kernel's records name the instance the attempt got
        own_words = own_words.replace(record, "")
    assert "nvme0" in own_words


def test_a_missing_host_interface_is_refused_before_any_connect(host):
    with pytest.raises(SpecError) as info:
        host.run(nqn=DB, paths=[{"address": A, "host_iface": "eth1"}, {"address": B, "host_iface": "eth9"}])
    assert "host_iface 'eth9' does not exist on this host" in str(info.value)
    assert host.fabrics.calls == []


@pytest.mark.parametrize("changes, named", [
    (dict(nqn=DB, paths=[A], discovery={"address": A}), "paths and discovery"),
    (dict(paths=[A]), "paths: give nqn"),
    (dict(state="discovered", nqn=DB, paths=[A]), "state: discovered needs discovery"),
    (dict(nqn=DB, paths=[]), "at least one path"),
    (dict(nqn=DB, paths=[A, A]), "declared more than once"),
    (dict(nqn=DB, paths=[A], ctrl_loss_tmo=5), "ctrl_loss_tmo: 5 is shorter than reconnect_delay"),
])
def test_declarations_refused_before_anything_changes(host, changes, named):
    with pytest.raises(SpecError) as info:
        host.run(**changes)
    assert named in str(info.value)
    assert host.fabrics.calls == [] and host.cli.calls == []


# -- discovery ---------------------------------------------------------------------------
def log_entry(nqn, address, service_id=4420, subtype="nvme subsystem", portid=1):
    return {"trtype": "tcp", "adrfam": "ipv4", "subtype": subtype, "portid": portid, "trsvcid": str(service_id),
            "subnqn": nqn, "traddr": address, "eflags": "none", "sectype": "none"}


def discovery_log():
    """What the lab target's discovery controller gives this host (nvme-cli 2.3, -o json)."""
    return [log_entry(DISCOVERY_NQN, A, subtype="current discovery subsystem"),
            log_entry(DB, A), log_entry(LOGS, A),
            log_entry(DB, B, portid=2), log_entry(LOGS, B, portid=2),
            log_entry(DISCOVERY_NQN, "10.90.3.11", 8009, subtype="discovery subsystem referral", portid=3)]


def test_discovered_returns_the_log_and_changes_nothing(host):
    host.cli.records = discovery_log()
    result = host.run(discovery={"address": A}, state="discovered")
    assert result["changed"] is False and result["actions"] == [] and result["paths"] == []
    assert result["discovery_log"][1] == {
        "subtype": "nvme subsystem", "nqn": DB, "transport": "tcp", "address": A, "service_id": 4420,
        "port_id": 1, "address_family": "ipv4", "security": "none"}
    assert [(entry["subtype"], entry["nqn"]) for entry in result["discovery_log"]] == [
        ("current discovery subsystem", DISCOVERY_NQN), ("nvme subsystem", DB), ("nvme subsystem", LOGS),
        ("nvme subsystem", DB), ("nvme subsystem", LOGS), ("discovery subsystem referral", DISCOVERY_NQN)]
    assert host.cli.calls == [["nvme", "discover", "--transport", "tcp", "--traddr", A, "--trsvcid", "8009",
                               "--hostnqn", HOSTNQN, "--hostid", HOSTID, "--output-format", "json"]]
    assert host.fabrics.calls == []


def test_discovery_connects_every_offered_subsystem(host):
    host.cli.records = discovery_log()
    result = host.run(discovery={"address": A})
    assert [(item["nqn"], item["address"], item["action"], item["controller"]) for item in result["paths"]] == [
        (DB, A, "connected", "nvme0"), (DB, B, "connected", "nvme1"),
        (LOGS, A, "connected", "nvme2"), (LOGS, B, "connected", "nvme3")]
    assert [host.attr(name, "subsysnqn") for name in host.controllers()] == [DB, DB, LOGS, LOGS]
    assert not [options for options in connects(host.fabrics) if options["nqn"] == DISCOVERY_NQN]
    again = host.run(discovery={"address": A})
    assert again["changed"] is False
    assert [item["action"] for item in again["paths"]] == ["kept"] * 4


def test_discovery_with_a_host_interface_uses_it_everywhere(host):
    host.cli.records = discovery_log()
    result = host.run(discovery={"address": A, "host_iface": "eth1"}, nqn=DB)
    assert host.cli.calls[0][-2:] == ["--host-iface", "eth1"]
    assert [item["host_iface"] for item in result["paths"]] == ["eth1", "eth1"]
    assert [options["host_iface"] for options in connects(host.fabrics)] == ["eth1", "eth1"]


def test_discovery_with_a_missing_host_interface_connects_nothing(host):
    host.cli.records = discovery_log()
    with pytest.raises(SpecError):
        host.run(discovery={"address": A, "host_iface": "eth9"})
    assert host.fabrics.calls == []


def test_discovery_filtered_by_nqn(host):
    host.cli.records = discovery_log()
    result = host.run(discovery={"address": A}, nqn=LOGS)
    assert [(item["nqn"], item["address"]) for item in result["paths"]] == [(LOGS, A), (LOGS, B)]
    assert host.controllers() == ["nvme0", "nvme1"]


def test_discovery_absent_disconnects_what_it_offers(host):
    host.cli.records = discovery_log()
    host.run(discovery={"address": A}, nqn=LOGS)
    host.run(nqn=DB, paths=[A])
    result = host.run(discovery={"address": A}, nqn=LOGS, state="absent")
    assert [item["action"] for item in result["paths"]] == ["disconnected", "disconnected"]
    assert [host.attr(name, "subsysnqn") for name in host.controllers()] == [DB]


def test_a_subsystem_not_offered_names_the_host(host):
    host.cli.records = [entry for entry in discovery_log() if entry["subnqn"] != DB]
    with pytest.raises(NvmeConnectError) as info:
        host.run(discovery={"address": A}, nqn=DB)
    assert str(info.value) == (
        "the discovery controller at 10.90.1.11 port 8009 does not offer %s to host %s: the target does not "
        "allow this host, or does not export the subsystem there" % (DB, HOSTNQN))
    assert host.fabrics.calls == []


def test_a_failed_discovery_says_why(host):
    host.cli.discover = (1, "", "failed to add controller, error connection refused\n")
    with pytest.raises(NvmeConnectError) as info:
        host.run(discovery={"address": A, "service_id": 8009})
    assert str(info.value) == (
        "discovery at 10.90.1.11 port 8009 failed: failed to add controller, error connection refused")
    assert host.fabrics.calls == []


def test_discovery_output_that_is_no_json(host):
    host.cli.discover = (0, "Discovery Log Number of Records 2, Generation counter 9\n", "")
    with pytest.raises(NvmeConnectError) as info:
        host.run(discovery={"address": A}, state="discovered")
    assert "printed no JSON" in str(info.value)


def test_an_empty_discovery_log(host):
    host.cli.records = []
    result = host.run(discovery={"address": A})
    assert result["changed"] is False and result["paths"] == [] and host.fabrics.calls == []


def test_a_bad_discovery_address_is_named_as_discovery(host):
    """The user gave no paths: the error must name discovery.address, not paths[0].address."""
    with pytest.raises(SpecError) as info:
        host.run(discovery={"address": "10.90.1.300"}, state="discovered")
    assert "discovery" in str(info.value)
    assert "paths[0]" not in str(info.value)


# -- secrets -------------------------------------------------------------------------------
def secret_params(**changes):
    return two_paths(dhchap_secret=SECRET, dhchap_ctrl_secret=CTRL_SECRET, **changes)


def assert_hidden(value):
    text = repr(value)
    for secret in (SECRET, CTRL_SECRET):
        assert secret not in text
        assert secret[10:-1] not in text  # not even the key material


def test_secrets_reach_the_kernel_and_nothing_else(host):
    result = host.run(**secret_params())
    assert [(options["dhchap_secret"], options["dhchap_ctrl_secret"]) for options in connects(host.fabrics)] == [
        (SECRET, CTRL_SECRET)] * 2
    assert_hidden(result)
    assert_hidden(host.run(**secret_params()))
    assert_hidden(host.run(check_mode=True, state="absent", **secret_params()))


def test_secrets_stay_out_of_differences(host):
    host.run(**two_paths())
    result = host.run(**secret_params())
    assert result["paths"][0]["differences"] == {"dhchap_secret": {"live": "not set", "declared": "set"}}
    assert_hidden(result)
    replaced = host.run(replace_differing=True, **secret_params())
    assert [item["action"] for item in replaced["paths"]] == ["replaced", "replaced"]
    assert_hidden(replaced)


def test_secrets_stay_out_of_refusals(host):
    _not_allowed(host)
    with pytest.raises(NvmeConnectError) as info:
        host.run(**secret_params())
    assert "does not allow host NQN" in str(info.value)
    assert_hidden(str(info.value))


def test_secrets_stay_out_of_refusals_a_kernel_echoes(host):
    """A kernel without DH-HMAC-CHAP options logs the unknown option with its value; the
    message quotes the kernel log, so it must hide the secret there too."""
    host.fabrics.auth = False
    with pytest.raises(NvmeConnectError) as info:
        host.run(**secret_params())
    assert "unknown parameter or missing value 'dhchap_" in str(info.value)
    assert_hidden(str(info.value))


def test_secrets_stay_out_of_spec_errors(host):
    with pytest.raises(SpecError) as info:
        host.run(**two_paths(dhchap_secret=SECRET[:-1]))
    assert_hidden(str(info.value))
    with pytest.raises(SpecError) as info:
        host.run(**two_paths(dhchap_ctrl_secret=CTRL_SECRET))
    assert_hidden(str(info.value))


# -- identity --------------------------------------------------------------------------------
def identity_files(host):
    return host.file("/etc/nvme/hostnqn"), host.file("/etc/nvme/hostid")


def file_mode(host, path):
    return stat.S_IMODE(os.stat(host.fs.path(path)).st_mode)


def test_missing_identity_files_are_created(tmp_path):
    host = Host(tmp_path)
    os.unlink(host.fs.path("/etc/nvme/hostnqn"))
    os.unlink(host.fs.path("/etc/nvme/hostid"))
    os.rmdir(host.fs.path("/etc/nvme"))
    identity = ensure_identity(host.fs)
    assert identity["changed"] is True
    assert identity["hostnqn"] == UUID_PREFIX + identity["hostid"]
    assert str(uuid.UUID(identity["hostid"])) == identity["hostid"]
    assert identity_files(host) == (identity["hostnqn"] + "\n", identity["hostid"] + "\n")
    assert file_mode(host, "/etc/nvme") == 0o755 and file_mode(host, "/etc/nvme/hostnqn") == 0o644
    assert identity["before"]["hostnqn"] is None
    assert host_identity(host.fs)["problems"] == []
    assert ensure_identity(host.fs)["changed"] is False


def test_a_cloned_hostid_is_fixed_and_the_hostnqn_kept(host):
    host.sysfs.identity(hostid=OTHER_HOSTID)
    identity = ensure_identity(host.fs)
    assert (identity["hostnqn"], identity["hostid"], identity["changed"]) == (HOSTNQN, HOSTID, True)
    assert identity["before"]["hostid"] == OTHER_HOSTID and identity["before"]["problems"]
    assert identity_files(host) == (HOSTNQN + "\n", HOSTID + "\n")


def test_a_valid_identity_is_kept(host):
    before = os.stat(host.fs.path("/etc/nvme/hostid")).st_mtime_ns
    identity = ensure_identity(host.fs)
    assert (identity["hostnqn"], identity["hostid"], identity["changed"]) == (HOSTNQN, HOSTID, False)
    assert os.stat(host.fs.path("/etc/nvme/hostid")).st_mtime_ns == before


def test_a_named_hostnqn_keeps_its_hostid(host):
    host.sysfs.identity(hostnqn="nqn.2024-01.io.example:host:db1", hostid=OTHER_HOSTID)
    identity = ensure_identity(host.fs)
    assert (identity["hostnqn"], identity["hostid"], identity["changed"]) == (
        "nqn.2024-01.io.example:host:db1", OTHER_HOSTID, False)


def test_a_named_hostnqn_without_hostid_gets_a_stable_one(host):
    host.sysfs.identity(hostnqn="nqn.2024-01.io.example:host:db1")
    os.unlink(host.fs.path("/etc/nvme/hostid"))
    first = ensure_identity(host.fs, check_mode=True)["hostid"]
    assert first == ensure_identity(host.fs, check_mode=True)["hostid"] == ensure_identity(host.fs)["hostid"]
    assert str(uuid.UUID(first)) == first


def test_explicit_hostnqn_and_hostid(host):
    identity = ensure_identity(host.fs, "nqn.2024-01.io.example:host:db1", OTHER_HOSTID.upper())
    assert (identity["hostnqn"], identity["hostid"], identity["changed"]) == (
        "nqn.2024-01.io.example:host:db1", OTHER_HOSTID, True)
    assert identity_files(host) == ("nqn.2024-01.io.example:host:db1\n", OTHER_HOSTID + "\n")
    assert ensure_identity(host.fs, "nqn.2024-01.io.example:host:db1", OTHER_HOSTID)["changed"] is False


def test_an_explicit_uuid_hostnqn_brings_its_hostid(host):
    identity = ensure_identity(host.fs, UUID_PREFIX + OTHER_HOSTID)
    assert (identity["hostnqn"], identity["hostid"]) == (UUID_PREFIX + OTHER_HOSTID, OTHER_HOSTID)


@pytest.mark.parametrize("hostnqn, hostid, named", [
    (UUID_PREFIX + HOSTID, OTHER_HOSTID, "hostid: %s differs from the UUID in hostnqn" % OTHER_HOSTID),
    (None, OTHER_HOSTID, "hostid: %s differs from the UUID in hostnqn" % OTHER_HOSTID),
    ("nqn.2024-01.io.example:host:db1", "not-a-uuid", "hostid: 'not-a-uuid' is not a UUID"),
    ("iqn.2005-03.org.open-iscsi:db1", None, "hostnqn: 'iqn.2005-03.org.open-iscsi:db1'"),
])
def test_contradicting_or_invalid_identity_is_refused(host, hostnqn, hostid, named):
    with pytest.raises(SpecError) as info:
        ensure_identity(host.fs, hostnqn, hostid)
    assert named in str(info.value)
    assert identity_files(host) == (HOSTNQN + "\n", HOSTID + "\n")


def test_regenerate_gives_a_new_pair_each_time(host):
    first = ensure_identity(host.fs, regenerate=True)
    second = ensure_identity(host.fs, regenerate=True)
    assert first["changed"] is second["changed"] is True
    pairs = [(HOSTNQN, HOSTID), (first["hostnqn"], first["hostid"]), (second["hostnqn"], second["hostid"])]
    assert len(set(pairs)) == 3
    for hostnqn, hostid in pairs[1:]:
        assert hostnqn == UUID_PREFIX + hostid
    assert identity_files(host) == (second["hostnqn"] + "\n", second["hostid"] + "\n")
    assert desired_identity({"hostnqn": None, "hostid": None}, regenerate=True,
                            new_uuid=OTHER_HOSTID) == (UUID_PREFIX + OTHER_HOSTID, OTHER_HOSTID)


def test_regenerate_refuses_an_explicit_identity(host):
    with pytest.raises(SpecError):
        ensure_identity(host.fs, hostnqn=HOSTNQN, regenerate=True)


@pytest.mark.parametrize("kwargs", [dict(regenerate=True), dict(hostnqn="nqn.2024-01.io.example:host:db1"),
                                    dict(hostid=HOSTID)])
def test_check_mode_writes_no_identity(host, kwargs):
    host.sysfs.identity(hostid=OTHER_HOSTID if "hostid" in kwargs else HOSTID)
    before = identity_files(host)
    identity = ensure_identity(host.fs, check_mode=True, **kwargs)
    assert identity["changed"] is True
    assert identity_files(host) == before


@pytest.mark.parametrize("bad", ["iqn.2005-03.org.open-iscsi:db1", UUID_PREFIX + "1234", "nqn.bad name"])
def test_an_invalid_hostnqn_in_the_file_is_replaced(host, bad):
    host.sysfs.identity(hostnqn=bad)
    identity = ensure_identity(host.fs)
    assert identity["changed"] is True
    assert identity["hostnqn"].startswith(UUID_PREFIX) and identity["hostnqn"] != bad
    assert identity["hostnqn"] == UUID_PREFIX + identity["hostid"]
    assert host_identity(host.fs)["problems"] == []


# -- persistence interplay (nvme_connect_persist) ------------------------------------------
def test_persisted_on_nvme_cli_2(host):
    result = host.run(persist=True, **two_paths(ctrl_loss_tmo=-1))
    assert result["persistence"]["file"] == DISCOVERY_CONF
    assert result["persistence"]["format"] == "discovery.conf"
    assert result["persistence"]["changed"] is True
    assert DB in result["actions"][-1] and result["actions"][-1].endswith(" in " + DISCOVERY_CONF)
    text = host.file(DISCOVERY_CONF)
    assert "--transport=tcp --traddr=10.90.1.11 --trsvcid=4420 --ctrl-loss-tmo=-1" in text
    assert "--transport=tcp --traddr=10.90.2.11 --trsvcid=4420 --ctrl-loss-tmo=-1" in text
    assert ["nvme", "version"] in host.cli.calls
    again = host.run(persist=True, **two_paths(ctrl_loss_tmo=-1))
    assert again["changed"] is False and again["persistence"]["changed"] is False
    forgotten = host.run(persist=True, state="absent", **two_paths(ctrl_loss_tmo=-1))
    assert forgotten["changed"] is True and host.controllers() == []
    assert forgotten["actions"][-1].endswith(" in " + DISCOVERY_CONF)
    assert "10.90.1.11" not in (host.file(DISCOVERY_CONF) or "")


def test_what_nvme_cli_2_cannot_persist_is_refused_before_any_connect(host):
    with pytest.raises(persistence.PersistError) as info:
        host.run(persist=True, **two_paths(fast_io_fail_tmo=20))
    assert "fast_io_fail_tmo" in str(info.value)
    assert host.fabrics.calls == []
    assert host.file(DISCOVERY_CONF) is None


def test_persistence_in_check_mode_writes_nothing(host):
    result = host.run(check_mode=True, persist=True, **two_paths())
    assert result["persistence"]["changed"] is True and result["changed"] is True
    assert host.file(DISCOVERY_CONF) is None and host.fabrics.calls == []
    assert not os.path.exists(host.fs.path(persistence.SAVED_DIR))


def test_persisted_secrets_stay_out_of_the_result(host):
    host.cli.version = NVME_VERSION_3
    result = host.run(persist=True, **secret_params())
    assert result["persistence"]["format"] == "nvme-fabrics.conf"
    assert SECRET in host.file(result["persistence"]["file"])  # nvme connect-all needs it at boot
    assert file_mode(host, result["persistence"]["file"]) == 0o600
    assert_hidden(result)
