from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError


@pytest.fixture
def fs(tmp_path):
    (tmp_path / "sys/kernel/config/nvmet/ports/1").mkdir(parents=True)
    (tmp_path / "sys/kernel/config/nvmet/ports/1/addr_trsvcid").write_text("4420\n")
    return HostFS(str(tmp_path))


def test_paths_map_under_root(fs, tmp_path):
    assert fs.path("/sys/kernel") == str(tmp_path / "sys/kernel")
    assert HostFS("/").path("/sys/kernel") == "/sys/kernel"
    with pytest.raises(ValueError):
        fs.path("relative/path")


def test_read_strips_newline_and_defaults_when_absent(fs):
    assert fs.read("/sys/kernel/config/nvmet/ports/1/addr_trsvcid") == "4420"
    assert fs.read("/sys/kernel/config/nvmet/ports/1/missing") is None
    assert fs.read("/sys/kernel/config/nvmet/ports/1/missing", "") == ""


def test_read_text_keeps_the_file_as_it_is(fs, tmp_path):
    (tmp_path / "etc" / "network").mkdir(parents=True)
    (tmp_path / "etc" / "network" / "interfaces").write_bytes(u"auto lo\r\n# caf\u00e9\n\n\n".encode("utf-8"))
    assert fs.read_text("/etc/network/interfaces") == u"auto lo\r\n# caf\u00e9\n\n\n"
    assert fs.read_text("/etc/network/absent", "none") == "none"


def test_unreadable_attribute_raises_with_path(fs, tmp_path):
    target = "/sys/kernel/config/nvmet/ports/1"
    with pytest.raises(HostFSError) as info:
        fs.read(target)  # a directory cannot be read as an attribute
    assert target in str(info.value)
    assert info.value.errno == errno.EISDIR


def test_write_error_names_value_path_and_errno(fs, tmp_path):
    attr = tmp_path / "sys/kernel/config/nvmet/ports/1/addr_trsvcid"
    attr.chmod(0o444)
    if os.geteuid() == 0:
        # root ignores file modes; a missing parent gives a real kernel-like refusal
        path = "/sys/kernel/config/nvmet/ports/9/addr_trsvcid"
        expected = errno.ENOENT
    else:
        path = "/sys/kernel/config/nvmet/ports/1/addr_trsvcid"
        expected = errno.EACCES
    with pytest.raises(HostFSError) as info:
        fs.write(path, "4421")
    message = str(info.value)
    assert "'4421'" in message and path in message
    assert errno.errorcode[expected] in message
    assert info.value.errno == expected


def test_write_is_one_plain_write(fs):
    fs.write("/sys/kernel/config/nvmet/ports/1/addr_trsvcid", 4421)
    assert fs.read("/sys/kernel/config/nvmet/ports/1/addr_trsvcid") == "4421"


def test_directories_and_links(fs):
    fs.make_dir("/sys/kernel/config/nvmet/subsystems")
    fs.make_dir("/sys/kernel/config/nvmet/subsystems/nqn.x")
    fs.make_dir("/sys/kernel/config/nvmet/ports/1/subsystems")
    link = "/sys/kernel/config/nvmet/ports/1/subsystems/nqn.x"
    fs.link("/sys/kernel/config/nvmet/subsystems/nqn.x", link)
    assert fs.is_link(link)
    assert fs.read_link(link) == "/sys/kernel/config/nvmet/subsystems/nqn.x"
    assert fs.list_dir("/sys/kernel/config/nvmet/ports/1/subsystems") == ["nqn.x"]
    fs.unlink(link)
    assert not fs.exists(link)
    fs.remove_dir("/sys/kernel/config/nvmet/subsystems/nqn.x")
    assert fs.list_dir("/sys/kernel/config/nvmet/subsystems") == []
    assert fs.list_dir("/sys/kernel/config/nvmet/absent") == []
    with pytest.raises(HostFSError):
        fs.make_dir("/sys/kernel/config/nvmet/ports/1")


def test_block_device_detection(fs):
    assert not fs.is_block_device("/sys/kernel/config/nvmet/ports/1/addr_trsvcid")
    assert not fs.is_block_device("/dev/absent")


def test_atomic_write_sets_mode_before_content_and_replaces(fs, tmp_path):
    (tmp_path / "etc/nvme").mkdir(parents=True)
    fs.write_file_atomic("/etc/nvme/secret", "key-1\n", mode=0o600)
    fs.write_file_atomic("/etc/nvme/secret", "key-2\n", mode=0o600)
    target = tmp_path / "etc/nvme/secret"
    assert target.read_text() == "key-2\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path / "etc/nvme") == ["secret"]


def test_atomic_write_failure_leaves_nothing_behind(fs, tmp_path):
    with pytest.raises(HostFSError) as info:
        fs.write_file_atomic("/etc/absent-dir/file", "x")
    assert "/etc/absent-dir/file" in str(info.value)
