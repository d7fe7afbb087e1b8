# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fake nvmet configfs refuses what kernel 6.1/6.12 refuse, with the same errno."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import re

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError

N = "/sys/kernel/config/nvmet"
SUB = N + "/subsystems/nqn.2024-01.io.example:vol1"
NQN = "nqn.2024-01.io.example:vol1"
HOST = "nqn.2014-08.org.nvmexpress:uuid:host1"
KEY = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"


def refused(err, func, *args):
    """Runs func(*args), which must fail with HostFSError carrying errno ``err``."""
    with pytest.raises(HostFSError) as info:
        func(*args)
    assert info.value.errno == err, str(info.value)
    assert errno.errorcode[err] in str(info.value)
    return info.value


def tcp_port(fs, port="1", traddr="10.90.1.11", trsvcid="4420", adrfam="ipv4"):
    fs.make_dir("%s/ports/%s" % (N, port))
    for attr, value in (("addr_trtype", "tcp"), ("addr_adrfam", adrfam),
                        ("addr_traddr", traddr), ("addr_trsvcid", trsvcid)):
        fs.write("%s/ports/%s/%s" % (N, port, attr), value)


def export(fs, port="1", nqn=NQN):
    fs.link("%s/subsystems/%s" % (N, nqn), "%s/ports/%s/subsystems/%s" % (N, port, nqn))


@pytest.fixture
def fs(nvmet_configfs):
    nvmet_configfs.make_dir(SUB)
    return nvmet_configfs


@pytest.fixture
def namespace(fs):
    fs.make_dir(SUB + "/namespaces/1")
    fs.add_block_device("/dev/vg0/vol1")
    return SUB + "/namespaces/1"


# -- construction ------------------------------------------------------------------
def test_construction_loads_nvmet_only(nvmet_configfs, tmp_path):
    fs = nvmet_configfs
    assert fs.list_dir(N) == ["discovery_nqn", "hosts", "ports", "subsystems"]
    assert fs.read(N + "/discovery_nqn") == "nqn.2014-08.org.nvmexpress.discovery"
    assert fs.list_dir(N + "/subsystems") == []
    assert not fs.exists("/sys/kernel/config/target/core")
    assert fs.path(N) == str(tmp_path / "sys/kernel/config/nvmet")


@pytest.mark.parametrize("options, nvmet, lio", [
    ({}, True, False),
    ({"lio": True}, True, True),
    ({"nvmet_loaded": False}, False, False),
])
def test_construction_options(nvmet_configfs_factory, options, nvmet, lio):
    fs = nvmet_configfs_factory(**options)
    assert fs.is_dir("/sys/kernel/config")
    assert fs.is_dir(N + "/subsystems") is nvmet
    assert fs.is_dir("/sys/kernel/config/target/core") is lio
    if not nvmet:
        refused(errno.ENOENT, fs.make_dir, N + "/subsystems/" + NQN)
        refused(errno.EPERM, fs.make_dir, N)  # the configfs root has no mkdir
        fs.load_nvmet()
        fs.make_dir(N + "/subsystems/" + NQN)


def test_kernel_must_be_known(nvmet_configfs_factory):
    with pytest.raises(ValueError):
        nvmet_configfs_factory(kernel="5.10")


# -- subsystems ----------------------------------------------------------------------
@pytest.mark.parametrize("kernel, extra", [
    ("6.1", {}),
    ("6.12", {"attr_ieee_oui": "0x000000", "attr_firmware": "6.12.12+"}),
])
def test_subsystem_defaults(nvmet_configfs_factory, kernel, extra):
    fs = nvmet_configfs_factory(kernel=kernel)
    fs.make_dir(SUB)
    expected = {"attr_allow_any_host": "0", "attr_version": "1.3", "attr_cntlid_min": "1",
                "attr_cntlid_max": "65519", "attr_model": "Linux", "attr_qid_max": "128",
                "attr_pi_enable": "0"}
    expected.update(extra)
    entries = fs.list_dir(SUB)
    assert sorted(entries) == sorted(list(expected) + ["attr_serial", "allowed_hosts", "namespaces"])
    for attr, value in expected.items():
        assert fs.read(SUB + "/" + attr) == value, attr
    assert re.match(r"[0-9a-f]{20}\Z", fs.read(SUB + "/attr_serial"))
    assert fs.is_dir(SUB + "/namespaces") and fs.is_dir(SUB + "/allowed_hosts")


def test_serials_differ_and_seed_repeats(nvmet_configfs_factory):
    serials = []
    for seed in (1, 1, 2):
        fs = nvmet_configfs_factory(seed=seed)
        fs.make_dir(SUB)
        serials.append(fs.read(SUB + "/attr_serial"))
    assert serials[0] == serials[1] != serials[2]


