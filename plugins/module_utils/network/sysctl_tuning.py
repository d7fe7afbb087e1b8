# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A set of kernel parameters (sysctl) applied as one: live and by one sysctl.d drop-in.

``apply()`` is the whole job of module ``nvmeof.fleet.sysctl_tuning``:

- validate the name and every key and value, and that each key exists on this
  kernel (``/proc/sys``), naming every problem at once, before anything is written;
- write live, through HostFS into ``/proc/sys`` (never by running sysctl), only
  the values that differ, compared with whitespace runs made one space (the
  kernel prints ``net.ipv4.tcp_rmem`` with tabs);
- keep the values that were live before the first apply in a record
  (``/etc/nvmeof-fleet/sysctl/<name>.json``), the earliest known value of each
  key, so that ``state=absent`` with ``restore=true`` can write them back;
- write the drop-in ``/etc/sysctl.d/<name>.conf`` atomically when its text differs.

All of it is one transaction: when the kernel refuses a value, or a file
cannot be written, what this call already did is undone and the host is left
as it was. Afterwards, optionally, the root qdisc of listed interfaces is
handed back to the kernel so that it attaches the new ``net.core.default_qdisc``
(which only applies to qdiscs created after it is set).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import numbers
import re
import stat

from ansible_collections.nvmeof.fleet.plugins.module_utils.network.net_qdisc import (
    QdiscError, plan_qdiscs, qdisc_actions, run_qdiscs)
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError

SYSCTL_D = "/etc/sysctl.d"
RECORD_DIR = "/etc/nvmeof-fleet/sysctl"
PROC_SYS = "/proc/sys"
DEFAULT_QDISC = PROC_SYS + "/net/core/default_qdisc"

HEADER = (
    "# Managed by Ansible (nvmeof.fleet.sysctl_tuning, drop-in %s); changes made here are overwritten.\n"
    "# systemd-sysctl applies the files of sysctl.d at boot in lexical order of their names;\n"
    "# a later file overrides an earlier one for the same key.\n")

_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9._/:@+-]*$")
_TEXT = (str, type(u""))


class SysctlError(Exception):
    """A refusal with nothing changed, or a failure that says what was and was not done."""


class Setting:
    """One key of the set: as given, its /proc/sys path, and the value in compare form."""

    def __init__(self, key, path, value):
        self.key = key
        self.path = path
        self.value = value
        self.raw = None     # the live value as the kernel prints it
        self.live = None    # the same in compare form


# -- names, keys and values --------------------------------------------------------

def validate_name(name):
    if not isinstance(name, _TEXT) or not _NAME.match(name) or len(name) > 200:
        raise SysctlError("name %r: use letters, digits, '.', '_' and '-' only, not starting with '.' "
                          "(the drop-in is /etc/sysctl.d/<name>.conf)" % (name,))
    if name.endswith(".conf"):
        raise SysctlError("name %r: give it without '.conf', which is added" % name)
    return name


def drop_in_path(name):
    return "%s/%s.conf" % (SYSCTL_D, name)


def record_path(name):
    return "%s/%s.json" % (RECORD_DIR, name)


def proc_path(key):
    """The /proc/sys file of a key, normalised as systemd-sysctl does.

    When the first separator is a dot, dots separate and a slash stands for a
    dot in a name (``net.ipv4.conf.eth0/100.rp_filter`` is
    ``net/ipv4/conf/eth0.100/rp_filter``); when it is a slash, the key is a
    path already. Returns None for a key that is not a plain parameter name.
    """
    if not isinstance(key, _TEXT) or not _KEY.match(key):
        return None
    first = re.search(r"[./]", key)
    relative = key
    if first and first.group() == ".":
        relative = "".join({".": "/", "/": "."}.get(char, char) for char in key)
    if any(part in ("", ".", "..") for part in relative.split("/")):
        return None
    return "%s/%s" % (PROC_SYS, relative)


def compare_form(text):
    """A value with every run of whitespace made one space, as the collection compares and writes it."""
    return " ".join(text.split())


