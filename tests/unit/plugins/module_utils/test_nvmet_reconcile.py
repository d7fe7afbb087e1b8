# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconciling subsystems against the fake configfs (which refuses what the kernel refuses)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_guards import GuardError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_model import read_world
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_reconcile import NvmetError, reconcile
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_spec import normalize

DB = "nqn.2026-11.invalid.example:db"
LOGS = "nqn.2026-11.invalid.example:logs"
HOST = "nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"
OTHER = "nqn.2014-08.org.nvmexpress:uuid:0c5b2a55-3f55-4c3e-8e55-8a3d1c9f0b21"
KEY = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"
LOCAL = {"10.90.1.11": "eth1", "10.90.2.11": "eth2", "fd90:1::11": "eth1"}


class FakeIp:
    """`ip -json address show` of a host with the given addresses."""

    def __init__(self, addresses=None):
        self.addresses = LOCAL if addresses is None else addresses

    def run(self, args, check=True, data=None):
        assert args == ["ip", "-json", "address", "show"]
        links = [{"ifname": name, "addr_info": [{"local": address}]}
                 for address, name in sorted(self.addresses.items())]
        return 0, json.dumps(links), ""


def declared(nqn=DB, **changes):
    params = {"nqn": nqn,
              "namespaces": [{"nsid": 1, "device_path": "/srv/%s-1.img" % nqn.rsplit(":", 1)[1]}],
              "listeners": [{"address": "10.90.1.11"}, {"address": "10.90.2.11"}],
              "hosts": [{"nqn": HOST}]}
    params.update(changes)
    return normalize(params)


def put_file(fs, path, content=""):
    """A plain file on the fake host (outside configfs)."""
    real = fs.path(path)
    if not os.path.isdir(os.path.dirname(real)):
        os.makedirs(os.path.dirname(real))
    with open(real, "w") as handle:
        handle.write(content)


@pytest.fixture
def fs(nvmet_configfs):
    for name in ("db-1", "db-2", "logs-1", "logs-2", "spare"):
        put_file(nvmet_configfs, "/srv/%s.img" % name)
    nvmet_configfs.add_block_device("/dev/nullb0")
    return nvmet_configfs


def apply(fs, spec, **options):
    return reconcile(fs, FakeIp(), spec, **options)


def test_create_then_nothing_to_do(fs):
    first = apply(fs, declared())
    assert first["changed"] and first["before"]["state"] == "absent"
    assert first["after"]["namespaces"][0]["enabled"] is True
    assert [port["address"] for port in first["after"]["listeners"]] == ["10.90.1.11", "10.90.2.11"]
    again = apply(fs, declared())
    assert not again["changed"] and again["actions"] == []
    assert again["before"] == again["after"] == first["after"]


def test_check_mode_reports_and_changes_nothing(fs):
    before = fs.snapshot()
    result = apply(fs, declared(), check_mode=True)
    assert result["changed"] and result["actions"]
    assert result["after"]["namespaces"][0]["device_path"] == "/srv/db-1.img"
    assert fs.snapshot() == before


def test_subsystems_share_a_port_per_address_and_the_last_one_removes_it(fs):
    apply(fs, declared())
    apply(fs, declared(LOGS))
    world = read_world(fs)
    assert sorted(world["ports"]) == [1, 2]
    assert all(port["subsystems"] == [DB, LOGS] for port in world["ports"].values())
    apply(fs, normalize({"nqn": LOGS, "state": "absent"}))
    assert sorted(read_world(fs)["ports"]) == [1, 2]
    apply(fs, normalize({"nqn": DB, "state": "absent"}))
    world = read_world(fs)
    assert world == {"subsystems": {}, "ports": {}, "hosts": {}}