@pytest.mark.parametrize("attr, value", [
    ("attr_serial", "SN0001"),
    ("attr_model", "fleet-model"),
    ("attr_version", "1.4"),
])
def test_identity_attributes_are_fixed_once_identified(fs, attr, value):
    fs.write(SUB + "/" + attr, value)
    assert fs.read(SUB + "/" + attr).rstrip() == value
    fs.identify(NQN)
    assert fs.is_discovered(NQN)
    refused(errno.EINVAL, fs.write, SUB + "/" + attr, value + "9")
    fs.write(SUB + "/attr_pi_enable", "1")  # not an identity attribute


@pytest.mark.parametrize("attr", ["attr_ieee_oui", "attr_firmware"])
def test_612_identity_attributes_are_fixed_too(nvmet_configfs_factory, attr):
    fs = nvmet_configfs_factory(kernel="6.12")
    fs.make_dir(SUB)
    fs.write(SUB + "/" + attr, "0x1")
    fs.identify(NQN)
    refused(errno.EINVAL, fs.write, SUB + "/" + attr, "0x2")


def test_serial_is_blank_padded_like_the_kernel(fs):
    fs.write(SUB + "/attr_serial", "SN0001\n")
    with open(fs.path(SUB + "/attr_serial")) as handle:
        assert handle.read() == "SN0001" + " " * 14 + "\n"


@pytest.mark.parametrize("attr, value, err", [
    ("attr_serial", "\n", errno.EINVAL),
    ("attr_serial", "x" * 21, errno.EINVAL),
    ("attr_serial", "caf\u00e9", errno.EINVAL),
    ("attr_model", "m" * 41, errno.EINVAL),
    ("attr_model", "tab\there", errno.EINVAL),
    ("attr_version", "2", errno.EINVAL),
    ("attr_allow_any_host", "2", errno.EINVAL),
    ("attr_qid_max", "0", errno.EINVAL),
    ("attr_qid_max", "129", errno.EINVAL),
    ("attr_cntlid_min", "0", errno.EINVAL),
    ("attr_cntlid_min", "65519", errno.EINVAL),  # 6.1: min must stay below max
    ("attr_cntlid_max", "abc", errno.EINVAL),
])
def test_subsystem_values_are_validated(fs, attr, value, err):
    before = fs.snapshot()
    refused(err, fs.write, SUB + "/" + attr, value)
    assert fs.snapshot() == before


@pytest.mark.parametrize("attr, value, shown", [
    ("attr_allow_any_host", "1\n", "1"),
    ("attr_allow_any_host", "Y", "1"),
    ("attr_version", "1.3.1", "1.3.1"),
    ("attr_version", "2.0.0", "2.0"),
    ("attr_qid_max", "8", "8"),
    ("attr_cntlid_max", "100", "100"),
    ("attr_model", "fleet target\n", "fleet target"),
])
def test_subsystem_values_are_shown_like_the_kernel(fs, attr, value, shown):
    fs.write(SUB + "/" + attr, value)
    assert fs.read(SUB + "/" + attr) == shown


def test_cntlid_min_may_equal_max_on_612(nvmet_configfs_factory):
    fs = nvmet_configfs_factory(kernel="6.12")
    fs.make_dir(SUB)
    fs.write(SUB + "/attr_cntlid_min", "65519")
    refused(errno.EINVAL, fs.write, SUB + "/attr_cntlid_max", "65518")


@pytest.mark.parametrize("name", [
    "nqn.2014-08.org.nvmexpress.discovery",
    "nqn.2024-01.io.example:discovery",  # the configured unique discovery NQN
])
def test_discovery_nqns_cannot_be_subsystems(nvmet_configfs, name):
    nvmet_configfs.write(N + "/discovery_nqn", "nqn.2024-01.io.example:discovery")
    refused(errno.EINVAL, nvmet_configfs.make_dir, N + "/subsystems/" + name)


def test_discovery_nqn_may_not_prefix_a_subsystem(fs):
    refused(errno.EINVAL, fs.write, N + "/discovery_nqn", "nqn.2024-01.io.example")
    fs.write(N + "/discovery_nqn", "nqn.2024-01.io.other:discovery\n")
    assert fs.read(N + "/discovery_nqn") == "nqn.2024-01.io.other:discovery"


# -- allowed hosts ----------------------------------------------------------------------
def test_allow_any_host_and_allowed_hosts_exclude_each_other(fs):
    fs.make_dir(N + "/hosts/" + HOST)
    fs.link(N + "/hosts/" + HOST, SUB + "/allowed_hosts/" + HOST)
    assert fs.read_link(SUB + "/allowed_hosts/" + HOST) == N + "/hosts/" + HOST
    assert os.readlink(fs.path(SUB + "/allowed_hosts/" + HOST)) == "../../../../nvmet/hosts/" + HOST
    refused(errno.EINVAL, fs.write, SUB + "/attr_allow_any_host", "1")
    fs.write(SUB + "/attr_allow_any_host", "0")  # clearing it is fine
    fs.unlink(SUB + "/allowed_hosts/" + HOST)
    fs.write(SUB + "/attr_allow_any_host", "1")
    refused(errno.EINVAL, fs.link, N + "/hosts/" + HOST, SUB + "/allowed_hosts/" + HOST)
    assert fs.list_dir(SUB + "/allowed_hosts") == []


