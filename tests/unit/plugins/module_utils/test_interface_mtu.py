# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""interface_mtu over a fake /sys/class/net and /etc, with fake ip, systemctl, nmcli and networkctl."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import stat

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.interface_mtu import MtuError, apply

LAB = """\
auto eth1
iface eth1 inet static
    address 10.90.1.11/24
iface eth1 inet6 static
    address fd00:90:1::11/64
    dad-attempts 0

auto eth2
iface eth2 inet static
    address 10.90.2.11/24
"""

LAB_9000 = """\
auto eth1
iface eth1 inet static
    mtu 9000
    address 10.90.1.11/24
iface eth1 inet6 static
    mtu 9000
    address fd00:90:1::11/64
    dad-attempts 0

auto eth2
iface eth2 inet static
    mtu 9000
    address 10.90.2.11/24
"""

LOOKED_AT = ("looked at: NetworkManager, systemd-networkd, ifupdown /etc/network/interfaces and the files it "
             "sources")


class FakeRunner:
    """Answers commands from ``responses`` {argv prefix: (rc, out, err) or callable}, the longest prefix first,
    and plays ip over ``links`` {name: {mtu, min_mtu, max_mtu}}; records every call."""

    def __init__(self, links, addresses=None, responses=None):
        self.links = links
        self.addresses = addresses or {}
        self.responses = dict(responses or {})
        self.calls = []

    def run(self, args, check=True, data=None):
        args = [str(arg) for arg in args]
        self.calls.append(args)
        rc, out, err = self.answer(args)
        if check and rc != 0:
            raise CommandError(args, rc, out, err)
        return rc, out, err

    def answer(self, args):
        for prefix in sorted(self.responses, key=len, reverse=True):
            if tuple(args[:len(prefix)]) == prefix:
                response = self.responses[prefix]
                return response(args) if callable(response) else response
        if args == ["ip", "-d", "-j", "link", "show"]:
            return 0, json.dumps([dict(link, ifname=name) for name, link in sorted(self.links.items())]), ""
        if args == ["ip", "-j", "addr", "show"]:
            return 0, json.dumps([{"ifname": name, "addr_info": self.addresses.get(name, [])}
                                  for name in sorted(self.links)]), ""
        if args[:4] == ["ip", "link", "set", "dev"] and args[5] == "mtu":
            self.links[args[4]]["mtu"] = int(args[6])
            return 0, "", ""
        if args[:2] == ["systemctl", "is-active"]:
            return 3, "inactive\n", ""
        raise AssertionError("unexpected command %r" % (args,))

    def changes(self):
        return [call for call in self.calls
                if call[:3] == ["ip", "link", "set"] or call[:3] == ["nmcli", "connection", "modify"]]


class RecordingFS(HostFS):
    """A HostFS that records the files it writes and refuses those in ``fail_files`` (EROFS)."""

    def __init__(self, root):
        super(RecordingFS, self).__init__(root)
        self.written = []
        self.fail_files = set()

    def write_file_atomic(self, path, content, mode=0o644):
        if path in self.fail_files:
            raise HostFSError("writing", path, OSError(errno.EROFS, os.strerror(errno.EROFS)))
        self.written.append(path)
        super(RecordingFS, self).write_file_atomic(path, content, mode)


def put(fs, path, text, mode=0o644):
    real = fs.path(path)
    if not os.path.isdir(os.path.dirname(real)):
        os.makedirs(os.path.dirname(real))
    with open(real, "w") as handle:
        handle.write(text)
    os.chmod(real, mode)


def get(fs, path):
    with open(fs.path(path)) as handle:
        return handle.read()


def snapshot(fs):
    """Every file and directory under the fake root with its content and mode."""
    tree = {}
    for directory, dirs, names in os.walk(fs.root):
        for name in dirs:
            tree[os.path.relpath(os.path.join(directory, name), fs.root)] = "dir"
        for name in names:
            real = os.path.join(directory, name)
            with open(real) as handle:
                tree[os.path.relpath(real, fs.root)] = (handle.read(), stat.S_IMODE(os.stat(real).st_mode))
    return tree


def link(mtu=1500, max_mtu=9000):
    return {"mtu": mtu, "min_mtu": 68, "max_mtu": max_mtu}


