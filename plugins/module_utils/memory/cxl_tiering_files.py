# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What makes the changes of module ``nvmeof.fleet.cxl_tiering`` last across a reboot.

Onlining a dax device, the demotion switch and the NUMA balancing sysctls are all lost at reboot;
each lasts only through a file that something run at boot reads. This file holds those files'
contents and how to read them back, so that a call keeps what an earlier call wrote there (the
sections of other NVDIMM dax devices, the other tiering sysctl), refuses a uuid that another
daxctl config file already configures, and leaves a file it does not own as it is:

- ``kernel.numa_balancing`` and ``kernel.numa_balancing_promote_rate_limit_MBps``: the sysctl.d
  drop-in ``90-nvmeof-fleet-tiering``, validated and written live with sysctl_tuning's helpers;
- ``demotion_enabled``: a systemd-tmpfiles ``w`` line, since it is not a sysctl;
- dax devices of NVDIMM namespaces: daxctl's own config, ``/etc/daxctl.conf.d/*.conf`` sections
  ``[reconfigure-device <name>]`` matched by ``nvdimm.uuid`` (the uuid of the NVDIMM dax device,
  the one ``ndctl list`` shows), read by ``daxctl reconfigure-device --check-config <device>``
  when udev sees the device appear. Debian 12's daxctl (76.1) runs ``daxctl -C <device>`` from
  ``/lib/udev/rules.d/90-daxctl-device.rules``, which daxctl refuses (``Unknown option: -C``);
  where that rule is installed, a rule of the same name in ``/etc/udev/rules.d`` takes its place
  with the working command. CXL and other dax devices have no such uuid: nothing persists their
  onlining here, and a warning says what the kernel does at boot.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.nvmeof.fleet.plugins.module_utils.memory.memory_tiers import DEMOTION_ENABLED
from ansible_collections.nvmeof.fleet.plugins.module_utils.multipath.nvme_multipath import find_tool
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.sysctl_tuning import drop_in_path, parse_settings, render

DROP_IN_NAME = "90-nvmeof-fleet-tiering"
SYSCTL_FILE = drop_in_path(DROP_IN_NAME)
TMPFILES_FILE = "/etc/tmpfiles.d/nvmeof-fleet-tiering.conf"
DAXCTL_CONF_DIR = "/etc/daxctl.conf.d"
DAXCTL_CONF = DAXCTL_CONF_DIR + "/nvmeof-fleet-tiering.conf"
UDEV_RULE = "/etc/udev/rules.d/90-daxctl-device.rules"
PACKAGED_RULES = ("/usr/lib/udev/rules.d/90-daxctl-device.rules", "/lib/udev/rules.d/90-daxctl-device.rules")
FILES = (DAXCTL_CONF, UDEV_RULE, SYSCTL_FILE, TMPFILES_FILE)

SYSCTL_KEYS = (("numa_balancing", "kernel.numa_balancing"),
               ("promote_rate_limit_mbps", "kernel.numa_balancing_promote_rate_limit_MBps"))

MANAGED = "# Managed by Ansible (nvmeof.fleet.cxl_tiering); changes made here are overwritten.\n"
TMPFILES_TEXT = MANAGED + (
    "# systemd-tmpfiles writes the demotion switch at every boot (it is not a sysctl).\n"
    "w %s - - - - %%s\n" % DEMOTION_ENABLED)
DAXCTL_HEADER = MANAGED + (
    "# daxctl reconfigure-device --check-config <device> reads these sections when a dax device\n"
    "# appears (udev, at boot): the NVDIMM dax device with this uuid is onlined as system RAM.\n")
DAXCTL_SECTION = ("\n[reconfigure-device nvmeof-fleet-%s]\nnvdimm.uuid = %s\nmode = system-ram\n"
                  "online = true\nmovable = %s\n")
UDEV_TEXT = MANAGED + (
    "# Takes the place of /lib/udev/rules.d/90-daxctl-device.rules of Debian's daxctl, whose command\n"
    "# (daxctl -C <device>) daxctl refuses with \"Unknown option: -C\": each dax device that appears is\n"
    "# reconfigured as its section in /etc/daxctl.conf.d says.\n"
    'ACTION=="add", SUBSYSTEM=="dax", RUN+="%s reconfigure-device --check-config $kernel"\n')

_BROKEN_RULE = re.compile(r"daxctl\s+(-C|--check-config)\b")


# -- daxctl config ---------------------------------------------------------------------------------

