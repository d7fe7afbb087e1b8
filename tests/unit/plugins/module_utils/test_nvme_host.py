from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme import nvme_host
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError

HOSTID = "3a1f6e2c-8d0b-4f47-9e52-0c6f1b2a7d11"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:" + HOSTID
SUBNQN = "nqn.2024-01.io.example:storage:vol1"
DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery"
SECRET = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"
# nvmet pads model (40) and serial (20) like a drive; sysfs prints the whole field.
MODEL = "Linux".ljust(40)
SERIAL = "8b3c7f2d1a9e4b6c".ljust(20)
FABRICS = "/sys/devices/virtual/nvme-fabrics/ctl"
SUBSYS_DEVICES = "/sys/devices/virtual/nvme-subsystem"


class FakeSys:
    """Builds a sysfs-like tree with the real 6.1 / 6.12 layout under a root."""

    def __init__(self, root):
        self.root = str(root)
        self.fs = HostFS(self.root)

    def real(self, path):
        return self.fs.path(path)

    def file(self, path, text, mode=None):
        real = self.real(path)
        if not os.path.isdir(os.path.dirname(real)):
            os.makedirs(os.path.dirname(real))
        with open(real, "w") as handle:
            handle.write(text)
        if mode is not None:
            os.chmod(real, mode)

    def attrs(self, directory, values):
        for name, value in values.items():
            if value is None:  # write-only attribute (reset_controller, ...)
                self.file("%s/%s" % (directory, name), "", mode=0o200)
            else:
                self.file("%s/%s" % (directory, name), "%s\n" % value)

    def dir(self, path):
        real = self.real(path)
        if not os.path.isdir(real):
            os.makedirs(real)

    def link(self, path, target):
        """A relative symlink, as sysfs makes them."""
        real = self.real(path)
        if not os.path.isdir(os.path.dirname(real)):
            os.makedirs(os.path.dirname(real))
        if not os.path.lexists(real):
            os.symlink(os.path.relpath(self.real(target), os.path.dirname(real)), real)

    # -- kernel -------------------------------------------------------------------------
    def kernel(self, release, builtin=(), dep=(), loaded=()):
        self.file("/proc/sys/kernel/osrelease", release + "\n")
        base = "/lib/modules/%s" % release
        if builtin is not None:
            self.file(base + "/modules.builtin", "".join("%s\n" % p for p in builtin))
        if dep is not None:
            self.file(base + "/modules.dep", "".join("%s\n" % p for p in dep))
        for name in loaded:
            self.dir("/sys/module/%s" % name)

    def nvme_core(self, multipath="Y", iopolicy="numa"):
        params = "/sys/module/nvme_core/parameters"
        self.attrs(params, {"multipath": multipath, "iopolicy": iopolicy,
                            "admin_timeout": "60", "io_timeout": "30"})

    # -- host side -----------------------------------------------------------------------
    def fabrics_class(self):
        self.attrs(FABRICS, {"dev": "10:121", "uevent": "MAJOR=10\nMINOR=121\nDEVNAME=nvme-fabrics"})
        self.dir(FABRICS + "/power")
        self.link(FABRICS + "/subsystem", "/sys/class/nvme-fabrics")
        self.link("/sys/class/nvme-fabrics/ctl", FABRICS)

    def controller(self, index, kernel="6.1", **overrides):
        """A connected nvme-tcp controller as /sys/devices/virtual/nvme-fabrics/ctl/nvmeN."""
        self.fabrics_class()
        directory = "%s/nvme%d" % (FABRICS, index)
        values = {
            "address": "traddr=192.0.2.10,trsvcid=4420,src_addr=192.0.2.21",
            "cntlid": "1", "cntrltype": "io", "dctype": "none",
            "ctrl_loss_tmo": "600", "reconnect_delay": "10", "fast_io_fail_tmo": "off",
            "kato": "5", "queue_count": "5", "sqsize": "127", "numa_node": "-1",
            "firmware_rev": "6.1.0-28", "model": MODEL, "serial": SERIAL,
            "hostnqn": HOSTNQN, "hostid": HOSTID, "state": "live", "subsysnqn": SUBNQN,
            "transport": "tcp", "dev": "244:%d" % index,
            "dhchap_secret": "none", "dhchap_ctrl_secret": "none",
            "reset_controller": None, "rescan_controller": None, "delete_controller": None,
        }
        if kernel == "6.12":
            values.update({"passthru_err_log_enabled": "off", "firmware_rev": "6.12.9+b"})
        values.update(overrides)
        self.attrs(directory, dict((k, v) for k, v in values.items() if v is not False))
        self.dir(directory + "/power")
        self.link(directory + "/subsystem", "/sys/class/nvme")
        self.link("/sys/class/nvme/nvme%d" % index, directory)
        return directory

    def pcie_controller(self, index, pci="0000:00:04.0"):
        directory = "/sys/devices/pci0000:00/%s/nvme/nvme%d" % (pci, index)
        self.attrs(directory, {
            "address": pci, "cntlid": "0", "transport": "pcie", "state": "live",
            "model": "QEMU NVMe Ctrl".ljust(40), "serial": "deadbeef".ljust(20),
            "firmware_rev": "8.0.0", "subsysnqn": "nqn.2019-08.org.qemu:deadbeef",
            "numa_node": "-1", "queue_count": "3", "sqsize": "1023", "kato": "0",
            "reset_controller": None, "rescan_controller": None,
        })
        self.link("/sys/class/nvme/nvme%d" % index, directory)
        return directory

    def path_device(self, controller_dir, name, nsid=1, ana_grpid=None, ana_state=None):
        """A namespace block device below its controller (nvme0c0n1, or nvme0n1 without multipath)."""
        directory = "%s/%s" % (controller_dir, name)
        values = {"nsid": str(nsid), "size": "20971520", "wwid": "uuid.%s" % HOSTID,
                  "uuid": "6e1c4b1a-44f2-4d2c-9a7e-1f0f6d3b2c10", "dev": "259:%d" % nsid}
        if ana_state is not None:
            values.update({"ana_grpid": str(ana_grpid), "ana_state": ana_state})
        self.attrs(directory, values)
        self.dir(directory + "/queue")
        self.link("/sys/block/%s" % name, directory)
        return directory

    def subsystem(self, index, controllers, nqn=SUBNQN, iopolicy="numa", heads=(), subsystype="nvm",
                  model=MODEL, serial=SERIAL):
        directory = "%s/nvme-subsys%d" % (SUBSYS_DEVICES, index)
        values = {"subsysnqn": nqn, "model": model, "serial": serial,
                  "firmware_rev": "6.1.0-28", "subsystype": subsystype}
        if iopolicy is not None:
            values["iopolicy"] = iopolicy
        self.attrs(directory, values)
        self.dir(directory + "/power")
        for controller_dir in controllers:
            self.link("%s/%s" % (directory, controller_dir.rsplit("/", 1)[-1]), controller_dir)
        for name, nsid in heads:
            head = "%s/%s" % (directory, name)
            self.attrs(head, {"nsid": str(nsid), "size": "20971520",
                              "uuid": "6e1c4b1a-44f2-4d2c-9a7e-1f0f6d3b2c10",
                              "nguid": "6e1c4b1a-44f2-4d2c-9a7e-1f0f6d3b2c10",
                              "wwid": "uuid.6e1c4b1a-44f2-4d2c-9a7e-1f0f6d3b2c10",
                              "dev": "259:%d" % (nsid + 100)})
            self.dir(head + "/queue")
            self.link("/sys/block/%s" % name, head)
            # the generic character device of the head (ngXnY) sits next to it
            self.attrs("%s/ng%dn%d" % (directory, index, nsid), {"dev": "239:%d" % nsid})
        self.link("/sys/class/nvme-subsystem/nvme-subsys%d" % index, directory)
        return directory

    def identity(self, hostnqn=HOSTNQN, hostid=HOSTID):
        if hostnqn is not None:
            self.file("/etc/nvme/hostnqn", hostnqn + "\n")
        if hostid is not None:
            self.file("/etc/nvme/hostid", hostid + "\n")


