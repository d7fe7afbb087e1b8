# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Markdown and HTML pages of a fleet report (the output of filter nvmeof.fleet.fleet_report)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.nvmeof.fleet.plugins.plugin_utils.fleet_report_svg import fabric_svg

PATH_COLUMNS = ("initiator", "subsystem", "path", "network", "target", "state", "ANA", "iopolicy")
TARGET_COLUMNS = ("subsystem", "namespaces", "listeners", "allowed hosts")
NONE = "-"
STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
.ok { color: #1b5e20; } .degraded { color: #8a5a00; } .down { color: #b71c1c; }
.ok, .degraded, .down { font-weight: bold; }
p.summary { font-size: 1.1em; }
svg { border: 1px solid #ddd; max-width: 100%; height: auto; }
"""


def path_status(path):
    """ok: live and optimized (or without ANA); degraded: live, some namespace not optimized; down: not live."""
    if path.get("state") != "live":
        return "down"
    if any(state != "optimized" for state in path.get("ana_states") or []):
        return "degraded"
    return "ok"


def endpoint(address, port):
    return "[%s]:%s" % (address, port) if ":" in str(address) else "%s:%s" % (address, port)


def _text(value):
    return NONE if value is None or value == "" else str(value)


class _Reader(object):
    """Reads a report defensively: errors name the filter and the place, as the report's own errors do."""

    def __init__(self, name):
        self.name = name

    def fail(self, message):
        raise AnsibleFilterError("%s: %s" % (self.name, message))

    def items(self, container, key, where):
        value = container.get(key)
        if value is None:
            return []
        if isinstance(value, (Mapping, str, bytes)) or not hasattr(value, "__iter__"):
            self.fail("%s.%s must be a list, not %s" % (where, key, type(value).__name__))
        items = list(value)
        for position, item in enumerate(items):
            if not isinstance(item, Mapping):
                self.fail("%s.%s[%d] must be a dictionary, not %s" % (where, key, position, type(item).__name__))
        return items


def _summary_line(summary):
    verdict = "Healthy." if summary.get("healthy") else "Not healthy."
    counts = ", ".join("%s: %s" % (label, _text(summary.get(key))) for key, label in (
        ("targets", "targets"), ("initiators", "initiators"), ("subsystems", "subsystems")))
    paths = ", ".join("%s: %s" % (label, _text(summary.get(key))) for key, label in (
        ("paths_expected", "expected"), ("paths_live", "live"), ("paths_missing", "missing"),
        ("paths_not_optimized", "not optimized"), ("paths_unexpected", "not declared")))
    return "%s %s; paths %s" % (verdict, counts, paths)


def _target_rows(reader, target, where):
    """One row per subsystem, each cell a list of lines."""
    rows = []
    for number, subsystem in enumerate(reader.items(target, "subsystems", where)):
        sub_where = "%s.subsystems[%d]" % (where, number)
        flags = ["live" if subsystem.get("live") else "not live"]
        flags += [flag for key, flag in (("allow_any_host", "any host"), ("cluster_aware", "cluster-aware"))
                  if subsystem.get(key)]
        namespaces = ["%s %s (ANA group %s, %s)" % (
            _text(namespace.get("nsid")), _text(namespace.get("device_path")), _text(namespace.get("ana_group")),
            {True: "enabled", False: "disabled"}.get(namespace.get("enabled"), "not live"))
            for namespace in reader.items(subsystem, "namespaces", sub_where)]
        listeners = []
        for listener in reader.items(subsystem, "listeners", sub_where):
            groups = ", ".join("%s %s" % (_text(group.get("group")), _text(group.get("state")))
                               for group in reader.items(listener, "ana_groups", sub_where + ".listeners"))
            listeners.append("%s (%s)%s" % (endpoint(listener.get("address"), listener.get("service_id")),
                                            _text(listener.get("network")), "; ANA " + groups if groups else ""))
        hosts = ["%s%s%s" % (host.get("inventory_host") + ": " if host.get("inventory_host") else "",
                             _text(host.get("nqn")), " (DH-HMAC-CHAP)" if host.get("dhchap") else "")
                 for host in reader.items(subsystem, "allowed_hosts", sub_where)]
        if subsystem.get("allow_any_host"):
            hosts.insert(0, "any host")
        rows.append([[_text(subsystem.get("nqn")), ", ".join(flags)], namespaces or [NONE],
                     listeners or [NONE], hosts or [NONE]])
    return rows


def tables(report, name):
    """What both pages show, as plain text: the pages only escape and lay it out."""
    reader = _Reader(name)
    if not isinstance(report, Mapping):
        reader.fail("the input must be the output of nvmeof.fleet.fleet_report (a dictionary), not %s"
                    % type(report).__name__)
    summary = report.get("summary")
    if not isinstance(summary, Mapping):
        reader.fail("report.summary must be a dictionary, not %s" % type(summary).__name__)
    paths, problems, targets = [], [], []
    for index, initiator in enumerate(reader.items(report, "initiators", "report")):
        where = "report.initiators[%d]" % index
        host = _text(initiator.get("name"))
        if not initiator.get("live"):
            problems.append((host, "live data not read"))
        problems.extend((host, str(problem)) for problem in initiator.get("health_problems") or [])
        for number, subsystem in enumerate(reader.items(initiator, "subsystems", where)):
            sub_where = "%s.subsystems[%d]" % (where, number)
            for path in reader.items(subsystem, "paths", sub_where):
                state = _text(path.get("state")) + ("" if path.get("expected") else " (not declared)")
                paths.append({
                    "initiator": host, "target": path.get("target"), "network": path.get("network"),
                    "status": path_status(path), "expected": bool(path.get("expected")),
                    "cells": [[host], [_text(subsystem.get("nqn"))],
                              [endpoint(path.get("address"), path.get("service_id"))],
                              [_text(path.get("network"))], [_text(path.get("target"))], [state],
                              [", ".join(path.get("ana_states") or []) or NONE],
                              [_text(subsystem.get("iopolicy"))]]})
    for index, target in enumerate(reader.items(report, "targets", "report")):
        where = "report.targets[%d]" % index
        if not target.get("live"):
            problems.append((_text(target.get("name")), "live data not read"))
        targets.append((_text(target.get("name")), _target_rows(reader, target, where)))
    return {"generated": _text(report.get("generated")), "summary": _summary_line(summary),
            "healthy": bool(summary.get("healthy")), "networks": [str(item) for item in report.get("networks") or []],
            "initiators": [_text(item.get("name")) for item in reader.items(report, "initiators", "report")],
            "targets": targets, "paths": paths, "problems": problems}


def _markdown_escape(text):
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _markdown_table(columns, rows):
    lines = ["| %s |" % " | ".join(columns), "|%s" % (" --- |" * len(columns))]
    lines.extend("| %s |" % " | ".join("<br>".join(_markdown_escape(line) for line in cell) for cell in row)
                 for row in rows)
    return lines


def markdown(report, name):
    data = tables(report, name)
    lines = ["# NVMe/TCP fleet report, %s" % _markdown_escape(data["generated"]), "",
             _markdown_escape(data["summary"]), "",
             "Storage networks: %s" % (", ".join(_markdown_escape(item) for item in data["networks"]) or "none declared"),
             "", "## Paths", ""]
    lines.extend(_markdown_table(PATH_COLUMNS, [path["cells"] for path in data["paths"]])
                 if data["paths"] else ["No paths."])
    for target, rows in data["targets"]:
        lines.extend(["", "## Target %s" % _markdown_escape(target), ""])
        lines.extend(_markdown_table(TARGET_COLUMNS, rows) if rows else ["No subsystems declared."])
    if data["problems"]:
        lines.extend(["", "## Problems", ""])
        lines.extend("- %s: %s" % (_markdown_escape(host), _markdown_escape(problem))
                     for host, problem in data["problems"])
    return "\n".join(lines) + "\n"


def _html_table(columns, rows, statuses=None):
    head = "".join("<th>%s</th>" % html.escape(column) for column in columns)
    body = []
    for number, row in enumerate(rows):
        cells = ["<br>".join(html.escape(line) for line in cell) for cell in row]
        if statuses:  # the state column carries the colour of the path
            state = PATH_COLUMNS.index("state")
            cells[state] = '<span class="%s">%s</span>' % (statuses[number], cells[state])
        body.append("<tr>%s</tr>" % "".join("<td>%s</td>" % cell for cell in cells))
    return "<table><thead><tr>%s</tr></thead><tbody>\n%s\n</tbody></table>" % (head, "\n".join(body))


def html_page(report, name):
    data = tables(report, name)
    title = "NVMe/TCP fleet report, %s" % data["generated"]
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>%s</title>" % html.escape(title), "<style>%s</style></head><body>" % STYLE,
             "<h1>%s</h1>" % html.escape(title),
             '<p class="summary %s">%s</p>' % ("ok" if data["healthy"] else "down", html.escape(data["summary"])),
             "<p>Storage networks: %s</p>" % html.escape(", ".join(data["networks"]) or "none declared"),
             "<h2>Fabric</h2>", fabric_svg(data), "<h2>Paths</h2>"]
    parts.append(_html_table(PATH_COLUMNS, [path["cells"] for path in data["paths"]],
                             [path["status"] for path in data["paths"]]) if data["paths"] else "<p>No paths.</p>")
    for target, rows in data["targets"]:
        parts.append("<h2>Target %s</h2>" % html.escape(target))
        parts.append(_html_table(TARGET_COLUMNS, rows) if rows else "<p>No subsystems declared.</p>")
    if data["problems"]:
        parts.append("<h2>Problems</h2><ul>")
        parts.extend("<li>%s: %s</li>" % (html.escape(host), html.escape(problem)) for host, problem in data["problems"])
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
