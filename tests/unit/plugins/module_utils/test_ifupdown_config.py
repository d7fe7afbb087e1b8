# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ifupdown_config: the files ifupdown reads, and MTU edits that leave every other byte alone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.ifupdown_config import (
    ConfigFile, IfupdownError, load_files, read_exact, set_mtus)


def edit(text, mtus):
    return set_mtus(ConfigFile("/etc/network/interfaces", text, 0o644), mtus)


@pytest.fixture
def fs(tmp_path):
    return HostFS(str(tmp_path))


def put(fs, path, content, mode="w"):
    real = fs.path(path)
    if not os.path.isdir(os.path.dirname(real)):
        os.makedirs(os.path.dirname(real))
    with open(real, mode) as handle:
        handle.write(content)


def test_comments_blank_lines_and_other_interfaces_stay_as_they_were():
    text = ("# The loopback\nauto lo\niface lo inet loopback\n\n\n"
            "# storage A\n#iface eth1 inet dhcp\nallow-hotplug eth1\niface eth1 inet static\n"
            "\taddress 10.90.1.11/24\n\n\t# gateway below\n\tgateway 10.90.1.1\n"
            "mapping eth2\n\tscript /usr/local/bin/map\n   \n")
    new, changed = edit(text, {"eth1": 9000})
    assert new == text.replace("iface eth1 inet static\n", "iface eth1 inet static\n\tmtu 9000\n")
    assert changed == set(["eth1"])
    assert edit(new, {"eth1": 9000}) == (new, set())


def test_every_mtu_line_of_the_stanza_is_replaced_with_its_own_indentation():
    text = "iface eth1 inet manual\n  mtu 1500\n\tpre-up true\n\t  mtu   1500  \nauto eth2\n  mtu 1500\n"
    new, _changed = edit(text, {"eth1": 9000})
    assert new == "iface eth1 inet manual\n  mtu 9000\n\tpre-up true\n\t  mtu 9000\nauto eth2\n  mtu 1500\n"


def test_file_without_a_final_newline_keeps_it_so():
    assert edit("iface eth1 inet static", {"eth1": 9000})[0] == "iface eth1 inet static\n    mtu 9000"
    assert edit("iface eth1 inet static\n  mtu 1500", {"eth1": 9000})[0] == "iface eth1 inet static\n  mtu 9000"


def test_continued_lines_are_one_line():
    text = "iface eth1 inet static \\\n    address 10.90.1.11/24\n    mtu \\\n 1500\n    up true\n"
    assert edit(text, {"eth1": 9000})[0] == (
        "iface eth1 inet static \\\n    address 10.90.1.11/24\n    mtu 9000\n    up true\n")


def test_methods_without_mtu_get_a_post_up_command_and_keep_its_keyword():
    text = "iface eth1 inet dhcp\n    up ip link set dev eth1 mtu 1500\niface eth1 inet6 auto\n    accept_ra 2\n"
    new, changed = edit(text, {"eth1": 9000})
    assert new == ("iface eth1 inet dhcp\n    up ip link set dev eth1 mtu 9000\n"
                   "iface eth1 inet6 auto\n    post-up ip link set dev eth1 mtu 9000\n    accept_ra 2\n")
    assert changed == set(["eth1"])


def test_a_stanza_turned_static_updates_its_old_post_up_command_too():
    text = "iface eth1 inet static\n    post-up ip link set dev eth1 mtu 1500\n"
    assert edit(text, {"eth1": 9000})[0] == (
        "iface eth1 inet static\n    mtu 9000\n    post-up ip link set dev eth1 mtu 9000\n")


def test_ifupdown2_stanza_without_method_takes_mtu():
    assert edit("auto swp1\niface swp1\n", {"swp1": 9216})[0] == "auto swp1\niface swp1\n    mtu 9216\n"


def test_read_exact_keeps_trailing_newlines(fs):
    put(fs, "/etc/network/interfaces", "auto lo\n\n\n")
    assert read_exact(fs, "/etc/network/interfaces") == "auto lo\n\n\n"
    assert read_exact(fs, "/etc/network/absent") is None


def test_a_file_that_is_not_text_is_named(fs):
    put(fs, "/etc/network/interfaces", b"# caf\xe9\n", mode="wb")
    with pytest.raises(IfupdownError) as info:
        load_files(fs)
    assert str(info.value).startswith("/etc/network/interfaces is not UTF-8 text")


def test_sources_are_followed_once_in_ifupdowns_order(fs):
    put(fs, "/etc/network/interfaces", "source interfaces.d/*\nsource-directory /etc/network/dir.d\n"
                                       "source /etc/network/absent/*\n")
    put(fs, "/etc/network/interfaces.d/b", "source interfaces\n")  # a loop back to the first file
    put(fs, "/etc/network/interfaces.d/a", "iface eth1 inet manual\n")
    put(fs, "/etc/network/interfaces.d/.hidden", "iface eth9 inet manual\n")
    put(fs, "/etc/network/dir.d/eth2", "iface eth2 inet manual\n")
    put(fs, "/etc/network/dir.d/eth3.bak", "iface eth3 inet manual\n")
    os.makedirs(fs.path("/etc/network/dir.d/sub"))
    files = load_files(fs)
    assert [config.path for config in files] == [
        "/etc/network/interfaces", "/etc/network/interfaces.d/a", "/etc/network/interfaces.d/b",
        "/etc/network/dir.d/eth2"]
    assert [sorted(config.names()) for config in files] == [[], ["eth1"], [], ["eth2"]]


def test_a_symlinked_file_is_written_where_it_lives(fs):
    put(fs, "/etc/network/lab/interfaces", "iface eth1 inet manual\n")
    os.symlink(fs.path("/etc/network/lab/interfaces"), fs.path("/etc/network/interfaces"))
    [config] = load_files(fs)
    assert config.path == "/etc/network/interfaces" and config.write_path == "/etc/network/lab/interfaces"
