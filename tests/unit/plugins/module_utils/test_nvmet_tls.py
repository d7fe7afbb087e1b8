# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS listeners: refused with the reason where the kernel or the host cannot do it, set where it can."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_guards import GuardError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_reconcile import reconcile
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_spec import SpecError, normalize

from test_nvmet_reconcile import put_file as put  # same directory, on sys.path

DB = "nqn.2026-11.invalid.example:db"
LOGS = "nqn.2026-11.invalid.example:logs"
HOST = "nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"
RELEASE_6_12 = "6.12.95+deb12-amd64"
RELEASE_6_1 = "6.1.0-56-amd64"
NVME_KEYRING = "1b2c3d4e I--Q---     1 perm 3f010000     0     0 keyring   .nvme: empty\n"


class FakeHost:
    """`ip -json address show` and `systemctl is-active tlshd.service` of a target host."""

    def __init__(self, tlshd="inactive"):
        self.tlshd = tlshd
        self.calls = []

    def run(self, args, check=True, data=None):
        self.calls.append(args)
        if args == ["systemctl", "is-active", "tlshd.service"]:
            return (0 if self.tlshd == "active" else 3), self.tlshd + "\n", ""
        assert args == ["ip", "-json", "address", "show"]
        return 0, json.dumps([{"ifname": "eth1", "addr_info": [{"local": "10.90.1.11"}]}]), ""


def target(factory, kernel="6.12", config="CONFIG_NVME_TARGET_TCP_TLS=y\n", keys=NVME_KEYRING, tls_keyring=True):
    fs = factory(kernel=kernel, tls_keyring=tls_keyring)
    release = RELEASE_6_12 if kernel == "6.12" else RELEASE_6_1
    put(fs, "/proc/sys/kernel/osrelease", release + "\n")
    if config is not None:
        put(fs, "/boot/config-" + release, config)
    if keys is not None:
        put(fs, "/proc/keys", keys)
    put(fs, "/srv/db.img", "")
    put(fs, "/srv/logs.img", "")
    return fs


def declared(nqn=DB, tls=True, image="/srv/db.img"):
    return normalize({"nqn": nqn, "namespaces": [{"nsid": 1, "device_path": image}],
                      "listeners": [{"address": "10.90.1.11", "tls": tls}], "hosts": [{"nqn": HOST}]})


def test_tls_is_saved_only_when_asked():
    assert declared(tls=True)["listeners"][0]["tls"] is True
    assert "tls" not in declared(tls=False)["listeners"][0]
    with pytest.raises(SpecError) as error:
        normalize({"nqn": DB, "listeners": [{"address": "10.90.1.11", "tls": "yes"}]})
    assert str(error.value) == "listeners[0].tls: 'yes' is not a boolean"


def test_refused_on_a_kernel_without_target_tls(nvmet_configfs_factory):
    fs = target(nvmet_configfs_factory, kernel="6.1", config="# CONFIG_NVME_TARGET_TCP_TLS is not set\n")
    before = fs.snapshot()
    with pytest.raises(GuardError) as error:
        reconcile(fs, FakeHost(tlshd="active"), declared())
    assert str(error.value) == (
        "listeners[0].tls: true, but this kernel (%s) has no NVMe/TCP TLS on the target "
        "(CONFIG_NVME_TARGET_TCP_TLS, Linux 6.7 or later): Debian 12's 6.1 kernel has none, "
        "bookworm-backports 6.12 has it" % RELEASE_6_1)
    assert fs.snapshot() == before


def test_without_a_kernel_config_the_port_attributes_tell(nvmet_configfs_factory):
    fs = target(nvmet_configfs_factory, kernel="6.1", config=None)
    reconcile(fs, FakeHost(), declared(nqn=LOGS, tls=False, image="/srv/logs.img"))
    before = fs.snapshot()
    with pytest.raises(GuardError) as error:
        reconcile(fs, FakeHost(tlshd="active"), declared())
    assert "has no NVMe/TCP TLS on the target" in str(error.value)
    assert fs.snapshot() == before


