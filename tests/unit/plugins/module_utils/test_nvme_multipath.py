# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nvme_multipath over a fake /sys, /proc, /etc and /boot, with fake lsinitramfs, update-initramfs and udevadm."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.multipath.nvme_multipath import (
    MODPROBE_FILE, UDEV_RULE, NvmeMultipathError, apply, policy_problem, render_udev, wanted_policy)

from test_nvme_host import DISCOVERY_NQN, SUBNQN, FakeSys, two_path_multipath  # same directory, on sys.path

R61 = "6.1.0-28-amd64"
R612 = "6.12.9-amd64"
CORE = "kernel/drivers/nvme/host/nvme-core.ko"
OTHER_NQN = "nqn.2024-01.io.example:db:orders"
DEFAULT = "/sys/module/nvme_core/parameters/iopolicy"
SUBSYS = "/sys/class/nvme-subsystem/nvme-subsys%d/iopolicy"
LSINITRAMFS = "/usr/bin/lsinitramfs"
UPDATE_INITRAMFS = "/usr/sbin/update-initramfs"
UDEVADM = "/usr/bin/udevadm"
IN_INITRAMFS = ["usr/lib/modules/%s/kernel/drivers/nvme/host/nvme-core.ko.xz",
                "usr/lib/modules/%s/kernel/drivers/nvme/host/nvme-tcp.ko.xz"]


class KernelSys(FakeSys):
    """FakeSys whose iopolicy attributes refuse what the kernel lacks (EINVAL), and whose files can fail."""

    def __init__(self, root):
        FakeSys.__init__(self, root)
        self.policies = ("numa", "round-robin", "queue-depth")
        self.fail_files = set()
        fs = self.fs
        write, write_file_atomic = fs.write, fs.write_file_atomic

        def kernel_write(path, value, secret=False):
            if path.endswith("/iopolicy") and value not in self.policies:
                raise HostFSError("writing", path, OSError(errno.EINVAL, os.strerror(errno.EINVAL)), value=value)
            write(path, value + "\n" if path.endswith("/iopolicy") else value, secret)  # shown with a newline

        def failing_write_file_atomic(path, content, mode=0o644):
            if path in self.fail_files:
                raise HostFSError("writing", path, OSError(errno.EROFS, os.strerror(errno.EROFS)))
            write_file_atomic(path, content, mode)

        fs.write, fs.write_file_atomic = kernel_write, failing_write_file_atomic


class FakeCommands:
    """run_command for lsinitramfs, update-initramfs and udevadm; records the calls."""

    def __init__(self, release):
        self.listing = [line % release for line in IN_INITRAMFS]
        self.fail = set()
        self.calls = []

    def __call__(self, args, check_rc=False, data=None, environ_update=None):
        assert environ_update["LANG"] == "C"
        self.calls.append(list(args))
        if args[0] in self.fail:
            return 1, "", "%s: failed" % args[0]
        if args[0] == LSINITRAMFS:
            return 0, "".join(line + "\n" for line in ["usr", "usr/lib/modules"] + self.listing), ""
        return 0, "", ""

    def names(self):
        return [call[0].rsplit("/", 1)[-1] for call in self.calls]


def make_host(tmp_path, release=R61, multipath="Y", iopolicy="numa", builtin=False, initramfs=True,
              tools=(LSINITRAMFS, UPDATE_INITRAMFS, UDEVADM)):
    """An initiator: nvme_core, one subsystem with two TCP paths (ANA), one more with one, a discovery one."""
    sysfs = KernelSys(tmp_path)
    sysfs.kernel(release, builtin=[CORE] if builtin else [], dep=[] if builtin else [CORE + ":"],
                 loaded=["nvme_core"])
    if not builtin:
        sysfs.file("/sys/module/nvme_core/initstate", "live\n")
    two_path_multipath(sysfs, kernel="6.12" if release == R612 else "6.1", iopolicy=iopolicy)
    sysfs.nvme_core(multipath=multipath, iopolicy=iopolicy)
    third = sysfs.controller(2, subsysnqn=OTHER_NQN, address="traddr=192.0.2.11,trsvcid=4420")
    sysfs.path_device(third, "nvme1c2n1", ana_grpid=2, ana_state="inaccessible")
    sysfs.subsystem(1, [third], nqn=OTHER_NQN, iopolicy=iopolicy, heads=[("nvme1n1", 1)])
    discovery = sysfs.controller(3, subsysnqn=DISCOVERY_NQN, cntrltype="discovery")
    sysfs.subsystem(2, [discovery], nqn=DISCOVERY_NQN, subsystype="discovery", iopolicy=iopolicy)
    if initramfs:
        sysfs.file("/boot/initrd.img-%s" % release, "")
    for tool in tools:
        sysfs.file(tool, "", mode=0o755)
    sysfs.dir("/etc/modprobe.d")
    return sysfs


