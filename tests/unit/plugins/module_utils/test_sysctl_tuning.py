# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl_tuning over a fake /proc/sys, /etc and /sys/class/net, with a fake tc."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import stat

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.sysctl_tuning import (
    SysctlError, apply, proc_path, render, parse_settings)

NAME = "90-nvmeof-fleet-network"
DROP_IN = "/etc/sysctl.d/90-nvmeof-fleet-network.conf"
RECORD = "/etc/nvmeof-fleet/sysctl/90-nvmeof-fleet-network.json"
QDISCS = ("pfifo_fast", "pfifo", "fq_codel", "fq", "mq", "noqueue", "cake")

# Kernel-like values (tcp_rmem printed with tabs) and modes (0444 read-only, 0200 write-only).
KERNEL = {
    "net/core/default_qdisc": ("pfifo_fast", 0o644),
    "net/core/busy_poll": ("0", 0o644),
    "net/core/rmem_max": ("212992", 0o644),
    "net/ipv4/tcp_ecn": ("2", 0o644),
    "net/ipv4/tcp_rmem": ("4096\t131072\t6291456", 0o644),
    "net/ipv4/tcp_wmem": ("4096\t16384\t4194304", 0o644),
    "net/ipv4/conf/eth0.100/rp_filter": ("2", 0o644),
    "kernel/osrelease": ("6.12.9-amd64", 0o444),
    "net/ipv4/route/flush": ("", 0o200),
}


class KernelFS(HostFS):
    """A HostFS whose /proc/sys refuses what the kernel would (EINVAL) and records every write."""

    def __init__(self, root):
        super(KernelFS, self).__init__(root)
        self.writes = []
        self.fail_files = set()

    def write(self, path, value, secret=False):
        if path == "/proc/sys/net/core/default_qdisc" and value not in QDISCS:
            raise HostFSError("writing", path, OSError(errno.EINVAL, os.strerror(errno.EINVAL)), value=value)
        self.writes.append((path, value))
        super(KernelFS, self).write(path, self.printed(value), secret)

    @staticmethod
    def printed(value):
        """The value as the kernel prints it back: numbers separated by tabs, then a newline."""
        words = value.split()
        if words and all(word.isdigit() for word in words):
            return "\t".join(words) + "\n"
        return value + "\n"

    def write_file_atomic(self, path, content, mode=0o644):
        if path in self.fail_files:
            raise HostFSError("writing", path, OSError(errno.EROFS, os.strerror(errno.EROFS)))
        super(KernelFS, self).write_file_atomic(path, content, mode)

    def proc_writes(self):
        return [(path, value) for path, value in self.writes if path.startswith("/proc/sys/")]

    def live(self, key):
        return self.read(proc_path(key))


class FakeTc:
    """``tc`` over a few interfaces: lists qdiscs as -json does, and attaches the defaults as the kernel does."""

    def __init__(self, fs, interfaces):
        self.fs = fs
        self.queues = {}
        self.qdiscs = {}
        self.calls = []
        for name, (queues, qdiscs) in interfaces.items():
            os.makedirs(fs.path("/sys/class/net/%s" % name))
            self.queues[name] = queues
            self.qdiscs[name] = qdiscs if qdiscs is not None else self.defaults(name)

    def defaults(self, name):
        default = self.fs.read("/proc/sys/net/core/default_qdisc")
        if self.queues[name] == 1:
            return [{"kind": default, "handle": "0:", "root": True, "refcnt": 2, "options": {}}]
        return [{"kind": "mq", "handle": "0:", "root": True, "options": {}}] + [
            {"kind": default, "handle": "0:", "parent": ":%x" % (queue + 1), "options": {}}
            for queue in range(self.queues[name])]

    def run(self, args, check=True, data=None):
        self.calls.append(args)
        if args[:4] == ["tc", "-json", "qdisc", "show"]:
            return 0, json.dumps(self.qdiscs[args[5]]), ""
        name = args[4]
        root = [q for q in self.qdiscs[name] if q.get("root")][0]
        if args[2] == "del" and root["handle"] == "0:":  # the kernel's own qdiscs cannot be deleted
            if check:
                raise CommandError(args, 2, "", "Error: Cannot delete qdisc with handle of zero.")
            return 2, "", "Error: Cannot delete qdisc with handle of zero."
        if args[2] == "del":
            self.qdiscs[name] = self.defaults(name)
        elif args[2] == "replace":
            assert args[5:] == ["root", "handle", "1:", "pfifo"]
            self.qdiscs[name] = [{"kind": "pfifo", "handle": "1:", "root": True, "options": {}}]
        return 0, "", ""

    def changes(self):
        return [call for call in self.calls if call[1] != "-json"]


