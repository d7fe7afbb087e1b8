# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for module_utils tests: a fake kernel nvmet configfs.

tests/unit/plugins/module_utils is not a package (no __init__.py), so its
test modules cannot import helpers with ``from .fake_configfs import ...``;
they take these fixtures instead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from fake_configfs import FakeNvmetConfigfs  # this directory is on sys.path (pytest rootdir-less conftest)


@pytest.fixture
def nvmet_configfs(tmp_path):
    """A fresh FakeNvmetConfigfs rooted at tmp_path, nvmet loaded, kernel 6.1 defaults."""
    return FakeNvmetConfigfs(str(tmp_path))


@pytest.fixture
def nvmet_configfs_factory(tmp_path_factory):
    """Makes FakeNvmetConfigfs(**options) instances, each over its own new directory."""
    def make(**options):
        return FakeNvmetConfigfs(str(tmp_path_factory.mktemp("configfs")), **options)
    return make