@pytest.fixture
def sysfs(tmp_path):
    return FakeSys(tmp_path)


def two_path_multipath(sysfs, kernel="6.1", iopolicy="numa"):
    """A 6.x initiator with native multipath and two TCP paths to one ANA subsystem."""
    sysfs.nvme_core(multipath="Y", iopolicy=iopolicy)
    first = sysfs.controller(0, kernel=kernel)
    second = sysfs.controller(1, kernel=kernel, cntlid="2",
                              address="traddr=198.51.100.10,trsvcid=4420,host_iface=ens4,"
                                      "src_addr=198.51.100.21")
    sysfs.path_device(first, "nvme0c0n1", ana_grpid=1, ana_state="optimized")
    sysfs.path_device(second, "nvme0c1n1", ana_grpid=1, ana_state="non-optimized")
    sysfs.subsystem(0, [first, second], iopolicy=iopolicy, heads=[("nvme0n1", 1)])


# -- kernel ------------------------------------------------------------------------------
@pytest.mark.parametrize("path, name", [
    ("kernel/drivers/nvme/host/nvme-tcp.ko", "nvme_tcp"),
    ("kernel/drivers/nvme/host/nvme-fabrics.ko.xz", "nvme_fabrics"),
    ("kernel/drivers/nvme/target/nvmet-tcp.ko.zst", "nvmet_tcp"),
    ("kernel/drivers/nvme/target/nvmet.ko.gz", "nvmet"),
    ("  kernel/drivers/nvme/host/nvme-core.ko\n", "nvme_core"),
])
def test_module_names_follow_the_kernel(path, name):
    assert nvme_host.module_name(path) == name