def parse_daxctl_sections(text):
    """{uuid: movable} of the ``[reconfigure-device <name>]`` sections of a daxctl config file."""
    sections, current = {}, None
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith("["):
            current = None
            if line.strip("[]").split()[:1] == ["reconfigure-device"]:
                current = sections[len(sections)] = {}
        elif current is not None and "=" in line and not line.startswith(("#", ";")):
            key, _sep, value = line.partition("=")
            current[key.strip().lower()] = value.strip()
    return dict((found["nvdimm.uuid"].lower(), found.get("movable", "true").lower().startswith(("t", "y", "1")))
                for found in sections.values() if found.get("nvdimm.uuid"))


def render_daxctl(sections):
    """The daxctl config for {uuid: movable}, one section per uuid; None without any."""
    if not sections:
        return None
    return DAXCTL_HEADER + "".join(DAXCTL_SECTION % (uuid, uuid, "true" if movable else "false")
                                   for uuid, movable in sorted(sections.items()))


def foreign_sections(fs, uuids):
    """{uuid: path} of other daxctl config files that have a section for one of ``uuids``."""
    found = {}
    for name in fs.list_dir(DAXCTL_CONF_DIR):
        path = "%s/%s" % (DAXCTL_CONF_DIR, name)
        if not name.endswith(".conf") or path == DAXCTL_CONF:
            continue
        for uuid in parse_daxctl_sections(fs.read_text(path)):
            if uuid in uuids:
                found[uuid] = path
    return found


def packaged_rule_is_broken(fs):
    """Whether the installed 90-daxctl-device.rules runs ``daxctl -C`` (Debian 12), which daxctl refuses."""
    for path in PACKAGED_RULES:
        text = fs.read_text(path)
        if text is not None:
            return bool(_BROKEN_RULE.search(text))
    return False


def plan_daxctl_files(fs, plan, present):
    """Puts the daxctl config and the udev rule first in ``plan.texts``, with the sections of
    ``plan.sections`` added to those already written (all dropped when not ``present``); a uuid
    another daxctl config file has a section for is a problem, and ``plan.sections`` becomes all
    the sections the config holds."""
    old = fs.read_text(DAXCTL_CONF)
    sections = parse_daxctl_sections(old) if present else {}
    sections.update(plan.sections)
    for uuid, path in sorted(foreign_sections(fs, plan.sections).items()):
        plan.problems.append("dax_devices: NVDIMM uuid %s already has a reconfigure-device section in %s; daxctl "
                             "joins the values of every section that matches, so remove that one first" % (uuid, path))
    new = render_daxctl(sections) if plan.sections or not present else old
    plan.texts.insert(0, (DAXCTL_CONF, old, new))
    plan.sections = sections
    rule = fs.read_text(UDEV_RULE)
    broken = packaged_rule_is_broken(fs)
    if rule is not None and not rule.startswith(MANAGED):
        if broken and new:
            plan.warnings.append("%s is not managed by this module; it decides whether daxctl reads %s at boot "
                                 "(the one Debian's daxctl installs does not)" % (UDEV_RULE, DAXCTL_CONF_DIR))
        wanted = rule
    else:
        wanted = UDEV_TEXT % (find_tool(fs, "daxctl") or "/usr/bin/daxctl") if broken and new else None
    plan.texts.insert(1, (UDEV_RULE, rule, wanted))


# -- sysctl drop-in and tmpfiles line --------------------------------------------------------------

def parse_drop_in(text):
    """{key: value} of ``key = value`` lines of a sysctl.d file."""
    values = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")) and "=" in line:
            key, _sep, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def render_drop_in(values):
    """The sysctl.d drop-in as sysctl_tuning writes it, naming this module as its owner."""
    return render(DROP_IN_NAME, parse_settings(values)).replace("nvmeof.fleet.sysctl_tuning", "nvmeof.fleet.cxl_tiering")


def plan_knob_files(fs, plan, given, demotion):
    """Adds the sysctl drop-in and the tmpfiles line to ``plan.texts``: the drop-in with the sysctls
    ``given`` ({key: value}) merged into the tiering ones already written, the tmpfiles line for
    ``demotion``; each stays as it is when nothing is given for it."""
    old = fs.read_text(SYSCTL_FILE)
    if given:
        merged = dict((key, value) for key, value in parse_drop_in(old).items() if key in dict(SYSCTL_KEYS).values())
        merged.update(given)
        plan.texts.append((SYSCTL_FILE, old, render_drop_in(merged)))
    else:
        plan.texts.append((SYSCTL_FILE, old, old))
    old = fs.read_text(TMPFILES_FILE)
    plan.texts.append((TMPFILES_FILE, old, old if demotion is None else TMPFILES_TEXT % str(demotion).lower()))
