# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cxl_tiering over fake memory trees, with a fake daxctl that changes the tree as the kernel would."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.memory.cxl_tiering import CxlTieringError, apply
from ansible_collections.nvmeof.fleet.plugins.module_utils.memory.cxl_tiering_files import (
    DAXCTL_CONF, SYSCTL_FILE, TMPFILES_FILE, UDEV_RULE, parse_daxctl_sections, parse_drop_in, render_daxctl)
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError

from fake_memory import (  # same directory, on sys.path
    DAXCTL, NVDIMM_UUID, R612, UDEVADM, UPSTREAM_RULE, FakeDaxctl, FakeMemoryHost)

DEMOTION = "/sys/kernel/mm/numa/demotion_enabled"
NUMA_BALANCING = "/proc/sys/kernel/numa_balancing"
PROMOTE = "/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps"
OTHER_UUID = "0f3e2d1c-5b4a-4987-8a6b-5c4d3e2f1a00"
RELOAD = [UDEVADM, "control", "--reload"]
TIERING = {"demotion": True, "numa_balancing": "normal_and_tiering", "promote_rate_limit_mbps": 256}

MANAGED = "# Managed by Ansible (nvmeof.fleet.cxl_tiering); changes made here are overwritten.\n"
DAXCTL_TEXT = MANAGED + (
    "# daxctl reconfigure-device --check-config <device> reads these sections when a dax device\n"
    "# appears (udev, at boot): the NVDIMM dax device with this uuid is onlined as system RAM.\n"
    "\n"
    "[reconfigure-device nvmeof-fleet-%s]\n"
    "nvdimm.uuid = %s\n"
    "mode = system-ram\n"
    "online = true\n"
    "movable = %%s\n" % (NVDIMM_UUID, NVDIMM_UUID))
UDEV_TEXT = MANAGED + (
    "# Takes the place of /lib/udev/rules.d/90-daxctl-device.rules of Debian's daxctl, whose command\n"
    "# (daxctl -C <device>) daxctl refuses with \"Unknown option: -C\": each dax device that appears is\n"
    "# reconfigured as its section in /etc/daxctl.conf.d says.\n"
    'ACTION=="add", SUBSYSTEM=="dax", RUN+="/usr/bin/daxctl reconfigure-device --check-config $kernel"\n')
SYSCTL_HEADER = (
    "# Managed by Ansible (nvmeof.fleet.cxl_tiering, drop-in 90-nvmeof-fleet-tiering); changes made here are "
    "overwritten.\n"
    "# systemd-sysctl applies the files of sysctl.d at boot in lexical order of their names;\n"
    "# a later file overrides an earlier one for the same key.\n")
TMPFILES_TEXT = MANAGED + (
    "# systemd-tmpfiles writes the demotion switch at every boot (it is not a sysctl).\n"
    "w /sys/kernel/mm/numa/demotion_enabled - - - - %s\n")


@pytest.fixture
def host(tmp_path):
    """Node 0 with CPUs in memory_tier4, nothing else: no CXL, no dax device, no lower tier."""
    return FakeMemoryHost(tmp_path)


@pytest.fixture
def nvdimm(tmp_path):
    """The lab's lower tier: an NVDIMM namespace in devdax mode (dax0.0, 1 GiB) for CPU-less node 2."""
    host = FakeMemoryHost(tmp_path)
    host.nvdimm_dax()
    return host


def run(host, daxctl=None, check_mode=False, **params):
    daxctl = daxctl or FakeDaxctl(host)
    return apply(host.fs, CommandRunner(daxctl), params, check_mode=check_mode), daxctl


def refused(host, **params):
    """The message of a refusal, after checking that the host was not touched and daxctl not run."""
    before = host.snapshot()
    daxctl = FakeDaxctl(host)
    with pytest.raises(CxlTieringError) as info:
        run(host, daxctl, **params)
    assert host.snapshot() == before and daxctl.calls == []
    message = str(info.value)
    assert message.endswith(". Nothing was changed.")
    return message


def text(host, path):
    return host.fs.read_text(path)


def zones(host, name="dax0.0"):
    return sorted(set((state, zone) for _block, state, zone in host.blocks(name)))