def test_kernel_modules_from_module_index_and_sys_module(sysfs):
    release = "6.1.0-28-amd64"
    sysfs.kernel(
        release,
        builtin=["kernel/drivers/nvme/host/nvme-core.ko", "kernel/fs/ext4/ext4.ko"],
        dep=[
            "kernel/drivers/nvme/host/nvme-fabrics.ko.xz: kernel/drivers/nvme/host/nvme-core.ko.xz",
            "kernel/drivers/nvme/host/nvme-tcp.ko.xz: kernel/drivers/nvme/host/nvme-fabrics.ko.xz",
            "kernel/drivers/nvme/target/nvmet.ko.xz: kernel/drivers/nvme/common/nvme-auth.ko.xz",
            "kernel/drivers/nvme/target/nvmet-tcp.ko.xz: kernel/drivers/nvme/target/nvmet.ko.xz",
        ],
        loaded=["nvme_core", "nvme_fabrics", "nvme_tcp"])
    facts = nvme_host.kernel_facts(sysfs.fs)
    assert facts["release"] == release
    assert facts["module_index_found"] is True
    modules = facts["modules"]
    assert sorted(modules) == sorted(nvme_host.MODULES)
    assert modules["nvme_core"] == {"loaded": True, "builtin": True, "available": True, "path": None}
    assert modules["nvme_tcp"] == {
        "loaded": True, "builtin": False, "available": True,
        "path": "/lib/modules/%s/kernel/drivers/nvme/host/nvme-tcp.ko.xz" % release}
    assert modules["nvmet_tcp"]["available"] and not modules["nvmet_tcp"]["loaded"]
    assert modules["nvmet"]["path"].endswith("/kernel/drivers/nvme/target/nvmet.ko.xz")


def test_kernel_without_the_modules(sysfs):
    sysfs.kernel("6.12.9-amd64", builtin=[], dep=["kernel/fs/ext4/ext4.ko.zst: kernel/lib/crc16.ko.zst"])
    modules = nvme_host.kernel_facts(sysfs.fs)["modules"]
    assert all(not state["available"] and not state["loaded"] for state in modules.values())