@pytest.fixture
def host(tmp_path):
    return make_host(tmp_path)


def run(sysfs, commands=None, check_mode=False, **params):
    commands = commands or FakeCommands(sysfs.fs.read("/proc/sys/kernel/osrelease"))
    result = apply(sysfs.fs, CommandRunner(commands), params, check_mode=check_mode)
    return result, commands


def snapshot(sysfs):
    """Every file under the fake root with its content and mode, and every directory."""
    files = {}
    for directory, dirs, names in os.walk(sysfs.root):
        for name in dirs:
            files[os.path.relpath(os.path.join(directory, name), sysfs.root)] = None
        for name in names:
            real = os.path.join(directory, name)
            if os.path.islink(real) or not os.stat(real).st_mode & 0o400:
                continue
            with open(real) as handle:
                files[os.path.relpath(real, sysfs.root)] = (handle.read(), stat.S_IMODE(os.stat(real).st_mode))
    return files


def text(sysfs, path):
    return sysfs.fs.read_text(path)


def policies(sysfs):
    return [sysfs.fs.read(path) for path in (DEFAULT, SUBSYS % 0, SUBSYS % 1, SUBSYS % 2)]


MODPROBE_Y = (
    "# Managed by Ansible (nvmeof.fleet.nvme_multipath); changes made here are overwritten.\n"
    "# nvme_core reads these options when it loads (from the initramfs when it is in there):\n"
    "# a changed multipath takes effect at the next boot.\n"
    "options nvme_core multipath=Y\n")
RULE_PREFIX = 'ACTION=="add|change", SUBSYSTEM=="nvme-subsystem", ATTR{subsystype}=="nvm", '


# -- multipath -------------------------------------------------------------------------

def test_multipath_already_on_needs_no_reboot_and_a_second_run_changes_nothing(host):
    result, commands = run(host, multipath=True)
    assert result["multipath"] == {"live": True, "wanted": True, "builtin": False, "persisted": True}
    assert result["reboot_required"] is False
    assert text(host, MODPROBE_FILE) == MODPROBE_Y
    assert text(host, UDEV_RULE) is None
    assert result["actions"] == ["write %s" % MODPROBE_FILE,
                                 "run %s -u -k %s" % (UPDATE_INITRAMFS, R61)]
    before = snapshot(host)
    again, commands = run(host, multipath=True)
    assert again["changed"] is False and again["actions"] == [] and commands.calls == []
    assert again["reboot_required"] is False and again["initramfs"]["rebuilt"] is False
    assert snapshot(host) == before


def test_multipath_off_live_is_persisted_and_needs_a_reboot(tmp_path):
    sysfs = make_host(tmp_path, multipath="N")
    result, commands = run(sysfs, multipath=True)
    assert result["changed"] is True and result["reboot_required"] is True
    assert result["multipath"] == {"live": False, "wanted": True, "builtin": False, "persisted": True}
    assert text(sysfs, MODPROBE_FILE) == MODPROBE_Y
    assert stat.S_IMODE(os.stat(sysfs.fs.path(MODPROBE_FILE)).st_mode) == 0o644
    assert sysfs.fs.read("/sys/module/nvme_core/parameters/multipath") == "N"  # read-only after load
    assert commands.calls == [[LSINITRAMFS, "/boot/initrd.img-%s" % R61],
                              [UPDATE_INITRAMFS, "-u", "-k", R61]]
    assert result["initramfs"] == {"image": "/boot/initrd.img-%s" % R61, "contains_nvme_core": True,
                                   "rebuilt": True}
    again, commands = run(sysfs, multipath=True)
    assert again["changed"] is False and commands.calls == []
    assert again["reboot_required"] is True  # until the host has rebooted