def test_refused_without_the_nvme_keyring(nvmet_configfs_factory):
    fs = target(nvmet_configfs_factory, keys="2a3b4c5d I--Q---     1 perm 3f010000     0     0 keyring   _uid.0: empty\n")
    before = fs.snapshot()
    with pytest.raises(GuardError) as error:
        reconcile(fs, FakeHost(tlshd="active"), declared())
    assert str(error.value).startswith("listeners[0].tls: true, but the kernel's .nvme keyring does not exist")
    assert fs.snapshot() == before


def test_refused_without_the_handshake_daemon(nvmet_configfs_factory):
    fs = target(nvmet_configfs_factory)
    before = fs.snapshot()
    with pytest.raises(GuardError) as error:
        reconcile(fs, FakeHost(tlshd="inactive"), declared())
    assert str(error.value) == (
        "listeners[0].tls: true, but the TLS handshake daemon tlshd (ktls-utils) is not running "
        "(tlshd.service: inactive); the kernel hands every NVMe/TCP TLS handshake to it. Install ktls-utils "
        "(Debian 12 has no package of it) and start tlshd.service")
    assert fs.snapshot() == before


def test_check_mode_reports_the_same_refusal(nvmet_configfs_factory):
    fs = target(nvmet_configfs_factory)
    with pytest.raises(GuardError):
        reconcile(fs, FakeHost(tlshd="inactive"), declared(), check_mode=True)


def test_sets_tls_then_nothing_to_do(nvmet_configfs_factory):
    fs = target(nvmet_configfs_factory)
    result = reconcile(fs, FakeHost(tlshd="active"), declared())
    assert result["changed"] and result["after"]["listeners"][0]["tls"] is True
    port = fs.path("/sys/kernel/config/nvmet/ports/1")
    with open(port + "/addr_tsas") as handle:
        assert handle.read() == "tls1.3\n"
    with open(port + "/addr_treq") as handle:
        assert handle.read() == "required\n"
    assert result["actions"].index("write 'tcp' to /sys/kernel/config/nvmet/ports/1/addr_trtype") \
        < result["actions"].index("write 'tls1.3' to /sys/kernel/config/nvmet/ports/1/addr_tsas")
    again = reconcile(fs, FakeHost(tlshd="active"), declared())
    assert not again["changed"] and again["actions"] == []


def test_plain_listener_needs_no_tls_support_and_is_left_none(nvmet_configfs_factory):
    host = FakeHost()
    fs = target(nvmet_configfs_factory, config="", keys="")
    result = reconcile(fs, host, declared(tls=False))
    assert result["changed"] and result["after"]["listeners"][0]["tls"] is False
    assert ["systemctl", "is-active", "tlshd.service"] not in host.calls
    assert not reconcile(fs, host, declared(tls=False))["changed"]


def test_turning_tls_off_rewrites_the_port(nvmet_configfs_factory):
    fs = target(nvmet_configfs_factory)
    reconcile(fs, FakeHost(tlshd="active"), declared())
    result = reconcile(fs, FakeHost(), declared(tls=False))
    assert "write 'none' to /sys/kernel/config/nvmet/ports/1/addr_tsas" in result["actions"]
    assert result["after"]["listeners"][0]["tls"] is False


def test_a_shared_port_has_one_tls_setting(nvmet_configfs_factory):
    fs = target(nvmet_configfs_factory)
    reconcile(fs, FakeHost(tlshd="active"), declared())
    before = fs.snapshot()
    with pytest.raises(GuardError) as error:
        reconcile(fs, FakeHost(tlshd="active"), declared(nqn=LOGS, tls=False, image="/srv/logs.img"))
    assert str(error.value) == (
        "listeners[0].tls: false, but nvmet port 1 (10.90.1.11 port 4420) also serves %s with TLS; every "
        "subsystem on one address and service id must declare the same tls" % DB)
    assert fs.snapshot() == before
