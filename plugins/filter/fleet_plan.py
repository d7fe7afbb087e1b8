# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_plan
short_description: The fleet's identities, access lists, expected paths and preflight findings, before any change
version_added: 0.1.0
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
description:
  - Takes what the preflight of C(playbooks/site.yml) read on every storage host and the storage the targets declare,
    and works out, without touching any host, what the rollout will do and what would make it wrong.
  - "Identities: the host NQN and host ID each initiator will have, decided as role C(nvmeof.fleet.initiator) decides:
    C(initiator_hostnqn) when set, else the identity read on the host when it has no problem, else the one derived
    from the inventory name (C(nqn.2014-08.org.nvmexpress:uuid:<inventory_hostname | to_uuid>))."
  - "Access lists: host entries of C(target_subsystems) may name an initiator by C(inventory_host) instead of C(nqn);
    they are replaced by that initiator's host NQN."
  - "Findings, every one naming the hosts: host NQNs or host IDs shared by several initiators (cloned images);
    a storage network whose hosts have different MTUs (after network tuning, from O(_input.hosts[].planned_mtu));
    listener addresses outside the declared storage networks or not on the target; subsystems that allow several
    hosts without C(cluster_aware); access-list entries naming hosts that are not initiators."
  - Fails, naming the place, on malformed input (a network without a prefix length, a subsystem without C(nqn),
    a host entry with both C(nqn) and C(inventory_host)).
positional: _input
options:
  _input:
    description:
      - "A dictionary with C(networks) (the storage networks in CIDR form), C(targets) and C(initiators), each a
        dictionary by inventory name."
      - "A target: C(subsystems) (its C(target_subsystems)), C(ip_addresses) (the parsed output of
        C(ip -json address show)), C(planned_mtu) (interface name to the MTU network tuning will set)."
      - "An initiator: C(identity) (the C(host) result of M(nvmeof.fleet.nvme_info)), C(hostnqn) and C(hostid)
        (C(initiator_hostnqn), C(initiator_hostid)), C(unique_identity) (C(initiator_unique_identity)),
        C(derived_hostnqn), C(ip_addresses) and C(planned_mtu) as for targets."
    type: dict
    required: true
seealso:
  - module: nvmeof.fleet.nvme_info
  - plugin: nvmeof.fleet.fleet_health
    plugin_type: filter
"""

EXAMPLES = r"""
# What playbooks/site.yml does in its preflight (simplified).
- name: Work out the fleet
  ansible.builtin.set_fact:
    fleet_planned: >-
      {{ {'networks': ['10.90.1.0/24', '10.90.2.0/24'],
          'targets': {'target1': {'subsystems': hostvars['target1'].target_subsystems,
                                  'ip_addresses': hostvars['target1'].ip_read.stdout | from_json}},
          'initiators': {'initiator1': {'identity': hostvars['initiator1'].identity_read.host,
                                        'derived_hostnqn': 'nqn.2014-08.org.nvmexpress:uuid:' ~ ('initiator1' | to_uuid),
                                        'ip_addresses': hostvars['initiator1'].ip_read.stdout | from_json}}}
         | nvmeof.fleet.fleet_plan }}
  no_log: true  # the subsystems may hold DH-HMAC-CHAP keys

- name: Stop on any finding
  ansible.builtin.assert:
    that: fleet_planned.findings | length == 0
    fail_msg: "{{ fleet_planned.findings | join('; ') }}"
"""

RETURN = r"""
_value:
  description: What the rollout will do.
  type: dict
  contains:
    findings:
      description: What is wrong with the fleet, one sentence each, naming the hosts; empty when nothing is.
      type: list
      elements: str
    identities:
      description: By initiator, C(hostnqn), C(hostid) and C(source) (where the identity comes from).
      type: dict
    target_subsystems:
      description: By target, its C(target_subsystems) with every host entry given by C(nqn), for role C(nvmeof.fleet.target).
      type: dict
    report_subsystems:
      description: The same, each host entry with the C(inventory_host) it belongs to (or V(null)), for the report.
      type: dict
    expected:
      description:
        - "By initiator, the connections the targets give it: C(nqn) and C(paths), each path with C(target),
          C(address), C(service_id) and C(ana_states) (the declared ANA state of each ANA group the subsystem's
          namespaces use, by group number as text)."
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nvmeof.fleet.plugins.plugin_utils.fleet_plan import FleetInputError
from ansible_collections.nvmeof.fleet.plugins.plugin_utils.fleet_plan import fleet_plan as plan_fleet


def fleet_plan(fleet):
    """See DOCUMENTATION."""
    try:
        return plan_fleet(fleet)
    except FleetInputError as exc:
        raise AnsibleFilterError("fleet_plan: %s" % exc)


class FilterModule(object):
    """nvmeof.fleet filters."""

    def filters(self):
        return {"fleet_plan": fleet_plan}