def test_multipath_off_is_written_as_n(host):
    result, _commands = run(host, multipath=False)
    assert result["reboot_required"] is True
    assert text(host, MODPROBE_FILE).endswith("options nvme_core multipath=N\n")


def test_initramfs_without_nvme_core_is_not_rebuilt(tmp_path):
    sysfs = make_host(tmp_path, multipath="N")
    commands = FakeCommands(R61)
    commands.listing = ["usr/lib/modules/%s/kernel/drivers/ata/libata.ko.xz" % R61]
    result, commands = run(sysfs, commands, multipath=True)
    assert commands.names() == ["lsinitramfs"]
    assert result["initramfs"] == {"image": "/boot/initrd.img-%s" % R61, "contains_nvme_core": False,
                                   "rebuilt": False}
    assert text(sysfs, MODPROBE_FILE) == MODPROBE_Y and result["reboot_required"] is True


def test_no_initramfs_image_is_not_looked_into(tmp_path):
    sysfs = make_host(tmp_path, initramfs=False)
    result, commands = run(sysfs)
    assert commands.calls == [] and result["initramfs"]["rebuilt"] is False
    assert result["initramfs"]["image"] is None


def test_without_lsinitramfs_the_initramfs_is_left_with_a_warning(tmp_path):
    sysfs = make_host(tmp_path, tools=(UPDATE_INITRAMFS,))
    result, commands = run(sysfs)
    assert commands.calls == []
    assert result["initramfs"] == {"image": "/boot/initrd.img-%s" % R61, "contains_nvme_core": None,
                                   "rebuilt": False}
    assert len(result["warnings"]) == 1 and "lsinitramfs" in result["warnings"][0]


def test_nvme_core_in_the_initramfs_without_update_initramfs_is_refused(tmp_path):
    sysfs = make_host(tmp_path, multipath="N", tools=(LSINITRAMFS,))
    before = snapshot(sysfs)
    with pytest.raises(NvmeMultipathError) as info:
        run(sysfs, iopolicy="round-robin")
    assert "update-initramfs is not installed" in str(info.value)
    assert str(info.value).endswith("Nothing was changed.")
    assert snapshot(sysfs) == before


def test_check_mode_writes_nothing_and_still_reports(tmp_path):
    sysfs = make_host(tmp_path, multipath="N")
    before = snapshot(sysfs)
    result, commands = run(sysfs, check_mode=True, multipath=True, iopolicy="round-robin")
    assert snapshot(sysfs) == before
    assert commands.names() == ["lsinitramfs"]  # reading only
    assert result["changed"] is True and result["reboot_required"] is True
    assert result["initramfs"]["rebuilt"] is True  # would be
    assert result["default_iopolicy"] == {"before": "numa", "after": "round-robin"}
    assert [s["iopolicy"] for s in result["subsystems"]] == ["round-robin", "round-robin"]
    assert result["actions"] == [
        "write 'round-robin' to %s (was numa)" % DEFAULT,
        "write 'round-robin' to %s (was numa)" % (SUBSYS % 0),
        "write 'round-robin' to %s (was numa)" % (SUBSYS % 1),
        "write %s" % MODPROBE_FILE,
        "write %s" % UDEV_RULE,
        "run %s control --reload" % UDEVADM,
        "run %s -u -k %s" % (UPDATE_INITRAMFS, R61),
    ]


def test_nvme_core_not_loaded(tmp_path):
    sysfs = KernelSys(tmp_path)
    sysfs.kernel(R61, builtin=[], dep=[CORE + ":"])
    result, commands = run(sysfs, iopolicy="round-robin")
    assert result["multipath"]["live"] is None and result["reboot_required"] is False
    assert result["default_iopolicy"] == {"before": None, "after": None}
    assert result["subsystems"] == [] and commands.calls == []
    assert "options nvme_core iopolicy=round-robin\n" in text(sysfs, MODPROBE_FILE)