ADDRESSES = {"eth1": [
    {"family": "inet6", "local": "fd00:90:1::11", "prefixlen": 64, "scope": "global"},
    {"family": "inet6", "local": "fe80::1", "prefixlen": 64, "scope": "link"},
    {"family": "inet", "local": "10.90.1.11", "prefixlen": 24, "scope": "global"},
]}


@pytest.fixture
def fs(tmp_path):
    host = RecordingFS(str(tmp_path))
    for name in ("eth1", "eth2", "eth3", "lo"):
        os.makedirs(host.path("/sys/class/net/" + name))
    put(host, "/usr/bin/systemctl", "", 0o755)
    put(host, "/etc/network/interfaces", LAB)
    return host


@pytest.fixture
def ip():
    return FakeRunner({"eth1": link(), "eth2": link(), "eth3": link(), "lo": link(65536, 0)}, ADDRESSES)


def run(fs, runner, interfaces, check_mode=False, **options):
    params = {"interfaces": [{"name": name, "mtu": mtu} for name, mtu in interfaces], "persist": True,
              "backend": "auto"}
    params.update(options)
    return apply(fs, runner, params, check_mode=check_mode)


def refused(fs, runner, interfaces, **options):
    before = snapshot(fs)
    with pytest.raises(MtuError) as info:
        run(fs, runner, interfaces, **options)
    assert runner.changes() == [] and snapshot(fs) == before
    return str(info.value)


# -- ifupdown ---------------------------------------------------------------------------------

def test_lab_file_gets_the_mtu_in_every_stanza_and_live(fs, ip):
    result = run(fs, ip, [("eth1", 9000), ("eth2", 9000)])
    assert get(fs, "/etc/network/interfaces") == LAB_9000
    assert fs.written == ["/etc/network/interfaces"]
    assert ip.changes() == [["ip", "link", "set", "dev", "eth1", "mtu", "9000"],
                            ["ip", "link", "set", "dev", "eth2", "mtu", "9000"]]
    assert result["changed"] is True
    assert result["interfaces"] == [
        {"name": "eth1", "mtu": 9000, "before": 1500, "after": 9000, "changed": True, "backend": "ifupdown",
         "config": "/etc/network/interfaces", "addresses": ["10.90.1.11/24", "fd00:90:1::11/64"]},
        {"name": "eth2", "mtu": 9000, "before": 1500, "after": 9000, "changed": True, "backend": "ifupdown",
         "config": "/etc/network/interfaces", "addresses": []},
    ]
    assert result["actions"] == [
        "set the MTU of eth1 from 1500 to 9000 (ip link set dev eth1 mtu 9000)",
        "set the MTU of eth2 from 1500 to 9000 (ip link set dev eth2 mtu 9000)",
        "write /etc/network/interfaces (mtu 9000 for eth1, mtu 9000 for eth2)",
    ]
    assert result["diff"] == [
        {"before_header": "/etc/network/interfaces", "after_header": "/etc/network/interfaces",
         "before": LAB, "after": LAB_9000},
        {"before_header": "MTU (live)", "after_header": "MTU (live)",
         "before": {"eth1": 1500, "eth2": 1500}, "after": {"eth1": 9000, "eth2": 9000}},
    ]


def test_second_run_changes_nothing(fs, ip):
    run(fs, ip, [("eth1", 9000), ("eth2", 9000)])
    before = snapshot(fs)
    fs.written, ip.calls = [], []
    result = run(fs, ip, [("eth1", 9000), ("eth2", 9000)])
    assert result["changed"] is False and result["actions"] == []
    assert not any(entry["changed"] for entry in result["interfaces"])
    assert fs.written == [] and ip.changes() == [] and snapshot(fs) == before


def test_check_mode_computes_everything_and_changes_nothing(fs, ip):
    before = snapshot(fs)
    checked = run(fs, ip, [("eth1", 9000), ("eth2", 9000)], check_mode=True)
    assert snapshot(fs) == before and fs.written == [] and ip.changes() == []
    assert checked == run(fs, ip, [("eth1", 9000), ("eth2", 9000)])