@pytest.fixture
def fs(tmp_path):
    kernel = KernelFS(str(tmp_path))
    for relative, (value, mode) in KERNEL.items():
        path = tmp_path / "proc/sys" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
        path.chmod(mode)
    (tmp_path / "etc").mkdir()
    return kernel


@pytest.fixture
def tc(fs):
    return FakeTc(fs, {"ens1f0": (4, None), "ens2": (1, None), "lo": (1, [
        {"kind": "noqueue", "handle": "0:", "root": True, "refcnt": 2, "options": {}}])})


def present(fs, tc, settings, check_mode=False, **options):
    params = {"name": NAME, "settings": settings, "state": "present", "restore": False,
              "reapply_qdisc_interfaces": []}
    params.update(options)
    return apply(fs, tc, params, check_mode=check_mode)


def absent(fs, tc, restore=False, check_mode=False, **options):
    params = {"name": NAME, "settings": {}, "state": "absent", "restore": restore, "reapply_qdisc_interfaces": []}
    params.update(options)
    return apply(fs, tc, params, check_mode=check_mode)


def snapshot(fs):
    """Every file under the fake root with its content and mode."""
    files = {}
    for directory, _dirs, names in os.walk(fs.root):
        for name in names:
            real = os.path.join(directory, name)
            with open(real) as handle:
                files[os.path.relpath(real, fs.root)] = (handle.read(), stat.S_IMODE(os.stat(real).st_mode))
    return files


TUNING = {
    "net.ipv4.tcp_ecn": 1,
    "net.ipv4.tcp_rmem": "4096 131072 6291456",
    "net.core.rmem_max": 212992,
}


# -- applying ------------------------------------------------------------------------

def test_writes_only_the_values_that_differ(fs, tc):
    result = present(fs, tc, TUNING)
    assert result["changed"] is True
    assert fs.proc_writes() == [("/proc/sys/net/ipv4/tcp_ecn", "1")]
    assert fs.live("net.ipv4.tcp_ecn") == "1"
    assert result["settings"] == {
        "net.ipv4.tcp_ecn": {"before": "2", "after": "1", "changed": True},
        "net.ipv4.tcp_rmem": {"before": "4096 131072 6291456", "after": "4096 131072 6291456", "changed": False},
        "net.core.rmem_max": {"before": "212992", "after": "212992", "changed": False},
    }
    assert result["actions"] == [
        "write '1' to /proc/sys/net/ipv4/tcp_ecn",
        "record the values before the first apply in %s" % RECORD,
        "write %s" % DROP_IN,
    ]
    assert result["file"] == DROP_IN and result["saved"] == RECORD and result["qdisc"] == []