def device(result, name="dax0.0"):
    return next(entry for entry in result["dax_devices"] if entry["name"] == name)


# -- no lower tier --------------------------------------------------------------------------------

def test_tiering_on_a_host_without_cxl_is_refused_naming_the_tiers(host):
    message = refused(host, demotion=True)
    assert message == (
        "demotion true asks for memory tiering, but this host has no lower memory tier to demote to "
        "(memory_tier4 (node 0); lower tiers are those numerically above the slowest tier with CPUs), and this "
        "call onlines no dax device as system RAM; name one in dax_devices, or set require_lower_tier=false if "
        "this is expected. Nothing was changed.")


def test_tiering_without_a_lower_tier_is_applied_with_a_warning_when_allowed(host):
    result, daxctl = run(host, demotion=True, numa_balancing="tiering", require_lower_tier=False)
    assert result["changed"] is True and daxctl.calls == []
    assert len(result["warnings"]) == 1
    assert result["warnings"][0].startswith("demotion true and numa_balancing tiering asks for memory tiering, but "
                                            "this host has no lower memory tier")
    assert host.fs.read(DEMOTION) == "true" and host.fs.read(NUMA_BALANCING) == "2"
    assert result["cxl"] == {"present": False, "memdevs": [], "regions": []}
    assert result["lower_tier_nodes"] == [] and result["expected_lower_tier_nodes"] == []


def test_knobs_without_tiering_need_no_lower_tier(host):
    result, _daxctl = run(host, demotion=False, numa_balancing="disabled")
    assert result["warnings"] == [] and host.fs.read(NUMA_BALANCING) == "0"
    assert result["knobs"]["numa_balancing"] == {"before": "normal", "after": "disabled"}
    assert result["actions"] == ["write '0' to %s (was 1)" % NUMA_BALANCING, "write %s" % SYSCTL_FILE,
                                 "write %s" % TMPFILES_FILE]


def test_a_cpu_less_node_in_the_dram_tier_is_no_lower_tier(host):
    host.node(1, mem_kb=512 * 1024)
    host.tier(4, [1])
    message = refused(host, numa_balancing="tiering")
    assert message.startswith("numa_balancing tiering asks for memory tiering, but this host has no lower memory "
                              "tier to demote to (memory_tier4 (nodes 0, 1); ")
    result, _daxctl = run(host, check_mode=True)
    assert [(n["node"], n["cpu_less"], n["tier"]) for n in result["numa_nodes"]] == [(0, False, 4), (1, True, 4)]


# -- a dax device in devdax mode -------------------------------------------------------------------

def test_devdax_is_onlined_movable_and_counts_as_the_lower_tier(nvdimm):
    result, daxctl = run(nvdimm, dax_devices=["dax0.0"], **TIERING)
    assert daxctl.calls == [[DAXCTL, "reconfigure-device", "--mode=system-ram", "dax0.0"], RELOAD]
    assert nvdimm.driver("dax0.0") == "kmem" and zones(nvdimm) == [("online", "Movable")]
    assert result["expected_lower_tier_nodes"] == [2] and result["lower_tier_nodes"] == [2]
    assert result["memory_tiers"] == [{"tier": 4, "nodes": [0]}, {"tier": 22, "nodes": [2]}]
    entry = device(result)
    assert (entry["mode"], entry["selected"], entry["onlining"], entry["persisted"]) == (
        "system-ram", True, "reconfigure", True)
    assert entry["memory"] == {"total": 8, "online": 8, "zones": ["Movable"], "offline_blocks": []}
    assert result["knobs"] == {"demotion_enabled": {"before": False, "after": True},
                               "numa_balancing": {"before": "normal", "after": "normal_and_tiering"},
                               "promote_rate_limit_mbps": {"before": 65536, "after": 256}}
    assert result["actions"] == [
        "run %s reconfigure-device --mode=system-ram dax0.0" % DAXCTL,
        "write 'true' to %s (was false)" % DEMOTION,
        "write '3' to %s (was 1)" % NUMA_BALANCING,
        "write '256' to %s (was 65536)" % PROMOTE,
        "write %s" % DAXCTL_CONF, "write %s" % UDEV_RULE, "write %s" % SYSCTL_FILE, "write %s" % TMPFILES_FILE,
        "run %s control --reload" % UDEVADM]
    assert result["warnings"] == []


