# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fabric diagram of the HTML fleet report: targets left, one band per storage network, initiators right."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html

WIDTH = 1000
BOX_WIDTH = 200
LEFT = 20
RIGHT = WIDTH - 20 - BOX_WIDTH
MIDDLE = (LEFT + BOX_WIDTH + 40, RIGHT - 40)
# Every box top, height and gap is a multiple of PITCH, so path ends lie on one grid for both columns.
PITCH = 10
TOP = 60
GAP = 2 * PITCH
HEADER = 2 * PITCH
COLOURS = {"ok": "#2e7d32", "degraded": "#e69b00", "down": "#c62828"}
LEGEND = (("ok", "live, optimized", ""), ("degraded", "live, not optimized or inaccessible", ""),
          ("down", "not live or missing", ""), ("unexpected", "not declared", "6 4"))
UNKNOWN_TARGET = "(unknown target)"
NO_NETWORK = "(no declared network)"
LABEL_MAX = 26


def _escape(text):
    return html.escape(str(text), quote=True)


def _label(text, limit=LABEL_MAX):
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _ordered(names, extra):
    """The names, then those only the paths mention, without duplicates."""
    result = list(dict.fromkeys(names))
    result.extend(name for name in dict.fromkeys(extra) if name not in result)
    return result


def _boxes(names, slots, content=0):
    """name -> (top, height), and the column's height. Boxes grow with their path ends (slots: name -> count);
    a column shorter than content spreads its boxes over it, so lines to the other column run shorter."""
    heights = [HEADER + PITCH * (max(slots.get(name, 0), 1) + 1) for name in names]
    natural = sum(heights) + GAP * (len(names) - 1) if names else 0
    spare = max(content - natural, 0) // PITCH
    gap, top = GAP, TOP
    if len(names) > 1:
        gap += PITCH * (spare // (len(names) - 1))
    else:
        top += PITCH * (spare // 2)
    boxes = {}
    for name, height in zip(names, heights):
        boxes[name] = (top, height)
        top += height + gap
    return boxes, max(natural, content)


def _slot_y(box, slot, offset):
    """Target ends sit half a pitch off initiator ends: the horizontal runs from both sides never share a line."""
    return box[0] + HEADER + offset + PITCH * slot


def _spread(paths, key):
    """path index -> (slot, count) per group of paths sharing key(path)[0], ordered by the rest of the key."""
    groups = {}
    for index, path in enumerate(paths):
        groups.setdefault(key(path)[0], []).append(index)
    slots = {}
    for members in groups.values():
        members.sort(key=lambda index: key(paths[index])[1:])
        for slot, index in enumerate(members):
            slots[index] = (slot, len(members))
    return slots


def _box(x, box, name):
    top, height = box
    return ('<g><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="#f5f5f5" stroke="#555"/>'
            '<text x="%d" y="%d" font-size="12" font-weight="bold">%s</text></g>'
            % (_escape(name), x, top, BOX_WIDTH, height, x + 8, top + 15, _escape(_label(name))))


def _legend(top):
    parts, x = [], LEFT
    for status, text, dashes in LEGEND:
        parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/>'
                     '<text x="%d" y="%d" font-size="12">%s</text>'
                     % (x, top, x + 30, top, COLOURS.get(status, "#666"),
                        ' stroke-dasharray="%s"' % dashes if dashes else "", x + 36, top + 4, _escape(text)))
        x += 36 + 7 * len(text) + 30  # about 7 pixels per character at font size 12
    return "".join(parts)


def fabric_svg(data):
    """An inline SVG (no namespace URL, no external resource) of the paths of fleet_report_render.tables()."""
    paths = data["paths"]
    targets = _ordered([target[0] for target in data["targets"]],
                       [path["target"] or UNKNOWN_TARGET for path in paths])
    initiators = _ordered(data["initiators"], [path["initiator"] for path in paths])
    bands = _ordered(data["networks"], [path["network"] or NO_NETWORK for path in paths])

    def order(path):
        return (bands.index(path["network"] or NO_NETWORK), targets.index(path["target"] or UNKNOWN_TARGET),
                initiators.index(path["initiator"]))

    # Path ends ordered by band, so lines to the same network leave a box side by side and cross less.
    at_initiator = _spread(paths, lambda path: (path["initiator"],) + order(path))
    at_target = _spread(paths, lambda path: (path["target"] or UNKNOWN_TARGET, order(path)[0], order(path)[2]))
    lanes = _spread(paths, lambda path: (order(path)[0], order(path)[2], order(path)[1]))
    target_slots = dict((name, sum(1 for path in paths if (path["target"] or UNKNOWN_TARGET) == name))
                        for name in targets)
    initiator_slots = dict((name, sum(1 for path in paths if path["initiator"] == name)) for name in initiators)
    content = max(_boxes(targets, target_slots)[1], _boxes(initiators, initiator_slots)[1], 4 * PITCH)
    target_boxes = _boxes(targets, target_slots, content)[0]
    initiator_boxes = _boxes(initiators, initiator_slots, content)[0]
    height = TOP + content + 70
    band_width = (MIDDLE[1] - MIDDLE[0]) / max(len(bands), 1)

    summary = "fabric: %d targets, %d networks, %d initiators" % (len(targets), len(bands), len(initiators))
    parts = ['<svg viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" font-family="sans-serif">'
             % (WIDTH, height, WIDTH, height, _escape(summary)),
             '<text x="%d" y="%d" font-size="13" font-weight="bold">targets</text>' % (LEFT, TOP - 30),
             '<text x="%d" y="%d" font-size="13" font-weight="bold">initiators</text>' % (RIGHT, TOP - 30)]
    for number, band in enumerate(bands):
        x = MIDDLE[0] + number * band_width
        parts.append('<g><title>%s</title><rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#e8eef8" '
                     'stroke="#9fb3d1"/><text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text></g>'
                     % (_escape(band), x + 4, TOP - 24, band_width - 8, content + 34, x + band_width / 2, TOP - 10,
                        _escape(_label(band, max(8, int(band_width / 7))))))
    for name in targets:
        parts.append(_box(LEFT, target_boxes[name], name))
    for name in initiators:
        parts.append(_box(RIGHT, initiator_boxes[name], name))
    for index, path in enumerate(paths):
        band, target, initiator = order(path)
        lane, lane_count = lanes[index]
        lane_x = MIDDLE[0] + band * band_width + 4 + (lane + 1) * (band_width - 8) / (lane_count + 1)
        y_initiator = _slot_y(initiator_boxes[initiators[initiator]], at_initiator[index][0], PITCH)
        y_target = _slot_y(target_boxes[targets[target]], at_target[index][0], PITCH / 2)
        cells = [" ".join(cell) for cell in path["cells"]]
        parts.append('<polyline points="%d,%.1f %.1f,%.1f %.1f,%.1f %d,%.1f" fill="none" stroke="%s" '
                     'stroke-width="2"%s><title>%s</title></polyline>'
                     % (RIGHT, y_initiator, lane_x, y_initiator, lane_x, y_target, LEFT + BOX_WIDTH, y_target,
                        COLOURS[path["status"]], "" if path["expected"] else ' stroke-dasharray="6 4"',
                        _escape("%s \u2192 %s \u2192 %s (%s), subsystem %s: %s, ANA %s"
                                % (cells[0], cells[2], cells[4], cells[3], cells[1], cells[5], cells[6]))))
    parts.append(_legend(TOP + content + 40))
    parts.append("</svg>")
    return "\n".join(parts)
