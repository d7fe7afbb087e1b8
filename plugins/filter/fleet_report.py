# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_report
short_description: A report of the NVMe/TCP fleet, declared against live, as one JSON-ready dictionary
version_added: 0.1.0
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
description:
  - Takes what a play collected about the fleet (the declared subsystems of the targets, the connections the
    initiators must have, and what M(nvmeof.fleet.nvme_info) read on each host) and returns one dictionary, sorted
    the same way on every run, to write as JSON or to render with P(nvmeof.fleet.fleet_report_markdown#filter) or
    P(nvmeof.fleet.fleet_report_html#filter).
  - Targets and initiators are sorted by name, subsystems by NQN, namespaces by ID, allowed hosts by NQN, listeners
    and paths by address (numerically, IPv4 first) and port. IP addresses are written in their short form, so an
    IPv6 address written any way is the same address.
  - A path of an initiator is an expected path (a listener of a connection in C(expected)) or a live controller of
    a fabrics subsystem (local PCIe drives and discovery controllers are left out). An expected path matches the
    live controller with the same address and port in the live subsystem with the same NQN; a live controller that
    matches no expected path is listed with C(expected=false).
  - A path's C(target) is the target that declares its listener for the same NQN (or else for any NQN).
  - A listener's or a path's C(network) is the most specific network of C(networks) that holds its address.
  - No DH-HMAC-CHAP key or secret is returned. Allowed hosts carry C(dhchap=true) when they have a key. Any
    string that contains a declared key or secret, or a text in the key format C(DHHC-1:...), shows the word
    C(hidden) in parentheses in its place.
  - Subsystems declared with C(state=absent) are left out.
  - Fails, naming the place in the input (for example C(targets.target1.subsystems[2]) for the third subsystem
    of target C(target1)), on input of the wrong type, a subsystem, host or connection without C(nqn), a listener
    or path without C(address), a port out of range, a network that is not in CIDR notation, and an NQN declared
    twice on one target.
positional: _input
options:
  _input:
    description:
      - 'A dictionary with C(generated) (the time of the report, a string, copied), C(networks) (the storage networks
        in CIDR notation, may be empty), C(targets) and C(initiators).'
      - 'C(targets) has one entry per target name: C(subsystems), its C(target_subsystems) as declared for role
        C(nvmeof.fleet.target) (each host entry may add C(inventory_host), the initiator''s inventory name), and
        C(live), the C(target) value of M(nvmeof.fleet.nvme_info), or V(null) when it was not read.'
      - 'C(initiators) has one entry per initiator name: C(hostnqn), C(expected) (its connections, as
        P(nvmeof.fleet.initiator_connections#filter) returns them), C(live), the C(initiator) value of
        M(nvmeof.fleet.nvme_info) or V(null), and optionally C(health) (C(checked) and a list of C(problems)).'
    type: dict
    required: true
seealso:
  - module: nvmeof.fleet.nvme_info
  - plugin: nvmeof.fleet.initiator_connections
    plugin_type: filter
  - plugin: nvmeof.fleet.fleet_report_markdown
    plugin_type: filter
  - plugin: nvmeof.fleet.fleet_report_html
    plugin_type: filter
"""

EXAMPLES = r"""
# On every storage host first: nvmeof.fleet.nvme_info with gather [target] or [initiator], registered as nvme_live.
- name: Collect the targets' declarations and live state
  ansible.builtin.set_fact:
    fleet_targets: >-
      {{ fleet_targets | default({}) | combine({item: {
           'subsystems': hostvars[item].target_subsystems | default([]),
           'live': hostvars[item].nvme_live.target | default(none)}}) }}
  loop: "{{ groups['nvme_targets'] }}"
  run_once: true

- name: Collect the initiators' expected connections and live state
  ansible.builtin.set_fact:
    fleet_initiators: >-
      {{ fleet_initiators | default({}) | combine({item: {
           'hostnqn': hostvars[item].nvme_live.host.hostnqn | default(none),
           'expected': dict(groups['nvme_targets'] | zip(groups['nvme_targets']
                                                          | map('extract', hostvars, 'target_subsystems')
                                                          | map('default', none)))
                       | nvmeof.fleet.initiator_connections(hostvars[item].nvme_live.host.hostnqn),
           'live': hostvars[item].nvme_live.initiator | default(none)}}) }}
  loop: "{{ groups['nvme_initiators'] }}"
  run_once: true
  no_log: true  # the expected connections carry DH-HMAC-CHAP secrets; the report does not

- name: Write the fleet report as JSON, Markdown and HTML
  vars:
    report: >-
      {{ {'generated': now(utc=true).isoformat(), 'networks': ['10.90.1.0/24', '10.90.2.0/24'],
          'targets': fleet_targets, 'initiators': fleet_initiators} | nvmeof.fleet.fleet_report }}
  ansible.builtin.copy:
    dest: "/var/tmp/fleet-report.{{ item.extension }}"
    content: "{{ item.content }}"
    mode: "0644"
  loop:
    - {extension: json, content: "{{ report | to_nice_json }}"}
    - {extension: md, content: "{{ report | nvmeof.fleet.fleet_report_markdown }}"}
    - {extension: html, content: "{{ report | nvmeof.fleet.fleet_report_html }}"}
  loop_control:
    label: "{{ item.extension }}"
  delegate_to: localhost
  run_once: true

# Given one target with one subsystem and one initiator whose path on 10.90.2.11 is down:
#   {generated: "2026-11-22T10:00:00Z", networks: ["10.90.1.0/24", "10.90.2.0/24"],
#    targets: {target1: {live: <nvme_info target>, subsystems: [{nqn: "nqn.2026-05.com.example:db",
#      namespaces: [{nsid: 1, device_path: /dev/vg/db}], listeners: [{address: 10.90.1.11}, {address: 10.90.2.11}],
#      hosts: [{nqn: "nqn.2014-08.org.nvmexpress:uuid:7d1e...", inventory_host: initiator1, dhchap_key: "DHHC-1:..."}]}]}},
#    initiators: {initiator1: {hostnqn: "nqn.2014-08.org.nvmexpress:uuid:7d1e...", live: <nvme_info initiator>,
#      expected: [{nqn: "nqn.2026-05.com.example:db",
#                  paths: [{address: 10.90.1.11, service_id: 4420}, {address: 10.90.2.11, service_id: 4420}]}]}}}
# the summary reads:
#   {targets: 1, initiators: 1, subsystems: 1, paths_expected: 2, paths_live: 1, paths_missing: 1,
#    paths_not_optimized: 0, paths_unexpected: 0, healthy: false}
# and the second path:
#   {target: target1, address: 10.90.2.11, service_id: 4420, network: 10.90.2.0/24, controller: null,
#    state: missing, ana_states: [], expected: true}
- name: Fail when the fleet is not healthy, showing the report
  ansible.builtin.assert:
    that: report.summary.healthy
    fail_msg: "{{ report | nvmeof.fleet.fleet_report_markdown }}"
  vars:
    report: >-
      {{ {'generated': now(utc=true).isoformat(), 'networks': [],
          'targets': fleet_targets, 'initiators': fleet_initiators} | nvmeof.fleet.fleet_report }}
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    generated:
      description: C(generated) of the input.
      type: str
    networks:
      description: The declared storage networks, as declared.
      type: list
      elements: str
    summary:
      description:
        - 'Counts: C(targets), C(initiators), C(subsystems) (distinct NQNs declared present), C(paths_expected),
          C(paths_live) (expected paths whose controller is V(live)), C(paths_missing) (expected paths that are not
          live, C(paths_expected) - C(paths_live)), C(paths_not_optimized) (live paths with a namespace in an ANA
          state other than V(optimized)) and C(paths_unexpected) (live controllers no expected path matches).'
        - C(healthy) is true when the live data of every target and initiator was read, every declared subsystem
          exists on its target with every namespace enabled that is declared enabled, every expected path is live, and no
          initiator reports a health problem.
        - Paths not optimized do not make the fleet unhealthy, as ANA keeps them so on purpose (active/passive).
      type: dict
    targets:
      description:
        - 'One entry per target: C(name), C(live) (its live data was read) and C(subsystems).'
        - 'A subsystem has C(nqn), C(allow_any_host), C(cluster_aware), C(live) (it exists in the live data),
          C(namespaces) (C(nsid), C(device_path), C(ana_group), C(enabled), the live state or V(null)),
          C(listeners) (C(address), C(service_id), C(network) or V(null), C(ana_groups), each C(group) and
          C(state), live when the listener was found live, else as declared) and C(allowed_hosts) (C(nqn),
          C(inventory_host) or V(null), C(dhchap)).'
      type: list
      elements: dict
    initiators:
      description:
        - 'One entry per initiator: C(name), C(hostnqn), C(live) (its live data was read), C(health_problems) and
          C(subsystems).'
        - 'A subsystem has C(nqn), C(iopolicy) (live, or V(null)), C(devices) (the live namespace heads, or
          without native multipath the namespaces below its controllers) and C(paths).'
        - 'A path has C(target) (or V(null)), C(address), C(service_id), C(network) (or V(null)), C(controller)
          (the live controller, or V(null)), C(state) (the controller state, or V(missing)), C(ana_states) (one per
          namespace the controller reaches, empty when unknown) and C(expected).'
      type: list
      elements: dict
"""

from ansible_collections.nvmeof.fleet.plugins.plugin_utils.fleet_report import build_report


def fleet_report(fleet):
    """The fleet report: see DOCUMENTATION."""
    return build_report(fleet)


class FilterModule(object):
    """nvmeof.fleet filters."""

    def filters(self):
        return {"fleet_report": fleet_report}
