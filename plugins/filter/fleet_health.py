# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_health
short_description: What is wrong with an initiator's live paths, against the paths the fleet declares for it
version_added: 0.1.0
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
description:
  - The health gate of C(playbooks/site.yml) after each batch of initiators.
  - For every expected path, a problem when the subsystem has no controller on that address and port, when the
    controller is not V(live), or when a namespace reached through it is in another ANA state than the listener
    declares for its ANA group (V(optimized) when the listener declares none).
  - Returns an empty list when every expected path is live and in its declared ANA state.
positional: _input, expected
options:
  _input:
    description: The C(initiator) result of M(nvmeof.fleet.nvme_info) on the host.
    type: dict
    required: true
  expected:
    description: The host's entry of C(expected) from filter C(nvmeof.fleet.fleet_plan).
    type: list
    elements: dict
    required: true
seealso:
  - plugin: nvmeof.fleet.fleet_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read the paths until every expected one is live
  nvmeof.fleet.nvme_info:
    gather: [initiator]
  register: paths_read
  until: (paths_read.initiator | nvmeof.fleet.fleet_health(fleet_expected_connections)) | length == 0
  retries: 12
  delay: 5
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the subsystem, the address, the port and the target.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nvmeof.fleet.plugins.plugin_utils.fleet_plan import FleetInputError
from ansible_collections.nvmeof.fleet.plugins.plugin_utils.fleet_plan import fleet_health as check_health


def fleet_health(initiator, expected):
    """See DOCUMENTATION."""
    try:
        return check_health(initiator, expected)
    except (FleetInputError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("fleet_health: %s" % exc)


class FilterModule(object):
    """nvmeof.fleet filters."""

    def filters(self):
        return {"fleet_health": fleet_health}