def test_drop_in_is_sorted_with_a_header_and_private_record(fs, tc):
    present(fs, tc, {"net.ipv4.tcp_wmem": [4096, 65536, 16777216], "net.core.default_qdisc": "fq_codel",
                     "net.ipv4.tcp_ecn": True})
    with open(fs.path(DROP_IN)) as handle:
        text = handle.read()
    assert text == (
        "# Managed by Ansible (nvmeof.fleet.sysctl_tuning, drop-in 90-nvmeof-fleet-network); "
        "changes made here are overwritten.\n"
        "# systemd-sysctl applies the files of sysctl.d at boot in lexical order of their names;\n"
        "# a later file overrides an earlier one for the same key.\n"
        "net.core.default_qdisc = fq_codel\n"
        "net.ipv4.tcp_ecn = 1\n"
        "net.ipv4.tcp_wmem = 4096 65536 16777216\n")
    assert stat.S_IMODE(os.stat(fs.path(DROP_IN)).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(fs.path(RECORD)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(fs.path("/etc/nvmeof-fleet/sysctl")).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(fs.path("/etc/nvmeof-fleet")).st_mode) == 0o700
    assert json.loads(fs.read(RECORD)) == {"drop_in": DROP_IN, "previous": {
        "net.core.default_qdisc": "pfifo_fast", "net.ipv4.tcp_ecn": "2", "net.ipv4.tcp_wmem": "4096 16384 4194304"}}


def test_rendering_does_not_depend_on_the_order_given():
    one = parse_settings({"b.x": 1, "a.y": "2  3"})
    other = parse_settings({"a.y": "2\t3", "b.x": "1"})
    assert render(NAME, one) == render(NAME, other)
    assert render(NAME, one).endswith("a.y = 2 3\nb.x = 1\n")


def test_second_run_changes_nothing(fs, tc):
    present(fs, tc, TUNING)
    before = snapshot(fs)
    fs.writes = []
    result = present(fs, tc, TUNING)
    assert result["changed"] is False and result["actions"] == []
    assert fs.writes == [] and snapshot(fs) == before
    assert all(not entry["changed"] for entry in result["settings"].values())


def test_check_mode_computes_everything_and_writes_nothing(fs, tc):
    before = snapshot(fs)
    checked = present(fs, tc, TUNING, check_mode=True)
    assert fs.writes == [] and snapshot(fs) == before
    applied = present(fs, tc, TUNING)
    assert checked == applied


def test_rewrites_a_drop_in_edited_by_hand(fs, tc):
    present(fs, tc, TUNING)
    with open(fs.path(DROP_IN), "a") as handle:
        handle.write("vm.swappiness = 1\n")
    result = present(fs, tc, TUNING)
    assert result["actions"] == ["write %s" % DROP_IN]
    assert "vm.swappiness" in result["diff"][1]["before"] and "vm.swappiness" not in result["diff"][1]["after"]


def test_multi_value_keys_compare_with_whitespace_made_one_space(fs, tc):
    for value in ("4096 131072 6291456", "4096\t131072  6291456 ", [4096, 131072, 6291456], ["4096", 131072, 6291456]):
        result = present(fs, tc, {"net.ipv4.tcp_rmem": value})
        assert result["settings"]["net.ipv4.tcp_rmem"]["changed"] is False
    assert fs.proc_writes() == []
    result = present(fs, tc, {"net.ipv4.tcp_rmem": [4096, 87380, 16777216]})
    assert fs.proc_writes() == [("/proc/sys/net/ipv4/tcp_rmem", "4096 87380 16777216")]
    assert result["settings"]["net.ipv4.tcp_rmem"] == {
        "before": "4096 131072 6291456", "after": "4096 87380 16777216", "changed": True}


def test_diff_shows_live_values_and_the_file(fs, tc):
    result = present(fs, tc, {"net.ipv4.tcp_ecn": 1})
    live, drop_in = result["diff"]
    assert live["before"] == {"net.ipv4.tcp_ecn": "2"} and live["after"] == {"net.ipv4.tcp_ecn": "1"}
    assert drop_in["before_header"] == DROP_IN and drop_in["before"] == ""
    assert drop_in["after"].endswith("net.ipv4.tcp_ecn = 1\n")


def test_keys_follow_systemd_sysctl_normalisation(fs, tc):
    assert proc_path("net.ipv4.conf.eth0/100.rp_filter") == "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"
    assert proc_path("net/ipv4/conf/eth0.100/rp_filter") == "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"
    for bad in ("/net/ipv4/tcp_ecn", "net..ipv4", "net.ipv4.", "net/../kernel", "-net.ipv4.tcp_ecn", "net.ipv4.*",
                "net.ipv4 tcp_ecn", ""):
        assert proc_path(bad) is None, bad
    present(fs, tc, {"net.ipv4.conf.eth0/100.rp_filter": 1})
    assert fs.proc_writes() == [("/proc/sys/net/ipv4/conf/eth0.100/rp_filter", "1")]


# -- refusals with nothing changed ---------------------------------------------------------

def test_unknown_keys_are_all_named_and_nothing_is_written(fs, tc):
    before = snapshot(fs)
    with pytest.raises(SysctlError) as info:
        present(fs, tc, dict(TUNING, **{"net.ipv4.tcp_bogus": 1, "net.core.nope": 2, "net.ipv4": 3}))
    message = str(info.value)
    assert "net.ipv4.tcp_bogus" in message and "net.core.nope" in message and "net.ipv4," in message
    assert "net.ipv4.tcp_ecn" not in message
    assert fs.writes == [] and snapshot(fs) == before


def test_read_only_and_write_only_keys_are_refused(fs, tc):
    with pytest.raises(SysctlError, match="read-only kernel parameters: kernel.osrelease"):
        present(fs, tc, {"kernel.osrelease": "7.0", "net.ipv4.tcp_ecn": 1})
    with pytest.raises(SysctlError, match="write-only .*: net.ipv4.route.flush"):
        present(fs, tc, {"net.ipv4.route.flush": 1})
    assert fs.writes == []


@pytest.mark.parametrize("settings, said", [
    ({"net.ipv4.tcp_ecn": "1\nnet.core.busy_poll = 50"}, "value of net.ipv4.tcp_ecn contains a line break"),
    ({"net.ipv4.tcp_ecn": 1.5}, "value of net.ipv4.tcp_ecn must be a string, an integer or a list"),
    ({"net.ipv4.tcp_rmem": [[4096], 87380]}, "lists may hold integers and strings only"),
    ({"net.ipv4.tcp_ecn": None}, "must be a string"),
    ({"net.ipv4.tcp_ecn": "  "}, "value of net.ipv4.tcp_ecn is empty"),
    ({"net.ipv4.tcp_rmem": []}, "is an empty list"),
    ({"../etc/shadow": 1}, "key '../etc/shadow' is not a kernel parameter name"),
    ({"net.ipv4.tcp_ecn": 1, "net/ipv4/tcp_ecn": 1}, "net.ipv4.tcp_ecn and net/ipv4/tcp_ecn are the same parameter"),
    ({}, "settings is empty; use state=absent"),
])
def test_invalid_settings_are_refused(fs, tc, settings, said):
    with pytest.raises(SysctlError) as info:
        present(fs, tc, settings)
    assert said in str(info.value)
    assert fs.writes == []


def test_every_invalid_setting_is_named_at_once(fs, tc):
    with pytest.raises(SysctlError) as info:
        present(fs, tc, {"net..x": 1, "net.ipv4.tcp_ecn": "1\n"})
    assert "'net..x'" in str(info.value) and "net.ipv4.tcp_ecn contains a line break" in str(info.value)


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "90 tuning", "90-tuning.conf", "x" * 201, "../x"])
def test_invalid_names_are_refused(fs, tc, name):
    with pytest.raises(SysctlError):
        present(fs, tc, TUNING, name=name)
    assert fs.writes == []


