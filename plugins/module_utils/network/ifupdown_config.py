# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ifupdown's ``/etc/network/interfaces``: the files it reads and the MTU lines of an interface's stanzas.

``load_files()`` follows ``source`` and ``source-directory`` the way ifupdown does.
``set_mtus()`` edits one file's text and touches only the lines that set an MTU, so
comments, blank lines, indentation and order stay byte for byte as they were.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import posixpath
import re
import stat

INTERFACES = "/etc/network/interfaces"
NETWORK_DIR = "/etc/network"

# ifupdown's static and manual methods take an ``mtu`` option; the others (dhcp, auto, ...)
# refuse it, so the MTU is set by a command after the interface is up.
MTU_METHODS = ("static", "manual", "loopback")
STANZA_KEYWORDS = ("iface", "mapping", "auto", "source", "source-directory", "rename", "no-auto-down",
                   "no-scripts")
DEFAULT_INDENT = "    "

# run-parts' rule, which source-directory follows: no dots, so backups such as eth1.dpkg-old are skipped
_SOURCED_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
_GLOB_MAGIC = re.compile(r"[*?[]")


class IfupdownError(Exception):
    """A configuration file that cannot be read as text."""


def read_exact(fs, path):
    """The text of a file as it is on disk, or None when there is none."""
    try:
        return fs.read_text(path)
    except UnicodeDecodeError as error:
        raise IfupdownError("%s is not UTF-8 text (%s); nothing was changed" % (path, error))


def _logical_lines(lines):
    """(first, last, words) of every line ifupdown reads; a backslash at the end continues a line."""
    result = []
    index = 0
    while index < len(lines):
        first = index
        text = lines[index].rstrip("\r\n")
        while text.endswith("\\") and index + 1 < len(lines):
            index += 1
            text = text[:-1] + lines[index].rstrip("\r\n")
        words = text.split()
        if words and not words[0].startswith("#"):
            result.append((first, index, words))
        index += 1
    return result


def _starts_stanza(word):
    return word in STANZA_KEYWORDS or word.startswith("allow-")


class Stanza:
    """One ``iface <name> <family> <method>`` stanza: its line(s) and its option lines."""

    def __init__(self, words, first, last):
        self.name = words[1]
        self.family = words[2] if len(words) > 2 else None
        self.method = words[3] if len(words) > 3 else None
        self.first = first
        self.last = last
        self.options = []

    def takes_mtu(self):
        # a stanza without a method is ifupdown2's syntax, where every stanza takes mtu
        return self.method is None or self.method in MTU_METHODS


class ConfigFile:
    """One file ifupdown reads, its exact text and its iface stanzas."""

    def __init__(self, path, text, mode, write_path=None):
        self.path = path
        self.write_path = write_path or path
        self.text = text
        self.mode = mode
        self.lines = text.splitlines(True)
        self.stanzas = []
        self.includes = []
        current = None
        for first, last, words in _logical_lines(self.lines):
            if _starts_stanza(words[0]):
                current = None
                if words[0] == "iface" and len(words) > 1:
                    current = Stanza(words, first, last)
                    self.stanzas.append(current)
                elif words[0] in ("source", "source-directory") and len(words) > 1:
                    self.includes.append((words[0], words[1]))
            elif current is not None:
                current.options.append((first, last, words))

    def names(self):
        return set(stanza.name for stanza in self.stanzas)


def _glob(fs, pattern):
    """The files matching a shell pattern, sorted, as glob(3) finds them (``*`` skips dot files)."""
    paths = ["/"]
    for part in [part for part in pattern.split("/") if part]:
        if _GLOB_MAGIC.search(part):
            paths = [posixpath.join(path, name) for path in paths for name in fs.list_dir(path)
                     if fnmatch.fnmatchcase(name, part) and (part.startswith(".") or not name.startswith("."))]
        else:
            paths = [posixpath.join(path, part) for path in paths if fs.exists(posixpath.join(path, part))]
    return sorted(path for path in paths if not fs.is_dir(path))


def load_files(fs, path=INTERFACES):
    """Every file ifupdown reads, from ``path`` through its sources, each once, in the order it reads them."""
    files = []
    seen = set()

    def visit(path):
        path = posixpath.normpath(path)
        if path in seen or fs.is_dir(path):
            return
        seen.add(path)
        text = read_exact(fs, path)
        if text is None:
            return
        # a symlinked file is edited where it lives, not replaced by a copy
        write_path = fs.read_link(path) if fs.is_link(path) else path
        config = ConfigFile(path, text, stat.S_IMODE(fs.stat(path).st_mode), write_path)
        files.append(config)
        for keyword, target in config.includes:
            target = posixpath.join(NETWORK_DIR, target)
            if keyword == "source":
                included = _glob(fs, target)
            else:
                included = [posixpath.join(target, name) for name in fs.list_dir(target) if _SOURCED_NAME.match(name)]
            for name in included:
                visit(name)

    visit(path)
    return files


def _indent(line):
    return line[:len(line) - len(line.lstrip(" \t"))]


def _is_post_up_mtu(words, name):
    return (len(words) == 8 and words[0] in ("post-up", "up")
            and words[1:6] == ["ip", "link", "set", "dev", name] and words[6] == "mtu")


def _replace(lines, edits, first, last, text):
    """Records ``text`` (one line, keeping the line ending) in place of lines first..last."""
    new = _indent(lines[first]) + text + ("\n" if lines[last].endswith("\n") else "")
    if "".join(lines[first:last + 1]) != new:
        edits[first] = new
        for index in range(first + 1, last + 1):
            edits[index] = ""


def _edit_stanza(lines, edits, stanza, mtu):
    post_up = "ip link set dev %s mtu %d" % (stanza.name, mtu)
    found = False
    for first, last, words in stanza.options:
        if _is_post_up_mtu(words, stanza.name):
            _replace(lines, edits, first, last, "%s %s" % (words[0], post_up))
            found = found or not stanza.takes_mtu()
        elif words[0] == "mtu" and stanza.takes_mtu():
            _replace(lines, edits, first, last, "mtu %d" % mtu)
            found = True
    if not found:
        indent = _indent(lines[stanza.options[0][0]]) if stanza.options else DEFAULT_INDENT
        option = "mtu %d" % mtu if stanza.takes_mtu() else "post-up " + post_up
        line = lines[stanza.last]
        if line.endswith("\n"):
            edits[stanza.last] = line + indent + option + "\n"
        else:  # the last line of a file without a final newline stays without one
            edits[stanza.last] = line + "\n" + indent + option


def set_mtus(config, mtus):
    """The text of ``config`` with the MTUs ``{name: mtu}`` in every stanza of those interfaces.

    Returns the new text and the names whose stanzas changed.
    """
    edits = {}
    changed = set()
    for stanza in config.stanzas:
        if stanza.name in mtus:
            before = len(edits)
            _edit_stanza(config.lines, edits, stanza, mtus[stanza.name])
            if len(edits) != before:
                changed.add(stanza.name)
    text = "".join(edits.get(index, line) for index, line in enumerate(config.lines))
    return text, changed