def test_devdax_is_onlined_in_zone_normal_with_no_movable(nvdimm):
    result, daxctl = run(nvdimm, dax_devices=["dax0.0"], zone="normal")
    assert daxctl.calls[0] == [DAXCTL, "reconfigure-device", "--mode=system-ram", "--no-movable", "dax0.0"]
    assert zones(nvdimm) == [("online", "Normal")]
    assert text(nvdimm, DAXCTL_CONF) == DAXCTL_TEXT % "false"
    assert result["diff"][0] == {"before_header": "live (sysfs, procfs)", "after_header": "live (sysfs, procfs)",
                                 "before": {"dax0.0": "devdax"},
                                 "after": {"dax0.0": "system-ram, all blocks online, Normal"}}


def test_the_files_that_make_it_last(nvdimm):
    run(nvdimm, dax_devices=["dax0.0"], **TIERING)
    assert text(nvdimm, DAXCTL_CONF) == DAXCTL_TEXT % "true"
    assert text(nvdimm, UDEV_RULE) == UDEV_TEXT
    assert text(nvdimm, SYSCTL_FILE) == SYSCTL_HEADER + (
        "kernel.numa_balancing = 3\nkernel.numa_balancing_promote_rate_limit_MBps = 256\n")
    assert text(nvdimm, TMPFILES_FILE) == TMPFILES_TEXT % "true"
    assert oct(os.stat(nvdimm.real(DAXCTL_CONF)).st_mode & 0o777) == oct(0o644)
    # what daxctl --check-config looks for: the section whose nvdimm.uuid is the device's
    assert parse_daxctl_sections(text(nvdimm, DAXCTL_CONF)) == {NVDIMM_UUID: True}


def test_the_kernel_auto_onlining_as_movable_is_let_through_with_force(tmp_path):
    host = FakeMemoryHost(tmp_path, auto_online="online_movable")
    host.nvdimm_dax()
    _result, daxctl = run(host, dax_devices=["dax0.0"])
    assert daxctl.calls[0] == [DAXCTL, "reconfigure-device", "--mode=system-ram", "--force", "dax0.0"]
    assert zones(host) == [("online", "Movable")]


@pytest.mark.parametrize("policy, zone, says", [
    ("online", "movable", "(auto_online_blocks is online), and daxctl then refuses to online it as movable"),
    ("online_kernel", "movable", "(auto_online_blocks is online_kernel), and daxctl then refuses"),
    ("online_movable", "normal", "into ZONE_MOVABLE (auto_online_blocks is online_movable), not Normal (zone=normal)"),
])
def test_auto_onlining_into_the_other_zone_is_refused(tmp_path, policy, zone, says):
    host = FakeMemoryHost(tmp_path, auto_online=policy)
    host.nvdimm_dax()
    message = refused(host, dax_devices=["dax0.0"], zone=zone)
    assert message.startswith("dax_devices: dax0.0: the kernel onlines hot-added memory by itself here ")
    assert says in message


def test_auto_onlining_as_normal_is_fine_for_zone_normal(tmp_path):
    host = FakeMemoryHost(tmp_path, auto_online="online")
    host.nvdimm_dax()
    _result, daxctl = run(host, dax_devices=["dax0.0"], zone="normal")
    assert daxctl.calls[0][-2:] == ["--no-movable", "dax0.0"] and zones(host) == [("online", "Normal")]


# -- memory the kernel onlined already --------------------------------------------------------------

@pytest.fixture
def cxl(tmp_path):
    """A CXL RAM region whose memory the kernel onlined as movable (dax0.0 on node 2, 6.12)."""
    host = FakeMemoryHost(tmp_path, release=R612)
    host.cxl_ram_region()
    return host