@pytest.mark.parametrize("target, name, err", [
    (N + "/hosts/nqn.missing", "nqn.missing", errno.ENOENT),
    (SUB, "self", errno.EINVAL),                          # not a host item
    (N + "/hosts", "hosts", errno.EINVAL),                # the group, not an item
    (N + "/hosts/%s/dhchap_hash" % HOST, "x", errno.ENOTDIR),
    ("/etc", "etc", errno.EPERM),                         # outside configfs
    (N + "/hosts/" + HOST, HOST, errno.EEXIST),           # already linked
    (N + "/hosts/" + HOST, "other-name", errno.EEXIST),   # same host, other link name
])
def test_allowed_hosts_links_are_checked(fs, target, name, err):
    fs.make_dir(N + "/hosts/" + HOST)
    os.makedirs(fs.path("/etc"))
    fs.link(N + "/hosts/" + HOST, SUB + "/allowed_hosts/" + HOST)
    before = fs.snapshot()
    refused(err, fs.link, target, SUB + "/allowed_hosts/" + name)
    assert fs.snapshot() == before


@pytest.mark.parametrize("directory", [SUB + "/namespaces", SUB, N + "/hosts", N])
def test_links_elsewhere_are_eperm(fs, directory):
    fs.make_dir(N + "/hosts/" + HOST)
    refused(errno.EPERM, fs.link, N + "/hosts/" + HOST, directory + "/link")


# -- namespaces ---------------------------------------------------------------------------
@pytest.mark.parametrize("nsid, err", [
    ("0", errno.EINVAL), ("4294967295", errno.EINVAL), ("0xffffffff", errno.EINVAL),
    ("abc", errno.EINVAL), ("-1", errno.EINVAL), ("4294967296", errno.ERANGE),
    ("1", None), ("0x10", None), ("4294967294", None),
])
def test_namespace_ids(fs, nsid, err):
    path = SUB + "/namespaces/" + nsid
    if err is None:
        fs.make_dir(path)
        assert fs.is_dir(path)
    else:
        refused(err, fs.make_dir, path)
        assert not fs.exists(path)


def test_namespace_defaults(fs, namespace):
    assert fs.list_dir(namespace) == ["ana_grpid", "buffered_io", "device_nguid", "device_path",
                                      "device_uuid", "enable", "revalidate_size"]
    assert fs.read(namespace + "/device_path") == "(null)"  # NULL printed by %s
    assert fs.read(namespace + "/device_nguid") == "00000000-0000-0000-0000-000000000000"
    assert re.match(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z",
                    fs.read(namespace + "/device_uuid"))
    assert [fs.read(namespace + "/" + a) for a in ("ana_grpid", "enable", "buffered_io")] == ["1", "0", "0"]
    refused(errno.EACCES, fs.read, namespace + "/revalidate_size")  # write-only
    fs.make_dir(SUB + "/namespaces/2")
    assert fs.read(SUB + "/namespaces/2/device_uuid") != fs.read(namespace + "/device_uuid")


@pytest.mark.parametrize("attr, value, err", [
    ("device_path", "/dev/vg0/other", errno.EBUSY),
    ("device_uuid", "7d6a1e3c-5f0b-4d7e-9a3b-2c1d0e9f8a7b", errno.EBUSY),
    ("device_nguid", "7d6a1e3c-5f0b-4d7e-9a3b-2c1d0e9f8a7b", errno.EBUSY),
    ("buffered_io", "1", errno.EINVAL),  # EINVAL, not EBUSY: nvmet_ns_buffered_io_store()
    ("buffered_io", "bogus", errno.EINVAL),
    ("enable", "2", errno.EINVAL),
])
def test_enabled_namespace_refuses_changes(fs, namespace, attr, value, err):
    fs.write(namespace + "/device_path", "/dev/vg0/vol1")
    fs.write(namespace + "/enable", "1")
    before = fs.snapshot()
    refused(err, fs.write, namespace + "/" + attr, value)
    assert fs.snapshot() == before
    fs.write(namespace + "/enable", "0")
    if value != "bogus" and attr != "enable":
        fs.write(namespace + "/" + attr, value)


def test_enabled_namespace_takes_ana_group_and_revalidate(fs, namespace):
    fs.write(namespace + "/device_path", "/dev/vg0/vol1")
    refused(errno.EINVAL, fs.write, namespace + "/revalidate_size", "1")  # not enabled yet
    fs.write(namespace + "/enable", "1")
    fs.write(namespace + "/enable", "1")  # enabling twice is fine
    fs.write(namespace + "/ana_grpid", "7")
    fs.write(namespace + "/revalidate_size", "1")
    refused(errno.EINVAL, fs.write, namespace + "/revalidate_size", "0")
    assert fs.read(namespace + "/ana_grpid") == "7" and fs.read(namespace + "/enable") == "1"


