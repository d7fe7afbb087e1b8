# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declared paths against live controllers read from a sysfs tree with the real layout."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_plan import plan
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_spec import normalize
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.nvme_host import fabrics_controllers

from test_nvme_host import SUBNQN, FakeSys  # same directory, on sys.path

OTHER = "nqn.2026-11.invalid.example:other"


def live(tmp_path):
    """Two live paths to SUBNQN (one through eth2) and one reconnecting path to OTHER."""
    sysfs = FakeSys(tmp_path)
    sysfs.controller(0, address="traddr=10.90.1.11,trsvcid=4420,src_addr=10.90.1.21", ctrl_loss_tmo="off")
    sysfs.controller(1, address="traddr=10.90.2.11,trsvcid=4420,host_iface=eth2,src_addr=10.90.2.21")
    sysfs.controller(2, address="traddr=10.90.1.11,trsvcid=4421", subsysnqn=OTHER, state="connecting")
    return fabrics_controllers(sysfs.fs)


def declared(nqn=SUBNQN, **changes):
    params = {"nqn": nqn, "paths": [{"address": "10.90.1.11"}, {"address": "10.90.2.11", "host_iface": "eth2"}]}
    params.update(changes)
    return normalize(params)


def names(pairs):
    return [pair[1]["name"] for pair in pairs]


def test_live_paths_are_kept(tmp_path):
    result = plan(declared(), live(tmp_path))
    assert names(result["keep"]) == ["nvme0", "nvme1"]
    assert result["connect"] == result["differ"] == result["disconnect"] == []


def test_a_missing_path_is_connected(tmp_path):
    result = plan(declared(paths=[{"address": "10.90.1.11"}, {"address": "fd90:2::11"}]), live(tmp_path))
    assert names(result["keep"]) == ["nvme0"]
    assert [path["address"] for path in result["connect"]] == ["fd90:2::11"]


def test_a_declared_host_interface_must_match(tmp_path):
    result = plan(declared(paths=[{"address": "10.90.2.11", "host_iface": "eth3"}]), live(tmp_path))
    assert result["keep"] == [] and len(result["connect"]) == 1


def test_a_reconnecting_controller_is_an_existing_path(tmp_path):
    result = plan(declared(OTHER, paths=[{"address": "10.90.1.11", "service_id": 4421}]), live(tmp_path))
    assert names(result["keep"]) == ["nvme2"] and result["connect"] == []


def test_different_options_are_reported_per_path(tmp_path):
    result = plan(declared(ctrl_loss_tmo=-1, keep_alive_tmo=5), live(tmp_path))
    assert names(result["keep"]) == ["nvme0"]
    assert [(item[1]["name"], item[2]) for item in result["differ"]] == [("nvme1", {"ctrl_loss_tmo": (600, -1)})]


def test_absent_disconnects_only_the_declared_paths(tmp_path):
    result = plan(declared(state="absent", paths=[{"address": "10.90.2.11"}]), live(tmp_path))
    assert [controller["name"] for controller in result["disconnect"]] == ["nvme1"]
    assert result["connect"] == result["keep"] == []