def test_memory_online_in_the_wanted_zone_is_left_alone_and_not_persisted(cxl):
    before = cxl.snapshot()
    result, daxctl = run(cxl, dax_devices=["dax0.0"], demotion=True)
    assert daxctl.calls == [] and result["actions"] == ["write 'true' to %s (was false)" % DEMOTION,
                                                        "write %s" % TMPFILES_FILE]
    entry = device(result)
    assert (entry["onlining"], entry["persisted"], entry["origin"]["cxl_region"]) == ("none", False, "region0")
    assert text(cxl, DAXCTL_CONF) is None and text(cxl, UDEV_RULE) is None
    assert len(result["warnings"]) == 1
    assert result["warnings"][0].startswith("dax0.0 comes from CXL region region0 and has no NVDIMM uuid for "
                                            "/etc/daxctl.conf.d to match, so its onlining is not persisted")
    assert "created by hand (cxl create-region, sysfs) has to be created again after a reboot" in result["warnings"][0]
    changed = dict((path, value) for path, value in cxl.snapshot().items() if before.get(path) != value)
    assert sorted(changed) == ["etc/tmpfiles.d/nvmeof-fleet-tiering.conf", "sys/kernel/mm/numa/demotion_enabled"]


def test_offline_blocks_are_onlined(tmp_path):
    host = FakeMemoryHost(tmp_path, release=R612)
    host.cxl_ram_region(size=512 * 1024 * 1024, offline=2)
    result, daxctl = run(host, dax_devices=["dax0.0"])
    assert daxctl.calls == [[DAXCTL, "online-memory", "dax0.0"]]
    assert zones(host) == [("online", "Movable")]
    assert device(result)["onlining"] == "online_blocks"
    assert result["diff"][0]["before"] == {"dax0.0": "system-ram, 2 of 4 blocks online, Movable"}


def test_memory_online_in_the_other_zone_is_refused(tmp_path):
    host = FakeMemoryHost(tmp_path, release=R612)
    host.cxl_ram_region(zone="Normal")
    message = refused(host, dax_devices=["dax0.0"], zone="movable")
    assert message == (
        "dax_devices: dax0.0 is online as system RAM in zone Normal, not Movable (zone=movable); offlining memory "
        "to online it again can fail or disturb a running host: set allow_zone_change=true to do it anyway, or "
        "zone=normal. Nothing was changed.")


def test_memory_online_in_the_other_zone_is_moved_when_allowed(tmp_path):
    host = FakeMemoryHost(tmp_path, release=R612)
    host.cxl_ram_region(zone="Normal")
    result, daxctl = run(host, dax_devices=["dax0.0"], allow_zone_change=True)
    assert daxctl.calls == [[DAXCTL, "offline-memory", "dax0.0"], [DAXCTL, "online-memory", "dax0.0"]]
    assert zones(host) == [("online", "Movable")] and device(result)["onlining"] == "reonline"
    again, daxctl = run(host, dax_devices=["dax0.0"], allow_zone_change=True)
    assert again["changed"] is False and daxctl.calls == []


# -- check mode, idempotence, merging ---------------------------------------------------------------

def test_check_mode_writes_nothing_and_plans_what_a_real_run_does(tmp_path_factory):
    twins = []
    for name in ("checked", "applied"):
        host = FakeMemoryHost(tmp_path_factory.mktemp(name))
        host.nvdimm_dax()
        twins.append(host)
    checked, applied = twins
    before = checked.snapshot()
    planned, daxctl = run(checked, check_mode=True, dax_devices=["dax*"], **TIERING)
    assert checked.snapshot() == before and daxctl.calls == []
    done, _daxctl = run(applied, dax_devices=["dax*"], **TIERING)
    assert planned["actions"] == done["actions"] and len(planned["actions"]) == 9
    assert planned["changed"] is True and planned["knobs"] == done["knobs"]
    assert planned["files"] == done["files"]
    assert [entry["after"] for entry in planned["diff"]] == [entry["after"] for entry in done["diff"]]
    assert device(planned)["mode"] == "devdax" and device(done)["mode"] == "system-ram"  # facts as they are
    assert planned["expected_lower_tier_nodes"] == [2] and planned["lower_tier_nodes"] == []


