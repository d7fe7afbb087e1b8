# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_spec import (
    SpecError, connect_string, normalize, path_key)

NQN = "nqn.2026-11.invalid.example:db"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"
HOSTID = "7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"
SECRET = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"


def declared(**changes):
    params = {"nqn": NQN, "paths": [{"address": "10.90.1.11"}, {"address": "10.90.2.11", "host_iface": "eth2"}]}
    params.update(changes)
    return params


def test_normal_form():
    spec = normalize(declared(ctrl_loss_tmo=-1, reconnect_delay=5))
    assert spec["state"] == "present"
    assert spec["paths"][0] == {"transport": "tcp", "address": "10.90.1.11", "service_id": 4420,
                                "host_iface": None, "host_traddr": None}
    assert path_key(spec["paths"][1]) == ("tcp", "10.90.2.11", 4420, "eth2", None)
    assert spec["options"] == {"ctrl_loss_tmo": -1, "reconnect_delay": 5}


def test_connect_string_is_what_the_kernel_reads():
    spec = normalize(declared(ctrl_loss_tmo=-1, nr_io_queues=4))
    assert connect_string(NQN, spec["paths"][1], spec["options"], HOSTNQN, HOSTID) == (
        "nqn=%s,transport=tcp,traddr=10.90.2.11,trsvcid=4420,host_iface=eth2,hostnqn=%s,hostid=%s,"
        "ctrl_loss_tmo=-1,nr_io_queues=4" % (NQN, HOSTNQN, HOSTID))


BAD = [
    ({"nqn": "nqn.bad"}, "is not a valid NQN"),
    ({"paths": []}, "at least one path"),
    ({"paths": [{"address": "10.90.1.300"}]}, "paths[0].address: '10.90.1.300' is not an IPv4 or IPv6 address"),
    ({"paths": [{"address": "10.90.1.11", "service_id": 0}]}, "paths[0].service_id: 0 is out of range 1..65535"),
    ({"paths": [{"address": "10.90.1.11", "transport": "rdma"}]}, "transport: 'rdma' is not supported"),
    ({"paths": [{"address": "10.90.1.11", "host_iface": "eth1; reboot"}]}, "is not a network interface name"),
    ({"paths": [{"address": "10.90.1.11", "host_traddr": "nowhere"}]}, "paths[0].host_traddr: 'nowhere'"),
    ({"paths": [{"address": "10.90.1.11"}, {"address": "10.90.1.11"}]}, "is declared more than once"),
    ({"ctrl_loss_tmo": -2}, "ctrl_loss_tmo: -2 is out of range"),
    ({"reconnect_delay": 0}, "reconnect_delay: 0 is out of range"),
    ({"nr_io_queues": 0}, "nr_io_queues: 0 is out of range"),
    ({"keep_alive_tmo": True}, "keep_alive_tmo: True is out of range"),
    ({"ctrl_loss_tmo": 5, "reconnect_delay": 10}, "shorter than reconnect_delay"),
    ({"ctrl_loss_tmo": 30, "fast_io_fail_tmo": 60}, "longer than ctrl_loss_tmo"),
    ({"dhchap_ctrl_secret": SECRET}, "dhchap_ctrl_secret needs dhchap_secret"),
]


@pytest.mark.parametrize("changes, message", BAD, ids=[message for _changes, message in BAD])
def test_bad_options_name_the_option_and_value(changes, message):
    with pytest.raises(SpecError) as raised:
        normalize(declared(**changes))
    assert message in str(raised.value)


def test_a_bad_secret_is_named_but_never_quoted():
    with pytest.raises(SpecError) as raised:
        normalize(declared(dhchap_secret="DHHC-1:00:top secret:"))
    assert "dhchap_secret" in str(raised.value) and "top secret" not in str(raised.value)
