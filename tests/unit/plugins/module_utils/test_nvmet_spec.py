# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_spec import (
    SpecError, derived_serial, derived_uuid, normalize)

NQN = "nqn.2026-11.invalid.example:storage:db"
HOST = "nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"
KEY = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"


def declared(**changes):
    params = {"nqn": NQN, "namespaces": [{"nsid": 1, "device_path": "/dev/vdb"}],
              "listeners": [{"address": "10.90.1.11"}], "hosts": [{"nqn": HOST}]}
    params.update(changes)
    return params


def test_normal_form_fills_defaults_and_derived_ids():
    spec = normalize(declared())
    namespace = spec["namespaces"][0]
    assert spec["serial"] == derived_serial(NQN) and len(spec["serial"]) == 20
    assert namespace["uuid"] == derived_uuid(NQN, 1)
    assert namespace["nguid"] == derived_uuid(NQN, 1, kind="nguid")
    assert namespace["uuid"] != namespace["nguid"]
    assert (namespace["enabled"], namespace["ana_group"], namespace["buffered_io"]) == (True, 1, False)
    assert spec["listeners"][0] == {
        "transport": "tcp", "address": "10.90.1.11", "address_family": "ipv4", "service_id": 4420,
        "port_id": None, "inline_data_size": None, "ana_groups": []}


def test_derived_ids_are_stable_and_differ_between_subsystems_and_namespaces():
    assert normalize(declared()) == normalize(declared())
    other = "nqn.2026-11.invalid.example:storage:logs"
    assert derived_serial(NQN) != derived_serial(other)
    assert len({derived_uuid(NQN, 1), derived_uuid(NQN, 2), derived_uuid(other, 1)}) == 3


def test_given_ids_are_put_in_the_kernels_form():
    spec = normalize(declared(namespaces=[{
        "nsid": 7, "device_path": "/dev/vdb", "uuid": "11111111-2222-3333-4444-55555555AAAA",
        "nguid": "00112233:44556677:8899aabb:ccddeeff"}]))
    assert spec["namespaces"][0]["uuid"] == "11111111-2222-3333-4444-55555555aaaa"
    assert spec["namespaces"][0]["nguid"] == "00112233-4455-6677-8899-aabbccddeeff"


def test_ipv6_listener_is_canonical():
    spec = normalize(declared(listeners=[{"address": "FD90:1:0::11", "service_id": 4421}]))
    assert spec["listeners"][0]["address"] == "fd90:1::11"
    assert spec["listeners"][0]["address_family"] == "ipv6"


def test_uuid_form_nqn_is_accepted():
    assert normalize(declared(nqn=HOST))["nqn"] == HOST


