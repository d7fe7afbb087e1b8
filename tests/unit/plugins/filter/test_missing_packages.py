# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter nvmeof.fleet.missing_packages: what dpkg-query did not report as installed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nvmeof.fleet.plugins.filter.missing_packages import missing_packages


def test_only_the_installed_state_counts():
    lines = ["nvme-cli installed", "kmod installed", "ethtool config-files", "fio not-installed", "irqbalance half-installed"]
    assert missing_packages(["nvme-cli", "kmod", "ethtool", "fio", "irqbalance", "absent-pkg"], lines) == [
        "ethtool", "fio", "irqbalance", "absent-pkg"]


def test_everything_installed_is_nothing_to_do():
    assert missing_packages(["nvme-cli"], ["nvme-cli installed"]) == []
    assert missing_packages([], []) == []


def test_versions_architectures_and_wildcards_go_to_the_package_manager():
    lines = ["nvme-cli installed", "libnvme1 installed"]
    assert missing_packages(["nvme-cli=2.3-3", "libnvme1:amd64", "nvme*", "fio>=3", "nvme-cli"], lines) == [
        "nvme-cli=2.3-3", "libnvme1:amd64", "nvme*", "fio>=3"]


def test_host_state_packages_are_read_like_the_lines():
    statuses = {"nvme-cli": "installed", "ethtool": "config-files", "fio": "not-installed"}
    assert missing_packages(["nvme-cli", "ethtool", "fio", "kmod=30"], statuses) == ["ethtool", "fio", "kmod=30"]


def test_each_name_once_in_order():
    assert missing_packages(["fio", "kmod", "fio"], []) == ["fio", "kmod"]


@pytest.mark.parametrize("names, installed, message", [
    ("nvme-cli", [], "the input must be a list of package names, got 'nvme-cli'"),
    (["nvme-cli", ""], [], "the input must be a list of package names"),
    (["nvme-cli"], "nvme-cli installed", "'installed' must be host_state's packages or the lines dpkg-query printed"),
])
def test_bad_input_is_named(names, installed, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("(", r"\(")):
        missing_packages(names, installed)