def test_source_directory_and_source_are_followed(fs, ip):
    put(fs, "/etc/network/interfaces", "auto lo\niface lo inet loopback\n\nsource-directory interfaces.d\n")
    put(fs, "/etc/network/interfaces.d/eth1", "iface eth1 inet static\n\taddress 10.90.1.11/24\n"
                                              "source /etc/network/more/*.cfg\nsource /etc/network/interfaces\n")
    put(fs, "/etc/network/interfaces.d/eth2.dpkg-old", "iface eth2 inet static\n")
    put(fs, "/etc/network/more/eth2.cfg", "iface eth2 inet manual\n")
    result = run(fs, ip, [("eth1", 9000), ("eth2", 9000)])
    assert get(fs, "/etc/network/interfaces.d/eth1") == (
        "iface eth1 inet static\n\tmtu 9000\n\taddress 10.90.1.11/24\n"
        "source /etc/network/more/*.cfg\nsource /etc/network/interfaces\n")
    assert get(fs, "/etc/network/more/eth2.cfg") == "iface eth2 inet manual\n    mtu 9000\n"
    assert get(fs, "/etc/network/interfaces.d/eth2.dpkg-old") == "iface eth2 inet static\n"
    assert [entry["config"] for entry in result["interfaces"]] == [
        "/etc/network/interfaces.d/eth1", "/etc/network/more/eth2.cfg"]


def test_existing_mtu_line_is_replaced_and_the_mode_kept(fs, ip):
    text = "# storage\niface eth1 inet static\n  address 10.90.1.11/24\n  mtu 1500\n\n  gateway 10.90.1.1\n"
    put(fs, "/etc/network/interfaces", text, 0o600)
    run(fs, ip, [("eth1", 9000)])
    assert get(fs, "/etc/network/interfaces") == text.replace("mtu 1500", "mtu 9000")
    assert stat.S_IMODE(os.stat(fs.path("/etc/network/interfaces")).st_mode) == 0o600


def test_dhcp_stanza_gets_a_post_up_command_which_is_then_kept_up_to_date(fs, ip):
    put(fs, "/etc/network/interfaces", "allow-hotplug eth3\niface eth3 inet dhcp\niface eth3 inet6 auto\n")
    run(fs, ip, [("eth3", 9000)])
    assert get(fs, "/etc/network/interfaces") == (
        "allow-hotplug eth3\n"
        "iface eth3 inet dhcp\n    post-up ip link set dev eth3 mtu 9000\n"
        "iface eth3 inet6 auto\n    post-up ip link set dev eth3 mtu 9000\n")
    result = run(fs, ip, [("eth3", 4000)])
    assert get(fs, "/etc/network/interfaces").count("post-up ip link set dev eth3 mtu 4000\n") == 2
    assert "post-up ip link set dev eth3 mtu 9000" not in result["diff"][0]["after"]


# -- refusals -----------------------------------------------------------------------------------

def test_unknown_interface_is_named_and_nothing_changed(fs, ip):
    message = refused(fs, ip, [("eth1", 9000), ("eth9", 9000)])
    assert message.startswith("invalid interfaces, nothing was changed: ")
    assert "interfaces[1].name: no network interface eth9 on this host" in message
    assert "eth1" not in message


def test_mtu_out_of_range(fs, ip):
    message = refused(fs, ip, [("eth1", 67), ("eth2", 65536)])
    assert "interfaces[0].mtu: 67 for eth1 is not an MTU (68 to 65535)" in message
    assert "interfaces[1].mtu: 65536 for eth2 is not an MTU (68 to 65535)" in message


def test_device_limits(fs, ip):
    ip.links["eth2"]["min_mtu"] = 1280
    message = refused(fs, ip, [("eth1", 9216), ("eth2", 1000), ("lo", 65535)])
    assert "interfaces[0].mtu: 9216 is above the maximum MTU of eth1 (9000)" in message
    assert "interfaces[1].mtu: 1000 is below the minimum MTU of eth2 (1280)" in message
    assert "interfaces[2].mtu" not in message  # max_mtu 0 is no limit


def test_every_problem_is_named_at_once(fs, ip):
    message = refused(fs, ip, [("eth1", 9000), ("eth/1", 9000), ("eth1", 9000), ("eth2", "big"), ("eth3", 9000)])
    assert "interfaces[1].name: 'eth/1' is not a network interface name" in message
    assert "interfaces[2].name: eth1 is listed more than once" in message
    assert "interfaces[3].mtu: 'big' for eth2 is not an MTU" in message
    assert "interfaces[4].name: no network configuration on this host sets up eth3 (%s)" % LOOKED_AT in message