@pytest.mark.parametrize("device, setup, err", [
    (None, None, errno.EINVAL),                  # device_path never set
    ("/dev/vg0/missing", None, errno.ENOENT),
    ("/srv/images", "dir", errno.EISDIR),
    ("/srv/images/vol.img", "file", None),       # file backend
    ("/dev/vg0/vol1", None, None),               # registered block device
])
def test_namespace_enable_needs_a_device(fs, namespace, device, setup, err):
    if setup:
        os.makedirs(fs.path("/srv/images"))
        if setup == "file":
            open(fs.path(device), "w").close()
    if device:
        fs.write(namespace + "/device_path", device + "\n")
        assert fs.read(namespace + "/device_path") == device
    if err is None:
        fs.write(namespace + "/enable", "1")
        assert fs.read(namespace + "/enable") == "1"
    else:
        refused(err, fs.write, namespace + "/enable", "1")
        assert fs.read(namespace + "/enable") == "0"


def test_block_devices_are_reported(nvmet_configfs_factory):
    fs = nvmet_configfs_factory(block_devices=["/dev/nvme0n1"])
    assert fs.is_block_device("/dev/nvme0n1")
    assert not fs.is_block_device("/dev/sdz")
    fs.add_block_device("/dev/vg0/vol1")
    assert fs.is_block_device("/dev/vg0/vol1")


@pytest.mark.parametrize("attr, value, result", [
    ("ana_grpid", "0", errno.EINVAL),
    ("ana_grpid", "129", errno.EINVAL),
    ("ana_grpid", "x", errno.EINVAL),
    ("ana_grpid", "99999999999", errno.ERANGE),
    ("ana_grpid", "128", "128"),
    ("device_uuid", "not-a-uuid", errno.EINVAL),
    ("device_uuid", "7D6A1E3C-5F0B-4D7E-9A3B-2C1D0E9F8A7B\n", "7d6a1e3c-5f0b-4d7e-9a3b-2c1d0e9f8a7b"),
    ("device_nguid", "0011223344", errno.EINVAL),
    ("device_nguid", "00112233445566778899AABBCCDDEEFF", "00112233-4455-6677-8899-aabbccddeeff"),
    ("device_nguid", "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff", "00112233-4455-6677-8899-aabbccddeeff"),
    ("device_path", "\n", errno.EINVAL),
    ("buffered_io", "on", "1"),
])
def test_namespace_values(fs, namespace, attr, value, result):
    if isinstance(result, int):
        refused(result, fs.write, namespace + "/" + attr, value)
    else:
        fs.write(namespace + "/" + attr, value)
        assert fs.read(namespace + "/" + attr) == result


# -- ports -------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel, attrs", [
    ("6.1", ["addr_adrfam", "addr_traddr", "addr_treq", "addr_trsvcid", "addr_trtype",
             "param_inline_data_size", "param_pi_enable"]),
    ("6.12", ["addr_adrfam", "addr_traddr", "addr_treq", "addr_trsvcid", "addr_trtype", "addr_tsas",
              "param_inline_data_size", "param_max_queue_size", "param_pi_enable"]),
])
def test_port_defaults(nvmet_configfs_factory, kernel, attrs):
    fs = nvmet_configfs_factory(kernel=kernel)
    fs.make_dir(N + "/ports/1")
    port = N + "/ports/1"
    assert fs.list_dir(port) == sorted(attrs + ["ana_groups", "referrals", "subsystems"])
    shown = dict((attr, fs.read(port + "/" + attr)) for attr in attrs)
    assert shown["addr_adrfam"] == shown["addr_trtype"] == shown["addr_traddr"] == ""
    assert shown["addr_treq"] == "not specified"
    assert shown["param_inline_data_size"] == "-1" and shown["param_pi_enable"] == "0"
    assert fs.list_dir(port + "/ana_groups") == ["1"]
    assert fs.read(port + "/ana_groups/1/ana_state") == "optimized"


@pytest.mark.parametrize("name, ok", [("1", True), ("65535", True), ("0x10", True),
                                      ("65536", False), ("port1", False), ("-1", False)])
def test_port_ids(nvmet_configfs, name, ok):
    if ok:
        nvmet_configfs.make_dir(N + "/ports/" + name)
    else:
        refused(errno.EINVAL, nvmet_configfs.make_dir, N + "/ports/" + name)


