# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host lock: one changing call at a time, none in check mode, gone with its holder."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.host_lock import (
    LOCK_PATH, HostLockError, host_lock)
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError

LOCK_FILE = LOCK_PATH.lstrip("/")


def other_holder(path):
    """An open file description of its own holding the flock, as another process would."""
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_holds_the_lock_and_writes_its_pid(tmp_path):
    fs = HostFS(str(tmp_path))
    with host_lock(fs) as held:
        assert held == LOCK_PATH
        assert (tmp_path / LOCK_FILE).read_text() == "%d\n" % os.getpid()
        with pytest.raises(BlockingIOError):
            other_holder(str(tmp_path / LOCK_FILE))
    os.close(other_holder(str(tmp_path / LOCK_FILE)))  # released on exit


def test_check_mode_takes_no_lock_and_creates_nothing(tmp_path):
    with host_lock(HostFS(str(tmp_path)), check_mode=True) as held:
        assert held is None
    assert list(tmp_path.iterdir()) == []


def test_released_when_the_body_raises(tmp_path):
    fs = HostFS(str(tmp_path))
    with pytest.raises(RuntimeError):
        with host_lock(fs):
            raise RuntimeError("apply failed")
    os.close(other_holder(str(tmp_path / LOCK_FILE)))


def test_waits_for_the_holder_then_names_it(tmp_path):
    fs = HostFS(str(tmp_path))
    with host_lock(fs):
        pass
    (tmp_path / LOCK_FILE).write_text("4242\n")
    fd = other_holder(str(tmp_path / LOCK_FILE))
    clock = FakeClock()
    try:
        with pytest.raises(HostLockError) as error:
            with host_lock(fs, wait=3, sleep=clock.sleep, clock=clock):
                raise AssertionError("the body ran without the lock")
    finally:
        os.close(fd)
    assert str(error.value) == ("another nvmeof.fleet run (process 4242) has held %s on this host for more than "
                                "3 s: wait for it to end, or stop it if it hangs" % LOCK_PATH)
    assert 2.9 < sum(clock.sleeps) < 3.5


def test_gets_the_lock_when_the_holder_lets_go(tmp_path):
    fs = HostFS(str(tmp_path))
    with host_lock(fs):
        pass
    fd = other_holder(str(tmp_path / LOCK_FILE))
    clock = FakeClock()

    def sleep(seconds):
        clock.sleep(seconds)
        if clock.now >= 1:
            os.close(fd)

    with host_lock(fs, wait=60, sleep=sleep, clock=clock) as held:
        assert held == LOCK_PATH
    assert 1 <= clock.now < 2


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    fs = HostFS(str(tmp_path))
    with host_lock(fs):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, time\n"
         "fd = os.open(%r, os.O_RDWR)\nfcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)"
         % str(tmp_path / LOCK_FILE)], stdout=subprocess.PIPE)
    assert holder.stdout.readline() == b"held\n"
    holder.kill()
    holder.wait()
    with host_lock(fs, wait=5):
        pass


def test_an_unusable_lock_directory_is_a_host_error(tmp_path):
    (tmp_path / "run").write_text("not a directory")
    with pytest.raises(HostFSError) as error:
        with host_lock(HostFS(str(tmp_path))):
            raise AssertionError("the body ran without the lock")
    assert LOCK_PATH in str(error.value)


def test_concurrent_read_modify_write_loses_nothing_under_the_lock(tmp_path):
    """Two processes each add 40 entries to one saved file, read-modify-write, as persisting calls do."""
    script = (
        "import json, sys\n"
        "from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS\n"
        "from ansible_collections.nvmeof.fleet.plugins.module_utils.host.host_lock import host_lock\n"
        "fs = HostFS(sys.argv[1])\n"
        "for round in range(40):\n"
        "    with host_lock(fs):\n"
        "        entries = json.loads(fs.read('/etc/saved.json') or '[]')\n"
        "        fs.write_file_atomic('/etc/saved.json', json.dumps(entries + [sys.argv[2] + str(round)]), 0o600)\n")
    (tmp_path / "etc").mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path), letter], env=env) for letter in "ab"]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    entries = json.loads((tmp_path / "etc/saved.json").read_text())
    assert sorted(entries) == sorted("%s%d" % (letter, round) for letter in "ab" for round in range(40))
    assert oct((tmp_path / "etc/saved.json").stat().st_mode & 0o777) == "0o600"