def test_kernel_without_module_index(sysfs):
    # a container or a kernel whose /lib/modules directory is gone: loaded still shows
    sysfs.kernel("6.12.9-amd64", builtin=None, dep=None, loaded=["nvme_tcp"])
    facts = nvme_host.kernel_facts(sysfs.fs)
    assert facts["module_index_found"] is False
    assert facts["modules"]["nvme_tcp"] == {"loaded": True, "builtin": False, "available": False, "path": None}


# -- host identity -------------------------------------------------------------------------
def test_identity_that_agrees(sysfs):
    sysfs.identity()
    assert nvme_host.host_identity(sysfs.fs) == {
        "hostnqn": HOSTNQN, "hostid": HOSTID, "hostnqn_uuid": HOSTID,
        "ids_agree": True, "problems": []}


def test_identity_agreement_ignores_case(sysfs):
    sysfs.identity(hostnqn="nqn.2014-08.org.nvmexpress:uuid:" + HOSTID.upper())
    identity = nvme_host.host_identity(sysfs.fs)
    assert identity["ids_agree"] is True and identity["problems"] == []


def test_cloned_hostid_is_reported(sysfs):
    other = "0f9c2b7e-5a41-4c3d-8e6f-2b1a0c9d8e7f"
    sysfs.identity(hostid=other)
    identity = nvme_host.host_identity(sysfs.fs)
    assert identity["ids_agree"] is False
    assert identity["problems"] == [
        "host ID %s differs from the UUID in the host NQN (%s)" % (other, HOSTID)]


def test_named_hostnqn_cannot_be_compared(sysfs):
    sysfs.identity(hostnqn="nqn.2024-01.io.example:host:db1")
    identity = nvme_host.host_identity(sysfs.fs)
    assert identity["hostnqn_uuid"] is None
    assert identity["ids_agree"] is None
    assert identity["problems"] == []


@pytest.mark.parametrize("hostnqn, hostid, problem", [
    (None, HOSTID, "/etc/nvme/hostnqn is missing or empty"),
    ("", HOSTID, "/etc/nvme/hostnqn is missing or empty"),
    (HOSTNQN, None, "/etc/nvme/hostid is missing or empty"),
    (HOSTNQN, "not-a-uuid", "host ID 'not-a-uuid' is not a UUID; the kernel refuses it"),
    ("iqn.2005-03.org.open-iscsi:db1", HOSTID, "host NQN 'iqn.2005-03.org.open-iscsi:db1' does not start with 'nqn.'"),
    ("nqn.2014-08.org.nvmexpress:uuid:1234", HOSTID,
     "host NQN 'nqn.2014-08.org.nvmexpress:uuid:1234' has the uuid form but no valid UUID"),
    ("nqn.2024-01.io.example:" + "x" * 210, HOSTID, "host NQN is longer than 223 bytes"),
])
def test_identity_problems(sysfs, hostnqn, hostid, problem):
    sysfs.identity(hostnqn=hostnqn, hostid=hostid)
    identity = nvme_host.host_identity(sysfs.fs)
    assert identity["problems"] == [problem]
    assert identity["ids_agree"] is None


# -- controller addresses ---------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    # 6.1 and 6.12 nvme-tcp while connected: nvmf_get_address() plus src_addr
    ("traddr=192.0.2.10,trsvcid=4420,src_addr=192.0.2.21",
     {"traddr": "192.0.2.10", "trsvcid": "4420", "src_addr": "192.0.2.21"}),
    # while reconnecting the admin queue is down: no src_addr
    ("traddr=192.0.2.10,trsvcid=4420,host_traddr=192.0.2.21,host_iface=ens4",
     {"traddr": "192.0.2.10", "trsvcid": "4420", "host_traddr": "192.0.2.21", "host_iface": "ens4"}),
    # IPv6, and a newline inside the string as kernels before the fix printed it
    ("traddr=2001:db8::10,trsvcid=4420\n,src_addr=2001:db8::21",
     {"traddr": "2001:db8::10", "trsvcid": "4420", "src_addr": "2001:db8::21"}),
    ("0000:00:04.0", {}),
    ("", {}),
    (None, {}),
])
def test_parse_address(text, expected):
    fields = dict((key, None) for key in ("traddr", "trsvcid", "host_traddr", "host_iface", "src_addr"))
    fields.update(expected)
    assert nvme_host.parse_address(text) == fields


