# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access to the host's kernel file trees (configfs, sysfs, procfs) and config files.

Every module reaches the kernel through one HostFS object. Paths are written
as they are on a real host (``/sys/kernel/config/nvmet``); HostFS maps them
under its root, so unit tests point the same code at a temporary tree.

Errors become HostFSError, whose message names the path, the value being
written and the kernel's answer: configfs reports most refusals only as an
errno (EACCES while a port is linked, EBUSY while a namespace is enabled).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import io
import os
import stat
import tempfile


class HostFSError(Exception):
    """A read or write of a kernel or config file failed; str() says which and why."""

    def __init__(self, action, path, error, value=None):
        self.action = action
        self.path = path
        self.errno = getattr(error, "errno", None)
        self.value = value
        reason = os.strerror(self.errno) if self.errno else str(error)
        code = errno.errorcode.get(self.errno, "") if self.errno else ""
        detail = "%s (%s)" % (reason, code) if code else reason
        if value is None:
            message = "%s %s failed: %s" % (action, path, detail)
        else:
            message = "%s %r to %s failed: %s" % (action, value, path, detail)
        super(HostFSError, self).__init__(message)


class HostFS:
    """Reads and writes files under ``root`` as if it were ``/``."""

    def __init__(self, root="/"):
        self.root = os.path.abspath(root)

    def path(self, path):
        """The real location of an absolute host path."""
        if not path.startswith("/"):
            raise ValueError("HostFS paths are absolute, got %r" % path)
        if self.root == "/":
            return path
        return os.path.join(self.root, path.lstrip("/"))

    # -- queries -------------------------------------------------------------
    def exists(self, path):
        return os.path.lexists(self.path(path))

    def is_dir(self, path):
        return os.path.isdir(self.path(path))

    def is_link(self, path):
        return os.path.islink(self.path(path))

    def is_block_device(self, path):
        try:
            return stat.S_ISBLK(os.stat(self.path(path)).st_mode)
        except OSError:
            return False

    def stat(self, path):
        """os.stat() of a host path (following links), or None when it does not exist."""
        try:
            return os.stat(self.path(path))
        except OSError:
            return None

    def list_dir(self, path):
        """Sorted entries of a directory; an absent directory has none."""
        try:
            return sorted(os.listdir(self.path(path)))
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return []
            raise HostFSError("listing", path, exc)

    def read(self, path, default=None):
        """A kernel attribute or small file, without its trailing newline.

        An absent file gives ``default``; an unreadable one (some sysfs
        attributes are write-only) raises HostFSError.
        """
        try:
            with open(self.path(path), "r") as handle:
                return handle.read().rstrip("\n")
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return default
            raise HostFSError("reading", path, exc)

    def read_text(self, path, default=None):
        """A config file's text exactly as it is on disk (UTF-8), or ``default`` when there is none."""
        try:
            with io.open(self.path(path), "r", encoding="utf-8", newline="") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return default
            raise HostFSError("reading", path, exc)

    def digest(self, path, algorithm="sha1"):
        """The hex digest of a file's bytes (what Ansible calls its checksum), or None when there is none."""
        try:
            with open(self.path(path), "rb") as handle:
                return hashlib.new(algorithm, handle.read()).hexdigest()
        except (IOError, OSError) as exc:
            if exc.errno in (errno.ENOENT, errno.EISDIR):
                return None
            raise HostFSError("reading", path, exc)

    def read_link(self, path):
        """The host path a symlink points to (configfs links are absolute)."""
        try:
            target = os.readlink(self.path(path))
        except OSError as exc:
            raise HostFSError("reading link", path, exc)
        if not os.path.isabs(target):
            target = os.path.normpath(os.path.join(os.path.dirname(self.path(path)), target))
        if self.root != "/" and (target + "/").startswith(self.root + "/"):
            target = "/" + os.path.relpath(target, self.root)
        return target

    # -- changes -------------------------------------------------------------
    def write(self, path, value, secret=False):
        """Writes one kernel attribute in a single write(), as configfs and sysfs require.

        A ``secret`` value never appears in the error message.
        """
        data = value if isinstance(value, str) else str(value)
        try:
            with open(self.path(path), "w") as handle:
                handle.write(data)
        except OSError as exc:
            raise HostFSError("writing", path, exc, value="(hidden)" if secret else data)

    def make_dir(self, path, mode=None):
        """Creates one directory; ``mode`` (not reduced by the umask) for config directories."""
        try:
            os.mkdir(self.path(path))
            if mode is not None:
                os.chmod(self.path(path), mode)
        except OSError as exc:
            raise HostFSError("creating", path, exc)

    def make_parents(self, directory, mode):
        """Creates ``directory`` and the missing directories above it with ``mode``.

        Returns the directories it created, outermost first, so that a caller can take them back.
        """
        missing = []
        while directory not in ("", "/") and not self.is_dir(directory):
            missing.append(directory)
            directory = os.path.dirname(directory)
        for path in reversed(missing):
            self.make_dir(path, mode=mode)
        return list(reversed(missing))

    def remove_dir(self, path):
        try:
            os.rmdir(self.path(path))
        except OSError as exc:
            raise HostFSError("removing", path, exc)

    def link(self, target, path):
        """Creates symlink ``path`` pointing at host path ``target``."""
        try:
            os.symlink(self.path(target), self.path(path))
        except OSError as exc:
            raise HostFSError("linking %s at" % target, path, exc)

    def unlink(self, path):
        try:
            os.unlink(self.path(path))
        except OSError as exc:
            raise HostFSError("removing", path, exc)

    def write_file_atomic(self, path, content, mode=0o644):
        """Replaces a config file at once: readers see the old or the new file, never half.

        The temporary file is created with ``mode`` from the start, so secrets
        are never readable by others, not even briefly.
        """
        real = self.path(path)
        directory = os.path.dirname(real)
        try:
            handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(real),
                                                 dir=directory)
        except OSError as exc:
            raise HostFSError("writing", path, exc)
        try:
            os.fchmod(handle, mode)
            with os.fdopen(handle, "w") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            os.rename(temporary, real)
        except OSError as exc:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise HostFSError("writing", path, exc)