def test_a_second_run_changes_nothing(nvdimm):
    run(nvdimm, dax_devices=["dax0.0"], **TIERING)
    before = nvdimm.snapshot()
    result, daxctl = run(nvdimm, dax_devices=["dax0.0"], **TIERING)
    assert result["changed"] is False and result["actions"] == [] and daxctl.calls == []
    assert nvdimm.snapshot() == before
    assert [entry["changed"] for entry in result["files"]] == [False] * 4
    assert device(result)["onlining"] == "none" and device(result)["persisted"] is True


def test_options_not_given_are_left_alone_live_and_in_the_files(nvdimm):
    run(nvdimm, dax_devices=["dax0.0"], demotion=True, numa_balancing="tiering")
    nvdimm.fs.write(NUMA_BALANCING, "1")  # changed by hand since
    result, _daxctl = run(nvdimm, promote_rate_limit_mbps=512)
    assert nvdimm.fs.read(NUMA_BALANCING) == "1" and nvdimm.fs.read(PROMOTE) == "512"
    assert parse_drop_in(text(nvdimm, SYSCTL_FILE)) == {
        "kernel.numa_balancing": "2", "kernel.numa_balancing_promote_rate_limit_MBps": "512"}
    assert text(nvdimm, TMPFILES_FILE) == TMPFILES_TEXT % "true"
    assert text(nvdimm, DAXCTL_CONF) == DAXCTL_TEXT % "true"
    assert result["knobs"]["numa_balancing"] == {"before": "normal", "after": "normal"}
    assert result["actions"] == ["write '512' to %s (was 65536)" % PROMOTE, "write %s" % SYSCTL_FILE]


def test_demotion_false_is_persisted_too(host):
    host.fs.write(DEMOTION, "true")
    run(host, demotion=False)
    assert host.fs.read(DEMOTION) == "false" and text(host, TMPFILES_FILE) == TMPFILES_TEXT % "false"


def test_sections_of_other_devices_stay_in_the_daxctl_config(nvdimm):
    nvdimm.nvdimm_dax(region=1, resource=0x1c0000000, node=3, uuid=OTHER_UUID)
    run(nvdimm, dax_devices=["dax0.0"])
    run(nvdimm, dax_devices=["dax1.0"], zone="normal")
    assert parse_daxctl_sections(text(nvdimm, DAXCTL_CONF)) == {NVDIMM_UUID: True, OTHER_UUID: False}
    assert text(nvdimm, DAXCTL_CONF) == render_daxctl({NVDIMM_UUID: True, OTHER_UUID: False})
    assert render_daxctl({}) is None


def test_patterns_select_devices_with_capacity(nvdimm):
    nvdimm.nvdimm_dax(region=1, resource=0x1c0000000, node=3, uuid=OTHER_UUID)
    nvdimm.seed("dax1.1", "dax1.0")
    result, daxctl = run(nvdimm, dax_devices=["dax*"])
    assert [call[-1] for call in daxctl.calls[:2]] == ["dax0.0", "dax1.0"]
    assert [(entry["name"], entry["selected"]) for entry in result["dax_devices"]] == [
        ("dax0.0", True), ("dax1.0", True), ("dax1.1", False)]
    assert result["lower_tier_nodes"] == [2, 3]


# -- the udev rule ---------------------------------------------------------------------------------

def test_no_udev_rule_where_the_packaged_one_works(tmp_path):
    host = FakeMemoryHost(tmp_path, rule=UPSTREAM_RULE)
    host.nvdimm_dax()
    host.file(UDEV_RULE, UDEV_TEXT)  # left by an earlier run, before a daxctl that works was installed
    result, daxctl = run(host, dax_devices=["dax0.0"])
    assert text(host, UDEV_RULE) is None and text(host, DAXCTL_CONF) == DAXCTL_TEXT % "true"
    assert daxctl.calls[-1] == RELOAD
    assert {"path": UDEV_RULE, "present": False, "changed": True} in result["files"]