# -- refused by the kernel: undo -----------------------------------------------------------

def test_refused_value_sets_back_earlier_writes_and_writes_no_file(fs, tc):
    before = snapshot(fs)
    with pytest.raises(SysctlError) as info:
        present(fs, tc, {"net.core.busy_poll": 50, "net.core.default_qdisc": "bogus", "net.ipv4.tcp_ecn": 1})
    message = str(info.value)
    assert "net.core.default_qdisc = bogus" in message and "EINVAL" in message
    assert "Nothing was changed" in message and "except" not in message
    assert fs.proc_writes() == [("/proc/sys/net/core/busy_poll", "50"), ("/proc/sys/net/core/busy_poll", "0")]
    assert snapshot(fs) == before
    assert not fs.exists("/etc/sysctl.d") and not fs.exists("/etc/nvmeof-fleet")


def test_refused_value_leaves_an_applied_set_as_it_was(fs, tc):
    present(fs, tc, {"net.ipv4.tcp_ecn": 1, "net.core.busy_poll": 50})
    before = snapshot(fs)
    with pytest.raises(SysctlError):
        present(fs, tc, {"net.ipv4.tcp_ecn": 0, "net.core.busy_poll": 60, "net.core.default_qdisc": "bogus"})
    assert snapshot(fs) == before


