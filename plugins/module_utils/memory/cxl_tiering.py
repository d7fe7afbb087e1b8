# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CXL and NVDIMM memory as a lower tier: dax devices onlined as system RAM, demotion and NUMA balancing.

``apply()`` is the whole job of module ``nvmeof.fleet.cxl_tiering``, and this file is the order of
that job: a host is only changed once everything asked of it is known to be possible, so that a
call refuses with every problem named and nothing changed, rather than stopping half way.

- read the host (``memory_tiers.read_host``): CXL devices and regions, dax devices with their
  memory blocks, NUMA nodes, memory tiers, knobs; these are returned in check mode too;
- validate the options, then everything against the host, naming every problem at once before
  anything changes: dax device names and patterns that match nothing, devices online in the other
  zone, knobs this kernel lacks, and tiering asked for where there is no lower tier to demote to
  (counting the nodes of the dax devices this call onlines, since kmem memory lands in a lower tier);
- online the chosen dax devices with daxctl (``reconfigure-device --mode=system-ram``,
  ``online-memory``, or ``offline-memory`` then ``online-memory`` to change the zone when allowed),
  checking the memory blocks afterwards; set demotion and the sysctls live; write the files that
  make it last; a failed step takes back the done ones, newest first. Check mode only reads.

What lasts across a reboot, and the files that make it last, are in ``cxl_tiering_files``; each
change with its undo is in ``cxl_tiering_steps``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

from ansible_collections.nvmeof.fleet.plugins.module_utils.memory.cxl_tiering_files import (
    DAXCTL_CONF_DIR, SYSCTL_FILE, SYSCTL_KEYS, TMPFILES_FILE, UDEV_RULE, plan_daxctl_files, plan_knob_files)
from ansible_collections.nvmeof.fleet.plugins.module_utils.memory.cxl_tiering_steps import (
    CxlTieringError, Step, command_step, file_step, run_steps, write_step)
from ansible_collections.nvmeof.fleet.plugins.module_utils.memory.memory_tiers import (
    DEMOTION_ENABLED, NUMA_BALANCING_MODES, block_size, dax_device, describe_tiers, read_host)
from ansible_collections.nvmeof.fleet.plugins.module_utils.multipath.nvme_multipath import find_tool, release_version
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.sysctl_tuning import (
    SysctlError, check_known, parse_settings, read_live)

ZONES = {"movable": "Movable", "normal": "Normal"}
TIERING_MODES = ("tiering", "normal_and_tiering")
TIERING_SINCE = (5, 18)  # NUMA_BALANCING_MEMORY_TIERING
INT_MAX = 2 ** 31 - 1

_PATTERN = re.compile(r"^[A-Za-z0-9._*?\[\]!-]+$")
_TEXT = (str, type(u""))


# -- options ---------------------------------------------------------------------------------

def check_params(params):
    """The options, checked; raises CxlTieringError naming every bad option with its value."""
    problems = []
    options = dict((name, params.get(name, default)) for name, default in (
        ("state", "present"), ("dax_devices", []), ("zone", "movable"), ("allow_zone_change", False),
        ("demotion", None), ("numa_balancing", None), ("promote_rate_limit_mbps", None),
        ("require_lower_tier", True)))
    if options["state"] not in ("present", "absent"):
        problems.append("state %r must be present or absent" % (options["state"],))
    patterns = options["dax_devices"] if options["dax_devices"] is not None else []
    if not isinstance(patterns, list):
        problems.append("dax_devices must be a list of dax device names or patterns")
        patterns = []
    for index, pattern in enumerate(patterns):
        if not isinstance(pattern, _TEXT) or not _PATTERN.match(pattern):
            problems.append("dax_devices[%d] %r: give a dax device name such as dax0.0 or a glob pattern such "
                            "as dax*, of letters, digits and . _ - * ? [ ] !" % (index, pattern))
    options["dax_devices"] = patterns
    if options["zone"] not in ZONES:
        problems.append("zone %r must be one of %s" % (options["zone"], ", ".join(sorted(ZONES))))
    for name in ("allow_zone_change", "require_lower_tier"):
        if not isinstance(options[name], bool):
            problems.append("%s %r must be true or false" % (name, options[name]))
    if options["demotion"] is not None and not isinstance(options["demotion"], bool):
        problems.append("demotion %r must be true or false" % (options["demotion"],))
    if options["numa_balancing"] is not None and options["numa_balancing"] not in NUMA_BALANCING_MODES:
        problems.append("numa_balancing %r must be one of %s" % (
            options["numa_balancing"], ", ".join(NUMA_BALANCING_MODES)))
    rate = options["promote_rate_limit_mbps"]
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= INT_MAX):
        problems.append("promote_rate_limit_mbps %r must be a whole number of MB/s from 0 to %d" % (rate, INT_MAX))
    if problems:
        raise CxlTieringError("%s. Nothing was changed." % ". ".join(problems))
    return options