def test_adding_a_namespace_and_a_host_does_not_touch_what_stays(fs):
    apply(fs, declared())
    fs.connect(DB, HOST, 1)
    result = apply(fs, declared(
        cluster_aware=True, hosts=[{"nqn": HOST}, {"nqn": OTHER}],
        namespaces=[{"nsid": 1, "device_path": "/srv/db-1.img"}, {"nsid": 2, "device_path": "/srv/db-2.img"}]))
    assert result["changed"]
    touched = " ".join(result["actions"])
    assert "namespaces/1" not in touched and "/ports/" not in touched
    assert "allowed_hosts/%s " % HOST not in touched + " "
    assert fs.controllers(DB) != []


def test_port_parameter_change_unlinks_changes_and_relinks_only_that_port(fs):
    apply(fs, declared())
    apply(fs, declared(LOGS))
    result = apply(fs, declared(listeners=[{"address": "10.90.1.11", "inline_data_size": 8192},
                                           {"address": "10.90.2.11"}]))
    actions = result["actions"]
    assert [action.split(" ")[0] for action in actions] == ["unlink", "unlink", "write", "link", "link"]
    assert all("/ports/1/" in action for action in actions)
    assert read_world(fs)["ports"][1]["attrs"]["param_inline_data_size"] == "8192"
    assert read_world(fs)["ports"][1]["subsystems"] == [DB, LOGS]


def test_pinned_port_id_moves_the_port_to_a_new_address(fs):
    apply(fs, declared(listeners=[{"address": "10.90.1.11", "port_id": 7}]))
    apply(fs, declared(listeners=[{"address": "fd90:1::11", "port_id": 7}]))
    port = read_world(fs)["ports"][7]
    assert port["attrs"]["addr_traddr"] == "fd90:1::11" and port["subsystems"] == [DB]
    assert port["attrs"]["addr_adrfam"] == "ipv6"


def test_changing_a_namespace_device_disables_it_first(fs):
    apply(fs, declared())
    result = apply(fs, declared(namespaces=[{"nsid": 1, "device_path": "/srv/spare.img"}]))
    paths = [action for action in result["actions"] if "namespaces/1/" in action]
    assert paths[0].startswith("write '0' to") and paths[0].endswith("/enable")
    assert paths[-1].startswith("write '1' to") and paths[-1].endswith("/enable")
    assert read_world(fs)["subsystems"][DB]["namespaces"][1]["device_path"] == "/srv/spare.img"


def test_ana_group_states_per_port(fs):
    spec = declared(namespaces=[{"nsid": 1, "device_path": "/srv/db-1.img", "ana_group": 2}],
                    listeners=[{"address": "10.90.1.11", "ana_groups": [{"group": 2, "state": "optimized"}]},
                               {"address": "10.90.2.11", "ana_groups": [{"group": 2, "state": "inaccessible"}]}])
    result = apply(fs, spec)
    states = [dict((group["group"], group["state"]) for group in port["ana_groups"])
              for port in result["after"]["listeners"]]
    assert states == [{1: "optimized", 2: "optimized"}, {1: "optimized", 2: "inaccessible"}]
    assert not apply(fs, spec)["changed"]


def test_switching_to_allow_any_host_and_back(fs):
    apply(fs, declared())
    result = apply(fs, declared(hosts=[], allow_any_host=True))
    assert result["after"]["allow_any_host"] is True and result["after"]["hosts"] == []
    result = apply(fs, declared())
    assert result["after"]["allow_any_host"] is False and len(result["after"]["hosts"]) == 1


def test_secrets_never_appear_in_actions_or_views(fs):
    result = apply(fs, declared(hosts=[{"nqn": HOST, "dhchap_key": KEY}]))
    assert KEY not in json.dumps(result["actions"]) + json.dumps(result["before"]) + json.dumps(result["after"])
    assert result["after"]["hosts"][0]["dhchap_key"] == "(hidden)"
    assert fs.read("/sys/kernel/config/nvmet/hosts/%s/dhchap_key" % HOST) == KEY


# -- guards: each refuses with configfs untouched -------------------------------------