def normalize_value(value):
    """The value of a setting in compare form; raises ValueError saying what is wrong.

    Integers and strings as they are, booleans as 1 and 0 (as ansible.posix.sysctl does),
    lists (multi-value keys such as C(net.ipv4.tcp_rmem)) joined with single spaces.
    """
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, numbers.Integral):
        return str(value)
    if isinstance(value, _TEXT):
        if "\n" in value or "\r" in value:
            raise ValueError("contains a line break")
        text = compare_form(value)
        if not text:
            raise ValueError("is empty")
        return text
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError("is an empty list")
        parts = []
        for item in value:
            if isinstance(item, (list, tuple, dict)) or item is None or isinstance(item, float):
                raise ValueError("lists may hold integers and strings only")
            parts.append(normalize_value(item))
        return " ".join(parts)
    raise ValueError("must be a string, an integer or a list of them, not %s" % type(value).__name__)


def parse_settings(settings):
    """Setting objects sorted by key; raises SysctlError naming every bad key and value."""
    if not isinstance(settings, dict):
        raise SysctlError("settings must be a dictionary of kernel parameter names and values")
    problems = []
    parsed = []
    by_path = {}
    for key in sorted(settings, key=str):
        path = proc_path(key)
        if path is None:
            problems.append("key %r is not a kernel parameter name (letters, digits and . _ / : @ + -, "
                            "starting with a letter, no empty, '.' or '..' parts)" % (key,))
            continue
        try:
            value = normalize_value(settings[key])
        except ValueError as error:
            problems.append("value of %s %s: %r" % (key, error, settings[key]))
            continue
        if path in by_path:
            problems.append("%s and %s are the same parameter" % (by_path[path], key))
            continue
        by_path[path] = key
        parsed.append(Setting(key, path, value))
    if problems:
        raise SysctlError("invalid settings: " + "; ".join(problems))
    return parsed


def check_known(fs, settings):
    """Raises SysctlError naming every key this kernel does not have, or cannot read and write."""
    unknown = [s.key for s in settings if not fs.exists(s.path) or fs.is_dir(s.path)]
    if unknown:
        raise SysctlError("unknown kernel parameters on this host (no file under %s): %s; nothing was changed"
                          % (PROC_SYS, ", ".join(unknown)))
    modes = dict((s.key, stat.S_IMODE(fs.stat(s.path).st_mode)) for s in settings)
    read_only = [key for key, mode in sorted(modes.items()) if not mode & 0o222]
    if read_only:
        raise SysctlError("read-only kernel parameters: %s; nothing was changed" % ", ".join(read_only))
    write_only = [key for key, mode in sorted(modes.items()) if not mode & 0o444]
    if write_only:
        raise SysctlError("write-only kernel parameters (triggers, not settings) cannot be managed: %s; "
                          "nothing was changed" % ", ".join(write_only))


def read_live(fs, settings):
    for setting in settings:
        setting.raw = fs.read(setting.path, "")
        setting.live = compare_form(setting.raw)


# -- files ---------------------------------------------------------------------------

def render(name, settings):
    """The drop-in: a header, then one ``key = value`` line per setting, sorted by key."""
    lines = [HEADER % name]
    lines += ["%s = %s\n" % (setting.key, setting.value) for setting in settings]
    return "".join(lines)


def render_record(name, previous):
    return json.dumps({"drop_in": drop_in_path(name), "previous": previous}, indent=2, sort_keys=True) + "\n"


def load_record(fs, path):
    """The saved previous values, {key: value}, or None without a record."""
    text = fs.read(path)
    if text is None:
        return None
    try:
        previous = json.loads(text)["previous"]
        if not isinstance(previous, dict):
            raise ValueError("previous is not a dictionary")
    except (ValueError, KeyError, TypeError) as error:
        raise SysctlError("the record %s cannot be read (%s); remove it to start afresh" % (path, error))
    return dict((key, compare_form(str(value))) for key, value in previous.items())


def _text(content):
    """File text for a diff: HostFS.read drops the final newline."""
    return "" if content is None else content + "\n"