def test_a_udev_rule_of_someone_else_is_left_alone_with_a_warning(nvdimm):
    nvdimm.file(UDEV_RULE, 'ACTION=="add", SUBSYSTEM=="dax", RUN+="/usr/local/bin/my-dax"\n')
    result, daxctl = run(nvdimm, dax_devices=["dax0.0"])
    assert text(nvdimm, UDEV_RULE).endswith("my-dax\"\n") and RELOAD not in daxctl.calls
    assert result["warnings"] == ["%s is not managed by this module; it decides whether daxctl reads "
                                  "/etc/daxctl.conf.d at boot (the one Debian's daxctl installs does not)" % UDEV_RULE]
    assert run(nvdimm, state="absent")[0]["files"][1] == {"path": UDEV_RULE, "present": True, "changed": False}


def test_without_udevadm_the_rule_is_written_with_a_warning(tmp_path):
    host = FakeMemoryHost(tmp_path, tools=(DAXCTL,))
    host.nvdimm_dax()
    result, daxctl = run(host, dax_devices=["dax0.0"])
    assert text(host, UDEV_RULE) == UDEV_TEXT and RELOAD not in daxctl.calls
    assert result["warnings"] == ["udevadm is not installed: %s was not loaded" % UDEV_RULE]


# -- state absent ------------------------------------------------------------------------------------

def test_absent_removes_the_files_and_leaves_live_values_and_memory(nvdimm):
    run(nvdimm, dax_devices=["dax0.0"], **TIERING)
    result, daxctl = run(nvdimm, state="absent", demotion=False)  # other options are ignored
    assert [text(nvdimm, path) for path in (DAXCTL_CONF, UDEV_RULE, SYSCTL_FILE, TMPFILES_FILE)] == [None] * 4
    assert daxctl.calls == [RELOAD]
    assert nvdimm.fs.read(DEMOTION) == "true" and nvdimm.fs.read(NUMA_BALANCING) == "3"
    assert zones(nvdimm) == [("online", "Movable")]
    assert result["actions"] == ["remove %s" % path for path in (DAXCTL_CONF, UDEV_RULE, SYSCTL_FILE, TMPFILES_FILE)] + [
        "run %s control --reload" % UDEVADM]
    assert device(result)["persisted"] is False
    again, daxctl = run(nvdimm, state="absent")
    assert again["changed"] is False and daxctl.calls == []


# -- undo ----------------------------------------------------------------------------------------------

def failing_files(host, *paths):
    write_file_atomic = host.fs.write_file_atomic

    def fail(path, content, mode=0o644):
        if path in paths:
            raise HostFSError("writing", path, OSError(errno.EROFS, os.strerror(errno.EROFS)))
        write_file_atomic(path, content, mode)
    host.fs.write_file_atomic = fail


def test_a_file_that_cannot_be_written_takes_everything_back(nvdimm):
    before = nvdimm.snapshot()
    failing_files(nvdimm, SYSCTL_FILE)
    daxctl = FakeDaxctl(nvdimm)
    with pytest.raises(CxlTieringError) as info:
        run(nvdimm, daxctl, dax_devices=["dax0.0"], **TIERING)
    assert str(info.value) == (
        "writing %s failed: writing %s failed: Read-only file system (EROFS). Taken back, newest first: "
        "%s removed; %s removed; %s set back to 65536; %s set back to 1; %s set back to false; "
        "dax0.0 back in devdax mode." % (
            SYSCTL_FILE, SYSCTL_FILE, UDEV_RULE, DAXCTL_CONF, PROMOTE, NUMA_BALANCING, DEMOTION))
    assert daxctl.calls == [[DAXCTL, "reconfigure-device", "--mode=system-ram", "dax0.0"],
                            [DAXCTL, "reconfigure-device", "--mode=devdax", "--force", "dax0.0"]]
    assert nvdimm.snapshot() == before


def test_daxctl_leaving_another_zone_is_taken_back(nvdimm):
    before = nvdimm.snapshot()
    daxctl = FakeDaxctl(nvdimm)
    daxctl.auto_zone = "Normal"  # another agent onlined the memory first
    with pytest.raises(CxlTieringError) as info:
        run(nvdimm, daxctl, dax_devices=["dax0.0"], demotion=True)
    assert str(info.value) == (
        "daxctl did not leave dax0.0 as asked: dax0.0 is not online as system RAM in zone Movable after daxctl: "
        "mode system-ram, 8 of 8 memory blocks online, zones Normal. Taken back, newest first: dax0.0 back in "
        "devdax mode.")
    assert nvdimm.snapshot() == before