def test_kernel_without_native_multipath_is_refused(tmp_path):
    sysfs = KernelSys(tmp_path)
    sysfs.kernel(R61, builtin=[], dep=[CORE + ":"], loaded=["nvme_core"])
    sysfs.attrs("/sys/module/nvme_core/parameters", {"admin_timeout": "60"})
    with pytest.raises(NvmeMultipathError) as info:
        run(sysfs)
    assert "CONFIG_NVME_MULTIPATH is off" in str(info.value)
    assert run(sysfs, multipath=False)[0]["changed"] is True


# -- built-in nvme_core -------------------------------------------------------------------

def test_builtin_nvme_core_that_differs_is_refused(tmp_path):
    sysfs = make_host(tmp_path, multipath="N", builtin=True)
    before = snapshot(sysfs)
    with pytest.raises(NvmeMultipathError) as info:
        run(sysfs, multipath=True)
    assert str(info.value) == (
        "multipath true: nvme_core is built into kernel %s, so modprobe.d does not apply to it; set "
        "nvme_core.multipath=Y on the kernel command line and reboot. Nothing was changed." % R61)
    assert snapshot(sysfs) == before


def test_builtin_nvme_core_that_agrees_writes_no_initramfs(tmp_path):
    sysfs = make_host(tmp_path, builtin=True)
    result, commands = run(sysfs, iopolicy="round-robin")
    assert result["multipath"] == {"live": True, "wanted": True, "builtin": True, "persisted": False}
    assert commands.names() == ["udevadm"]
    assert result["initramfs"] == {"image": None, "contains_nvme_core": None, "rebuilt": False}
    assert len(result["warnings"]) == 1 and "kernel command line" in result["warnings"][0]
    assert policies(sysfs)[:3] == ["round-robin"] * 3


def test_builtin_without_module_index_is_told_by_initstate(tmp_path):
    sysfs = make_host(tmp_path, multipath="N")
    os.unlink(sysfs.real("/lib/modules/%s/modules.dep" % R61))
    os.unlink(sysfs.real("/lib/modules/%s/modules.builtin" % R61))
    assert run(sysfs, check_mode=True)[0]["multipath"]["builtin"] is False
    os.unlink(sysfs.real("/sys/module/nvme_core/initstate"))
    with pytest.raises(NvmeMultipathError) as info:
        run(sysfs, check_mode=True)
    assert "built into kernel" in str(info.value)


# -- I/O policies ---------------------------------------------------------------------------

def test_queue_depth_on_6_1_is_refused_and_nothing_changes(host):
    before = snapshot(host)
    with pytest.raises(NvmeMultipathError) as info:
        run(host, iopolicy="queue-depth")
    assert str(info.value) == ("iopolicy queue-depth needs Linux 6.11 or later; this host runs %s; "
                               "use round-robin. Nothing was changed." % R61)
    assert snapshot(host) == before


def test_every_problem_is_named_at_once(host):
    with pytest.raises(NvmeMultipathError) as info:
        run(host, iopolicy="queue-depth", subsystems=[
            {"nqn": "nqn.2024-01.io.example:*", "iopolicy": "queue-depth"},
            {"nqn": 'nqn.bad"quote', "iopolicy": "fastest"},
            {"nqn": "nqn.2024-01.io.example:*", "iopolicy": "numa"},
            {"nqn": "", "iopolicy": None},
            "nqn.x"])
    message = str(info.value)
    for said in ("iopolicy queue-depth needs Linux 6.11",
                 "subsystems[0].iopolicy queue-depth needs Linux 6.11",
                 "subsystems[1].nqn 'nqn.bad\"quote': at most 223 bytes",
                 "subsystems[1].iopolicy 'fastest' is not an I/O policy",
                 "subsystems[2].nqn 'nqn.2024-01.io.example:*' is given twice",
                 "subsystems[3].nqn is required", "subsystems[3].iopolicy is required",
                 "subsystems[4] must be a dictionary"):
        assert said in message, said


