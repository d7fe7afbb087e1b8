# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module host_state: one read of packages, kernel modules, units, files and nvmet, changing nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.host_state import HostStateError
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.nvme_host import gather
from ansible_collections.nvmeof.fleet.plugins.modules.host_state import run

KEY = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"
DPKG = "nvme-cli installed\nethtool config-files\n"
SYSTEMCTL = ("Id=nftables.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\n"
             "Id=nothing.service\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\n")


class FakeCommands:
    def __init__(self):
        self.calls = []

    def run(self, args, check=True, data=None):
        self.calls.append(args)
        if args[0] == "dpkg-query":
            return 1, DPKG, "dpkg-query: no packages found matching fio\n"
        if args[0] == "systemctl":
            return 0, SYSTEMCTL, ""
        raise AssertionError("unexpected command %r" % (args,))


def params(**changes):
    base = {"packages": [], "kernel_modules": [], "units": [], "files": [], "directories": [], "cpus": False,
            "addresses": False, "nvmet": False, "nvme": []}
    base.update(changes)
    return base


def put(root, path, text, mode=0o644):
    real = os.path.join(str(root), path.lstrip("/"))
    if not os.path.isdir(os.path.dirname(real)):
        os.makedirs(os.path.dirname(real))
    with open(real, "w") as handle:
        handle.write(text)
    os.chmod(real, mode)


@pytest.fixture
def host(tmp_path):
    put(tmp_path, "/proc/sys/kernel/osrelease", "6.1.0-56-amd64\n")
    for name in ("nvmet_tcp", "nvmet"):  # loaded
        os.makedirs(os.path.join(str(tmp_path), "sys/module", name))
    put(tmp_path, "/lib/modules/6.1.0-56-amd64/modules.builtin", "kernel/drivers/nvme/host/nvme-core.ko\n")
    put(tmp_path, "/etc/modules-load.d/x.conf", "nvmet\n")
    put(tmp_path, "/usr/local/lib/x/a.py", "a = 1\n", mode=0o600)
    os.makedirs(os.path.join(str(tmp_path), "usr/local/lib/x/__pycache__"))
    return HostFS(str(tmp_path))


def test_one_read_of_every_concern(host):
    commands = FakeCommands()
    result = run(params(packages=["nvme-cli", "ethtool", "fio"], kernel_modules=["nvmet-tcp", "nvme-core", "nvme-tcp"],
                        units=["nftables.service", "nothing.service"],
                        files=["/etc/modules-load.d/x.conf", "/etc/none.conf", "/etc/modules-load.d"],
                        directories=["/usr/local/lib/x", "/usr/local/lib/none"]), host, commands)
    assert result["packages"] == {"nvme-cli": "installed", "ethtool": "config-files", "fio": "not-installed"}
    assert result["kernel_modules"] == {"nvmet-tcp": True, "nvme-core": True, "nvme-tcp": False}
    assert result["units"]["nftables.service"]["UnitFileState"] == "enabled"
    assert result["units"]["nothing.service"]["LoadState"] == "not-found"
    expected = {"checksum": hashlib.sha1(b"nvmet\n").hexdigest(), "mode": "0644",
                "uid": os.getuid(), "gid": os.getgid()}
    assert result["files"] == {"/etc/modules-load.d/x.conf": expected, "/etc/none.conf": None,
                               "/etc/modules-load.d": None}
    assert list(result["directories"]["/usr/local/lib/x"]) == ["a.py"]
    assert result["directories"]["/usr/local/lib/x"]["a.py"]["mode"] == "0600"
    assert result["directories"]["/usr/local/lib/none"] is None
    assert "nvmet" not in result
    assert [args[0] for args in commands.calls] == ["dpkg-query", "systemctl"]


def test_nvme_facts_as_nvme_info_gathers_them(host):
    nqn = "nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"
    put(host.root, "/etc/nvme/hostnqn", nqn + "\n")
    put(host.root, "/etc/nvme/hostid", "7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10\n")
    result = run(params(nvme=["host"]), host, FakeCommands())
    assert result["host"] == gather(host, ["host"])["host"]
    assert result["host"]["hostnqn"] == nqn and "initiator" not in result


def test_cpus_and_their_frequency_policies(host):
    put(host.root, "/sys/devices/system/cpu/online", "0-2,5\n")
    assert run(params(cpus=True), host, FakeCommands())["cpus"] == {"online": 4, "policies": {}}
    for name, governor in (("policy0", "schedutil"), ("policy5", "performance")):
        put(host.root, "/sys/devices/system/cpu/cpufreq/%s/scaling_governor" % name, governor + "\n")
        put(host.root, "/sys/devices/system/cpu/cpufreq/%s/scaling_available_governors" % name, "performance schedutil \n")
    assert run(params(cpus=True), host, FakeCommands())["cpus"]["policies"] == {
        "policy0": {"governor": "schedutil", "available": ["performance", "schedutil"]},
        "policy5": {"governor": "performance", "available": ["performance", "schedutil"]}}


def test_addresses_as_ip_prints_them(host):
    commands = FakeCommands()
    commands.run = lambda args, check=True, data=None: (0, '[{"ifname": "eth1", "mtu": 9000}]', "")
    assert run(params(addresses=True), host, commands)["addresses"] == [{"ifname": "eth1", "mtu": 9000}]


def test_nothing_asked_runs_no_command(host):
    commands = FakeCommands()
    assert run(params(), host, commands) == {
        "packages": {}, "kernel_modules": {}, "units": {}, "files": {}, "directories": {}, "cpus": None,
        "addresses": None, "checks": {}, "changed": False}
    assert commands.calls == []


@pytest.mark.parametrize("change, message", [
    ({"packages": ["nvme-cli=2.3"]}, "packages[0]: 'nvme-cli=2.3' is not a Debian package name"),
    ({"packages": ["nvme*"]}, "packages[0]: 'nvme*' is not a Debian package name"),
    ({"kernel_modules": ["nvmet; reboot"]}, "kernel_modules[0]: 'nvmet; reboot' is not a kernel module name"),
    ({"units": ["nftables"]}, "units[0]: 'nftables' is not a systemd unit name with its type"),
    ({"units": ["--all.service"]}, "units[0]: '--all.service' is not a systemd unit name"),
    ({"files": ["etc/x"]}, "files[0]: 'etc/x' is not an absolute path"),
])
def test_a_name_no_reader_takes_is_refused_before_any_read(host, change, message):
    commands = FakeCommands()
    with pytest.raises(HostStateError) as raised:
        run(params(**change), host, commands)
    assert message in str(raised.value)
    assert commands.calls == []