def test_a_failed_online_after_offline_puts_the_old_zone_back(tmp_path):
    host = FakeMemoryHost(tmp_path, release=R612)
    host.cxl_ram_region(zone="Normal")
    before = host.snapshot()
    daxctl = FakeDaxctl(host)
    daxctl.fail, daxctl.fail_once = [("online-memory", "dax0.0")], True
    with pytest.raises(CxlTieringError) as info:
        run(host, daxctl, dax_devices=["dax0.0"], allow_zone_change=True)
    assert str(info.value) == (
        "'%s online-memory dax0.0' failed: command '%s online-memory dax0.0' failed with exit code 1: dax0.0: "
        "failed: Device or resource busy. Taken back, newest first: dax0.0 online again in zone Normal."
        % (DAXCTL, DAXCTL))
    assert daxctl.calls[-1] == [DAXCTL, "online-memory", "--no-movable", "dax0.0"]
    assert host.snapshot() == before


def test_what_cannot_be_taken_back_is_named(tmp_path):
    host = FakeMemoryHost(tmp_path, release=R612)
    host.cxl_ram_region(zone="Normal")
    daxctl = FakeDaxctl(host)
    daxctl.fail = [("online-memory", "dax0.0")]  # the way back too
    with pytest.raises(CxlTieringError) as info:
        run(host, daxctl, dax_devices=["dax0.0"], allow_zone_change=True)
    assert str(info.value).endswith(
        "Taken back, newest first: nothing. Left as it is now: dax0.0 online again in zone Normal (command '%s "
        "online-memory --no-movable dax0.0' failed with exit code 1: dax0.0: failed: Device or resource busy)."
        % DAXCTL)
    assert zones(host) == [("offline", "Normal Movable")]


def test_the_kernel_refusing_a_value_takes_back_the_earlier_steps(nvdimm):
    before = nvdimm.snapshot()
    write = nvdimm.fs.write

    def kernel_write(path, value, secret=False):
        if path == NUMA_BALANCING and value == "3":
            raise HostFSError("writing", path, OSError(errno.EINVAL, os.strerror(errno.EINVAL)), value=value)
        write(path, value, secret)
    nvdimm.fs.write = kernel_write
    with pytest.raises(CxlTieringError) as info:
        run(nvdimm, dax_devices=["dax0.0"], **TIERING)
    assert str(info.value) == (
        "the kernel refused 3 in %s: writing '3' to %s failed: Invalid argument (EINVAL). Taken back, newest "
        "first: %s set back to false; dax0.0 back in devdax mode." % (NUMA_BALANCING, NUMA_BALANCING, DEMOTION))
    assert nvdimm.snapshot() == before


def test_blocks_onlined_by_the_call_go_offline_again_on_failure(tmp_path):
    host = FakeMemoryHost(tmp_path, release=R612)
    host.cxl_ram_region(size=512 * 1024 * 1024, offline=1)
    before = host.snapshot()
    failing_files(host, TMPFILES_FILE)
    with pytest.raises(CxlTieringError) as info:
        run(host, dax_devices=["dax0.0"], demotion=True)
    assert "Taken back, newest first: %s set back to false; dax0.0 offline again (memory117)." % DEMOTION in str(
        info.value)
    assert host.snapshot() == before


def test_a_failing_first_step_changes_nothing(nvdimm):
    daxctl = FakeDaxctl(nvdimm)
    daxctl.fail = [("reconfigure-device",)]
    with pytest.raises(CxlTieringError) as info:
        run(nvdimm, daxctl, dax_devices=["dax0.0"])
    assert str(info.value).endswith("Device or resource busy. Nothing was changed.")
    assert nvdimm.driver("dax0.0") == "device_dax"


# -- bad input -----------------------------------------------------------------------------------------