def test_interface_no_configuration_sets_up_is_refused_with_persist(fs, ip):
    message = refused(fs, ip, [("eth3", 9000)])
    assert message.endswith(
        "interfaces[0].name: no network configuration on this host sets up eth3 (%s): its MTU would not survive "
        "a reboot; configure the interface first, or set persist=false" % LOOKED_AT)


def test_persist_false_sets_the_mtu_live_only(fs, ip):
    before = snapshot(fs)
    result = run(fs, ip, [("eth3", 9000), ("eth1", 1500)], persist=False)
    assert snapshot(fs) == before
    assert ip.changes() == [["ip", "link", "set", "dev", "eth3", "mtu", "9000"]]
    assert [(e["name"], e["changed"], e["backend"], e["config"]) for e in result["interfaces"]] == [
        ("eth3", True, "none", None), ("eth1", False, "none", None)]
    assert not any(call[0] in ("systemctl", "nmcli", "networkctl") for call in ip.calls)


def test_explicit_backend_must_configure_the_interface(fs, ip):
    message = refused(fs, ip, [("eth1", 9000)], backend="networkd")
    assert "interfaces[0].name: backend=networkd: systemd-networkd is not running on this host" in message


# -- live order and rollback ----------------------------------------------------------------------

def test_vlan_mtu_is_raised_after_and_lowered_before_its_parent(fs, ip):
    os.makedirs(fs.path("/sys/class/net/eth1.100"))
    os.symlink(fs.path("/sys/class/net/eth1"), fs.path("/sys/class/net/eth1.100/lower_eth1"))
    put(fs, "/etc/network/interfaces", LAB + "iface eth1.100 inet manual\n")
    ip.links["eth1.100"] = link()
    run(fs, ip, [("eth1.100", 9000), ("eth1", 9000)])
    assert [call[4] for call in ip.changes()] == ["eth1", "eth1.100"]
    ip.calls = []
    run(fs, ip, [("eth1", 1500), ("eth1.100", 1500)])
    assert [call[4] for call in ip.changes()] == ["eth1.100", "eth1"]


def test_a_refused_mtu_sets_back_the_interfaces_already_changed(fs, ip):
    ip.responses[("ip", "link", "set", "dev", "eth2")] = (2, "", "Error: mtu greater than device maximum.")
    before = snapshot(fs)
    with pytest.raises(MtuError) as info:
        run(fs, ip, [("eth1", 9000), ("eth2", 9000)])
    assert str(info.value) == (
        "setting the MTU of eth2 to 9000 failed: command 'ip link set dev eth2 mtu 9000' failed with exit code 2: "
        "Error: mtu greater than device maximum. Taken back, newest first: MTU of eth1 set back to 1500.")
    assert ip.changes()[-1] == ["ip", "link", "set", "dev", "eth1", "mtu", "1500"]
    assert ip.links["eth1"]["mtu"] == 1500 and snapshot(fs) == before


def test_a_file_that_cannot_be_written_restores_files_and_live_mtus(fs, ip):
    put(fs, "/etc/network/interfaces", "source-directory /etc/network/interfaces.d\n")
    put(fs, "/etc/network/interfaces.d/a", "iface eth1 inet static\n    address 10.90.1.11/24")
    put(fs, "/etc/network/interfaces.d/b", "iface eth2 inet static\n")
    fs.fail_files.add("/etc/network/interfaces.d/b")
    before = snapshot(fs)
    with pytest.raises(MtuError) as info:
        run(fs, ip, [("eth1", 9000), ("eth2", 9000)])
    assert str(info.value).startswith("writing /etc/network/interfaces.d/b failed: ")
    assert str(info.value).endswith(
        "Taken back, newest first: restored /etc/network/interfaces.d/a; MTU of eth2 set back to 1500; MTU of eth1 set back to 1500.")
    assert snapshot(fs) == before
    assert ip.links["eth1"]["mtu"] == 1500 and ip.links["eth2"]["mtu"] == 1500