# -- initiator ------------------------------------------------------------------------------
def test_nothing_connected(sysfs):
    facts = nvme_host.initiator_facts(sysfs.fs)
    assert facts == {"multipath": None, "default_iopolicy": None, "controllers": [], "subsystems": []}


def test_fabrics_controllers_on_6_1(sysfs):
    two_path_multipath(sysfs)
    facts = nvme_host.initiator_facts(sysfs.fs)
    assert facts["multipath"] is True
    assert facts["default_iopolicy"] == "numa"
    first, second = facts["controllers"]
    assert first == {
        "name": "nvme0", "transport": "tcp",
        "address": "traddr=192.0.2.10,trsvcid=4420,src_addr=192.0.2.21",
        "traddr": "192.0.2.10", "trsvcid": "4420", "host_traddr": None, "host_iface": None,
        "src_addr": "192.0.2.21", "state": "live", "subsysnqn": SUBNQN,
        "hostnqn": HOSTNQN, "hostid": HOSTID, "cntlid": 1, "cntrltype": "io",
        "model": "Linux", "serial": "8b3c7f2d1a9e4b6c", "firmware_rev": "6.1.0-28", "numa_node": -1,
        "dhchap_secret_set": False, "dhchap_ctrl_secret_set": False,
        "options": {"ctrl_loss_tmo": 600, "reconnect_delay": 10, "fast_io_fail_tmo": -1,
                    "kato": 5, "queue_count": 5, "sqsize": 127},
    }
    assert (second["name"], second["cntlid"], second["host_iface"]) == ("nvme1", 2, "ens4")


def test_subsystem_paths_and_ana_states(sysfs):
    two_path_multipath(sysfs)
    (subsystem,) = nvme_host.initiator_facts(sysfs.fs)["subsystems"]
    assert subsystem["name"] == "nvme-subsys0"
    assert subsystem["nqn"] == SUBNQN
    assert (subsystem["model"], subsystem["serial"]) == ("Linux", "8b3c7f2d1a9e4b6c")
    assert (subsystem["subsystype"], subsystem["iopolicy"]) == ("nvm", "numa")
    # the head only: its ng0n1 character device is no namespace
    assert subsystem["namespaces"] == [{
        "name": "nvme0n1", "nsid": 1, "uuid": "6e1c4b1a-44f2-4d2c-9a7e-1f0f6d3b2c10",
        "nguid": "6e1c4b1a-44f2-4d2c-9a7e-1f0f6d3b2c10",
        "wwid": "uuid.6e1c4b1a-44f2-4d2c-9a7e-1f0f6d3b2c10", "size_bytes": 20971520 * 512}]
    paths = subsystem["controllers"]
    assert [(p["name"], p["traddr"], p["state"]) for p in paths] == [
        ("nvme0", "192.0.2.10", "live"), ("nvme1", "198.51.100.10", "live")]
    assert paths[0]["namespaces"] == [
        {"name": "nvme0c0n1", "nsid": 1, "ana_grpid": 1, "ana_state": "optimized"}]
    assert paths[1]["namespaces"] == [
        {"name": "nvme0c1n1", "nsid": 1, "ana_grpid": 1, "ana_state": "non-optimized"}]