def test_a_file_that_cannot_be_written_undoes_the_live_values_and_the_record(fs, tc):
    before = snapshot(fs)
    fs.fail_files.add(DROP_IN)
    with pytest.raises(SysctlError) as info:
        present(fs, tc, {"net.ipv4.tcp_ecn": 1, "net.core.busy_poll": 50})
    assert "writing %s failed" % DROP_IN in str(info.value) and "EROFS" in str(info.value)
    assert snapshot(fs) == before
    assert not fs.exists("/etc/nvmeof-fleet") and not fs.exists("/etc/sysctl.d")


def test_a_failed_undo_is_reported(fs, tc):
    class Stuck(KernelFS):
        def write(self, path, value, secret=False):
            if path.endswith("busy_poll") and value == "0":
                raise HostFSError("writing", path, OSError(errno.EBUSY, os.strerror(errno.EBUSY)), value=value)
            super(Stuck, self).write(path, value, secret)

    stuck = Stuck(fs.root)
    with pytest.raises(SysctlError) as info:
        present(stuck, tc, {"net.core.busy_poll": 50, "net.core.default_qdisc": "bogus"})
    assert "except (left as it is now): net.core.busy_poll" in str(info.value)


def test_a_value_the_kernel_shows_otherwise_gives_a_warning(fs, tc):
    class Hex(KernelFS):
        def write(self, path, value, secret=False):
            super(Hex, self).write(path, str(int(value, 0)), secret)

    result = present(Hex(fs.root), tc, {"net.core.busy_poll": "0x10"})
    assert result["warnings"] == ["the kernel shows net.core.busy_poll as '16' after '0x10' was written; "
                                  "declare it the way the kernel shows it or every run writes it again"]


# -- the record and state absent -----------------------------------------------------------

def test_record_keeps_the_earliest_previous_value_of_each_key(fs, tc):
    present(fs, tc, {"net.ipv4.tcp_ecn": 1})
    present(fs, tc, {"net.ipv4.tcp_ecn": 0, "net.core.busy_poll": 50})
    present(fs, tc, {"net/ipv4/tcp_ecn": 1})  # the same key written otherwise, busy_poll dropped from the set
    assert json.loads(fs.read(RECORD))["previous"] == {"net.ipv4.tcp_ecn": "2", "net.core.busy_poll": "0"}
    assert fs.live("net.core.busy_poll") == "50"
    result = absent(fs, tc, restore=True)
    assert fs.live("net.ipv4.tcp_ecn") == "2" and fs.live("net.core.busy_poll") == "0"
    assert result["settings"] == {"net.core.busy_poll": {"before": "50", "after": "0", "changed": True},
                                  "net.ipv4.tcp_ecn": {"before": "1", "after": "2", "changed": True}}


def test_absent_removes_drop_in_and_record_and_leaves_values_live(fs, tc):
    present(fs, tc, TUNING)
    fs.writes = []
    result = absent(fs, tc)
    assert result["changed"] is True
    assert result["actions"] == ["remove %s" % DROP_IN, "remove %s" % RECORD]
    assert not fs.exists(DROP_IN) and not fs.exists(RECORD)
    assert fs.proc_writes() == [] and fs.live("net.ipv4.tcp_ecn") == "1"
    assert result["saved"] is None and result["settings"] == {}
    assert result["diff"][1]["after"] == "" and "net.ipv4.tcp_ecn = 1" in result["diff"][1]["before"]
    assert absent(fs, tc)["changed"] is False