def select_devices(patterns, devices, problems):
    """The dax devices (with capacity) the names and patterns match, in device order; each one that
    matches nothing is a problem naming it."""
    usable = [device for device in devices if device["size"]]
    chosen = set()
    for pattern in patterns:
        matched = [device["name"] for device in usable if fnmatch.fnmatchcase(device["name"], pattern)]
        if not matched:
            problems.append("dax_devices: %r matches no dax device with capacity on this host (%s)" % (
                pattern, ", ".join(device["name"] for device in usable) or "there are none"))
        chosen.update(matched)
    return [device for device in usable if device["name"] in chosen]


# -- dax devices -------------------------------------------------------------------------------

def _auto_online_problem(name, zone, policy):
    """Why hot-added memory of ``name`` cannot end up in ``zone`` under ``auto_online_blocks``, or None."""
    if zone == "movable" and policy != "online_movable":
        return ("dax_devices: %s: the kernel onlines hot-added memory by itself here (auto_online_blocks is %s), "
                "and daxctl then refuses to online it as movable (zone=movable); set "
                "/sys/devices/system/memory/auto_online_blocks to offline or online_movable, or use zone=normal"
                % (name, policy))
    if zone == "normal" and policy == "online_movable":
        return ("dax_devices: %s: the kernel onlines hot-added memory by itself here into ZONE_MOVABLE "
                "(auto_online_blocks is online_movable), not Normal (zone=normal); set auto_online_blocks to "
                "offline or online_kernel, or use zone=movable" % name)
    return None


def plan_device(device, zone, allow_zone_change, auto_online, daxctl, problems):
    """(kind, [(args, undo, taken back)]) to bring one dax device online in ``zone``.

    ``undo`` is ("run", daxctl arguments) or ("offline", the memory blocks to set offline again).
    Kinds: none, reconfigure (devdax to system-ram), online_blocks (some blocks offline), reonline
    (zone change).
    """
    name, wanted = device["name"], ZONES[zone]
    flag = ["--no-movable"] if zone == "normal" else []
    if device["mode"] != "system-ram":
        force = []
        if (auto_online or "offline").startswith("online"):
            problem = _auto_online_problem(name, zone, auto_online)
            if problem:
                problems.append(problem)
            force = ["--force"] if zone == "movable" else []  # the kernel's own onlining is what is wanted
        return "reconfigure", [([daxctl, "reconfigure-device", "--mode=system-ram"] + flag + force + [name],
                                ("run", [daxctl, "reconfigure-device", "--mode=devdax", "--force", name]),
                                "%s back in devdax mode" % name)]
    memory = device["memory"]
    if not memory["total"]:
        problems.append("dax_devices: %s is in system-ram mode, but its memory blocks cannot be found (it has no "
                        "resource attribute, or /sys/devices/system/memory has no block_size_bytes)" % name)
        return "none", []
    other = [found for found in memory["zones"] if found != wanted]
    if other and not allow_zone_change:
        problems.append("dax_devices: %s is online as system RAM in zone%s %s, not %s (zone=%s); offlining memory "
                        "to online it again can fail or disturb a running host: set allow_zone_change=true to do "
                        "it anyway, or zone=%s" % (name, "s" if len(memory["zones"]) > 1 else "",
                                                   ", ".join(memory["zones"]), wanted, zone,
                                                   "normal" if zone == "movable" else "movable"))
        return "none", []
    if other:
        old_flag = ["--no-movable"] if memory["zones"] == ["Normal"] else []
        return "reonline", [
            ([daxctl, "offline-memory", name], ("run", [daxctl, "online-memory"] + old_flag + [name]),
             "%s online again in zone %s" % (name, ", ".join(memory["zones"]))),
            ([daxctl, "online-memory"] + flag + [name], ("run", [daxctl, "offline-memory", name]),
             "%s offline again" % name),
        ]
    if memory["offline_blocks"]:
        return "online_blocks", [([daxctl, "online-memory"] + flag + [name], ("offline", memory["offline_blocks"]),
                                  "%s offline again (%s)" % (name, ", ".join(memory["offline_blocks"])))]
    return "none", []


def check_device(fs, name, zone):
    """Raises CxlTieringError unless every memory block of ``name`` is online in ``zone``, as daxctl should leave it."""
    device = dax_device(fs, name, block_size(fs))
    memory = device["memory"]
    if device["mode"] != "system-ram" or not memory["total"] or memory["online"] != memory["total"] \
            or memory["zones"] != [ZONES[zone]]:
        raise CxlTieringError("%s is not online as system RAM in zone %s after daxctl: mode %s, %d of %d memory "
                              "blocks online, zones %s" % (name, ZONES[zone], device["mode"], memory["online"],
                                                           memory["total"], ", ".join(memory["zones"]) or "none"))