def test_6_12_queue_depth_and_authenticated_connection(sysfs):
    two_path_multipath(sysfs, kernel="6.12", iopolicy="queue-depth")
    sysfs.controller(0, kernel="6.12", dhchap_secret=SECRET)
    facts = nvme_host.initiator_facts(sysfs.fs)
    assert facts["default_iopolicy"] == "queue-depth"
    assert facts["subsystems"][0]["iopolicy"] == "queue-depth"
    assert facts["controllers"][0]["dhchap_secret_set"] is True
    assert facts["controllers"][0]["dhchap_ctrl_secret_set"] is False
    assert facts["controllers"][0]["firmware_rev"] == "6.12.9+b"
    assert SECRET not in repr(facts)


def test_reconnecting_controller(sysfs):
    sysfs.nvme_core()
    sysfs.controller(0, state="connecting", address="traddr=192.0.2.10,trsvcid=4420",
                     ctrl_loss_tmo="off", fast_io_fail_tmo="30")
    (controller,) = nvme_host.initiator_facts(sysfs.fs)["controllers"]
    assert controller["state"] == "connecting"
    assert controller["src_addr"] is None
    assert controller["options"]["ctrl_loss_tmo"] == -1
    assert controller["options"]["fast_io_fail_tmo"] == 30


def test_address_lines_are_joined(sysfs):
    sysfs.nvme_core()
    sysfs.controller(0, address="traddr=192.0.2.10,trsvcid=4420\n,src_addr=192.0.2.21")
    (controller,) = nvme_host.initiator_facts(sysfs.fs)["controllers"]
    assert controller["address"] == "traddr=192.0.2.10,trsvcid=4420,src_addr=192.0.2.21"
    assert controller["src_addr"] == "192.0.2.21"


def test_kernel_without_authentication_support(sysfs):
    sysfs.nvme_core()
    sysfs.controller(0, dhchap_secret=False, dhchap_ctrl_secret=False, cntrltype=False, dctype=False)
    (controller,) = nvme_host.initiator_facts(sysfs.fs)["controllers"]
    assert controller["dhchap_secret_set"] is None and controller["dhchap_ctrl_secret_set"] is None
    assert controller["cntrltype"] is None


def test_multipath_off_puts_namespaces_below_controllers(sysfs):
    sysfs.nvme_core(multipath="N")
    first = sysfs.controller(0)
    second = sysfs.controller(1, address="traddr=198.51.100.10,trsvcid=4420")
    sysfs.path_device(first, "nvme0n1")
    sysfs.path_device(second, "nvme1n1")
    sysfs.subsystem(0, [first])
    sysfs.subsystem(1, [second])
    facts = nvme_host.initiator_facts(sysfs.fs)
    assert facts["multipath"] is False
    assert [s["namespaces"] for s in facts["subsystems"]] == [[], []]
    assert facts["subsystems"][1]["controllers"][0]["namespaces"] == [
        {"name": "nvme1n1", "nsid": 1, "ana_grpid": None, "ana_state": None}]


def test_local_pcie_drive_is_a_subsystem_but_no_fabrics_controller(sysfs):
    sysfs.nvme_core()
    pcie = sysfs.pcie_controller(0)
    sysfs.path_device(pcie, "nvme0n1")
    sysfs.subsystem(0, [pcie], nqn="nqn.2019-08.org.qemu:deadbeef", model="QEMU NVMe Ctrl".ljust(40))
    fabric = sysfs.controller(1)
    sysfs.subsystem(1, [fabric])
    facts = nvme_host.initiator_facts(sysfs.fs)
    assert [c["name"] for c in facts["controllers"]] == ["nvme1"]
    local = facts["subsystems"][0]
    assert local["controllers"][0]["transport"] == "pcie"
    assert local["controllers"][0]["address"] == "0000:00:04.0"
    assert local["controllers"][0]["traddr"] is None
    assert local["model"] == "QEMU NVMe Ctrl"