@pytest.mark.parametrize("attr, value", [
    ("addr_trtype", "loop"), ("addr_adrfam", "ipv6"), ("addr_traddr", "10.90.2.11"),
    ("addr_trsvcid", "4421"), ("addr_treq", "required"), ("param_inline_data_size", "8192"),
    ("param_pi_enable", "0"),
])
def test_linked_port_refuses_address_changes(fs, attr, value):
    tcp_port(fs)
    export(fs)
    before = fs.snapshot()
    refused(errno.EACCES, fs.write, N + "/ports/1/" + attr, value)
    assert fs.snapshot() == before
    fs.write(N + "/ports/1/ana_groups/1/ana_state", "non-optimized")  # ANA changes stay allowed
    fs.unlink(N + "/ports/1/subsystems/" + NQN)
    fs.write(N + "/ports/1/" + attr, value)


@pytest.mark.parametrize("attr", ["addr_tsas", "param_max_queue_size"])
def test_612_port_attributes_are_locked_too(nvmet_configfs_factory, attr):
    fs = nvmet_configfs_factory(kernel="6.12")
    fs.make_dir(SUB)
    tcp_port(fs)
    export(fs)
    refused(errno.EACCES, fs.write, N + "/ports/1/" + attr, "none" if attr == "addr_tsas" else "128")


def test_612_tsas_follows_trtype(nvmet_configfs_factory):
    fs = nvmet_configfs_factory(kernel="6.12")
    fs.make_dir(N + "/ports/1")
    port = N + "/ports/1"
    assert fs.read(port + "/addr_tsas") == "reserved"
    refused(errno.EINVAL, fs.write, port + "/addr_tsas", "none")  # TCP only
    fs.write(port + "/addr_trtype", "tcp")
    assert fs.read(port + "/addr_tsas") == "none"
    refused(errno.EINVAL, fs.write, port + "/addr_tsas", "tls1.3")  # no keyring in the fake
    fs.write(port + "/addr_trtype", "rdma")
    assert fs.read(port + "/addr_tsas") == "connected"


@pytest.mark.parametrize("changes, err", [
    ({"addr_trtype": None}, errno.EINVAL),            # trtype never set: no transport 0
    ({"addr_trtype": "rdma"}, errno.EINVAL),          # nvmet-rdma not available
    ({"addr_adrfam": None}, errno.EINVAL),
    ({"addr_traddr": "10.90.9.9"}, errno.EADDRNOTAVAIL),
    ({"addr_traddr": "fd90:1::99", "addr_adrfam": "ipv6"}, errno.EADDRNOTAVAIL),
    ({"addr_traddr": "10.90.1.300"}, errno.EINVAL),
    ({"addr_traddr": "fd90:1::11"}, errno.EINVAL),    # an IPv6 address for adrfam ipv4
    ({"addr_trsvcid": None}, errno.EINVAL),
    ({"addr_trsvcid": "nvme"}, errno.EINVAL),
    ({"param_pi_enable": "1"}, errno.EINVAL),         # tcp has no metadata support
])
def test_port_enable_failures_leave_no_link(fs, changes, err):
    fs.make_dir(N + "/ports/1")
    values = {"addr_trtype": "tcp", "addr_adrfam": "ipv4", "addr_traddr": "10.90.1.11",
              "addr_trsvcid": "4420"}
    values.update(changes)
    for attr, value in sorted(values.items()):
        if value is not None:
            fs.write(N + "/ports/1/" + attr, value)
    before = fs.snapshot()
    refused(err, export, fs)
    assert fs.snapshot() == before
    assert fs.list_dir(N + "/ports/1/subsystems") == []


@pytest.mark.parametrize("traddr, adrfam", [
    ("10.90.1.11", "ipv4"), ("0.0.0.0", "ipv4"), ("::", "ipv6"), ("fd90:1:0::11", "ipv6"),
    ("fd90:1::11%eth1", "ipv6"),
])
def test_port_enables_on_local_and_wildcard_addresses(fs, traddr, adrfam):
    tcp_port(fs, traddr=traddr, adrfam=adrfam)
    export(fs)
    assert fs.read(N + "/ports/1/param_inline_data_size") == "16384"  # nvmet-tcp's default
    assert fs.read_link(N + "/ports/1/subsystems/" + NQN) == SUB


@pytest.mark.parametrize("first, second, err", [
    (("10.90.1.11", "4420", "ipv4"), ("10.90.1.11", "4420", "ipv4"), errno.EADDRINUSE),
    (("0.0.0.0", "4420", "ipv4"), ("10.90.1.11", "4420", "ipv4"), errno.EADDRINUSE),
    (("::", "4420", "ipv6"), ("10.90.1.11", "4420", "ipv4"), errno.EADDRINUSE),  # dual-stack
    (("fd90:1::11", "4420", "ipv6"), ("fd90:1:0:0::11", "4420", "ipv6"), errno.EADDRINUSE),
    (("10.90.1.11", "4420", "ipv4"), ("10.90.1.11", "4421", "ipv4"), None),
    (("10.90.1.11", "4420", "ipv4"), ("10.90.2.11", "4420", "ipv4"), None),
    (("0.0.0.0", "4420", "ipv4"), ("fd90:1::11", "4420", "ipv6"), None),
])
def test_two_listeners_on_one_address(fs, first, second, err):
    tcp_port(fs, "1", *first)
    export(fs, "1")
    tcp_port(fs, "2", *second)
    if err is None:
        export(fs, "2")
    else:
        refused(err, export, fs, "2")
        fs.unlink(N + "/ports/1/subsystems/" + NQN)  # the first listener goes away
        export(fs, "2")