def refused(fs, spec, message, **options):
    before = fs.snapshot()
    with pytest.raises((GuardError, NvmetError)) as raised:
        apply(fs, spec, **options)
    assert message in str(raised.value)
    assert fs.snapshot() == before
    return str(raised.value)


def test_guard_missing_device(fs):
    refused(fs, declared(namespaces=[{"nsid": 1, "device_path": "/dev/missing"}]),
            "namespaces[nsid=1].device_path: '/dev/missing' does not exist")


def test_guard_device_is_not_a_device_or_file(fs):
    refused(fs, declared(namespaces=[{"nsid": 1, "device_path": "/srv"}]),
            "is neither a block device nor a regular file")


def test_guard_device_exported_by_another_namespace(fs):
    apply(fs, declared())
    refused(fs, declared(LOGS, namespaces=[{"nsid": 4, "device_path": "/srv/db-1.img"}]),
            "'/srv/db-1.img' is already exported as namespace 1 of subsystem %s" % DB)


def test_guard_device_declared_twice_in_one_subsystem(fs):
    refused(fs, declared(namespaces=[{"nsid": 1, "device_path": "/srv/db-1.img"},
                                     {"nsid": 2, "device_path": "/srv/db-1.img"}]),
            "is already exported as namespace 1 of subsystem %s" % DB)


def test_guard_device_exported_by_lio(fs):
    put_file(fs, "/sys/kernel/config/target/core/iblock_0/disk1/udev_path", "/srv/db-1.img\n")
    put_file(fs, "/sys/kernel/config/target/core/iblock_0/hba_info", "HBA Index: 1 plugin: iblock\n")
    refused(fs, declared(), "already exported by the LIO target (iSCSI) as backstore core/iblock_0/disk1")


def test_guard_listener_address_not_on_this_host(fs):
    message = refused(fs, declared(listeners=[{"address": "10.90.7.7"}]),
                      "listeners: 10.90.7.7 is not configured on any interface of this host")
    assert "10.90.1.11 (eth1)" in message


def test_guard_two_ports_on_one_address(fs):
    apply(fs, declared(listeners=[{"address": "10.90.1.11"}]))
    refused(fs, declared(LOGS, listeners=[{"address": "10.90.1.11", "port_id": 9}]),
            "10.90.1.11 port 4420 is served by nvmet port 1 already")


def test_guard_auth_on_a_kernel_without_it(fs):
    put_file(fs, "/proc/sys/kernel/osrelease", "6.1.0-56-amd64\n")
    put_file(fs, "/boot/config-6.1.0-56-amd64", "CONFIG_NVME_TARGET=m\n# CONFIG_NVME_TARGET_AUTH is not set\n")
    message = refused(fs, declared(hosts=[{"nqn": HOST, "dhchap_key": KEY}]),
                      "built without NVMe target authentication")
    assert KEY not in message


TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"


def established_on(fs, address_hex, port=4420):
    """/proc/net/tcp with one established connection to address_hex:port and a listener."""
    put_file(fs, "/proc/net/tcp", TCP_HEADER
             + "   0: %s:%04X 15015A0A:D82A 01 00000000:00000000 00:00000000 00000000 0 0 1\n" % (address_hex, port)
             + "   1: 0B015A0A:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n" % port)


@pytest.mark.parametrize("change, what", [
    ({"state": "absent"}, "removing subsystem"),
    ({"namespaces": []}, "removing namespace 1"),
    ({"hosts": []}, "removing allowed host %s" % HOST),
    ({"listeners": [{"address": "10.90.2.11"}]}, "removing listener port 1"),
    ({"namespaces": [{"nsid": 1, "device_path": "/srv/spare.img"}]}, "replacing the device or ids of namespace 1"),
    ({"listeners": [{"address": "10.90.1.11", "inline_data_size": 8192}, {"address": "10.90.2.11"}]},
     "changing port 1, which unlinks every subsystem on it"),
])
def test_guard_changes_that_cut_live_connections(fs, change, what):
    apply(fs, declared())
    established_on(fs, "0B015A0A")  # 10.90.1.11, little-endian as /proc shows it
    params = {"nqn": DB, "namespaces": [{"nsid": 1, "device_path": "/srv/db-1.img"}],
              "listeners": [{"address": "10.90.1.11"}, {"address": "10.90.2.11"}], "hosts": [{"nqn": HOST}]}
    params.update(change)
    spec = normalize(params)
    message = refused(fs, spec, what)
    assert "port 1 (1 connections)" in message and "allow_disruptive=true" in message
    assert apply(fs, spec, allow_disruptive=True)["changed"]


