# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_files: every declared file that differs written in one call, refusals and failures change nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host import host_files
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.host_files import HostFilesError, apply

OWNER = (os.geteuid(), os.getegid())
UNIT = "/etc/systemd/system/example.service"
PROGRAM = "/usr/local/lib/example/deep/restore.py"


def params(*files, **extra):
    return dict({"files": list(files), "parent_mode": "0755"}, **extra)


def entry(path, content, mode="0644"):
    return {"path": path, "content": content, "mode": mode}


def tree(root):
    """Every file and directory under root with its mode and text: a tree compared before and after."""
    found = {}
    for directory, directories, files in os.walk(str(root)):
        for name in directories + files:
            path = os.path.join(directory, name)
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            text = None if os.path.isdir(path) else open(path).read()
            found[os.path.relpath(path, str(root))] = (mode, text)
    return found


@pytest.fixture
def fs(tmp_path):
    os.makedirs(str(tmp_path / "etc/systemd/system"))
    return HostFS(str(tmp_path))


def test_writes_what_differs_creates_parents_and_is_idempotent(fs, tmp_path):
    (tmp_path / "etc/systemd/system/example.service").write_text("old\n")
    os.chmod(str(tmp_path / "etc/systemd/system/example.service"), 0o600)
    wanted = params(entry(UNIT, "[Unit]\n"), entry(PROGRAM, "print()\n", "0755"))
    checked = apply(fs, wanted, check_mode=True)
    assert checked["changed"] is True and not (tmp_path / PROGRAM.lstrip("/")).exists()
    assert (tmp_path / "etc/systemd/system/example.service").read_text() == "old\n"
    result = apply(fs, wanted)
    assert result == dict(checked)
    assert result["files"] == [{"path": UNIT, "changed": True, "reason": "text differs, mode 0600, not 0644"},
                               {"path": PROGRAM, "changed": True, "reason": "absent"}]
    assert result["diff"][0] == {"before_header": UNIT + " (mode 0600)", "before": "old\n",
                                 "after_header": UNIT + " (mode 0644)", "after": "[Unit]\n"}
    assert result["diff"][1]["before"] == "" and result["diff"][1]["before_header"] == PROGRAM
    assert stat.S_IMODE(os.stat(str(tmp_path / PROGRAM.lstrip("/"))).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(str(tmp_path / "usr/local/lib/example/deep")).st_mode) == 0o755
    again = apply(fs, wanted)
    assert again["changed"] is False and again["actions"] == [] and again["diff"] == []
    assert [file["reason"] for file in again["files"]] == ["", ""]


def test_a_mode_or_owner_alone_is_a_difference(fs, tmp_path):
    (tmp_path / "etc/systemd/system/example.service").write_text("same\n")
    os.chmod(str(tmp_path / "etc/systemd/system/example.service"), 0o644)
    assert apply(fs, params(entry(UNIT, "same\n", "644")), check_mode=True)["changed"] is False
    assert apply(fs, params(entry(UNIT, "same\n", "0640")))["actions"] == [
        "write %s (mode 0644, not 0640)" % UNIT]
    other = (OWNER[0] + 1, OWNER[1])
    assert apply(fs, params(entry(UNIT, "same\n", "0640")), check_mode=True, owner=other)["files"][0]["reason"] == (
        "owner %d:%d, not %d:%d" % (OWNER + other))


@pytest.mark.parametrize("files, message", [
    ([entry("etc/x", "a")], "files[0].path: 'etc/x' is not a normalized absolute file path"),
    ([entry("/etc/../x", "a")], "files[0].path: '/etc/../x' is not a normalized absolute file path"),
    ([entry("/etc/x/", "a")], "files[0].path: '/etc/x/' is not a normalized absolute file path"),
    ([entry("/etc/x\nExecStart=/bin/sh", "a")], "files[0].path: '/etc/x\\nExecStart=/bin/sh' has a line break"),
    ([entry("/etc/a", "a"), entry("/etc/a", "b")], "files[1].path: /etc/a is declared twice (also files[0])"),
    ([entry("/etc/a", "a", "4755")], "files[0].mode: '4755' is not an octal file mode"),
    ([entry("/etc/a", "a", "0689")], "files[0].mode: '0689' is not an octal file mode"),
    ([{"path": "/etc/a", "content": "a"}], "files[0].mode: the mode of /etc/a is missing"),
    ([{"path": "/etc/a", "mode": "0644"}], "files[0].content: the text of /etc/a is missing"),
    ([dict(entry("/etc/a", "a"), owner="nobody")], "files[0]: unknown key(s) owner"),
    (["/etc/a"], "files[0]: '/etc/a' is not a dictionary"),
    ([entry("/etc/ok", "a"), entry("/etc/systemd", "a")], "files[1].path: /etc/systemd is a directory on the host"),
])
def test_bad_input_is_refused_with_nothing_changed(fs, tmp_path, files, message):
    before = tree(tmp_path)
    with pytest.raises(HostFilesError) as refused:
        apply(fs, params(*files))
    assert message in str(refused.value)
    assert tree(tmp_path) == before


def test_a_bad_parent_mode_is_refused(fs, tmp_path):
    with pytest.raises(HostFilesError, match="parent_mode: '0999' is not an octal file mode"):
        apply(fs, params(entry(PROGRAM, "x"), parent_mode="0999"))
    assert not (tmp_path / "usr").exists()


def test_a_failed_write_takes_back_the_files_and_directories_of_the_call(fs, tmp_path, monkeypatch):
    (tmp_path / "etc/systemd/system/example.service").write_text("old\n")
    os.chmod(str(tmp_path / "etc/systemd/system/example.service"), 0o600)
    before = tree(tmp_path)
    real_write = HostFS.write_file_atomic

    def failing_write(self, path, content, mode=0o644):
        if path == "/etc/third.conf":
            raise HostFSError("writing", path, OSError(28, "No space left on device"))
        return real_write(self, path, content, mode)

    monkeypatch.setattr(HostFS, "write_file_atomic", failing_write)
    with pytest.raises(HostFilesError) as failed:
        apply(fs, params(entry(UNIT, "new\n"), entry(PROGRAM, "x\n"), entry("/etc/third.conf", "y\n")))
    message = str(failed.value)
    assert message.startswith("installing /etc/third.conf: writing /etc/third.conf failed")
    assert ("Taken back, newest first: removed %s; removed directory /usr/local/lib/example/deep; "
            "removed directory /usr/local/lib/example; removed directory /usr/local/lib; "
            "removed directory /usr/local; removed directory /usr; put back %s." % (PROGRAM, UNIT)) in message
    assert tree(tmp_path) == before


def test_make_parents_reports_what_it_created(tmp_path):
    fs = HostFS(str(tmp_path))
    os.makedirs(str(tmp_path / "a"))
    assert fs.make_parents("/a/b/c", 0o700) == ["/a/b", "/a/b/c"]
    assert stat.S_IMODE(os.stat(str(tmp_path / "a/b/c")).st_mode) == 0o700
    assert fs.make_parents("/a/b/c", 0o700) == [] and fs.make_parents("/", 0o700) == []


def test_the_module_utils_layer_imports_no_ansible_module():
    assert "AnsibleModule" not in open(host_files.__file__).read()