def test_loop_port_needs_no_address(fs):
    fs.make_dir(N + "/ports/9")
    fs.write(N + "/ports/9/addr_trtype", "loop")
    export(fs, "9")
    assert fs.read(N + "/ports/9/param_inline_data_size") == "0"
    refused(errno.EEXIST, export, fs, "9")


@pytest.mark.parametrize("target, err", [
    (N + "/hosts", errno.EINVAL),
    (N + "/subsystems/nqn.missing", errno.ENOENT),
])
def test_port_links_must_name_a_subsystem(fs, target, err):
    tcp_port(fs)
    refused(err, fs.link, target, N + "/ports/1/subsystems/x")


@pytest.mark.parametrize("attr, value, err", [
    ("addr_adrfam", "pcie", errno.EINVAL),
    ("addr_adrfam", "IPv4", errno.EINVAL),
    ("addr_trtype", "nvme", errno.EINVAL),
    ("addr_treq", "maybe", errno.EINVAL),
    ("addr_traddr", "x" * 257, errno.EINVAL),
    ("addr_traddr", " \n", errno.EINVAL),
    ("addr_trsvcid", "4" * 33, errno.EINVAL),
    ("param_inline_data_size", "lots", errno.EINVAL),
    ("param_pi_enable", "2", errno.EINVAL),
])
def test_port_values_are_validated(nvmet_configfs, attr, value, err):
    nvmet_configfs.make_dir(N + "/ports/1")
    refused(err, nvmet_configfs.write, N + "/ports/1/" + attr, value)


@pytest.mark.parametrize("attr, value, shown", [
    ("addr_adrfam", "ipv6\n", "ipv6"), ("addr_adrfam", "loop", "loop"),
    ("addr_trtype", "rdma\n", "rdma"), ("addr_traddr", "10.90.1.11\n", "10.90.1.11"),
    ("addr_treq", "not required", "not required"), ("param_inline_data_size", "0x2000", "8192"),
])
def test_port_values_are_shown_like_the_kernel(nvmet_configfs, attr, value, shown):
    nvmet_configfs.make_dir(N + "/ports/1")
    nvmet_configfs.write(N + "/ports/1/" + attr, value)
    assert nvmet_configfs.read(N + "/ports/1/" + attr) == shown


# -- ANA groups -------------------------------------------------------------------------
@pytest.mark.parametrize("group, err", [
    ("2", None), ("128", None), ("0", errno.EINVAL), ("129", errno.EINVAL),
    ("1", errno.EEXIST), ("abc", errno.EINVAL),
])
def test_ana_groups(nvmet_configfs, group, err):
    fs = nvmet_configfs
    fs.make_dir(N + "/ports/1")
    path = N + "/ports/1/ana_groups/" + group
    if err is None:
        fs.make_dir(path)
        assert fs.read(path + "/ana_state") == "inaccessible"  # every group but 1 starts so
        fs.write(path + "/ana_state", "optimized")
        refused(errno.ENOTEMPTY, fs.remove_dir, N + "/ports/1")
        fs.remove_dir(path)
    else:
        refused(err, fs.make_dir, path)
    refused(errno.EPERM, fs.remove_dir, N + "/ports/1/ana_groups/1")
    refused(errno.EINVAL, fs.write, N + "/ports/1/ana_groups/1/ana_state", "active")
    fs.remove_dir(N + "/ports/1")


# -- hosts --------------------------------------------------------------------------------
def test_host_dhchap_attributes(nvmet_configfs):
    fs = nvmet_configfs
    host = N + "/hosts/" + HOST
    fs.make_dir(host)
    assert fs.list_dir(host) == ["dhchap_ctrl_key", "dhchap_dhgroup", "dhchap_hash", "dhchap_key"]
    assert [fs.read(host + "/" + a) for a in ("dhchap_key", "dhchap_ctrl_key", "dhchap_hash", "dhchap_dhgroup")] == [
        "", "", "hmac(sha256)", "null"]
    fs.write(host + "/dhchap_key", KEY + "\n")
    assert fs.read(host + "/dhchap_key") == KEY
    fs.write(host + "/dhchap_hash", "hmac(sha512)")
    fs.write(host + "/dhchap_dhgroup", "ffdhe4096")
    assert fs.read(host + "/dhchap_dhgroup") == "ffdhe4096"