def test_absent_with_restore_writes_back_the_values_from_before(fs, tc):
    original = snapshot(fs)
    present(fs, tc, {"net.ipv4.tcp_ecn": 1, "net.ipv4.tcp_rmem": [4096, 87380, 16777216], "net.core.rmem_max": 212992})
    checked = absent(fs, tc, restore=True, check_mode=True)
    assert fs.exists(DROP_IN) and fs.live("net.ipv4.tcp_ecn") == "1"
    fs.writes = []
    result = absent(fs, tc, restore=True)
    assert result == checked
    assert fs.proc_writes() == [("/proc/sys/net/ipv4/tcp_ecn", "2"),
                                ("/proc/sys/net/ipv4/tcp_rmem", "4096 131072 6291456")]
    assert result["settings"]["net.core.rmem_max"]["changed"] is False
    assert snapshot(fs) == original
    again = absent(fs, tc, restore=True)
    assert again["changed"] is False and again["warnings"] == [
        "nothing to restore: there is no record %s of the values before drop-in %s" % (RECORD, NAME)]


def test_restore_skips_keys_that_are_gone(fs, tc):
    present(fs, tc, {"net.ipv4.conf.eth0/100.rp_filter": 1, "net.ipv4.tcp_ecn": 1})
    os.unlink(fs.path("/proc/sys/net/ipv4/conf/eth0.100/rp_filter"))
    result = absent(fs, tc, restore=True)
    assert result["warnings"] == ["not restored, no longer on this host: net.ipv4.conf.eth0/100.rp_filter"]
    assert fs.live("net.ipv4.tcp_ecn") == "2" and not fs.exists(RECORD)


def test_absent_that_cannot_remove_the_record_restores_everything(fs, tc):
    present(fs, tc, {"net.ipv4.tcp_ecn": 1})
    before = snapshot(fs)

    class Sticky(KernelFS):
        def unlink(self, path):
            if path == RECORD:
                raise HostFSError("removing", path, OSError(errno.EPERM, os.strerror(errno.EPERM)))
            super(Sticky, self).unlink(path)

    with pytest.raises(SysctlError, match="removing %s failed" % RECORD):
        absent(Sticky(fs.root), tc, restore=True)
    assert snapshot(fs) == before


def test_unreadable_record_is_named(fs, tc):
    present(fs, tc, {"net.ipv4.tcp_ecn": 1})
    with open(fs.path(RECORD), "w") as handle:
        handle.write("{not json")
    with pytest.raises(SysctlError, match="the record %s cannot be read" % RECORD):
        absent(fs, tc, restore=True)


# -- the default qdisc ---------------------------------------------------------------------

def test_reapplies_the_default_qdisc_on_multi_and_single_queue_interfaces(fs, tc):
    result = present(fs, tc, {"net.core.default_qdisc": "fq_codel"}, reapply_qdisc_interfaces=["ens1f0", "ens2", "lo"])
    assert result["qdisc"] == [
        {"interface": "ens1f0", "before": "mq (pfifo_fast)", "after": "mq (fq_codel)", "action": "reapplied",
         "changed": True, "reason": "qdiscs attached before net.core.default_qdisc was fq_codel"},
        {"interface": "ens2", "before": "pfifo_fast", "after": "fq_codel", "action": "reapplied",
         "changed": True, "reason": "qdisc attached before net.core.default_qdisc was fq_codel"},
        {"interface": "lo", "before": "noqueue", "after": "noqueue", "action": "unchanged", "changed": False,
         "reason": "the interface has no queue (noqueue); net.core.default_qdisc does not apply"},
    ]
    assert tc.changes() == [
        ["tc", "qdisc", "replace", "dev", "ens1f0", "root", "handle", "1:", "pfifo"],
        ["tc", "qdisc", "del", "dev", "ens1f0", "root"],
        ["tc", "qdisc", "replace", "dev", "ens2", "root", "handle", "1:", "pfifo"],
        ["tc", "qdisc", "del", "dev", "ens2", "root"],
    ]
    assert [q["kind"] for q in tc.qdiscs["ens1f0"]] == ["mq"] + ["fq_codel"] * 4
    assert "reapply the default qdisc on ens2 (pfifo_fast -> fq_codel)" in result["actions"][-1]
    tc.calls = []
    again = present(fs, tc, {"net.core.default_qdisc": "fq_codel"}, reapply_qdisc_interfaces=["ens1f0", "ens2"])
    assert again["changed"] is False and tc.changes() == []
    assert [entry["reason"] for entry in again["qdisc"]] == ["already the default"] * 2


