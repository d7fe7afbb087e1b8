"""What every role's tests check the same way."""

import os

import pytest
import yaml

ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                     "roles")


def _load(*path):
    with open(os.path.join(ROLES, *path)) as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def check_role_defaults():
    """Asserts that a role's defaults are the options of its main argument spec, with the same values."""
    def check(role):
        defaults = _load(role, "defaults", "main.yml")
        spec = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
        assert sorted(defaults) == sorted(spec)
        for name, value in defaults.items():
            # A default worked out from other variables is described in words, not given in the spec.
            if isinstance(value, str) and "{{" in value:
                assert "default" not in spec[name], name
            else:
                assert spec[name].get("default") == value, name
    return check