@pytest.mark.parametrize("attr, value", [
    ("dhchap_key", "secret"), ("dhchap_key", "DHHC-1:07:abc:"), ("dhchap_ctrl_key", "DHHC-2:00:x:"),
    ("dhchap_hash", "sha256"), ("dhchap_dhgroup", "ffdhe1024"),
])
def test_host_dhchap_values_are_validated(nvmet_configfs, attr, value):
    nvmet_configfs.make_dir(N + "/hosts/" + HOST)
    refused(errno.EINVAL, nvmet_configfs.write, N + "/hosts/%s/%s" % (HOST, attr), value)


def test_hosts_without_auth_have_no_attributes(nvmet_configfs_factory):
    fs = nvmet_configfs_factory(auth=False)
    fs.make_dir(N + "/hosts/" + HOST)
    assert fs.list_dir(N + "/hosts/" + HOST) == []


# -- rmdir / unlink -------------------------------------------------------------------------
@pytest.mark.parametrize("setup, path, err", [
    ("namespace", SUB, errno.ENOTEMPTY),
    ("allowed_host", SUB, errno.ENOTEMPTY),
    ("allowed_host", N + "/hosts/" + HOST, errno.EBUSY),      # a link points at it
    ("exported", SUB, errno.EBUSY),
    ("exported", N + "/ports/1", errno.ENOTEMPTY),
    ("referral", N + "/ports/1", errno.ENOTEMPTY),
    (None, SUB + "/namespaces", errno.EPERM),                 # default groups
    (None, SUB + "/allowed_hosts", errno.EPERM),
    (None, N + "/ports/1/subsystems", errno.EPERM),
    (None, N + "/subsystems", errno.EPERM),
    (None, N, errno.EPERM),
    (None, N + "/subsystems/nqn.missing", errno.ENOENT),
    (None, SUB + "/attr_model", errno.ENOTDIR),
])
def test_rmdir_follows_configfs(fs, setup, path, err):
    tcp_port(fs)
    fs.make_dir(N + "/hosts/" + HOST)
    if setup == "namespace":
        fs.make_dir(SUB + "/namespaces/1")
    elif setup == "allowed_host":
        fs.link(N + "/hosts/" + HOST, SUB + "/allowed_hosts/" + HOST)
    elif setup == "exported":
        export(fs)
    elif setup == "referral":
        fs.make_dir(N + "/ports/1/referrals/ref1")
    before = fs.snapshot()
    refused(err, fs.remove_dir, path)
    assert fs.snapshot() == before


def test_rmdir_takes_attributes_and_default_groups(fs):
    fs.make_dir(SUB + "/namespaces/1")
    fs.add_block_device("/dev/vg0/vol1")
    fs.write(SUB + "/namespaces/1/device_path", "/dev/vg0/vol1")
    fs.write(SUB + "/namespaces/1/enable", "1")
    fs.remove_dir(SUB + "/namespaces/1")  # even while enabled
    fs.remove_dir(SUB)
    tcp_port(fs)
    fs.remove_dir(N + "/ports/1")
    assert fs.list_dir(N + "/subsystems") == [] and fs.list_dir(N + "/ports") == []


@pytest.mark.parametrize("path, err", [
    (SUB + "/attr_model", errno.EPERM),      # attributes cannot be removed
    (SUB + "/namespaces", errno.EISDIR),
    (SUB + "/allowed_hosts/nqn.missing", errno.ENOENT),
])
def test_unlink_removes_only_links(fs, path, err):
    before = fs.snapshot()
    refused(err, fs.unlink, path)
    assert fs.snapshot() == before


# -- generic file operations ------------------------------------------------------------------
@pytest.mark.parametrize("path, value, err", [
    (SUB + "/attr_bogus", "1", errno.EACCES),       # open(O_CREAT) in a configfs dir
    (N + "/subsystems/nqn.missing/attr_model", "x", errno.ENOENT),
    (SUB + "/namespaces", "1", errno.EISDIR),
    (SUB + "/attr_model/x", "1", errno.ENOTDIR),
])
def test_writes_to_what_is_not_an_attribute(fs, path, value, err):
    before = fs.snapshot()
    error = refused(err, fs.write, path, value)
    assert path in str(error) and repr(value) in str(error)
    assert fs.snapshot() == before


def test_empty_write_reaches_no_store(fs):
    before = fs.snapshot()
    fs.write(SUB + "/attr_model", "")     # write(2) of nothing: store() is not called
    fs.write(SUB + "/attr_serial", "")
    assert fs.snapshot() == before


@pytest.mark.parametrize("path, err", [
    (SUB + "/extra", errno.EPERM),                   # an item without make_group
    (SUB + "/allowed_hosts/" + HOST, errno.EPERM),   # links only
    (SUB, errno.EEXIST),
    (N + "/subsystems/nqn.missing/namespaces/1", errno.ENOENT),
    ("/sys/kernel/config/foo", errno.EPERM),         # the configfs root
])
def test_mkdir_only_where_configfs_can(fs, path, err):
    refused(err, fs.make_dir, path)


