"""Makes the collection importable as ansible_collections.nvmeof.fleet in place."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "nvmeof", "fleet")

if not os.path.exists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(ROOT, LINK)
for path in (COLLECTIONS, os.path.join(ROOT, "lab")):
    if path not in sys.path:
        sys.path.insert(0, path)


@pytest.fixture(autouse=True)
def _module_warnings_per_test():
    """ansible-core before 2.19 keeps module.warn() messages in module-level lists that every later
    exit_json reports; a test's modules must not see the warnings of an earlier test's."""
    yield
    from ansible.module_utils.common import warnings
    for name in ("_global_warnings", "_global_deprecations"):
        if isinstance(getattr(warnings, name, None), list):
            del getattr(warnings, name)[:]
