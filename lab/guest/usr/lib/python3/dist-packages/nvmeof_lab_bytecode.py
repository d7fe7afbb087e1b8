"""Lab guests only: a bytecode cache for the modules Ansible ships in its AnsiballZ zips.

Every Ansible task runs its module from a fresh zip in a new temporary directory, and
Python's zipimport compiles every source file in it again: under TCG that is about 0.8 s
of the 2 s a task costs inside a guest. This keeps the compiled code of each source,
keyed by the hash of its text and the interpreter's bytecode magic, so identical
sources are compiled once. Nothing else changes: the same source gives the same code,
and the code's file names are set to the zip the import came from.

Loaded at interpreter start by nvmeof-lab-bytecode.pth; any failure falls back to
compiling.
"""

import _imp
import marshal
import os
import zipimport

CACHE_DIR = "/var/cache/nvmeof-lab-bytecode"
_compile_source = zipimport._compile_source


def _cache_path(source):
    import hashlib  # here, not at start-up: every python3 run in the guest imports this file

    from importlib.util import MAGIC_NUMBER
    digest = hashlib.sha256(MAGIC_NUMBER + source).hexdigest()
    return os.path.join(CACHE_DIR, digest + ".code")


def _cached_compile_source(pathname, source):
    if "_payload.zip" not in pathname:
        return _compile_source(pathname, source)
    try:
        path = _cache_path(source)
        with open(path, "rb") as handle:
            code = marshal.load(handle)
        _imp._fix_co_filename(code, pathname)
        return code
    except Exception:  # pylint: disable=broad-except
        pass
    code = _compile_source(pathname, source)
    try:
        os.makedirs(CACHE_DIR, mode=0o700, exist_ok=True)
        partial = "%s.%d" % (path, os.getpid())
        with open(partial, "wb") as handle:
            marshal.dump(code, handle)
        os.replace(partial, path)
    except Exception:  # pylint: disable=broad-except
        pass
    return code


zipimport._compile_source = _cached_compile_source
