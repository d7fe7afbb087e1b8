# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three VMs of the faults lab (molecule/faults) as fake hosts, each one tree under a temporary root.

A LabHost puts together the fakes the module tests already have, over one root:

* every host: the Debian kernel it boots (``/proc/sys/kernel/osrelease``, the NVMe and memory
  hotplug lines of its ``/boot/config-<release>``, the module index), its memory side
  (fake_memory.FakeMemoryHost: one NUMA node, no dax device, the tiering knobs), its network
  (``/sys/class/net``, the lab's ifupdown stanzas, the addresses ``ip`` shows), the kernel
  parameters of ``/proc/sys`` that the bad-input cases touch, with the kernel's modes;
* target1 (6.12): the nvmet configfs (fake_configfs.FakeNvmetConfigfs, 6.12 rules, with in-band
  authentication), three data disks, and the baseline of the lab: subsystems ``:base`` and
  ``:legacy`` applied by the nvmet_subsystem module itself, with their saved copies, and the
  established connections of both initiators in ``/proc/net/tcp``;
* initiator1 (6.12) and initiator2 (6.1): the fabrics side (fake_fabrics.FakeFabrics over the
  sysfs tree), the identity the initiator role derives from the inventory name, and the baseline
  rolled by the modules themselves: nvme_multipath (round-robin), then nvme_connect on both paths
  (initiator1 to ``:base`` with its DH-HMAC-CHAP secrets and not persisted, initiator2 to
  ``:legacy``, persisted in nvme-cli 2.3's discovery.conf), and the NVMe subsystem the kernel
  creates for those controllers.

Commands go through ``run_command`` (patched over AnsibleModule.run_command): it answers the
read-only commands as the lab VM would, records every call, and plays daxctl through
fake_memory.FakeDaxctl; any other command is taken as done, and ``changes()`` lists every command and
fabrics call that is not one of the read-only ones: a case that gets that far does not hold.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import io
import json
import os
import stat
import uuid

import pytest

from ansible.module_utils import basic

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.modules import (
    cxl_tiering, fabric_preflight, host_files, host_state, interface_mtu, nvme_connect, nvme_info, nvme_multipath,
    nvmet_subsystem, nvmet_target, sysctl_tuning)

# The fakes of the module_utils and module tests (their directories are on sys.path, see conftest.py).
from fake_configfs import FakeNvmetConfigfs
from fake_fabrics import FakeFabrics
from fake_memory import FakeDaxctl, FakeMemoryHost
from test_nvme_info import module_args
from test_sysctl_tuning import KernelFS as ProcSysFS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

PREFIX = "nqn.2026-11.invalid.nvmeof-fleet.faults"
BASE = PREFIX + ":base"
LEGACY = PREFIX + ":legacy"
UUID_NQN = "nqn.2014-08.org.nvmexpress:uuid:"
DATA = ["/dev/disk/by-id/virtio-lab-data%d" % index for index in range(3)]
DISKS = ["/dev/vd%s" % letter for letter in "bcd"]  # what the by-id links of the data disks point at
TARGET_ADDRESSES = ("10.90.1.11", "10.90.2.11")
# molecule/faults/group_vars/nvme_targets.yml
DHCHAP_KEY = "DHHC-1:00:iTlfySqgniaFiIbtt/XH8dOFu+OZTJMuX24T+jRTfC1Moo8F:"
DHCHAP_CTRL_KEY = "DHHC-1:00:PRmG3dLxDzJDA2neAs0SAMLQgpSXmjGAoO1uwNNfwzyHToBq:"
NVME_VERSION = "nvme version 2.3 (git 2.3)\nlibnvme version 1.3 (git 1.3)\n"  # Debian 12's nvme-cli

# The kernels of the lab image (lab/labimage.py): the lines of their /boot/config-<release> the
# collection reads or that decide what the fakes do.
KERNELS = {
    "6.1": {
        "release": "6.1.0-56-amd64",
        "config": ["CONFIG_NUMA=y", "# CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE is not set", "CONFIG_NVME_CORE=m",
                   "CONFIG_NVME_MULTIPATH=y", "CONFIG_NVME_FABRICS=m", "CONFIG_NVME_TCP=m",
                   "# CONFIG_NVME_AUTH is not set", "CONFIG_NVME_TARGET=m", "CONFIG_NVME_TARGET_TCP=m",
                   "# CONFIG_NVME_TARGET_AUTH is not set"],
        "auto_online": "offline",
    },
    "6.12": {
        "release": "6.12.95+deb12-amd64",
        "config": ["CONFIG_NUMA=y", "CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE=y", "CONFIG_NVME_AUTH=m",
                   "CONFIG_NVME_CORE=m", "CONFIG_NVME_MULTIPATH=y", "CONFIG_NVME_FABRICS=m", "CONFIG_NVME_TCP=m",
                   "CONFIG_NVME_TCP_TLS=y", "CONFIG_NVME_HOST_AUTH=y", "CONFIG_NVME_TARGET=m",
                   "CONFIG_NVME_TARGET_TCP=m", "CONFIG_NVME_TARGET_TCP_TLS=y", "CONFIG_NVME_TARGET_AUTH=y"],
        "auto_online": "online",
    },
}

# molecule/faults/inventory.yml
HOSTS = {
    "target1": {"kernel": "6.12", "storage": ("10.90.1.11", "10.90.2.11")},
    "initiator1": {"kernel": "6.12", "storage": ("10.90.1.21", "10.90.2.21")},
    "initiator2": {"kernel": "6.1", "storage": ("10.90.1.22", "10.90.2.22")},
}

# Kernel parameters (/proc/sys) as the lab's Debian shows them, with their modes.
PROC_SYS = {
    "net/core/default_qdisc": ("fq_codel", 0o644),  # systemd's 50-default.conf
    "net/core/busy_poll": ("0", 0o644),
    "net/core/busy_read": ("0", 0o644),
    "net/core/rmem_max": ("212992", 0o644),
    "net/core/wmem_max": ("212992", 0o644),
    "net/core/netdev_max_backlog": ("1000", 0o644),
    "net/ipv4/tcp_ecn": ("2", 0o644),
    "net/ipv4/tcp_mtu_probing": ("0", 0o644),
    "net/ipv4/tcp_slow_start_after_idle": ("1", 0o644),
    "net/ipv4/tcp_rmem": ("4096\t131072\t6291456", 0o644),
    "net/ipv4/tcp_wmem": ("4096\t16384\t4194304", 0o644),
    "net/ipv4/ip_forward": ("0", 0o644),
    "net/ipv4/route/flush": ("", 0o200),
    "kernel/osrelease": (None, 0o444),
}
PROC_FILES = {"/proc/sysrq-trigger": ("", 0o200), "/proc/version": ("Linux version %s\n", 0o444)}
NVME_MODULES = ("kernel/drivers/nvme/host/nvme-core.ko.xz", "kernel/drivers/nvme/host/nvme-fabrics.ko.xz",
                "kernel/drivers/nvme/host/nvme-tcp.ko.xz", "kernel/drivers/nvme/common/nvme-auth.ko.xz",
                "kernel/drivers/nvme/target/nvmet.ko.xz", "kernel/drivers/nvme/target/nvmet-tcp.ko.xz")
TOOLS = ("/usr/bin/systemctl", "/usr/sbin/ip", "/usr/bin/ping", "/usr/sbin/nvme", "/usr/sbin/tc")

# Commands that only read; anything else a failed case ran is a change.
READ_ONLY = (("ip", "-json", "address", "show"), ("ip", "-d", "-j", "link", "show"), ("ip", "-j", "addr", "show"),
             ("systemctl", "is-active"), ("nvme", "version"))


# The namespace of filter ansible.builtin.to_uuid (ansible/plugins/filter/core.py, UUID_NAMESPACE_ANSIBLE); that
# module is not imported here because ansible-core 2.16 imports the deprecated crypt module with it.
ANSIBLE_UUID_NAMESPACE = uuid.UUID("361E6D51-FAEC-444A-9079-341386DA8E2E")


def to_uuid(name):
    """``name | ansible.builtin.to_uuid``."""
    return str(uuid.uuid5(ANSIBLE_UUID_NAMESPACE, name))


def hostnqn(name):
    """The host NQN role nvmeof.fleet.initiator derives from an inventory name."""
    return UUID_NQN + to_uuid(name)


def run_main(main, args):
    """Runs a module's main() with ``args``; returns its JSON result with the exit code as ``rc``."""
    out = io.StringIO()
    code = None
    with module_args(args):
        with contextlib.redirect_stdout(out):
            try:
                main()
            except SystemExit as exit_:
                code = exit_.code
    if code is None:
        raise AssertionError("main() returned without exit_json or fail_json")
    result = json.loads(out.getvalue())
    result["rc"] = code
    return result


def snapshot(root):
    """The whole tree under ``root``: {path: entry} with every directory (mode), file (bytes, mode),
    symlink (target) and special file (type, mode, device). Equal snapshots: unchanged byte for byte."""
    tree = {}
    for directory, dirs, names in os.walk(root):
        for name in sorted(dirs + names):
            real = os.path.join(directory, name)
            info = os.lstat(real)
            key = "/" + os.path.relpath(real, root)
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISLNK(info.st_mode):
                tree[key] = ("link", os.readlink(real))
            elif stat.S_ISDIR(info.st_mode):
                tree[key] = ("dir", mode)
            elif stat.S_ISREG(info.st_mode):
                with open(real, "rb") as handle:
                    tree[key] = ("file", handle.read(), mode)
            else:
                tree[key] = ("special", stat.S_IFMT(info.st_mode), mode, info.st_rdev)
    return tree


def tree_changes(before, after):
    """Human lines naming every path that differs between two snapshots."""
    lines = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            lines.append("removed %s" % path)
        elif path not in before:
            lines.append("added %s %r" % (path, after[path][:2]))
        elif before[path] != after[path]:
            lines.append("changed %s: %r -> %r" % (path, before[path][1:], after[path][1:]))
    return lines


class LabHost:
    """One VM of the faults lab as a fake tree under ``root``, with its baseline in place."""

    def __init__(self, root, name, monkeypatch):
        spec = HOSTS[name]
        self.name = name
        self.root = str(root)
        self.kernel = spec["kernel"]
        self.release = KERNELS[self.kernel]["release"]
        self.storage = spec["storage"]
        self.commands = []
        self.configfs = None
        self.fabrics = None
        self.memory = FakeMemoryHost(self.root, release=self.release, auto_online=KERNELS[self.kernel]["auto_online"])
        self.memory.node(0, cpus="0", mem_kb=1024 * 1024)  # lab_cpus 1, lab_memory_mb 1024
        self.daxctl = FakeDaxctl(self.memory)
        self.fs = HostFS(self.root)
        self._kernel()
        self._network()
        self._proc_sys()
        self.patch(monkeypatch)
        if name == "target1":
            self._target()
        else:
            self._initiator()

    # -- the tree ------------------------------------------------------------------------------
    def file(self, path, text, mode=0o644):
        self.memory.file(path, text, mode=mode)

    def _kernel(self):
        release = self.release
        self.file("/boot/config-%s" % release, "".join(line + "\n" for line in KERNELS[self.kernel]["config"]))
        self.file("/lib/modules/%s/modules.builtin" % release, "kernel/fs/ext4/ext4.ko\n")
        self.file("/lib/modules/%s/modules.dep" % release, "".join("%s:\n" % path for path in NVME_MODULES))
        for tool in TOOLS:
            self.file(tool, "", mode=0o755)
        self._null_device()

    def _null_device(self):
        """/dev/null: a character device where this process may make one, else a FIFO (neither a block
        device nor a regular file either, which is what the cases that use it are about)."""
        self.memory.dir("/dev")
        try:
            os.mknod(self.fs.path("/dev/null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except (OSError, AttributeError):
            os.mkfifo(self.fs.path("/dev/null"), 0o666)

    def _network(self):
        links = [("lo", None, 65536), ("eth0", "10.0.2.15", 1500), ("eth1", self.storage[0], 1500),
                 ("eth2", self.storage[1], 1500)]
        self.links = []
        for index, (ifname, address, mtu) in enumerate(links):
            self.memory.attrs("/sys/devices/virtual/net/%s" % ifname if ifname == "lo"
                              else "/sys/devices/pci0000:00/0000:00:0%d.0/virtio%d/net/%s" % (index + 2, index, ifname),
                              {"mtu": mtu, "operstate": "unknown" if ifname == "lo" else "up"})
            self.memory.link("/sys/class/net/%s" % ifname, "/sys/devices/virtual/net/%s" % ifname if ifname == "lo"
                             else "/sys/devices/pci0000:00/0000:00:0%d.0/virtio%d/net/%s" % (index + 2, index, ifname))
            info = [{"family": "inet", "local": "127.0.0.1" if ifname == "lo" else address,
                     "prefixlen": 8 if ifname == "lo" else 24, "scope": "host" if ifname == "lo" else "global"}]
            if ifname == "lo":
                info.append({"family": "inet6", "local": "::1", "prefixlen": 128, "scope": "host"})
            else:
                info.append({"family": "inet6", "local": "fe80::5054:ff:fe00:%x" % (index + 1), "prefixlen": 64,
                             "scope": "link"})
            self.links.append({"ifindex": index + 1, "ifname": ifname, "mtu": mtu,
                               "min_mtu": 0 if ifname == "lo" else 68, "max_mtu": 0 if ifname == "lo" else 65535,
                               "operstate": "UNKNOWN" if ifname == "lo" else "UP", "addr_info": info})
        with open(os.path.join(ROOT, "lab", "guest", "etc", "network", "interfaces")) as handle:
            self.file("/etc/network/interfaces", handle.read())
        # what lab/guest/usr/local/sbin/nvmeof-lab-init writes at the first boot
        self.file("/etc/network/interfaces.d/nvmeof-lab-storage", "".join(
            "auto eth%d\niface eth%d inet static\n    address %s/24\n\n" % (number, number, address)
            for number, address in enumerate(self.storage, 1)))

    def _proc_sys(self):
        for key, (value, mode) in PROC_SYS.items():
            text = (self.release if value is None else value) + ("\n" if value != "" else "")
            self.file("/proc/sys/" + key, text, mode=mode)
        for path, (text, mode) in PROC_FILES.items():
            self.file(path, text.replace("%s", self.release), mode=mode)
        self.file("/proc/net/snmp", "Tcp: RtoAlgorithm OutSegs RetransSegs\nTcp: 1 18734 3\n")
        self.file("/proc/net/netstat", "TcpExt: TCPLostRetransmit TCPTimeouts\nTcpExt: 0 2\n")

    # -- commands --------------------------------------------------------------------------------
    def run_command(self, args, check_rc=False, data=None, environ_update=None, **kwargs):
        args = [str(arg) for arg in args]
        self.commands.append(args)
        base = os.path.basename(args[0])
        if base in ("daxctl", "udevadm"):
            return self.daxctl(args, check_rc=check_rc, data=data, environ_update=environ_update)
        words = [base] + args[1:]
        if words == ["ip", "-json", "address", "show"] or words == ["ip", "-j", "addr", "show"]:
            return 0, json.dumps([dict((key, link[key]) for key in ("ifindex", "ifname", "mtu", "addr_info"))
                                  for link in self.links]), ""
        if words == ["ip", "-d", "-j", "link", "show"]:
            return 0, json.dumps([dict((key, value) for key, value in link.items() if key != "addr_info")
                                  for link in self.links]), ""
        if words[:2] == ["systemctl", "is-active"]:
            return 3, "inactive\n", ""  # the lab runs ifupdown: neither NetworkManager nor systemd-networkd
        if words == ["nvme", "version"]:
            return 0, NVME_VERSION, ""
        # Anything else (ip link set, tc, nmcli, ...) is taken as done: it is recorded, and changes() names it.
        return 0, "", ""

    def changes(self):
        """Every command and fabrics call that would change the host."""
        found = [" ".join(args) for args in self.commands
                 if not any(tuple([os.path.basename(args[0])] + args[1:len(words)]) == words for words in READ_ONLY)]
        if self.fabrics is not None:
            found += [" ".join(str(part) for part in call) for call in self.fabrics.calls]
        return found

    def forget_commands(self):
        self.commands = []
        self.daxctl.calls = []
        if self.fabrics is not None:
            self.fabrics.calls = []

    def patch(self, monkeypatch):
        """Points every module at this host: its HostFS, its commands, its fabrics."""
        monkeypatch.setattr(basic.AnsibleModule, "run_command",
                            lambda module, args, **kwargs: self.run_command(args, **kwargs))
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                            lambda module, name, required=False, opt_dirs=None: self.get_bin_path(module, name, required))
        monkeypatch.setattr(nvmet_subsystem, "HostFS", lambda: self.configfs or HostFS(self.root))
        monkeypatch.setattr(nvmet_target, "HostFS", lambda: self.configfs or HostFS(self.root))
        monkeypatch.setattr(host_state, "HostFS", lambda: self.configfs or HostFS(self.root))
        monkeypatch.setattr(nvme_info, "HostFS", lambda: self.configfs or HostFS(self.root))
        monkeypatch.setattr(nvme_connect, "HostFS", lambda: HostFS(self.root))
        monkeypatch.setattr(nvme_connect, "KernelFabrics", lambda fs: self.fabrics)
        monkeypatch.setattr(nvme_multipath, "HostFS", lambda: HostFS(self.root))
        monkeypatch.setattr(sysctl_tuning, "HostFS", lambda: ProcSysFS(self.root))
        monkeypatch.setattr(cxl_tiering, "HostFS", lambda: self.memory.fs)
        monkeypatch.setattr(interface_mtu, "HostFS", lambda: HostFS(self.root))
        monkeypatch.setattr(fabric_preflight, "HostFS", lambda: HostFS(self.root))
        monkeypatch.setattr(host_files, "HostFS", lambda: HostFS(self.root))
        # host_state checks each module through the HostFS that module gets
        checked = {"cxl_tiering": cxl_tiering, "interface_mtu": interface_mtu, "nvme_multipath": nvme_multipath,
                   "sysctl_tuning": sysctl_tuning}
        monkeypatch.setattr(host_state, "module_fs", lambda name: checked[name].HostFS())

    def get_bin_path(self, module, name, required=False):
        for directory in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
            path = "%s/%s" % (directory, name)
            if os.path.isfile(self.fs.path(path)):
                return path
        if required:
            module.fail_json(msg="Failed to find required executable %s" % name)
        return None

    def setup(self, main, args):
        """One call of the baseline (what converge rolled); it must succeed."""
        result = run_main(main, args)
        if result["rc"] != 0:
            raise AssertionError("the baseline of %s failed: %s" % (self.name, result.get("msg")))
        return result

    # -- target1 ---------------------------------------------------------------------------------
    def _target(self):
        local = [link["addr_info"][0]["local"] for link in self.links] + ["::1"]
        self.configfs = FakeNvmetConfigfs(self.root, local_addresses=local, kernel="6.12", block_devices=DISKS,
                                          auth=True, seed=9)
        for link, disk in zip(DATA, DISKS):
            self.memory.link(link, disk)
        self.memory.file("/etc/hostname", "target1\n")
        for module in ("nvmet", "nvmet_tcp"):
            self.memory.dir("/sys/module/%s" % module)
        # role nvmeof.fleet.target, one nvmet_subsystem call per subsystem (molecule/faults/group_vars)
        listeners = [{"address": address} for address in TARGET_ADDRESSES]
        self.setup(nvmet_subsystem.main, {
            "nqn": BASE, "namespaces": [{"nsid": 1, "device_path": DATA[0]}], "listeners": listeners,
            "hosts": [{"nqn": hostnqn("initiator1"), "dhchap_key": DHCHAP_KEY, "dhchap_ctrl_key": DHCHAP_CTRL_KEY}]})
        self.setup(nvmet_subsystem.main, {
            "nqn": LEGACY, "namespaces": [{"nsid": 1, "device_path": DATA[1]}], "listeners": listeners,
            "hosts": [{"nqn": hostnqn("initiator2")}]})
        # the initiators connected: the kernel's hidden state, and their TCP connections
        lines = ["  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"]
        for port_id, address in enumerate(TARGET_ADDRESSES, 1):
            for nqn, initiator, source in ((BASE, "initiator1", 21), (LEGACY, "initiator2", 22)):
                self.configfs.connect(nqn, hostnqn(initiator), port_id)
                for queue in range(2):  # the admin queue and one I/O queue (one CPU)
                    lines.append("%4d: %s:%04X %s:%04X 01 00000000:00000000 00:00000000 00000000     0        0 %d"
                                 % (len(lines) - 1, _proc_ipv4(address), 4420,
                                    _proc_ipv4(address.rsplit(".", 1)[0] + ".%d" % source), 40000 + len(lines),
                                    30000 + len(lines)))
        self.file("/proc/net/tcp", "\n".join(lines) + "\n")
        self.forget_commands()

    # -- the initiators ----------------------------------------------------------------------------
    def _initiator(self):
        self.hostnqn = hostnqn(self.name)
        self.file("/etc/nvme/hostnqn", self.hostnqn + "\n")
        self.file("/etc/nvme/hostid", to_uuid(self.name) + "\n")
        for module in ("nvme_core", "nvme_fabrics", "nvme_tcp"):
            self.memory.dir("/sys/module/%s" % module)
        self.file("/sys/module/nvme_core/initstate", "live\n")
        self.memory.nvme_core(multipath="Y", iopolicy="numa")
        self.memory.fabrics_class()
        self.fabrics = FakeFabrics(self.memory, cpus=1, targets=dict(
            ((address, 4420), {BASE: {hostnqn("initiator1")}, LEGACY: {hostnqn("initiator2")}})
            for address in TARGET_ADDRESSES))
        # role nvmeof.fleet.initiator: multipath first, then one nvme_connect call per connection
        # (molecule/faults/group_vars/nvme_initiators.yml, host_vars/initiator1.yml)
        self.setup(nvme_multipath.main, {"multipath": True, "iopolicy": "round-robin", "subsystems": []})
        connection = {"paths": [{"address": address} for address in TARGET_ADDRESSES],
                      "ctrl_loss_tmo": -1, "reconnect_delay": 5}
        if self.name == "initiator1":
            connection.update(nqn=BASE, dhchap_secret=DHCHAP_KEY, dhchap_ctrl_secret=DHCHAP_CTRL_KEY, persist=False)
        else:
            connection.update(nqn=LEGACY, persist=True)
        self.setup(nvme_connect.main, connection)
        # the subsystem the kernel made for the two controllers, with nvme_core's default policy
        controllers = ["/sys/devices/virtual/nvme-fabrics/ctl/%s" % name for name in self.fabrics.controller_names()]
        for index, directory in enumerate(controllers):
            self.memory.path_device(directory, "nvme0c%dn1" % index, ana_grpid=1, ana_state="optimized")
            if self.kernel == "6.12":
                self.memory.attrs(directory, {"passthru_err_log_enabled": "off"})
            else:  # no CONFIG_NVME_AUTH: the controllers have no DH-HMAC-CHAP attributes
                for attribute in ("dhchap_secret", "dhchap_ctrl_secret"):
                    os.unlink(self.memory.real("%s/%s" % (directory, attribute)))
        self.memory.subsystem(0, controllers, nqn=BASE if self.name == "initiator1" else LEGACY,
                              iopolicy="round-robin", heads=[("nvme0n1", 1)])
        self.forget_commands()


def _proc_ipv4(address):
    """An IPv4 address as /proc/net/tcp prints it (the 32-bit word in host byte order, little-endian)."""
    return "".join("%02X" % int(part) for part in reversed(address.split(".")))


@pytest.fixture
def lab_host(tmp_path, monkeypatch):
    """Builds the fake of one lab host: ``lab_host(name)``."""
    def build(name):
        return LabHost(tmp_path / name, name, monkeypatch)
    return build