class _Transaction:
    """The changes of one call with what undoes each, so that a failure leaves the host as it was."""

    def __init__(self, fs):
        self.fs = fs
        self.undo = []

    def write_live(self, setting, value):
        self.fs.write(setting.path, value)
        self.undo.append((setting.key, lambda: self.fs.write(setting.path, setting.raw)))

    def make_parents(self, directory, mode):
        parts = directory.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            path = "/" + "/".join(parts[:depth])
            if not self.fs.is_dir(path):
                self.fs.make_dir(path, mode=mode)
                self.undo.append((path, lambda path=path: self.fs.remove_dir(path)))

    def write_file(self, path, content, mode, old, dir_mode):
        directory = path.rsplit("/", 1)[0]
        self.make_parents(directory, dir_mode)
        old_stat = self.fs.stat(path)
        self.fs.write_file_atomic(path, content, mode=mode)
        self.undo.append((path, self._put_back(path, old, old_stat)))

    def remove_file(self, path, old):
        old_stat = self.fs.stat(path)
        self.fs.unlink(path)
        self.undo.append((path, self._put_back(path, old, old_stat)))

    def _put_back(self, path, old, old_stat):
        if old is None:
            return lambda: self.fs.unlink(path)
        return lambda: self.fs.write_file_atomic(path, old + "\n", mode=stat.S_IMODE(old_stat.st_mode))

    def rollback(self):
        """Undoes everything, newest first; returns what could not be undone."""
        failed = []
        for what, step in reversed(self.undo):
            try:
                step()
            except HostFSError as error:
                failed.append("%s (%s)" % (what, error))
        self.undo = []
        return failed


def _refused(error, transaction, what):
    failed = transaction.rollback()
    message = "%s: %s. Nothing was changed: what this call had done was undone" % (what, error)
    if failed:
        message += ", except (left as it is now): " + "; ".join(failed)
    return SysctlError(message)


def _commit(fs, live, files):
    """Writes ``live`` [(Setting, value)], then ``files`` [(path, content, old, mode, dir mode)].

    A content of None removes the file; ``old`` is its text before (None when absent).
    """
    transaction = _Transaction(fs)
    for setting, value in live:
        try:
            transaction.write_live(setting, value)
        except HostFSError as error:
            raise _refused(error, transaction, "the kernel refused %s = %s" % (setting.key, value))
    for path, content, old, mode, dir_mode in files:
        try:
            if content is None:
                transaction.remove_file(path, old)
            else:
                transaction.write_file(path, content, mode, old, dir_mode)
        except HostFSError as error:
            raise _refused(error, transaction, "%s %s failed" % ("removing" if content is None else "writing", path))


# -- the job of one call ---------------------------------------------------------------

def apply(fs, runner, params, check_mode=False):
    """Applies (state present) or removes (state absent) the set; returns the module result.

    ``params`` are the module's options. Raises SysctlError, HostFSError or
    CommandError with nothing changed, except where the message says otherwise.
    """
    name = validate_name(params["name"])
    interfaces = params.get("reapply_qdisc_interfaces") or []
    if params.get("state", "present") == "absent":
        return _absent(fs, runner, name, bool(params.get("restore")), interfaces, check_mode)
    return _present(fs, runner, name, params.get("settings") or {}, interfaces, check_mode)


def _result(name, settings, actions, saved, qdiscs, before, after, file_before, file_after, warnings):
    return {
        "changed": bool(actions),
        "settings": settings,
        "actions": actions,
        "file": drop_in_path(name),
        "saved": saved,
        "qdisc": qdiscs,
        "diff": [
            {"before_header": "kernel parameters (live)", "after_header": "kernel parameters (live)",
             "before": before, "after": after},
            {"before_header": drop_in_path(name), "after_header": drop_in_path(name),
             "before": file_before, "after": file_after},
        ],
        "warnings": warnings,
    }


