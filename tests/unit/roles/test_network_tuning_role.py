# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role nvmeof.fleet.network_tuning: its variables, argument specs, profiles and docs agree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "network_tuning")
DOCS = (os.path.join(ROLE, "README.md"), os.path.join(ROOT, "docs", "network-tuning.md"))


def _load(*path):
    with open(os.path.join(*path)) as handle:
        return yaml.safe_load(handle)


def _specs():
    return _load(ROLE, "meta", "argument_specs.yml")["argument_specs"]


def _read(path):
    with open(path) as handle:
        return handle.read()


def test_every_default_is_in_the_main_argument_spec_with_the_same_value(check_role_defaults):
    check_role_defaults("network_tuning")


def test_the_preflight_entry_point_takes_the_main_ones_variables_with_the_same_defaults():
    main, preflight = _specs()["main"]["options"], _specs()["preflight"]["options"]
    for name, spec in preflight.items():
        assert (spec.get("type"), spec.get("default")) == (main[name].get("type"), main[name].get("default")), name


def test_every_variable_is_prefixed_described_and_typed():
    for entry in _specs().values():
        for name, spec in entry["options"].items():
            assert name.startswith("network_tuning_"), name
            assert spec.get("description") and spec.get("type"), name
    for name in _load(ROLE, "vars", "main.yml"):
        assert name.startswith("__network_tuning_"), name


def test_the_profile_choices_are_the_profiles_the_role_defines():
    profiles = _load(ROLE, "vars", "main.yml")["__network_tuning_profiles"]
    assert sorted(profiles) == sorted(_specs()["main"]["options"]["network_tuning_profile"]["choices"])


def test_the_docs_name_every_variable_and_every_profile_key():
    keys = set(_load(ROLE, "vars", "main.yml")["__network_tuning_balanced"])
    for key in ("net.core.busy_poll", "net.core.busy_read", "net.core.netdev_max_backlog"):
        keys.add(key)
    for doc in DOCS:
        named = set(re.findall(r"`(network_tuning_\w+)`", _read(doc)))
        assert sorted(set(_specs()["main"]["options"]) - named) == [], doc
    guide = _read(DOCS[1])
    assert sorted(key for key in keys if "`%s`" % key not in guide) == []


def test_the_latency_profile_warns_about_the_cpu_cost():
    for doc in DOCS:
        assert re.search(r"busy[ _]poll.*CPU", _read(doc), re.S | re.I), doc