@pytest.mark.parametrize("policy, release, problem", [
    ("queue-depth", "6.11.0", None),
    ("queue-depth", "6.10.14-custom", "x queue-depth needs Linux 6.11 or later; this host runs 6.10.14-custom; "
                                      "use round-robin"),
    ("round-robin", "4.19.0-27-amd64", "x round-robin needs Linux 5.1 or later; this host runs 4.19.0-27-amd64; "
                                       "use numa"),
    ("queue-depth", None, None),  # unknown release: left to the kernel
    ("queue-depth", "custom", None),
])
def test_policies_follow_the_kernel_release(policy, release, problem):
    assert policy_problem("x", policy, release) == problem


def test_queue_depth_on_6_12_goes_to_the_default_and_every_subsystem(tmp_path):
    sysfs = make_host(tmp_path, release=R612)
    result, commands = run(sysfs, iopolicy="queue-depth")
    assert policies(sysfs) == ["queue-depth", "queue-depth", "queue-depth", "numa"]  # not the discovery one
    assert result["default_iopolicy"] == {"before": "numa", "after": "queue-depth"}
    assert [(s["name"], s["iopolicy_before"], s["iopolicy"]) for s in result["subsystems"]] == [
        ("nvme-subsys0", "numa", "queue-depth"), ("nvme-subsys1", "numa", "queue-depth")]
    assert text(sysfs, MODPROBE_FILE) == MODPROBE_Y + "options nvme_core iopolicy=queue-depth\n"
    assert text(sysfs, UDEV_RULE).splitlines()[3:] == [RULE_PREFIX + 'ATTR{iopolicy}="queue-depth"']
    assert commands.names() == ["lsinitramfs", "udevadm", "update-initramfs"]  # looked into while planning
    assert commands.calls[1] == [UDEVADM, "control", "--reload"]


def test_subsystem_patterns_in_the_rule_and_live(tmp_path):
    sysfs = make_host(tmp_path, release=R612)
    result, _commands = run(sysfs, iopolicy="round-robin", subsystems=[
        {"nqn": "nqn.2024-01.io.example:*", "iopolicy": "numa"},
        {"nqn": OTHER_NQN, "iopolicy": "queue-depth"}])
    assert text(sysfs, UDEV_RULE) == (
        "# Managed by Ansible (nvmeof.fleet.nvme_multipath); changes made here are overwritten.\n"
        "# The I/O policy of NVMe subsystems as they appear. udev applies the lines in order and the\n"
        "# last assignment wins: the line for every subsystem first, then one per NQN pattern.\n"
        + RULE_PREFIX + 'ATTR{iopolicy}="round-robin"\n'
        + RULE_PREFIX + 'ATTR{subsysnqn}=="nqn.2024-01.io.example:*", ATTR{iopolicy}="numa"\n'
        + RULE_PREFIX + 'ATTR{subsysnqn}=="%s", ATTR{iopolicy}="queue-depth"\n' % OTHER_NQN)
    # the last matching entry wins, as in udev: subsys0 matches the glob only, subsys1 both
    assert policies(sysfs) == ["round-robin", "numa", "queue-depth", "numa"]
    assert [s["iopolicy"] for s in result["subsystems"]] == ["numa", "queue-depth"]
    assert "write 'numa' to" not in " ".join(result["actions"])  # subsys0 was numa already


def test_subsystems_only_leave_the_others_and_the_default_alone(host):
    result, _commands = run(host, subsystems=[{"nqn": OTHER_NQN, "iopolicy": "round-robin"}])
    assert policies(host) == ["numa", "numa", "round-robin", "numa"]
    assert result["default_iopolicy"] == {"before": "numa", "after": "numa"}
    assert text(host, UDEV_RULE).splitlines()[3:] == [
        RULE_PREFIX + 'ATTR{subsysnqn}=="%s", ATTR{iopolicy}="round-robin"' % OTHER_NQN]
    assert "iopolicy" not in text(host, MODPROBE_FILE)