def test_atomic_writes_are_refused_in_configfs(fs):
    refused(errno.EACCES, fs.write_file_atomic, SUB + "/attr_model", "x")
    os.makedirs(fs.path("/etc/nvme"))
    fs.write_file_atomic("/etc/nvme/hostnqn", HOST + "\n")
    assert fs.read("/etc/nvme/hostnqn") == HOST


def test_paths_outside_configfs_behave_like_hostfs(fs):
    fs.make_dir("/srv")
    fs.write("/srv/anything", "free text")
    fs.link("/srv/anything", "/srv/link")
    assert fs.read("/srv/link") == "free text"
    fs.unlink("/srv/link")
    refused(errno.ENOTEMPTY, fs.remove_dir, "/srv")


# -- referrals ----------------------------------------------------------------------------------
def test_referrals_lock_their_address_once_enabled(nvmet_configfs):
    fs = nvmet_configfs
    fs.make_dir(N + "/ports/1")
    ref = N + "/ports/1/referrals/ref1"
    fs.make_dir(ref)
    assert fs.read(ref + "/addr_portid") == "0" and fs.read(ref + "/enable") == "0"
    fs.write(ref + "/addr_portid", "2")
    refused(errno.EINVAL, fs.write, ref + "/addr_portid", "70000")
    fs.write(ref + "/enable", "1")
    refused(errno.EACCES, fs.write, ref + "/addr_traddr", "10.90.2.11")
    fs.remove_dir(ref)


# -- controllers --------------------------------------------------------------------------------
def test_connect_needs_export_and_permission(fs):
    tcp_port(fs)
    fs.make_dir(N + "/hosts/" + HOST)
    with pytest.raises(ConnectionRefusedError):
        fs.connect(NQN, HOST, 1)             # not exported on port 1
    export(fs)
    with pytest.raises(ConnectionRefusedError):
        fs.connect(NQN, HOST, 1)             # host not allowed
    fs.link(N + "/hosts/" + HOST, SUB + "/allowed_hosts/" + HOST)
    assert not fs.is_discovered(NQN)
    assert fs.connect(NQN, HOST, 1) == 1
    assert fs.connect(NQN, HOST, "1") == 2
    assert fs.is_discovered(NQN)             # the host identified the subsystem
    refused(errno.EINVAL, fs.write, SUB + "/attr_serial", "SN1")
    fs.unlink(SUB + "/allowed_hosts/" + HOST)
    assert len(fs.controllers(NQN)) == 2     # removing the permission keeps controllers
    assert fs.disconnect(NQN, HOST, "1") == 2
    assert fs.controllers() == []


def test_unexporting_drops_that_ports_controllers(fs):
    tcp_port(fs, "1")
    tcp_port(fs, "2", trsvcid="4421")
    export(fs, "1")
    export(fs, "2")
    fs.write(SUB + "/attr_allow_any_host", "1")
    fs.connect(NQN, HOST, 1)
    fs.connect(NQN, HOST, 2)
    fs.unlink(N + "/ports/1/subsystems/" + NQN)
    assert fs.controllers() == [(NQN, HOST, "2", 2)]
    fs.write(N + "/ports/1/addr_trsvcid", "4430")  # port 1 is disabled again


@pytest.mark.parametrize("kernel, left", [("6.1", 1), ("6.12", 0)])
def test_qid_max_forces_reconnect_from_62(nvmet_configfs_factory, kernel, left):
    fs = nvmet_configfs_factory(kernel=kernel)
    fs.make_dir(SUB)
    tcp_port(fs)
    export(fs)
    fs.write(SUB + "/attr_allow_any_host", "1")
    fs.connect(NQN, HOST, 1)
    fs.write(SUB + "/attr_qid_max", "4")
    assert len(fs.controllers()) == left


def test_removed_subsystem_starts_afresh(fs):
    fs.identify(NQN)
    fs.remove_dir(SUB)
    fs.make_dir(SUB)
    assert not fs.is_discovered(NQN)
    fs.write(SUB + "/attr_model", "again")
    with pytest.raises(KeyError):
        fs.identify("nqn.missing")


# -- snapshot -----------------------------------------------------------------------------------
def test_snapshot_is_deterministic_and_complete(fs):
    fs.make_dir(N + "/hosts/" + HOST)
    fs.link(N + "/hosts/" + HOST, SUB + "/allowed_hosts/" + HOST)
    first = fs.snapshot()
    assert first == fs.snapshot()
    assert list(first) == sorted(first)
    assert first[N + "/hosts/" + HOST] == ("dir", None)
    assert first[SUB + "/attr_model"] == ("file", "Linux\n")
    assert first[SUB + "/allowed_hosts/" + HOST] == ("link", "../../../../nvmet/hosts/" + HOST)
    fs.write(SUB + "/attr_model", "Linux")  # the same value again
    assert fs.snapshot() == first
    fs.write(SUB + "/attr_model", "Other")
    assert fs.snapshot() != first
