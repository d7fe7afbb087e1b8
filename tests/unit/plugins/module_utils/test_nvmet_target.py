# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A whole target in one call (module nvmet_target), and its plan on the controller.

The agreement tests hold the controller to the module: from what host_state read, the
filter nvmet_target_plan plans exactly the actions the module reports in check mode,
so "the controller plans nothing" holds exactly when the module would change nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.nvmeof.fleet.plugins.filter.nvmet_target_plan import nvmet_target_plan
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.names import SpecError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_guards import GuardError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_persist import saved_path
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_reconcile import NvmetError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_target import (
    TARGET_ARGUMENT_SPEC, apply_target)
from ansible_collections.nvmeof.fleet.plugins.modules import host_state

DB = "nqn.2026-11.invalid.example:db"
LOGS = "nqn.2026-11.invalid.example:logs"
HOST = "nqn.2014-08.org.nvmexpress:uuid:7d1e6b8e-0b5a-4e9c-9a43-4c1f0e2a7b10"
KEY = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"
OTHER_KEY = "DHHC-1:00:M2Jh4s0eq4n0Rjh5lN5y4ZbY9G3m8Zz2yT7uXw1aQ5cB8dE0:"
CONFIG_DIR = "/etc/nvmeof-fleet/nvmet"
LOCAL = {"10.90.1.11": "eth1", "10.90.2.11": "eth2"}


class FakeHost:
    """The commands the target's modules run: `ip -json address show`, nothing else."""

    def __init__(self, addresses=None):
        self.addresses = LOCAL if addresses is None else addresses

    def run(self, args, check=True, data=None):
        assert args == ["ip", "-json", "address", "show"], args
        links = [{"ifname": name, "addr_info": [{"local": address}]} for address, name in sorted(self.addresses.items())]
        return 0, json.dumps(links), ""


def subsystem(nqn=DB, **changes):
    declared = {"nqn": nqn, "namespaces": [{"nsid": 1, "device_path": "/srv/%s.img" % nqn.rsplit(":", 1)[1]}],
                "listeners": [{"address": "10.90.1.11"}, {"address": "10.90.2.11"}], "hosts": [{"nqn": HOST}]}
    declared.update(changes)
    return declared


def options(subsystems, **changes):
    """The module's parameters, as AnsibleModule makes them from the task's options."""
    raw = dict({"subsystems": subsystems, "config_dir": CONFIG_DIR}, **changes)
    checked = ArgumentSpecValidator(TARGET_ARGUMENT_SPEC).validate(raw)
    assert not checked.error_messages, checked.error_messages
    return checked.validated_parameters


def run(fs, subsystems, check_mode=False, **changes):
    return apply_target(fs, FakeHost(), options(subsystems, **changes), check_mode)


def controller_plan(fs, subsystems, persist=True):
    """What role nvmeof.fleet.target plans: host_state's read, through JSON, into the filter."""
    read = host_state.run({"packages": [], "kernel_modules": [], "units": [], "files": [],
                           "directories": [CONFIG_DIR + "/subsystems"], "nvmet": True}, fs, FakeHost())
    return nvmet_target_plan(json.loads(json.dumps(read)), subsystems, persist=persist, config_dir=CONFIG_DIR)


@pytest.fixture
def fs(nvmet_configfs):
    for name in ("db", "logs", "spare"):
        real = nvmet_configfs.path("/srv/%s.img" % name)
        if not os.path.isdir(os.path.dirname(real)):
            os.makedirs(os.path.dirname(real))
        open(real, "w").close()
    return nvmet_configfs


# -- the module's job -----------------------------------------------------------------------

def test_every_subsystem_in_one_call_then_nothing_to_do(fs):
    result = run(fs, [subsystem(DB), subsystem(LOGS, listeners=[{"address": "10.90.1.11"}])])
    assert result["changed"] and [entry["nqn"] for entry in result["subsystems"]] == [DB, LOGS]
    assert all(entry["changed"] and entry["saved"] == saved_path(CONFIG_DIR, entry["nqn"]) for entry in result["subsystems"])
    assert [len(entry["subsystem"]["listeners"]) for entry in result["subsystems"]] == [2, 1]
    # one port per address, shared: LOGS joins the port DB made on 10.90.1.11
    assert result["subsystems"][1]["subsystem"]["listeners"][0]["port_id"] == \
        result["subsystems"][0]["subsystem"]["listeners"][0]["port_id"]
    again = run(fs, [subsystem(DB), subsystem(LOGS, listeners=[{"address": "10.90.1.11"}])])
    assert not again["changed"] and again["actions"] == []
    assert [entry["changed"] for entry in again["subsystems"]] == [False, False]


