# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One change at a time per host: the lock every changing module call holds.

Two runs against the same host (two AWX jobs, an operator beside a scheduled
run, the boot restore beside a play) would otherwise interleave their
read-plan-apply steps: each plans from a state the other is changing, and the
saved configuration (nvmet JSON, nvme-cli boot files, drop-ins) ends up as
neither declared it. Every call that may change the host holds an exclusive
flock(2) on LOCK_PATH from its first read to its last write; the second run
waits, then plans from what the first one left.

The lock is a kernel flock on a file in /run (tmpfs): it goes when the holder
exits, even when killed, so a killed play never leaves a stale lock behind.
Check-mode calls change nothing and take no lock.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import os
import time

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError

LOCK_PATH = "/run/lock/nvmeof-fleet.lock"
# Longer than any single call takes (256 namespaces apply in seconds; daxctl onlining
# a large device in a minute or two), short enough to name a run that hangs.
DEFAULT_WAIT = 600
_POLL = 0.2


class HostLockError(Exception):
    """Another run held the lock for too long; str() names the lock file and its holder."""


def _holder(fd):
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
    except OSError:
        return "an unknown process"
    return "process %s" % text if text.isdigit() else "an unknown process"


@contextlib.contextmanager
def host_lock(fs, check_mode=False, wait=DEFAULT_WAIT, sleep=time.sleep, clock=time.monotonic):
    """Holds the host's nvmeof.fleet lock for the body (nothing in check mode)."""
    if check_mode:
        yield None
        return
    real = fs.path(LOCK_PATH)
    try:
        if not os.path.isdir(os.path.dirname(real)):
            os.makedirs(os.path.dirname(real), 0o755)
        fd = os.open(real, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise HostFSError("opening the lock", LOCK_PATH, exc)
    try:
        deadline = clock() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise HostFSError("locking", LOCK_PATH, exc)
            if clock() >= deadline:
                raise HostLockError("another nvmeof.fleet run (%s) has held %s on this host for more "
                                    "than %d s: wait for it to end, or stop it if it hangs"
                                    % (_holder(fd), LOCK_PATH, wait))
            sleep(_POLL)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, ("%d\n" % os.getpid()).encode("ascii"))
        yield LOCK_PATH
    finally:
        os.close(fd)
