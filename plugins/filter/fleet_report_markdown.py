# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_report_markdown
short_description: The fleet report as a Markdown page
version_added: 0.1.0
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
description:
  - Renders the report of P(nvmeof.fleet.fleet_report#filter) as Markdown (GitHub flavoured tables).
  - 'In this order: a title with the date of the report, a summary line (healthy or not, and the counts), the
    declared storage networks, a table of every path of every initiator (initiator, subsystem, path as
    C(address:port), network, target, state, ANA states, I/O policy), one table per target (subsystem, namespaces,
    listeners, allowed hosts) and, when there are any, a list of problems: the initiators'' health problems and the
    hosts whose live data was not read.'
  - Paths that are not declared show the words C(not declared) in parentheses after their state.
  - Text in cells is escaped (C(|), backslash, C(<), C(>), C(&)) and line breaks become spaces, so that an NQN or a
    problem text cannot break the tables or add markup. Several values in one cell are separated by C(<br>).
  - Fails, naming the place, when the input is not a report (not a dictionary, no C(summary), lists that are not
    lists of dictionaries).
positional: _input
options:
  _input:
    description: The output of P(nvmeof.fleet.fleet_report#filter).
    type: dict
    required: true
seealso:
  - plugin: nvmeof.fleet.fleet_report
    plugin_type: filter
  - plugin: nvmeof.fleet.fleet_report_html
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the fleet report as Markdown
  ansible.builtin.copy:
    dest: /var/tmp/fleet-report.md
    content: "{{ fleet | nvmeof.fleet.fleet_report | nvmeof.fleet.fleet_report_markdown }}"
    mode: "0644"
  delegate_to: localhost
  run_once: true

# Gives, for example:
#   # NVMe/TCP fleet report, 2026-11-22T10:00:00Z
#
#   Not healthy. targets: 1, initiators: 2, subsystems: 1; paths expected: 4, live: 3, missing: 1, ...
#
#   | initiator | subsystem | path | network | target | state | ANA | iopolicy |
#   | --- | --- | --- | --- | --- | --- | --- | --- |
#   | initiator1 | nqn.2026-05.com.example:db | 10.90.1.11:4420 | 10.90.1.0/24 | target1 | live | optimized | numa |
#   | initiator1 | nqn.2026-05.com.example:db | 10.90.2.11:4420 | 10.90.2.0/24 | target1 | missing | - | numa |
"""

RETURN = r"""
_value:
  description: The Markdown page, ending with a line break.
  type: str
"""

from ansible_collections.nvmeof.fleet.plugins.plugin_utils.fleet_report_render import markdown


def fleet_report_markdown(report):
    """The report as Markdown: see DOCUMENTATION."""
    return markdown(report, "fleet_report_markdown")


class FilterModule(object):
    """nvmeof.fleet filters."""

    def filters(self):
        return {"fleet_report_markdown": fleet_report_markdown}
