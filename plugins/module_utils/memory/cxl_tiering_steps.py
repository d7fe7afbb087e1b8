# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each change of module ``nvmeof.fleet.cxl_tiering`` with what takes it back.

One call changes a running host in several places (daxctl onlining memory, sysfs and procfs
knobs, files under /etc). When one of them fails part way, the host should not be left half
tiered with nobody knowing which half: the changes already made are taken back, newest first,
and the error says what failed, what was taken back and what could not be. ``CxlTieringError``
lives here because the steps raise it; ``cxl_tiering`` is where callers take it from.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import stat

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.memory.memory_tiers import MEMORY
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.undo import UNDO_FAILURES, take_back


class CxlTieringError(Exception):
    """A refusal with nothing changed, or a failure that says what was taken back and what not."""


_FAILURES = UNDO_FAILURES + (CxlTieringError,)


class Step:
    """One change: ``do()`` makes it and returns what takes it back (a callable), or None."""

    def __init__(self, action, failure, do, undone=None):
        self.action = action      # what ``actions`` lists; None for a check after daxctl
        self.failure = failure    # what the error says failed
        self.do = do
        self.undone = undone      # what the error says was taken back


def run_steps(steps):
    """Does ``steps`` in order; on a failure takes back the done ones and raises CxlTieringError."""
    done = []
    for step in steps:
        try:
            undo = step.do()
        except _FAILURES as error:
            raise CxlTieringError(take_back(done, step.failure, error, _FAILURES))
        if undo is not None:
            done.append((step.undone, undo))


def command_step(runner, args, undo=None, undone=None, fs=None):
    """Runs ``args``; ``undo`` is ("run", arguments) or ("offline", memory blocks), or None."""
    def offline(blocks):
        for block in blocks:
            fs.write("%s/%s/state" % (MEMORY, block), "offline")

    def do():
        runner.run(args)
        if undo is None:
            return None
        kind, value = undo
        return (lambda: runner.run(value)) if kind == "run" else (lambda: offline(value))
    return Step("run %s" % " ".join(args), "'%s' failed" % " ".join(args), do, undone)


def write_step(fs, path, old, new):
    """Writes ``new`` to the sysfs or procfs file ``path``; ``old`` is written back to take it back."""
    def do():
        fs.write(path, new)
        return lambda: fs.write(path, old)
    return Step("write '%s' to %s (was %s)" % (new, path, old), "the kernel refused %s in %s" % (new, path), do,
                "%s set back to %s" % (path, old))


def file_step(fs, path, old, new):
    """Writes ``new`` to ``path`` (removes it for None), making missing directories; undone by putting ``old`` back."""
    def do():
        before = fs.stat(path)
        made = []
        directory = posixpath.dirname(path)
        while new is not None and not fs.is_dir(directory):
            made.insert(0, directory)
            directory = posixpath.dirname(directory)
        for directory in made:
            fs.make_dir(directory, mode=0o755)
        try:
            if new is None:
                fs.unlink(path)
            else:
                fs.write_file_atomic(path, new, mode=0o644)
        except HostFSError:
            for directory in reversed(made):
                fs.remove_dir(directory)
            raise

        def undo():
            if old is None:
                fs.unlink(path)
            else:
                fs.write_file_atomic(path, old, mode=stat.S_IMODE(before.st_mode))
            for directory in reversed(made):
                fs.remove_dir(directory)
        return undo
    verb = "write" if new is not None else "remove"
    return Step("%s %s" % (verb, path), "%s %s failed" % ("writing" if new is not None else "removing", path), do,
                "%s %s" % (path, "removed" if old is None else "put back"))