def test_what_could_not_be_undone_is_said(fs, ip):
    def stuck(args):
        return (2, "", "Error: busy.") if args[-1] == "1500" else (0, "", "")
    ip.responses[("ip", "link", "set", "dev", "eth1")] = stuck
    fs.fail_files.add("/etc/network/interfaces")
    with pytest.raises(MtuError) as info:
        run(fs, ip, [("eth1", 9000)])
    assert str(info.value).endswith(
        "Read-only file system (EROFS). Taken back, newest first: nothing. Left as it is now: MTU of eth1 set back to 1500 "
        "(command 'ip link set dev eth1 mtu 1500' failed with exit code 2: Error: busy.).")


# -- systemd-networkd -------------------------------------------------------------------------------

def networkd(ip, files):
    def status(args):
        network = files.get(args[2])
        return 0, "● 3: %s\n         Link File: /usr/lib/systemd/network/99-default.link\n" \
                  "      Network File: %s\n             State: routable (configured)\n" % (
                      args[2], network or "n/a"), ""
    ip.responses[("systemctl", "is-active", "systemd-networkd")] = (0, "active\n", "")
    ip.responses[("networkctl", "status")] = status


def test_networkd_gets_a_drop_in(fs, ip):
    networkd(ip, {"eth1": "/run/systemd/network/10-netplan-eth1.network", "eth2": "/etc/systemd/network/eth2.network"})
    os.remove(fs.path("/etc/network/interfaces"))
    result = run(fs, ip, [("eth1", 9000), ("eth2", 9000)])
    drop_in = "/etc/systemd/network/10-netplan-eth1.network.d/90-nvmeof-fleet-mtu.conf"
    assert get(fs, drop_in) == (
        "# Managed by Ansible (nvmeof.fleet.interface_mtu); changes made here are overwritten.\n"
        "# systemd-networkd applies it to every interface that 10-netplan-eth1.network configures.\n"
        "[Link]\nMTUBytes=9000\n")
    assert stat.S_IMODE(os.stat(fs.path(drop_in)).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(fs.path(os.path.dirname(drop_in))).st_mode) == 0o755
    assert [(e["backend"], e["config"]) for e in result["interfaces"]] == [
        ("networkd", drop_in), ("networkd", "/etc/systemd/network/eth2.network.d/90-nvmeof-fleet-mtu.conf")]
    assert "write %s (MTUBytes=9000 for 10-netplan-eth1.network)" % drop_in in result["actions"]
    assert run(fs, ip, [("eth1", 9000), ("eth2", 9000)])["changed"] is False


def test_networkd_unmanaged_interface_falls_back_to_ifupdown(fs, ip):
    networkd(ip, {"eth2": "/etc/systemd/network/eth2.network"})
    result = run(fs, ip, [("eth1", 9000), ("eth2", 9000)])
    assert [e["backend"] for e in result["interfaces"]] == ["ifupdown", "networkd"]
    assert get(fs, "/etc/network/interfaces") == LAB_9000.replace(
        "iface eth2 inet static\n    mtu 9000\n", "iface eth2 inet static\n")


def test_interfaces_sharing_a_network_file_cannot_differ(fs, ip):
    networkd(ip, {"eth1": "/etc/systemd/network/storage.network", "eth2": "/etc/systemd/network/storage.network"})
    message = refused(fs, ip, [("eth1", 9000), ("eth2", 4000)])
    assert "eth1 and eth2 share the systemd-networkd file storage.network" in message


def test_removed_drop_in_directory_on_rollback(fs, ip):
    networkd(ip, {"eth3": "/etc/systemd/network/eth3.network"})
    drop_in = "/etc/systemd/network/eth3.network.d/90-nvmeof-fleet-mtu.conf"
    fs.fail_files.add(drop_in)
    before = snapshot(fs)
    with pytest.raises(MtuError) as info:
        run(fs, ip, [("eth3", 9000)])
    assert "removed /etc/systemd/network/eth3.network.d" in str(info.value)
    assert snapshot(fs) == before


# -- NetworkManager ----------------------------------------------------------------------------------

