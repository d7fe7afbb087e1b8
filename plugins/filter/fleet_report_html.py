# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_report_html
short_description: The fleet report as one self-contained HTML page with a diagram of the fabric
version_added: 0.1.0
author:
  - nvmeof.fleet contributors (@nvmeof-fleet)
description:
  - Renders the report of P(nvmeof.fleet.fleet_report#filter) as one HTML page that needs nothing else. Its style
    sheet and diagram are inline; it loads no script, style sheet, font or image, and names no web site, so it
    works offline and from a mail attachment.
  - 'The diagram (inline SVG) shows the targets in a left column, one band per storage network in the middle and
    the initiators in a right column. Each path is one line from its initiator through its network''s band to its
    target: green when live and optimized (or live without ANA), amber when live but a namespace is not optimized
    (non-optimized, inaccessible, ...), red when not live or missing. Paths that are not declared are dashed.
    Paths outside the declared networks cross a band named C(no declared network); paths whose target is not known
    end at a box named C(unknown target) (both in parentheses). Hovering a line or a box shows its details.'
  - Boxes grow with the number of their paths and the diagram grows taller with the number of hosts, so it stays
    readable with some 30 hosts.
  - Below the diagram are the tables of P(nvmeof.fleet.fleet_report_markdown#filter) (paths, one per target) and
    the list of problems.
  - Every text of the report is escaped with Python's C(html.escape).
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
  - plugin: nvmeof.fleet.fleet_report_markdown
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the fleet report as an HTML page
  ansible.builtin.copy:
    dest: /var/tmp/fleet-report.html
    content: "{{ fleet | nvmeof.fleet.fleet_report | nvmeof.fleet.fleet_report_html }}"
    mode: "0644"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: The HTML page (C(<!DOCTYPE html>), UTF-8), ending with a line break.
  type: str
"""

from ansible_collections.nvmeof.fleet.plugins.plugin_utils.fleet_report_render import html_page


def fleet_report_html(report):
    """The report as an HTML page: see DOCUMENTATION."""
    return html_page(report, "fleet_report_html")


class FilterModule(object):
    """nvmeof.fleet filters."""

    def filters(self):
        return {"fleet_report_html": fleet_report_html}