def test_persistent_discovery_controller(sysfs):
    sysfs.nvme_core()
    discovery = sysfs.controller(0, subsysnqn=DISCOVERY_NQN, cntrltype="discovery",
                                 address="traddr=192.0.2.10,trsvcid=8009,src_addr=192.0.2.21",
                                 ctrl_loss_tmo="off", kato="30")
    sysfs.subsystem(0, [discovery], nqn=DISCOVERY_NQN, subsystype="discovery", iopolicy="numa")
    facts = nvme_host.initiator_facts(sysfs.fs)
    assert facts["controllers"][0]["cntrltype"] == "discovery"
    assert facts["controllers"][0]["trsvcid"] == "8009"
    assert facts["subsystems"][0]["subsystype"] == "discovery"


def test_instances_sort_by_number(sysfs):
    sysfs.nvme_core()
    for index in (10, 2, 1):
        sysfs.controller(index)
    controllers = nvme_host.initiator_facts(sysfs.fs)["controllers"]
    assert [c["name"] for c in controllers] == ["nvme1", "nvme2", "nvme10"]


def test_controller_removed_while_reading(sysfs, monkeypatch):
    sysfs.nvme_core()
    sysfs.controller(0)
    real_read = HostFS.read

    def read(fs, path, default=None):
        if path.endswith("/nvme0/state"):
            raise HostFSError("reading", path, OSError(errno.ENODEV, os.strerror(errno.ENODEV)))
        return real_read(fs, path, default)

    monkeypatch.setattr(HostFS, "read", read)
    (controller,) = nvme_host.initiator_facts(sysfs.fs)["controllers"]
    assert controller["state"] is None


def test_other_read_errors_surface(sysfs, monkeypatch):
    sysfs.nvme_core()
    sysfs.controller(0)
    real_read = HostFS.read

    def read(fs, path, default=None):
        if path.endswith("/nvme0/state"):
            raise HostFSError("reading", path, OSError(errno.EACCES, os.strerror(errno.EACCES)))
        return real_read(fs, path, default)

    monkeypatch.setattr(HostFS, "read", read)
    with pytest.raises(HostFSError) as info:
        nvme_host.initiator_facts(sysfs.fs)
    assert "/sys/class/nvme-fabrics/ctl/nvme0/state" in str(info.value)


# -- gather ------------------------------------------------------------------------------------
@pytest.fixture
def fake_target(monkeypatch):
    """Stands in for nvmet_model.describe_target, which has its own tests."""
    calls = []

    def describe_target(fs):
        calls.append(fs)
        return {"available": False, "subsystems": [], "ports": [], "hosts": []}

    monkeypatch.setattr(nvme_host, "describe_target", describe_target)
    return calls


def test_gather_everything(sysfs, fake_target):
    sysfs.kernel("6.1.0-28-amd64", builtin=[], dep=[])
    sysfs.identity()
    two_path_multipath(sysfs)
    facts = nvme_host.gather(sysfs.fs)
    assert sorted(facts) == ["host", "initiator", "kernel", "target"]
    assert facts["target"]["available"] is False
    assert fake_target == [sysfs.fs]


def test_gather_only_what_is_asked(sysfs, fake_target):
    sysfs.identity()
    assert sorted(nvme_host.gather(sysfs.fs, ["host", "kernel"])) == ["host", "kernel"]
    assert fake_target == []
    assert nvme_host.gather(sysfs.fs, []) == {}


def test_gather_refuses_unknown_parts(sysfs):
    with pytest.raises(ValueError) as info:
        nvme_host.gather(sysfs.fs, ["kernel", "fabric"])
    assert "fabric" in str(info.value)


def test_target_model_gives_the_documented_shape(sysfs):
    """nvme_info's RETURN documents describe_target's shape: keep them together."""
    sysfs.dir("/sys/kernel/config/nvmet/subsystems")
    facts = nvme_host.target_facts(sysfs.fs)
    assert facts == {"available": True, "subsystems": [], "ports": [], "hosts": []}
    assert nvme_host.target_facts(HostFS(str(sysfs.root) + "/absent"))["available"] is False
