# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module nvmeof.fleet.host_files: its documentation matches its options, and main() reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.modules import host_files

from documentation import assert_documented  # same directory, on sys.path
from test_nvme_info import run_module as run_nvme_info_style

CONF = "/etc/modules-load.d/nvmeof-fleet-target.conf"


def test_documentation_matches_the_argument_spec():
    assert_documented(host_files)


@pytest.fixture
def host(tmp_path, monkeypatch):
    monkeypatch.setattr(host_files, "HostFS", lambda: HostFS(str(tmp_path)))
    return tmp_path


def run_module(capsys, args):
    return run_nvme_info_style(capsys, args, main=host_files.main)


def test_check_mode_then_apply_then_nothing(host, capsys):
    args = {"files": [{"path": CONF, "content": "nvmet\nnvmet_tcp\n", "mode": "0644"}]}
    checked = run_module(capsys, dict(args, _ansible_check_mode=True))
    assert checked["changed"] is True and not (host / CONF.lstrip("/")).exists()
    result = run_module(capsys, dict(args, _ansible_diff=True))
    assert result["rc"] == 0 and result["changed"] is True
    assert result["actions"] == ["write %s (absent)" % CONF]
    assert result["diff"] == [{"before_header": CONF, "before": "", "after_header": CONF + " (mode 0644)",
                               "after": "nvmet\nnvmet_tcp\n"}]
    assert (host / CONF.lstrip("/")).read_text() == "nvmet\nnvmet_tcp\n"
    assert oct(os.stat(str(host / CONF.lstrip("/"))).st_mode & 0o777) == "0o644"
    assert run_module(capsys, args)["changed"] is False


def test_a_refusal_fails_naming_the_entry(host, capsys):
    result = run_module(capsys, {"files": [{"path": "relative/x", "content": "", "mode": "0644"}]})
    assert result["rc"] == 1 and result["failed"] is True
    assert result["msg"].startswith("files[0].path: 'relative/x' is not a normalized absolute file path")
    assert not (host / "relative").exists()