def test_the_diff_names_every_subsystem_and_hides_keys(fs):
    result = run(fs, [subsystem(DB, hosts=[{"nqn": HOST, "dhchap_key": KEY}]), subsystem(LOGS)], check_mode=True)
    assert sorted(result["diff"]["after"]) == [DB, LOGS]
    assert result["diff"]["before"][DB] == {"nqn": DB, "state": "absent"}
    assert KEY not in json.dumps(result)


def test_a_refusal_names_the_subsystem_and_writes_nothing(fs):
    before = fs.snapshot()
    with pytest.raises(GuardError) as raised:
        run(fs, [subsystem(DB), subsystem(LOGS, namespaces=[{"nsid": 1, "device_path": "/srv/db.img"}])])
    assert str(raised.value).startswith("subsystems[1] (%s): namespaces[nsid=1].device_path: '/srv/db.img'" % LOGS)
    assert "already exported as namespace 1 of subsystem %s" % DB in str(raised.value)
    with pytest.raises(SpecError) as raised:
        run(fs, [subsystem(DB), subsystem(LOGS, namespaces=[{"nsid": 0, "device_path": "/srv/logs.img"}])])
    assert str(raised.value).startswith("subsystems[1] (%s): namespaces[0].nsid" % LOGS)
    with pytest.raises(SpecError) as raised:
        run(fs, [subsystem(DB), {"nqn": DB, "state": "absent"}])
    assert "subsystems[1].nqn: %s is declared more than once (also subsystems[0])" % DB in str(raised.value)
    assert fs.snapshot() == before
    assert not fs.exists(CONFIG_DIR)


def test_a_step_the_kernel_refuses_undoes_every_subsystem(nvmet_configfs_factory):
    fs = nvmet_configfs_factory(local_addresses=["10.90.1.11"])  # the kernel cannot bind 10.90.2.11
    for name in ("db", "logs"):
        fs.add_block_device("/srv/%s.img" % name)
    before = fs.snapshot()
    with pytest.raises(NvmetError) as raised:
        run(fs, [subsystem(DB, listeners=[{"address": "10.90.1.11"}]), subsystem(LOGS)])
    assert "returned to its state before this run" in str(raised.value)
    assert fs.snapshot() == before
    assert not fs.exists(CONFIG_DIR)


def test_allow_disruptive_is_per_subsystem(fs):
    run(fs, [subsystem(DB), subsystem(LOGS)])
    os.makedirs(fs.path("/proc/net"))
    with open(fs.path("/proc/net/tcp"), "w") as handle:  # a host connected to 10.90.1.11:4420
        handle.write("  sl  local_address rem_address   st\n"
                     "   0: 0B015A0A:1144 15015A0A:D431 01 00000000:00000000 00:00000000 00000000     0\n")
    with pytest.raises(GuardError) as raised:
        run(fs, [{"nqn": DB, "state": "absent", "allow_disruptive": True}, subsystem(LOGS, namespaces=[])])
    assert str(raised.value).startswith("subsystems[1] (%s): refusing to cut live connections" % LOGS)
    result = run(fs, [{"nqn": DB, "state": "absent", "allow_disruptive": True}, subsystem(LOGS)])
    assert [entry["changed"] for entry in result["subsystems"]] == [True, False]
    assert "remove %s" % saved_path(CONFIG_DIR, DB) in result["actions"]


# -- the controller's plan agrees with the module ----------------------------------------------

def _set_up_nothing(fs):
    return None


def _apply_both(fs):
    run(fs, [subsystem(DB, hosts=[{"nqn": HOST, "dhchap_key": KEY}]), subsystem(LOGS)])


def _apply_without_saving(fs):
    run(fs, [subsystem(DB), subsystem(LOGS)], persist=False)


def _lose_a_saved_copy(fs):
    _apply_both(fs)
    fs.unlink(saved_path(CONFIG_DIR, LOGS))


def _edit_a_saved_copy(fs):
    _apply_both(fs)
    path = saved_path(CONFIG_DIR, DB)
    fs.write_file_atomic(path, fs.read_text(path) + " ", mode=0o600)