def _present(fs, runner, name, raw_settings, interfaces, check_mode):
    settings = parse_settings(raw_settings)
    if not settings:
        raise SysctlError("settings is empty; use state=absent to remove the drop-in %s" % drop_in_path(name))
    check_known(fs, settings)
    default = next((s.value for s in settings if s.path == DEFAULT_QDISC), None)
    qdiscs = _plan_qdiscs(fs, runner, interfaces, default, "the drop-in does not set net.core.default_qdisc")
    read_live(fs, settings)

    file_path = drop_in_path(name)
    old_file = fs.read(file_path)
    content = render(name, settings)
    saved = record_path(name)
    old_record_text = fs.read(saved)
    previous = load_record(fs, saved) or {}
    recorded = set(proc_path(key) for key in previous)
    for setting in settings:
        if setting.path not in recorded:
            previous[setting.key] = setting.live  # the earliest known value: recorded once
    record = render_record(name, previous)

    live = [(s, s.value) for s in settings if s.live != s.value]
    files = []
    actions = ["write '%s' to %s" % (value, s.path) for s, value in live]
    if old_record_text != record.rstrip("\n"):
        files.append((saved, record, old_record_text, 0o600, 0o700))
        actions.append("record the values before the first apply in %s" % saved)
    if old_file != content.rstrip("\n"):
        files.append((file_path, content, old_file, 0o644, 0o755))
        actions.append("write %s" % file_path)
    actions += qdisc_actions(qdiscs)
    warnings = []
    if not check_mode:
        _commit(fs, live, files)
        warnings = _read_back(fs, live)
    _run_qdiscs(runner, qdiscs, check_mode)

    results = dict((s.key, {"before": s.live, "after": s.value, "changed": s.live != s.value}) for s in settings)
    return _result(name, results, actions, saved, qdiscs,
                   dict((s.key, s.live) for s in settings), dict((s.key, s.value) for s in settings),
                   _text(old_file), content, warnings)


def _read_back(fs, live):
    """Warnings for values the kernel took but shows otherwise (every later run would write them again)."""
    warnings = []
    for setting, value in live:
        shown = compare_form(fs.read(setting.path, ""))
        if shown != value:
            warnings.append("the kernel shows %s as %r after %r was written; declare it the way the kernel shows it "
                            "or every run writes it again" % (setting.key, shown, value))
    return warnings


def _absent(fs, runner, name, restore, interfaces, check_mode):
    file_path = drop_in_path(name)
    saved = record_path(name)
    old_file = fs.read(file_path)
    old_record_text = fs.read(saved)
    previous = load_record(fs, saved)
    warnings = []
    settings = []
    if restore and previous is None:
        warnings.append("nothing to restore: there is no record %s of the values before drop-in %s"
                        % (saved, name))
    elif restore:
        missing = []
        for key in sorted(previous):
            path = proc_path(key)
            if path is None or not fs.exists(path) or fs.is_dir(path):
                missing.append(key)
            else:
                settings.append(Setting(key, path, previous[key]))
        if missing:
            warnings.append("not restored, no longer on this host: %s" % ", ".join(missing))
        read_live(fs, settings)
    default = next((s.value for s in settings if s.path == DEFAULT_QDISC), None)
    qdiscs = _plan_qdiscs(fs, runner, interfaces, default,
                          "with state=absent it needs restore=true and a recorded net.core.default_qdisc")

    live = [(s, s.value) for s in settings if s.live != s.value]
    files = []
    actions = ["write '%s' to %s" % (value, s.path) for s, value in live]
    if old_file is not None:
        files.append((file_path, None, old_file, None, None))
        actions.append("remove %s" % file_path)
    if old_record_text is not None:
        files.append((saved, None, old_record_text, None, None))
        actions.append("remove %s" % saved)
    actions += qdisc_actions(qdiscs)
    if not check_mode:
        _commit(fs, live, files)
    _run_qdiscs(runner, qdiscs, check_mode)

    results = dict((s.key, {"before": s.live, "after": s.value, "changed": s.live != s.value}) for s in settings)
    return _result(name, results, actions, None, qdiscs,
                   dict((s.key, s.live) for s in settings), dict((s.key, s.value) for s in settings),
                   _text(old_file), "", warnings)


def _plan_qdiscs(fs, runner, interfaces, default, why_not):
    try:
        return plan_qdiscs(fs, runner, interfaces, default, why_not)
    except QdiscError as error:
        raise SysctlError(str(error))


def _run_qdiscs(runner, entries, check_mode):
    try:
        run_qdiscs(runner, entries, check_mode)
    except QdiscError as error:
        raise SysctlError(str(error))


# The options of module sysctl_tuning (also checked by module host_state).
ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    settings=dict(type="dict", default={}),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    restore=dict(type="bool", default=False),
    reapply_qdisc_interfaces=dict(type="list", elements="str", default=[]),
)
