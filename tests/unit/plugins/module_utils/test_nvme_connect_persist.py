# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Persisting connections for nvme connect-all at boot: discovery.conf (2.x), nvme-fabrics.conf (3.x)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_persist import (
    BEGIN, END, SAVED_DIR, PersistError, config_path, hide_secrets, load_records, nvme_cli_version, persist,
    persistence_format, record_name, render)
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_spec import normalize

DB = "nqn.2026-11.invalid.example:db"
LOGS = "nqn.2026-11.invalid.example:logs"
SECRET = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"
CTRL_SECRET = "DHHC-1:00:bXlDdHJsU2VjcmV0MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw:"
DEBIAN = ("# Used for extracting default parameters for discovery\n#\n# Example:\n"
          "# --transport=<trtype> --traddr=<traddr> --trsvcid=<trsvcid> --host-traddr=<host-traddr>"
          " --host-iface=<host-iface>\n")
DISCOVERY_CONF = "/etc/nvme/discovery.conf"
DROPIN = "/etc/nvme/nvme-fabrics.conf.d/nvmeof-fleet.conf"


def subsystem(nqn, paths, **options):
    params = dict(options, nqn=nqn, paths=[dict(path) if isinstance(path, dict) else {"address": path}
                                           for path in paths])
    spec = normalize(params)
    return {"kind": "subsystem", "nqn": spec["nqn"], "paths": spec["paths"], "options": spec["options"]}


def discovery(address, service_id=4420, host_iface=None, **options):
    return {"kind": "discovery", "options": options,
            "endpoint": {"transport": "tcp", "address": address, "service_id": service_id,
                         "host_iface": host_iface, "host_traddr": None}}


@pytest.fixture
def fs(tmp_path):
    return HostFS(str(tmp_path))


def put(fs, path, text):
    if not os.path.isdir(os.path.dirname(fs.path(path))):
        os.makedirs(os.path.dirname(fs.path(path)))
    with open(fs.path(path), "w") as handle:
        handle.write(text)


def raw(fs, path):
    with open(fs.path(path), "rb") as handle:
        return handle.read()


def snapshot(fs):
    """Every file under the fake root, with its bytes."""
    files = {}
    for directory, _dirs, names in os.walk(fs.root):
        for name in names:
            with open(os.path.join(directory, name), "rb") as handle:
                files[os.path.relpath(os.path.join(directory, name), fs.root)] = handle.read()
    return files


def mode(fs, path):
    return stat.S_IMODE(os.stat(fs.path(path)).st_mode)


# -- version and format ------------------------------------------------------------

def runner_printing(out, rc=0):
    def run_command(args, check_rc=False, data=None, environ_update=None):
        assert args == ["nvme", "version"]
        if out is OSError:
            raise OSError(2, "No such file or directory: 'nvme'")
        return rc, out, ""
    return CommandRunner(run_command)


@pytest.mark.parametrize("out, version", [
    ("nvme version 2.3 (git 2.3)\nlibnvme version 1.3 (git 1.3)\n", (2, 3)),
    ("nvme version 2.11 (git 2.11)\nlibnvme version 1.11 (git 1.11)\n", (2, 11)),
    ("nvme version 3.0-rc1 (git 3.0-rc1)\nlibnvme version 3.0-rc1 (git 3.0-rc1)\n", (3, 0)),
    ("nvme version 1.16\n", (1, 16)),
], ids=["2.3", "2.11", "3.0-rc1", "1.16"])
def test_nvme_cli_version_is_read_from_nvme_version(out, version):
    assert nvme_cli_version(runner_printing(out)) == version


def test_missing_nvme_cli_has_no_version():
    assert nvme_cli_version(runner_printing(OSError)) is None
    assert nvme_cli_version(runner_printing("", rc=127)) is None


def test_garbage_from_nvme_version_is_an_error():
    with pytest.raises(PersistError, match="cannot tell nvme-cli's version"):
        nvme_cli_version(runner_printing("Segmentation fault\n"))


def test_format_follows_the_major_version():
    assert persistence_format((2, 3)) == "discovery.conf"
    assert persistence_format((3, 0)) == "nvme-fabrics.conf"
    assert config_path("discovery.conf") == DISCOVERY_CONF
    assert config_path("nvme-fabrics.conf") == DROPIN
    with pytest.raises(PersistError, match="not installed.*nvme-cli 2 or 3"):
        persistence_format(None)
    with pytest.raises(PersistError, match="nvme-cli 1.16 is too old.*nvme-cli 2 or 3"):
        persistence_format((1, 16))


def test_record_names_are_safe_file_names():
    assert record_name(subsystem(DB, ["10.90.1.11"])) == "nqn.2026-11.invalid.example%3Adb"
    assert record_name(discovery("10.90.1.11", host_iface="eth1")) == "discovery-10.90.1.11-4420-eth1"
    assert record_name(discovery("fd90:1::11", 8009)) == "discovery-fd90%3A1%3A%3A11-8009"
    with pytest.raises(PersistError, match="not 'volume'"):
        record_name({"kind": "volume"})