def _drop_a_namespace_by_hand(fs):
    _apply_both(fs)
    base = "/sys/kernel/config/nvmet/subsystems/%s/namespaces/1" % DB
    fs.write(base + "/enable", "0")
    fs.remove_dir(base)


HOSTS = [_set_up_nothing, _apply_both, _apply_without_saving, _lose_a_saved_copy, _edit_a_saved_copy,
         _drop_a_namespace_by_hand]
DECLARATIONS = {
    "both": ([subsystem(DB, hosts=[{"nqn": HOST, "dhchap_key": KEY}]), subsystem(LOGS)], True),
    "both, not saved": ([subsystem(DB, hosts=[{"nqn": HOST, "dhchap_key": KEY}]), subsystem(LOGS)], False),
    "a new key": ([subsystem(DB, hosts=[{"nqn": HOST, "dhchap_key": OTHER_KEY}]), subsystem(LOGS)], True),
    "keys left alone": ([subsystem(DB), subsystem(LOGS)], True),
    "strings for numbers": ([
        subsystem(DB, hosts=[{"nqn": HOST, "dhchap_key": KEY}],
                  namespaces=[{"nsid": "1", "device_path": "/srv/db.img", "enabled": "yes"}]),
        subsystem(LOGS, listeners=[{"address": "10.90.1.11", "service_id": "4420"}, {"address": "10.90.2.11"}]),
    ], True),
    "db absent": ([{"nqn": DB, "state": "absent", "allow_disruptive": True}, subsystem(LOGS)], True),
    "a third": ([subsystem(DB, hosts=[{"nqn": HOST, "dhchap_key": KEY}]), subsystem(LOGS),
                 subsystem("nqn.2026-11.invalid.example:spare", listeners=[{"address": "10.90.2.11"}])], True),
    "nothing": ([], True),
}


@pytest.mark.parametrize("set_up", HOSTS, ids=[host.__name__.strip("_") for host in HOSTS])
@pytest.mark.parametrize("name", sorted(DECLARATIONS))
def test_the_controller_plans_exactly_what_the_module_would_do(fs, set_up, name):
    set_up(fs)
    subsystems, persist = DECLARATIONS[name]
    planned = controller_plan(fs, subsystems, persist=persist)
    would = run(fs, subsystems, check_mode=True, persist=persist)
    assert planned == would["actions"]
    assert (planned == []) == (not would["changed"])
    run(fs, subsystems, persist=persist)
    assert controller_plan(fs, subsystems, persist=persist) == []


def test_without_nvmet_the_controller_plans_the_whole_target(nvmet_configfs_factory):
    fs = nvmet_configfs_factory(nvmet_loaded=False)
    fs.add_block_device("/srv/db.img")
    planned = controller_plan(fs, [subsystem(DB)])
    assert planned == run(fs, [subsystem(DB)], check_mode=True)["actions"]
    assert any(action.startswith("mkdir") for action in planned)
    assert controller_plan(fs, [{"nqn": DB, "state": "absent"}]) == []


def test_a_declaration_the_module_refuses_is_planned_as_a_call(fs):
    assert controller_plan(fs, [subsystem(DB), subsystem(DB)])[0].startswith("refuse the declaration: subsystems[1].nqn")
    assert controller_plan(fs, [{"nqn": DB, "state": "gone"}])[0].startswith("refuse the options: ")


def test_host_state_returns_keys_as_digests(nvmet_configfs):
    nvmet_configfs.make_dir("/sys/kernel/config/nvmet/hosts/nqn.2014-08.org.nvmexpress:uuid:1")
    nvmet_configfs.write("/sys/kernel/config/nvmet/hosts/nqn.2014-08.org.nvmexpress:uuid:1/dhchap_key", KEY)
    result = host_state.run({"packages": [], "kernel_modules": [], "units": [], "files": [], "directories": [],
                             "nvmet": True}, nvmet_configfs, FakeHost())
    assert result["nvmet"]["loaded"]
    host = result["nvmet"]["world"]["hosts"]["nqn.2014-08.org.nvmexpress:uuid:1"]
    assert host["dhchap_key"] == "sha256:" + hashlib.sha256(KEY.encode()).hexdigest()
    assert KEY not in json.dumps(result)