def test_check_mode_only_reads_qdiscs(fs, tc):
    result = present(fs, tc, {"net.core.default_qdisc": "fq_codel"}, check_mode=True,
                     reapply_qdisc_interfaces=["ens1f0"])
    assert result["qdisc"][0]["after"] == "mq (fq_codel)" and result["qdisc"][0]["changed"] is True
    assert tc.changes() == [] and fs.writes == []
    assert all(call[:4] == ["tc", "-json", "qdisc", "show"] for call in tc.calls)


def test_explicitly_configured_qdiscs_are_kept(fs, tc):
    tc.qdiscs["ens2"] = [{"kind": "htb", "handle": "1:", "root": True, "options": {}},
                         {"kind": "ingress", "handle": "ffff:", "parent": "ffff:fff1", "options": {}}]
    tc.qdiscs["ens1f0"][2]["handle"] = "8002:"  # one child replaced by hand
    result = present(fs, tc, {"net.core.default_qdisc": "fq"}, reapply_qdisc_interfaces=["ens2", "ens1f0"])
    assert [(e["interface"], e["before"], e["action"]) for e in result["qdisc"]] == [
        ("ens2", "htb", "kept"), ("ens1f0", "mq (pfifo_fast)", "kept")]
    assert tc.changes() == []


def test_an_interface_not_up_yet_is_left_to_the_kernel(fs, tc):
    tc.qdiscs["ens2"] = [{"kind": "noop", "handle": "0:", "root": True, "options": {}}]
    result = present(fs, tc, {"net.core.default_qdisc": "fq"}, reapply_qdisc_interfaces=["ens2"])
    assert result["qdisc"][0]["action"] == "unchanged" and tc.changes() == []


def test_missing_interfaces_are_named_and_nothing_is_written(fs, tc):
    before = snapshot(fs)
    with pytest.raises(SysctlError) as info:
        present(fs, tc, {"net.core.default_qdisc": "fq_codel"}, reapply_qdisc_interfaces=["ens1f0", "eth7", "eth8"])
    assert "eth7, eth8" in str(info.value) and "ens1f0" not in str(info.value)
    assert fs.writes == [] and snapshot(fs) == before and tc.calls == []


def test_bad_interface_names_are_refused(fs, tc):
    with pytest.raises(SysctlError, match="is not a network interface name"):
        present(fs, tc, {"net.core.default_qdisc": "fq_codel"}, reapply_qdisc_interfaces=["../../etc"])


def test_reapplying_without_setting_the_default_qdisc_is_refused(fs, tc):
    with pytest.raises(SysctlError, match="pointless here: the drop-in does not set net.core.default_qdisc"):
        present(fs, tc, TUNING, reapply_qdisc_interfaces=["ens2"])
    with pytest.raises(SysctlError, match="pointless here: with state=absent it needs restore=true"):
        absent(fs, tc, reapply_qdisc_interfaces=["ens2"])
    assert fs.writes == [] and tc.calls == []


def test_absent_with_restore_reapplies_the_restored_default(fs, tc):
    present(fs, tc, {"net.core.default_qdisc": "fq_codel"}, reapply_qdisc_interfaces=["ens2"])
    result = absent(fs, tc, restore=True, reapply_qdisc_interfaces=["ens2"])
    assert fs.live("net.core.default_qdisc") == "pfifo_fast"
    assert result["qdisc"][0]["before"] == "fq_codel" and result["qdisc"][0]["after"] == "pfifo_fast"


def test_a_failing_tc_says_the_settings_were_applied(fs, tc):
    def broken(args, check=True, data=None):
        if args[2] == "replace":
            raise CommandError(args, 2, "", "Error: Specified qdisc kind is unknown.")
        return FakeTc.run(tc, args, check, data)

    tc.run = broken
    with pytest.raises(SysctlError) as info:
        present(fs, tc, {"net.core.default_qdisc": "fq_codel"}, reapply_qdisc_interfaces=["ens2"])
    assert "were applied, but reapplying the default qdisc on ens2 failed" in str(info.value)
    assert fs.live("net.core.default_qdisc") == "fq_codel" and fs.exists(DROP_IN)