def test_rule_rendering_and_matching():
    assert render_udev(None, []) is None
    assert render_udev("numa", []).count("ATTR{iopolicy}") == 1
    entries = [("nqn.2024-01.io.example:*", "numa"), ("nqn.2024-01.io.example:db:?rders", "queue-depth")]
    assert wanted_policy(OTHER_NQN, "round-robin", entries) == "queue-depth"
    assert wanted_policy(SUBNQN, "round-robin", entries) == "numa"
    assert wanted_policy("nqn.2019-08.org.qemu:deadbeef", "round-robin", entries) == "round-robin"
    assert wanted_policy("nqn.2019-08.org.qemu:deadbeef", None, entries) is None
    assert wanted_policy(OTHER_NQN.upper(), None, entries) is None  # udev compares case-sensitively


def test_second_run_with_policies_changes_nothing(tmp_path):
    sysfs = make_host(tmp_path, release=R612)
    params = {"iopolicy": "round-robin", "subsystems": [{"nqn": OTHER_NQN, "iopolicy": "queue-depth"}]}
    assert run(sysfs, **params)[0]["changed"] is True
    before = snapshot(sysfs)
    result, commands = run(sysfs, **params)
    assert result["changed"] is False and result["actions"] == [] and commands.calls == []
    assert snapshot(sysfs) == before


def test_diff_shows_live_policies_and_both_files(host):
    result, _commands = run(host, iopolicy="round-robin")
    live, modprobe, rule = result["diff"]
    assert live["before"] == {DEFAULT: "numa", SUBSYS % 0: "numa", SUBSYS % 1: "numa"}
    assert live["after"] == {DEFAULT: "round-robin", SUBSYS % 0: "round-robin", SUBSYS % 1: "round-robin"}
    assert (modprobe["before_header"], modprobe["before"]) == (MODPROBE_FILE, "")
    assert modprobe["after"] == text(host, MODPROBE_FILE)
    assert (rule["after_header"], rule["after"]) == (UDEV_RULE, text(host, UDEV_RULE))
    assert result["files"] == [{"path": MODPROBE_FILE, "present": True, "changed": True},
                               {"path": UDEV_RULE, "present": True, "changed": True}]


def test_result_lists_every_multipath_subsystem_with_paths_and_ana_states(host):
    result, _commands = run(host, check_mode=True)
    first, second = result["subsystems"]
    assert (first["name"], first["nqn"], second["nqn"]) == ("nvme-subsys0", SUBNQN, OTHER_NQN)
    assert first["paths"] == [
        {"controller": "nvme0", "transport": "tcp", "address": "traddr=192.0.2.10,trsvcid=4420,src_addr=192.0.2.21",
         "state": "live", "device": "nvme0c0n1", "nsid": 1, "ana_grpid": 1, "ana_state": "optimized"},
        {"controller": "nvme1", "transport": "tcp",
         "address": "traddr=198.51.100.10,trsvcid=4420,host_iface=ens4,src_addr=198.51.100.21",
         "state": "live", "device": "nvme0c1n1", "nsid": 1, "ana_grpid": 1, "ana_state": "non-optimized"},
    ]
    assert [(p["controller"], p["ana_state"]) for p in second["paths"]] == [("nvme2", "inaccessible")]


def test_controller_without_namespaces_is_still_a_path(tmp_path):
    sysfs = KernelSys(tmp_path)
    sysfs.kernel(R61, builtin=[], dep=[CORE + ":"], loaded=["nvme_core"])
    sysfs.nvme_core()
    controller = sysfs.controller(0, state="connecting")
    sysfs.subsystem(0, [controller])
    (subsystem,) = run(sysfs, check_mode=True)[0]["subsystems"]
    assert [(p["controller"], p["state"], p["device"], p["ana_state"]) for p in subsystem["paths"]] == [
        ("nvme0", "connecting", None, None)]


# -- state absent -------------------------------------------------------------------------

