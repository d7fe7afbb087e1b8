# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Saved copies of applied subsystems and the boot-time restore."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_model import read_world
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_persist import (
    forget, load_all, restore, save, saved_path)
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_reconcile import reconcile
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_spec import normalize

from test_nvmet_reconcile import DB, HOST, KEY, LOGS, FakeIp, put_file  # same directory, on sys.path

CONFIG = "/etc/nvmeof-fleet/nvmet"


def spec_for(nqn, device):
    return normalize({"nqn": nqn, "namespaces": [{"nsid": 1, "device_path": device}],
                      "listeners": [{"address": "10.90.1.11"}, {"address": "10.90.2.11", "service_id": 4421}],
                      "hosts": [{"nqn": HOST, "dhchap_key": KEY}]})


def test_saved_copy_is_private_and_written_once(nvmet_configfs):
    spec = spec_for(DB, "/srv/db.img")
    assert save(nvmet_configfs, CONFIG, spec)
    path = nvmet_configfs.path(saved_path(CONFIG, DB))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(nvmet_configfs.path(CONFIG)).st_mode) == 0o700
    assert not save(nvmet_configfs, CONFIG, spec)
    assert load_all(nvmet_configfs, CONFIG) == [spec]


def test_check_mode_saves_nothing_and_forget_removes(nvmet_configfs):
    spec = spec_for(DB, "/srv/db.img")
    assert save(nvmet_configfs, CONFIG, spec, check_mode=True)
    assert not nvmet_configfs.exists(saved_path(CONFIG, DB))
    save(nvmet_configfs, CONFIG, spec)
    assert forget(nvmet_configfs, CONFIG, DB, check_mode=True)
    assert nvmet_configfs.exists(saved_path(CONFIG, DB))
    assert forget(nvmet_configfs, CONFIG, DB)
    assert not forget(nvmet_configfs, CONFIG, DB)
    assert load_all(nvmet_configfs, CONFIG) == []


def test_odd_characters_in_an_nqn_make_a_safe_file_name():
    assert saved_path(CONFIG, "nqn.2014-08.org.nvmexpress:uuid:1/2").endswith("uuid:1%2F2.json")


def test_restore_after_reboot_rebuilds_the_same_tree(nvmet_configfs_factory):
    running = nvmet_configfs_factory()
    for nqn, device in ((DB, "/srv/db.img"), (LOGS, "/srv/logs.img")):
        put_file(running, device)
        result = reconcile(running, FakeIp(), spec_for(nqn, device))
        save(running, CONFIG, result["spec"])
    rebooted = nvmet_configfs_factory(nvmet_loaded=True)
    for nqn, device in ((DB, "/srv/db.img"), (LOGS, "/srv/logs.img")):
        put_file(rebooted, device)
        put_file(rebooted, saved_path(CONFIG, nqn), running.read(saved_path(CONFIG, nqn)))
    lines = []
    failed = restore(rebooted, FakeIp(), load_all(rebooted, CONFIG), 0, lines.append)
    assert failed == 0, lines
    assert read_world(rebooted) == read_world(running)
    assert KEY not in "\n".join(lines)


def test_restore_reports_what_cannot_be_restored(nvmet_configfs):
    put_file(nvmet_configfs, "/srv/db.img")
    result = reconcile(nvmet_configfs, FakeIp(), spec_for(DB, "/srv/db.img"))
    os.unlink(nvmet_configfs.path("/srv/db.img"))
    lines = []
    sleeps = []
    failed = restore(nvmet_configfs, FakeIp(), [result["spec"]], 0, lines.append, sleep=sleeps.append)
    assert failed == 1
    assert any("still missing" in line and "device /srv/db.img" in line for line in lines)
    assert any("not restored" in line and "does not exist" in line for line in lines)