def not_persisted_warning(device):
    origin = device["origin"]
    if origin["type"] == "cxl":
        where = "comes from CXL region %s" % origin["cxl_region"]
    else:
        where = "does not come from an NVDIMM namespace"
    return ("%s %s and has no NVDIMM uuid for %s to match, so its onlining is not persisted: the kernel onlines the "
            "memory of a CXL RAM region by itself when the region is assembled (at boot only for regions the "
            "platform firmware sets up), in the zone auto_online_blocks or memhp_default_state= picks; a region "
            "created by hand (cxl create-region, sysfs) has to be created again after a reboot"
            % (device["name"], where, DAXCTL_CONF_DIR))


# -- the job of one call -------------------------------------------------------------------------

class _Plan:
    def __init__(self, host):
        self.host = host
        self.problems = []
        self.warnings = []
        self.steps = []
        self.texts = []           # (path, old, new) of every file this module owns
        self.devices = {}         # name: {onlining}
        self.knobs = dict((name, value) for name, value in host["knobs"].items())
        self.live = {}            # diff: what -> (before, after)
        self.expected_lower = list(host["lower_tier_nodes"])
        self.sections = {}


def _plan_devices(fs, runner, plan, options):
    host = plan.host
    selected = select_devices(options["dax_devices"], host["dax_devices"], plan.problems)
    daxctl = find_tool(fs, "daxctl")
    if selected and daxctl is None:
        plan.problems.append("dax_devices: daxctl is not installed (Debian package daxctl)")
    tiered = set(node for entry in host["memory_tiers"] for node in entry["nodes"])
    for device in selected:
        name, zone = device["name"], options["zone"]
        kind, commands = plan_device(device, zone, options["allow_zone_change"], host["auto_online_blocks"],
                                     daxctl or "daxctl", plan.problems)
        plan.devices[name] = {"onlining": kind}
        plan.steps += [command_step(runner, args, undo, undone, fs) for args, undo, undone in commands]
        if commands:
            plan.steps.append(Step(None, "daxctl did not leave %s as asked" % name,
                                   lambda name=name, zone=zone: check_device(fs, name, zone)))
            plan.live[name] = (_device_state(device), "system-ram, all blocks online, %s" % ZONES[zone])
            if device["target_node"] is not None and device["target_node"] not in tiered:
                plan.expected_lower = sorted(set(plan.expected_lower) | set([device["target_node"]]))
        if device["origin"]["nvdimm_uuid"]:
            plan.sections[device["origin"]["nvdimm_uuid"]] = zone == "movable"
        else:
            plan.warnings.append(not_persisted_warning(device))


def _device_state(device):
    if device["mode"] != "system-ram":
        return device["mode"]
    memory = device["memory"]
    return "system-ram, %d of %d blocks online, %s" % (memory["online"], memory["total"],
                                                       ", ".join(memory["zones"]) or "no zone")


def _plan_knobs(fs, plan, options):
    host, release = plan.host, plan.host["release"] or "unknown"
    demotion = options["demotion"]
    if demotion is not None and host["knobs"]["demotion_enabled"] is None:
        plan.problems.append("demotion: kernel %s has no %s (it came with Linux 5.15)" % (release, DEMOTION_ENABLED))
    elif demotion is not None:
        old, new = str(host["knobs"]["demotion_enabled"]).lower(), str(demotion).lower()
        if old != new:
            plan.steps.append(write_step(fs, DEMOTION_ENABLED, old, new))
        plan.live[DEMOTION_ENABLED] = (old, new)
        plan.knobs["demotion_enabled"] = demotion
    given = {}
    for option, key in SYSCTL_KEYS:
        value = options[option]
        if value is None:
            continue
        if host["knobs"][option] is None:
            plan.problems.append("%s: kernel %s has no /proc/sys/%s" % (option, release, key.replace(".", "/")))
            continue
        if option == "numa_balancing" and value in TIERING_MODES and (release_version(release) or (99, 0)) < TIERING_SINCE:
            plan.problems.append("numa_balancing %s: NUMA balancing for memory tiering needs Linux %d.%d or later; "
                                 "this host runs %s" % ((value,) + TIERING_SINCE + (release,)))
            continue
        given[key] = NUMA_BALANCING_MODES.index(value) if option == "numa_balancing" else value
        plan.knobs[option] = value
    settings = parse_settings(given)
    try:
        check_known(fs, settings)
    except SysctlError as error:
        plan.problems.append(re.sub(r"; nothing was changed$", "", str(error)))
        return
    read_live(fs, settings)
    for setting in settings:
        if setting.live != setting.value:
            plan.steps.append(write_step(fs, setting.path, setting.raw, setting.value))
        plan.live[setting.key] = (setting.live, setting.value)
    plan_knob_files(fs, plan, given, demotion)