def test_connections_on_other_ports_do_not_count(fs):
    apply(fs, declared(listeners=[{"address": "10.90.2.11"}]))
    established_on(fs, "0B015A0A")
    assert apply(fs, declared(listeners=[{"address": "10.90.2.11"}], namespaces=[]))["changed"]


# -- atomicity ----------------------------------------------------------------------------

def test_a_refused_step_rolls_everything_back(nvmet_configfs_factory):
    fs = nvmet_configfs_factory(local_addresses=["10.90.1.11"])  # the kernel cannot bind 10.90.2.11
    fs.add_block_device("/dev/nullb0")
    reconcile(fs, FakeIp(), normalize({"nqn": LOGS, "namespaces": [{"nsid": 1, "device_path": "/dev/nullb0"}],
                                       "listeners": [{"address": "10.90.1.11"}]}))
    before = fs.snapshot()
    spec = normalize({"nqn": DB, "namespaces": [{"nsid": 1, "device_path": "/dev/nullb0"}],
                      "listeners": [{"address": "10.90.1.11"}, {"address": "10.90.2.11"}]})
    with pytest.raises(GuardError):
        reconcile(fs, FakeIp(), spec)  # the same device: refused before anything is written
    spec = normalize({"nqn": DB, "namespaces": [],
                      "listeners": [{"address": "10.90.1.11"}, {"address": "10.90.2.11"}]})
    with pytest.raises(NvmetError) as raised:
        reconcile(fs, FakeIp(), spec)
    assert "returned to its state before this run" in str(raised.value)
    assert "EADDRNOTAVAIL" in str(raised.value)
    assert fs.snapshot() == before


def test_serial_cannot_change_once_identified_and_is_rolled_back(fs):
    apply(fs, declared())
    fs.identify(DB)
    before = fs.snapshot()
    with pytest.raises(NvmetError) as raised:
        apply(fs, declared(serial="NEWSERIAL"))
    assert "fixes serial and model once a host has identified" in str(raised.value)
    assert fs.snapshot() == before


def test_nvmet_not_loaded(nvmet_configfs_factory):
    fs = nvmet_configfs_factory(nvmet_loaded=False)
    with pytest.raises(NvmetError) as raised:
        reconcile(fs, FakeIp(), declared())
    assert "load the nvmet and nvmet-tcp kernel modules" in str(raised.value)
    put_file(fs, "/srv/db-1.img")
    would = reconcile(fs, FakeIp(), declared(), check_mode=True)
    assert would["changed"] and would["after"]["state"] == "present"
    assert not reconcile(fs, FakeIp(), normalize({"nqn": DB, "state": "absent"}))["changed"]


def test_a_namespace_left_without_a_device_blocks_no_other_subsystem(fs):
    """A run killed between a namespace's mkdir and its device_path write leaves "(null)" there."""
    fs.make_dir("/sys/kernel/config/nvmet/subsystems/%s" % LOGS)
    fs.make_dir("/sys/kernel/config/nvmet/subsystems/%s/namespaces/1" % LOGS)
    assert read_world(fs)["subsystems"][LOGS]["namespaces"][1]["device_path"] == "(null)"
    assert apply(fs, declared())["changed"]
    assert not apply(fs, declared())["changed"]
    healed = apply(fs, declared(nqn=LOGS))
    assert healed["changed"] and healed["after"]["namespaces"][0]["device_path"] == "/srv/logs-1.img"
