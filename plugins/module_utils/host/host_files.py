# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole files installed in one call: each with its text and mode, owned by the caller.

The roles install their boot files (systemd units, modules-load.d, the target's restore
program) through this. A copy task per file cost one module run per file, about 10 s each
on a slow host; one call writes them all, and takes back what it wrote when a later file fails.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.undo import take_back

_MODE = re.compile(r"^0?[0-7]{3}$")
_BAD_PATH_CHARACTERS = ("\n", "\r", "\0")


class HostFilesError(Exception):
    """A refusal: the message names the option and the value."""


def parse_mode(value, option):
    """An octal mode string ('0644', '644') as a number; setuid and friends are refused."""
    text = str(value)
    if not _MODE.match(text):
        raise HostFilesError("%s: %r is not an octal file mode such as '0644'" % (option, value))
    return int(text, 8)


def _check_path(path, option):
    if not isinstance(path, str) or not path:
        raise HostFilesError("%s: %r is not a path" % (option, path))
    if any(character in path for character in _BAD_PATH_CHARACTERS):
        raise HostFilesError("%s: %r has a line break or a NUL byte" % (option, path))
    if not path.startswith("/") or path.endswith("/") or os.path.normpath(path) != path:
        raise HostFilesError("%s: %r is not a normalized absolute file path (no '..', '//' or trailing '/')"
                             % (option, path))


def parse_files(files, parent_mode):
    """The declared files as (path, content, mode) with the directory mode, all checked first."""
    directory_mode = parse_mode(parent_mode, "parent_mode")
    parsed, seen = [], {}
    for index, entry in enumerate(files):
        option = "files[%d]" % index
        if not isinstance(entry, dict):
            raise HostFilesError("%s: %r is not a dictionary with path, content and mode" % (option, entry))
        unknown = sorted(set(entry) - {"path", "content", "mode"})
        if unknown:
            raise HostFilesError("%s: unknown key(s) %s; a file has path, content and mode" % (option, ", ".join(unknown)))
        path = entry.get("path")
        _check_path(path, option + ".path")
        if path in seen:
            raise HostFilesError("%s.path: %s is declared twice (also files[%d])" % (option, path, seen[path]))
        seen[path] = index
        content = entry.get("content")
        if not isinstance(content, str):
            raise HostFilesError("%s.content: the text of %s is missing or not a string" % (option, path))
        if "mode" not in entry:
            raise HostFilesError("%s.mode: the mode of %s is missing" % (option, path))
        parsed.append((path, content, parse_mode(entry["mode"], option + ".mode")))
    return parsed, directory_mode


def plan(fs, files, owner):
    """The files that differ from the host in text, mode or owner, with what is there now."""
    changes = []
    for index, (path, content, mode) in enumerate(files):
        if fs.is_dir(path):
            raise HostFilesError("files[%d].path: %s is a directory on the host" % (index, path))
        before = fs.read_text(path)
        found = fs.stat(path) if before is not None else None
        reasons = []
        if before is None:
            reasons.append("absent")
        else:
            if before != content:
                reasons.append("text differs")
            if stat.S_IMODE(found.st_mode) != mode:
                reasons.append("mode %04o, not %04o" % (stat.S_IMODE(found.st_mode), mode))
            if (found.st_uid, found.st_gid) != owner:
                reasons.append("owner %d:%d, not %d:%d" % (found.st_uid, found.st_gid, owner[0], owner[1]))
        if reasons:
            changes.append({"path": path, "content": content, "mode": mode, "before": before,
                            "before_mode": stat.S_IMODE(found.st_mode) if found else None,
                            "reason": ", ".join(reasons)})
    return changes


def _write(fs, change, directory_mode, done):
    path = change["path"]
    for directory in fs.make_parents(os.path.dirname(path), directory_mode):
        done.append(("removed directory %s" % directory, lambda directory=directory: fs.remove_dir(directory)))
    fs.write_file_atomic(path, change["content"], mode=change["mode"])
    if change["before"] is None:
        done.append(("removed %s" % path, lambda: fs.unlink(path)))
    else:
        done.append(("put back %s" % path,
                     lambda: fs.write_file_atomic(path, change["before"], mode=change["before_mode"])))


def _diff(change):
    def header(mode):
        return change["path"] if mode is None else "%s (mode %04o)" % (change["path"], mode)
    return {"before_header": header(change["before_mode"]), "before": change["before"] or "",
            "after_header": header(change["mode"]), "after": change["content"]}


def apply(fs, params, check_mode=False, owner=None):
    """Writes every declared file that differs; the module's whole job."""
    files, directory_mode = parse_files(params["files"], params["parent_mode"])
    owner = owner or (os.geteuid(), os.getegid())
    changes = plan(fs, files, owner)
    done = []
    if not check_mode:
        for change in changes:
            try:
                _write(fs, change, directory_mode, done)
            except HostFSError as error:
                raise HostFilesError(take_back(done, "installing %s" % change["path"], error))
    changed_paths = set(change["path"] for change in changes)
    return {
        "changed": bool(changes),
        "files": [{"path": path, "changed": path in changed_paths,
                   "reason": next((change["reason"] for change in changes if change["path"] == path), "")}
                  for path, _content, _mode in files],
        "actions": ["write %s (%s)" % (change["path"], change["reason"]) for change in changes],
        "diff": [_diff(change) for change in changes],
    }