BAD = [
    ({"nqn": "iqn.2003-01.org.example:disk"}, "nqn: 'iqn.2003-01.org.example:disk' is not a valid NQN"),
    ({"nqn": "nqn.2026-11.invalid.example:x;reboot"}, "is not a valid NQN"),
    ({"nqn": "nqn.2026-11.invalid.example:x y"}, "is not a valid NQN"),
    ({"nqn": "nqn.2026-13.invalid.example:x"}, "is not a valid NQN"),
    ({"nqn": "nqn.2026-11.invalid.example:" + "a" * 200}, "at most 223"),
    ({"nqn": "nqn.2014-08.org.nvmexpress.discovery"}, "discovery NQN"),
    ({"serial": "x" * 21}, "serial: '" + "x" * 21 + "' must be 1 to 20 printable ASCII"),
    ({"serial": "caf\u00e9"}, "serial:"),
    ({"serial": " padded"}, "without leading or trailing spaces"),
    ({"model": "m" * 41}, "model:"),
    ({"namespaces": [{"nsid": 0, "device_path": "/dev/vdb"}]}, "namespaces[0].nsid: 0 is out of range 1..1024"),
    ({"namespaces": [{"nsid": 1025, "device_path": "/dev/vdb"}]}, "1025 is out of range"),
    ({"namespaces": [{"nsid": 1, "device_path": "vdb"}]}, "namespaces[0].device_path: 'vdb' must be an absolute path"),
    ({"namespaces": [{"nsid": 1, "device_path": "/dev/vdb"}, {"nsid": 1, "device_path": "/dev/vdc"}]},
     "namespaces: 1 is used as nsid by more than one namespace"),
    ({"namespaces": [{"nsid": 1, "device_path": "/dev/vdb", "uuid": "not-a-uuid"}]}, "uuid: 'not-a-uuid' is not a UUID"),
    ({"namespaces": [{"nsid": 1, "device_path": "/dev/vdb", "uuid": "00000000-0000-0000-0000-000000000000"}]}, "nil UUID"),
    ({"namespaces": [{"nsid": 1, "device_path": "/dev/vdb", "nguid": "abc"}]}, "is not an NGUID"),
    ({"namespaces": [{"nsid": 1, "device_path": "/dev/vdb", "ana_group": 129}]}, "ana_group: 129 is out of range 1..128"),
    ({"listeners": [{"address": "10.90.1.256"}]}, "listeners[0].address: '10.90.1.256' is not an IPv4 or IPv6 address"),
    ({"listeners": [{"address": "10.90"}]}, "is not an IPv4 or IPv6 address"),
    ({"listeners": [{"address": "10.90.1.11/24"}]}, "no prefix length"),
    ({"listeners": [{"address": "fe80::1%eth1"}]}, "no prefix length or zone"),
    ({"listeners": [{"address": "10.90.1.11", "service_id": 0}]}, "listeners[0].service_id: 0 is out of range 1..65535"),
    ({"listeners": [{"address": "10.90.1.11", "service_id": 65536}]}, "65536 is out of range"),
    ({"listeners": [{"address": "10.90.1.11"}, {"address": "10.90.1.11"}]}, "is declared more than once"),
    ({"listeners": [{"address": "10.90.1.11", "port_id": 1}, {"address": "10.90.2.11", "port_id": 1}]},
     "is the port_id of more than one listener"),
    ({"listeners": [{"address": "10.90.1.11", "ana_groups": [{"group": 2, "state": "fast"}]}]},
     "listeners[0].ana_groups[0].state: 'fast' is not one of"),
    ({"listeners": [{"address": "10.90.1.11", "transport": "rdma"}]}, "transport: 'rdma' is not supported"),
    ({"hosts": [{"nqn": HOST}, {"nqn": HOST}]}, "is listed more than once"),
    ({"hosts": [{"nqn": "host1"}]}, "hosts[0].nqn: 'host1' is not a valid NQN"),
    ({"hosts": [{"nqn": HOST}, {"nqn": "nqn.2026-11.invalid.example:host2"}]}, "Set cluster_aware=true"),
    ({"allow_any_host": True}, "allow_any_host=true and hosts"),
    ({"hosts": [{"nqn": HOST, "dhchap_hash": "md5"}]}, "hosts[0].dhchap_hash: 'md5' is not one of"),
    ({"hosts": [{"nqn": HOST, "dhchap_ctrl_key": KEY}]}, "needs hosts[0].dhchap_key"),
]


@pytest.mark.parametrize("changes, message", BAD, ids=[message for _changes, message in BAD])
def test_bad_input_names_the_option_and_value(changes, message):
    with pytest.raises(SpecError) as raised:
        normalize(declared(**changes))
    assert message in str(raised.value)


def test_a_bad_secret_is_named_but_never_quoted():
    secret = "DHHC-1:00:not base64!:"
    with pytest.raises(SpecError) as raised:
        normalize(declared(hosts=[{"nqn": HOST, "dhchap_key": secret}]))
    assert "hosts[0].dhchap_key of host %s" % HOST in str(raised.value)
    assert secret not in str(raised.value) and "not base64" not in str(raised.value)


def test_two_hosts_are_fine_when_the_consumer_is_cluster_aware():
    spec = normalize(declared(cluster_aware=True,
                              hosts=[{"nqn": HOST}, {"nqn": "nqn.2026-11.invalid.example:host2"}]))
    assert [host["nqn"] for host in spec["hosts"]] == sorted([HOST, "nqn.2026-11.invalid.example:host2"])


def test_absent_needs_only_the_nqn():
    assert normalize({"nqn": NQN, "state": "absent"}) == {"nqn": NQN, "state": "absent"}