# -- nvme-cli 2.x: discovery.conf --------------------------------------------------

def test_subsystems_sharing_endpoints_make_one_line_per_endpoint():
    db = subsystem(DB, ["10.90.1.11", "10.90.2.11"], ctrl_loss_tmo=-1, reconnect_delay=5)
    logs = subsystem(LOGS, ["10.90.2.11", "10.90.1.11"], ctrl_loss_tmo=-1, reconnect_delay=5)
    text = render("discovery.conf", [logs, db], DEBIAN)
    assert text == DEBIAN + (
        BEGIN + "\n"
        "--transport=tcp --traddr=10.90.1.11 --trsvcid=4420 --ctrl-loss-tmo=-1 --reconnect-delay=5\n"
        "--transport=tcp --traddr=10.90.2.11 --trsvcid=4420 --ctrl-loss-tmo=-1 --reconnect-delay=5\n"
        + END + "\n")
    assert render("discovery.conf", [db, logs], DEBIAN) == text
    assert render("discovery.conf", [db, logs], text) == text


def test_host_side_of_a_path_and_every_option_are_written():
    db = subsystem(DB, [{"address": "10.90.1.11", "service_id": 4421, "host_iface": "eth1"},
                        {"address": "fd90:2::11", "host_traddr": "fd90:2::21"}],
                   ctrl_loss_tmo=-1, reconnect_delay=5, keep_alive_tmo=5, nr_io_queues=4, nr_poll_queues=0)
    lines = render("discovery.conf", [db], None).splitlines()
    assert lines[1:3] == [
        "--transport=tcp --traddr=10.90.1.11 --trsvcid=4421 --host-iface=eth1 --ctrl-loss-tmo=-1"
        " --reconnect-delay=5 --keep-alive-tmo=5 --nr-io-queues=4 --nr-poll-queues=0",
        "--transport=tcp --traddr=fd90:2::11 --trsvcid=4420 --host-traddr=fd90:2::21 --ctrl-loss-tmo=-1"
        " --reconnect-delay=5 --keep-alive-tmo=5 --nr-io-queues=4 --nr-poll-queues=0"]


def test_lines_outside_the_block_are_kept_byte_for_byte():
    before = "# mine\r\n--transport=tcp --traddr=10.9.9.9 --trsvcid=4420\n\n"
    after = "# trailing, no newline"
    existing = before + BEGIN + "\n--transport=tcp --traddr=10.1.1.1 --trsvcid=4420\n" + END + "\n" + after
    text = render("discovery.conf", [subsystem(DB, ["10.90.1.11"])], existing)
    assert text == (before + BEGIN + "\n--transport=tcp --traddr=10.90.1.11 --trsvcid=4420\n" + END + "\n"
                    + after)
    assert render("discovery.conf", [], existing) == before + after


def test_a_damaged_block_is_not_guessed_at():
    with pytest.raises(PersistError, match="managed block is damaged"):
        render("discovery.conf", [subsystem(DB, ["10.90.1.11"])], DEBIAN + BEGIN + "\n--traddr=x\n")


def test_persist_on_debian_and_forget_the_last_record(fs):
    put(fs, DISCOVERY_CONF, DEBIAN)
    db = subsystem(DB, ["10.90.1.11"], ctrl_loss_tmo=-1)
    result = persist(fs, "discovery.conf", db, True)
    assert result["changed"] and result["file"] == DISCOVERY_CONF and result["format"] == "discovery.conf"
    assert result["record"] == record_name(db) and result["before"] == DEBIAN
    assert result["after"] == raw(fs, DISCOVERY_CONF).decode() and result["after"].startswith(DEBIAN + BEGIN)
    assert mode(fs, DISCOVERY_CONF) == 0o600
    assert load_records(fs) == [db]
    assert not persist(fs, "discovery.conf", db, True)["changed"]
    assert persist(fs, "discovery.conf", {"kind": "subsystem", "nqn": DB}, False)["changed"]
    assert raw(fs, DISCOVERY_CONF) == DEBIAN.encode()
    assert load_records(fs) == []
    assert not persist(fs, "discovery.conf", {"kind": "subsystem", "nqn": DB}, False)["changed"]


def test_shared_endpoint_with_other_options_is_refused_and_nothing_written(fs):
    put(fs, DISCOVERY_CONF, DEBIAN)
    persist(fs, "discovery.conf", subsystem(DB, ["10.90.1.11", "10.90.2.11"], ctrl_loss_tmo=-1), True)
    files = snapshot(fs)
    with pytest.raises(PersistError) as raised:
        persist(fs, "discovery.conf", subsystem(LOGS, ["10.90.2.11"], ctrl_loss_tmo=600), True)
    message = str(raised.value)
    for part in (DB, LOGS, "tcp 10.90.2.11:4420", "ctrl_loss_tmo (-1 and 600)"):
        assert part in message
    with pytest.raises(PersistError, match=r"reconnect_delay \(not set and 5\)"):
        persist(fs, "discovery.conf", subsystem(LOGS, ["10.90.1.11"], ctrl_loss_tmo=-1, reconnect_delay=5), True)
    assert snapshot(fs) == files