def _check_tiering(plan, options):
    asked = (["demotion true"] if options["demotion"] is True else []) + (
        ["numa_balancing %s" % options["numa_balancing"]] if options["numa_balancing"] in TIERING_MODES else [])
    if not asked or plan.expected_lower:
        return
    message = ("%s asks for memory tiering, but this host has no lower memory tier to demote to (%s; lower tiers "
               "are those numerically above the slowest tier with CPUs), and this call onlines no dax device as "
               "system RAM" % (" and ".join(asked), describe_tiers(plan.host["memory_tiers"])))
    if options["require_lower_tier"]:
        plan.problems.append(message + "; name one in dax_devices, or set require_lower_tier=false if this is expected")
    else:
        plan.warnings.append(message)


def _plan(fs, runner, host, options):
    plan = _Plan(host)
    present = options["state"] == "present"
    if present:
        _plan_devices(fs, runner, plan, options)
        _plan_knobs(fs, plan, options)
        _check_tiering(plan, options)
    else:
        plan.texts += [(path, fs.read_text(path), None) for path in (SYSCTL_FILE, TMPFILES_FILE)]
    plan_daxctl_files(fs, plan, present)
    if plan.problems:
        raise CxlTieringError("%s. Nothing was changed." % ". ".join(plan.problems))
    plan.steps += [file_step(fs, path, old, new) for path, old, new in plan.texts if old != new]
    if any(path == UDEV_RULE and old != new for path, old, new in plan.texts):
        udevadm = find_tool(fs, "udevadm")
        if udevadm:
            plan.steps.append(command_step(runner, [udevadm, "control", "--reload"]))
        else:
            plan.warnings.append("udevadm is not installed: %s was not loaded" % UDEV_RULE)
    return plan


def apply(fs, runner, params, check_mode=False):
    """Onlines the chosen dax devices and sets the tiering knobs (state present) or removes the files (absent).

    Returns the module result. Raises CxlTieringError, HostFSError or CommandError with nothing
    changed, except where the message says what was taken back.
    """
    options = check_params(params)
    host = read_host(fs)
    plan = _plan(fs, runner, host, options)
    if not check_mode:
        run_steps(plan.steps)
    after = read_host(fs) if plan.steps and not check_mode else host
    devices = []
    for device in after["dax_devices"]:
        entry = dict((key, value) for key, value in device.items() if key != "blocks")
        entry["selected"] = device["name"] in plan.devices
        entry["onlining"] = plan.devices.get(device["name"], {}).get("onlining")
        entry["persisted"] = device["origin"]["nvdimm_uuid"] in plan.sections
        devices.append(entry)
    knobs = dict((name, {"before": value, "after": plan.knobs[name]}) for name, value in host["knobs"].items())
    live_before = dict((what, before) for what, (before, _after) in plan.live.items())
    live_after = dict((what, after_value) for what, (_before, after_value) in plan.live.items())
    return {
        "changed": bool([step for step in plan.steps if step.action]),
        "kernel_release": host["release"],
        "cxl": after["cxl"],
        "dax_devices": devices,
        "numa_nodes": after["numa_nodes"],
        "memory_tiers": after["memory_tiers"],
        "lower_tier_nodes": after["lower_tier_nodes"],
        "expected_lower_tier_nodes": plan.expected_lower,
        "knobs": knobs,
        "vmstat": after["vmstat"],
        "files": [{"path": path, "present": new is not None, "changed": old != new} for path, old, new in plan.texts],
        "actions": [step.action for step in plan.steps if step.action],
        "diff": [{"before_header": "live (sysfs, procfs)", "after_header": "live (sysfs, procfs)",
                  "before": live_before, "after": live_after}]
        + [{"before_header": path, "after_header": path, "before": old or "", "after": new or ""}
           for path, old, new in plan.texts],
        "warnings": plan.warnings,
    }


# The options of module cxl_tiering (also checked by module host_state).
ARGUMENT_SPEC = dict(
    dax_devices=dict(type="list", elements="str", default=[]),
    zone=dict(type="str", choices=sorted(ZONES), default="movable"),
    allow_zone_change=dict(type="bool", default=False),
    demotion=dict(type="bool"),
    numa_balancing=dict(type="str", choices=list(NUMA_BALANCING_MODES)),
    promote_rate_limit_mbps=dict(type="int"),
    require_lower_tier=dict(type="bool", default=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