def test_absent_removes_the_files_rebuilds_and_leaves_live_values(tmp_path):
    sysfs = make_host(tmp_path, release=R612)
    run(sysfs, iopolicy="queue-depth")
    result, commands = run(sysfs, state="absent")
    assert text(sysfs, MODPROBE_FILE) is None and text(sysfs, UDEV_RULE) is None
    assert policies(sysfs) == ["queue-depth", "queue-depth", "queue-depth", "numa"]
    assert result["reboot_required"] is False
    assert result["multipath"] == {"live": True, "wanted": None, "builtin": False, "persisted": False}
    assert result["actions"] == ["remove %s" % MODPROBE_FILE, "remove %s" % UDEV_RULE,
                                 "run %s control --reload" % UDEVADM, "run %s -u -k %s" % (UPDATE_INITRAMFS, R612)]
    assert commands.names() == ["lsinitramfs", "udevadm", "update-initramfs"]
    assert result["files"] == [{"path": MODPROBE_FILE, "present": False, "changed": True},
                               {"path": UDEV_RULE, "present": False, "changed": True}]
    again, commands = run(sysfs, state="absent", iopolicy="queue-depth")  # other options are ignored
    assert again["changed"] is False and commands.calls == []


# -- undo ------------------------------------------------------------------------------------

def test_a_file_that_cannot_be_written_takes_everything_back(host):
    os.rmdir(host.real("/etc/modprobe.d"))  # created by the call, removed again
    host.fail_files.add(UDEV_RULE)
    before = snapshot(host)
    with pytest.raises(NvmeMultipathError) as info:
        run(host, iopolicy="round-robin")
    message = str(info.value)
    assert message.startswith("writing %s failed: writing %s failed: Read-only file system (EROFS)." % (
        UDEV_RULE, UDEV_RULE))
    assert "Taken back, newest first: /etc/udev/rules.d removed; /etc/udev removed; %s removed; /etc/modprobe.d removed; " % (
        MODPROBE_FILE) in message
    assert snapshot(host) == before


def test_the_kernel_refusing_a_policy_takes_back_the_earlier_writes(tmp_path):
    sysfs = make_host(tmp_path)
    sysfs.fs.write("/proc/sys/kernel/osrelease", "custom")  # no release to check: the kernel decides
    sysfs.policies = ("numa", "round-robin")  # as 6.1 does
    before = snapshot(sysfs)
    with pytest.raises(NvmeMultipathError) as info:
        run(sysfs, subsystems=[{"nqn": OTHER_NQN, "iopolicy": "queue-depth"}], iopolicy="round-robin")
    message = str(info.value)
    assert message.startswith("the kernel refused I/O policy queue-depth in %s: writing 'queue-depth' to %s "
                              "failed: Invalid argument (EINVAL)." % (SUBSYS % 1, SUBSYS % 1))
    assert "%s set back to numa" % DEFAULT in message
    assert snapshot(sysfs) == before


def test_a_failed_initramfs_rebuild_takes_back_files_live_values_and_reloads_udev(tmp_path):
    sysfs = make_host(tmp_path, multipath="N")
    sysfs.file(MODPROBE_FILE, "options nvme_core multipath=N\n", mode=0o600)
    before = snapshot(sysfs)
    commands = FakeCommands(R61)
    commands.fail.add(UPDATE_INITRAMFS)
    with pytest.raises(NvmeMultipathError) as info:
        run(sysfs, commands, iopolicy="round-robin")
    assert snapshot(sysfs) == before  # the old file is back with its mode
    assert commands.names() == ["lsinitramfs", "udevadm", "update-initramfs", "udevadm"]
    message = str(info.value)
    assert "'%s -u -k %s' failed" % (UPDATE_INITRAMFS, R61) in message
    assert "%s put back" % MODPROBE_FILE in message and message.endswith("udev rules reloaded.")


def test_what_cannot_be_taken_back_is_named(host):
    host.fail_files.add(UDEV_RULE)
    write = host.fs.write

    def stuck(path, value, secret=False):
        if path == DEFAULT and value == "numa":
            raise HostFSError("writing", path, OSError(errno.EBUSY, os.strerror(errno.EBUSY)), value=value)
        write(path, value, secret)

    host.fs.write = stuck
    with pytest.raises(NvmeMultipathError) as info:
        run(host, iopolicy="round-robin")
    assert "Left as it is now: %s set back to numa (writing 'numa' to %s failed" % (DEFAULT, DEFAULT) in str(info.value)