@pytest.mark.parametrize("options, named", [
    ({"fast_io_fail_tmo": 5}, "fast_io_fail_tmo"),
    ({"dhchap_secret": SECRET}, "dhchap_secret"),
    ({"dhchap_secret": SECRET, "dhchap_ctrl_secret": CTRL_SECRET}, "dhchap_ctrl_secret, dhchap_secret"),
])
def test_what_discovery_conf_cannot_carry_is_refused(fs, options, named):
    put(fs, DISCOVERY_CONF, DEBIAN)
    files = snapshot(fs)
    with pytest.raises(PersistError) as raised:
        persist(fs, "discovery.conf", subsystem(DB, ["10.90.1.11"], **options), True)
    message = str(raised.value)
    assert named in message and "nvme-cli 2.x" in message and "persist: false" in message
    assert "DHHC-1" not in message
    assert snapshot(fs) == files


def test_check_mode_computes_the_result_and_writes_nothing(fs):
    put(fs, DISCOVERY_CONF, DEBIAN)
    files = snapshot(fs)
    db = subsystem(DB, ["10.90.1.11"])
    planned = persist(fs, "discovery.conf", db, True, check_mode=True)
    assert planned["changed"] and snapshot(fs) == files
    assert persist(fs, "discovery.conf", db, True) == planned
    assert persist(fs, "discovery.conf", db, False, check_mode=True)["changed"]
    assert load_records(fs) == [db]


def test_a_corrupt_record_is_named(fs):
    put(fs, SAVED_DIR + "/nqn.2026-11.invalid.example%3Adb.json", "{not json")
    put(fs, SAVED_DIR + "/README", "ignored")
    with pytest.raises(PersistError, match="%3Adb.json is not a saved nvmeof.fleet connection record"):
        load_records(fs)
    with pytest.raises(PersistError, match="%3Adb.json"):
        persist(fs, "discovery.conf", subsystem(LOGS, ["10.90.1.11"]), True)


# -- nvme-cli 3.x: nvme-fabrics.conf.d/nvmeof-fleet.conf --------------------------

def test_fabrics_conf_has_a_section_per_record():
    db = subsystem(DB, [{"address": "10.90.1.11", "host_iface": "eth1"},
                        {"address": "10.90.2.11", "service_id": 4421, "host_traddr": "10.90.2.21"}],
                   ctrl_loss_tmo=-1, fast_io_fail_tmo=5, nr_io_queues=4,
                   dhchap_secret=SECRET, dhchap_ctrl_secret=CTRL_SECRET)
    text = render("nvme-fabrics.conf", [db, discovery("10.90.1.11", 8009, keep_alive_tmo=30)], "ignored")
    assert text.split("\n", 2)[2] == (
        "\n[Discovery Controller]\n"
        "keep-alive-tmo = 30\n"
        "controller = transport=tcp;traddr=10.90.1.11;trsvcid=8009\n"
        "\n[Subsystem]\n"
        "nqn = nqn.2026-11.invalid.example:db\n"
        "ctrl-loss-tmo = -1\n"
        "fast-io-fail-tmo = 5\n"
        "nr-io-queues = 4\n"
        "kxchap-secret = %s\n"
        "kxchap-ctrl-secret = %s\n"
        "controller = transport=tcp;traddr=10.90.1.11;trsvcid=4420;host-iface=eth1\n"
        "controller = transport=tcp;traddr=10.90.2.11;trsvcid=4421;host-traddr=10.90.2.21\n" % (SECRET, CTRL_SECRET))
    assert render("nvme-fabrics.conf", [], "ignored") is None


def test_fabrics_secrets_stay_in_private_files_and_out_of_the_diff(fs):
    db = subsystem(DB, ["10.90.1.11", "10.90.2.11"], dhchap_secret=SECRET)
    result = persist(fs, "nvme-fabrics.conf", db, True)
    assert result["changed"] and result["file"] == DROPIN and result["before"] is None
    assert SECRET not in result["after"] and "kxchap-secret = (hidden)" in result["after"]
    assert SECRET.encode() in raw(fs, DROPIN)
    saved = SAVED_DIR + "/" + record_name(db) + ".json"
    assert SECRET.encode() in raw(fs, saved)
    assert mode(fs, DROPIN) == 0o600 and mode(fs, saved) == 0o600
    assert mode(fs, SAVED_DIR) == 0o700 and mode(fs, "/etc/nvmeof-fleet") == 0o700
    assert mode(fs, "/etc/nvme/nvme-fabrics.conf.d") == 0o755 and mode(fs, "/etc/nvme") == 0o755
    assert not persist(fs, "nvme-fabrics.conf", db, True)["changed"]
    gone = persist(fs, "nvme-fabrics.conf", db, False)
    assert gone["changed"] and gone["after"] is None and SECRET not in gone["before"]
    assert not fs.exists(DROPIN) and not fs.exists(saved)


def test_hide_secrets():
    assert hide_secrets("kxchap-secret = %s\n" % SECRET) == "kxchap-secret = (hidden)\n"
    assert hide_secrets(None) is None