def test_every_bad_option_is_named_with_its_value(host):
    message = refused(host, state="gone", dax_devices=["dax 0", 7], zone="fast", allow_zone_change="yes",
                      demotion="on", numa_balancing="both", promote_rate_limit_mbps=-1, require_lower_tier=None)
    assert message == (
        "state 'gone' must be present or absent. dax_devices[0] 'dax 0': give a dax device name such as dax0.0 or "
        "a glob pattern such as dax*, of letters, digits and . _ - * ? [ ] !. dax_devices[1] 7: give a dax device "
        "name such as dax0.0 or a glob pattern such as dax*, of letters, digits and . _ - * ? [ ] !. zone 'fast' "
        "must be one of movable, normal. allow_zone_change 'yes' must be true or false. require_lower_tier None "
        "must be true or false. demotion 'on' must be true or false. numa_balancing 'both' must be one of "
        "disabled, normal, tiering, normal_and_tiering. promote_rate_limit_mbps -1 must be a whole number of MB/s "
        "from 0 to 2147483647. Nothing was changed.")


@pytest.mark.parametrize("value", [True, 2 ** 31, "fast"])
def test_promote_rate_limit_must_be_a_number_in_range(host, value):
    assert "promote_rate_limit_mbps %r must be a whole number" % (value,) in refused(
        host, promote_rate_limit_mbps=value)


def test_names_and_patterns_that_match_nothing_are_named(nvdimm, tmp_path_factory):
    message = refused(nvdimm, dax_devices=["dax0.0", "dax9.*", "dax7.0"])
    assert message == (
        "dax_devices: 'dax9.*' matches no dax device with capacity on this host (dax0.0). dax_devices: 'dax7.0' "
        "matches no dax device with capacity on this host (dax0.0). Nothing was changed.")
    assert "(there are none)" in refused(FakeMemoryHost(tmp_path_factory.mktemp("bare")), dax_devices=["dax*"])


def test_knobs_the_kernel_lacks_are_named_with_the_release(tmp_path):
    host = FakeMemoryHost(tmp_path, promote_rate_limit=None)
    os.unlink(host.real(DEMOTION))
    message = refused(host, demotion=False, promote_rate_limit_mbps=100)
    assert message == (
        "demotion: kernel 6.1.0-28-amd64 has no /sys/kernel/mm/numa/demotion_enabled (it came with Linux 5.15). "
        "promote_rate_limit_mbps: kernel 6.1.0-28-amd64 has no "
        "/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps. Nothing was changed.")


def test_tiering_balancing_on_an_old_kernel_is_refused(tmp_path):
    host = FakeMemoryHost(tmp_path, release="5.15.0-1-amd64")
    host.nvdimm_dax()
    message = refused(host, dax_devices=["dax0.0"], numa_balancing="tiering")
    assert message == ("numa_balancing tiering: NUMA balancing for memory tiering needs Linux 5.18 or later; this "
                       "host runs 5.15.0-1-amd64. Nothing was changed.")


def test_dax_devices_need_daxctl(tmp_path):
    host = FakeMemoryHost(tmp_path, tools=(UDEVADM,))
    host.nvdimm_dax()
    assert "dax_devices: daxctl is not installed (Debian package daxctl)" in refused(host, dax_devices=["dax0.0"])


def test_a_section_for_the_same_uuid_in_another_daxctl_config_is_refused(nvdimm):
    nvdimm.file("/etc/daxctl.conf.d/local.conf", "[reconfigure-device mine]\nnvdimm.uuid = %s\nmode = devdax\n"
                % NVDIMM_UUID.upper())
    message = refused(nvdimm, dax_devices=["dax0.0"])
    assert message == ("dax_devices: NVDIMM uuid %s already has a reconfigure-device section in "
                       "/etc/daxctl.conf.d/local.conf; daxctl joins the values of every section that matches, so "
                       "remove that one first. Nothing was changed." % NVDIMM_UUID)


def test_parsing_the_daxctl_config_and_the_drop_in():
    assert parse_daxctl_sections("# c\n[reconfigure-device a]\nnvdimm.uuid=AB\n; movable = false\n"
                                 "[reconfigure-device b]\nNVDIMM.UUID = cd\nmovable = False\n[other]\n"
                                 "nvdimm.uuid = ef\n") == {
        "ab": True, "cd": False}
    assert parse_drop_in("# x\nkernel.numa_balancing = 2\n; y = 1\nbad line\n") == {"kernel.numa_balancing": "2"}