class FakeNM:
    """nmcli over {device: (state, connection)} and {connection: {field: value}}."""

    def __init__(self, ip, devices, connections, fail=()):
        self.devices = devices
        self.connections = connections
        self.fail = set(fail)
        ip.responses[("systemctl", "is-active", "NetworkManager")] = (0, "active\n", "")
        ip.responses[("nmcli", "-t", "-g", "GENERAL.STATE,GENERAL.CONNECTION", "device", "show")] = self.device
        ip.responses[("nmcli", "-t", "-g")] = self.get
        ip.responses[("nmcli", "connection", "modify")] = self.modify

    def device(self, args):
        if args[-1] not in self.devices:
            return 10, "", "Error: Device '%s' not found.\n" % args[-1]
        state, connection = self.devices[args[-1]]
        return 0, "%s\n%s\n" % (state, connection.replace(":", "\\:")), ""

    def get(self, args):
        return 0, self.connections[args[-1]].get(args[3], "") + "\n", ""

    def modify(self, args):
        if args[3] in self.fail:
            return 4, "", "Error: Failed to modify connection '%s'." % args[3]
        self.connections[args[3]][args[4]] = args[5]
        return 0, "", ""


@pytest.fixture
def nm(fs, ip):
    put(fs, "/usr/bin/nmcli", "", 0o755)
    return FakeNM(ip, {"eth1": ("100 (connected)", "storage: a"), "eth2": ("100 (connected)", "storage-b"),
                       "eth3": ("10 (unmanaged)", ""), "lo": ("100 (connected (externally))", "lo")},
                  {"storage: a": {"connection.type": "802-3-ethernet", "802-3-ethernet.mtu": "auto"},
                   "storage-b": {"connection.type": "vlan", "802-3-ethernet.mtu": "1500"},
                   "ib0": {"connection.type": "infiniband", "infiniband.mtu": "auto"},
                   "lo": {"connection.type": "loopback"}})


def test_networkmanager_connections_are_modified(fs, ip, nm):
    result = run(fs, ip, [("eth1", 9000), ("eth2", 9000)])
    assert ip.changes()[2:] == [["nmcli", "connection", "modify", "storage: a", "802-3-ethernet.mtu", "9000"],
                                ["nmcli", "connection", "modify", "storage-b", "802-3-ethernet.mtu", "9000"]]
    assert [(e["backend"], e["config"]) for e in result["interfaces"]] == [
        ("networkmanager", "storage: a"), ("networkmanager", "storage-b")]
    assert get(fs, "/etc/network/interfaces") == LAB
    assert "nmcli connection modify 'storage: a' 802-3-ethernet.mtu 9000 (was auto)" in result["actions"]
    ip.calls = []
    assert run(fs, ip, [("eth1", 9000), ("eth2", 9000)])["changed"] is False and ip.changes() == []


def test_networkmanager_failure_undoes_connections_and_live_mtus(fs, ip, nm):
    nm.fail.add("storage-b")
    with pytest.raises(MtuError) as info:
        run(fs, ip, [("eth1", 9000), ("eth2", 9000)])
    assert str(info.value).startswith("modifying NetworkManager connection 'storage-b' failed: ")
    assert "Taken back, newest first: NetworkManager connection 'storage: a' 802-3-ethernet.mtu set back to auto; " in str(info.value)
    assert nm.connections["storage: a"]["802-3-ethernet.mtu"] == "auto"
    assert ip.links["eth1"]["mtu"] == 1500 and ip.links["eth2"]["mtu"] == 1500


def test_networkmanager_infiniband_and_unsupported_types(fs, ip, nm):
    os.makedirs(fs.path("/sys/class/net/ib0"))
    ip.links["ib0"] = link(2044, 4092)
    nm.devices["ib0"] = ("100 (connected)", "ib0")
    result = run(fs, ip, [("ib0", 4092)], check_mode=True)
    assert result["actions"][-1] == "nmcli connection modify 'ib0' infiniband.mtu 4092 (was auto)"
    message = refused(fs, ip, [("lo", 9000)])
    assert "lo is set up by NetworkManager connection 'lo' of type loopback" in message


def test_networkmanager_is_skipped_without_nmcli_and_on_unmanaged_devices(fs, ip, nm):
    put(fs, "/etc/network/interfaces", LAB + "iface eth3 inet manual\n")
    assert [e["backend"] for e in run(fs, ip, [("eth1", 9000), ("eth3", 9000)])["interfaces"]] == [
        "networkmanager", "ifupdown"]
    os.remove(fs.path("/usr/bin/nmcli"))
    assert [e["backend"] for e in run(fs, ip, [("eth1", 9000)])["interfaces"]] == ["ifupdown"]
