# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Native NVMe multipath on an initiator: nvme_core's multipath switch and the I/O policies.

``apply()`` is the whole job of module ``nvmeof.fleet.nvme_multipath``:

- read the kernel and nvme_core (``nvme_host.kernel_facts``), the live parameters and every
  subsystem with its paths and ANA states (``nvme_host.initiator_facts``), and the two files
  this module owns;
- validate the options against the running kernel (``round-robin`` needs Linux 5.1,
  ``queue-depth`` 6.11), naming every problem at once, before anything is written;
- write the I/O policies live (nvme_core's default and each matching subsystem), then
  ``/etc/modprobe.d/nvmeof-fleet-multipath.conf`` and the udev rule, reload udev's rules and
  rebuild the initramfs when nvme_core is in it; a failed step undoes the earlier ones, newest
  first. Check mode only reads (``lsinitramfs`` included).

``multipath`` cannot change live: nvme_core reads it once, when it loads. It is persisted, and
``reboot_required`` says whether the live value differs from the wanted one.

Where nvme_core comes from decides where its options take effect:

- built into the kernel (``modules.builtin`` lists it; without a module index, ``/sys/module/nvme_core``
  has no ``initstate``, which only loadable modules have): modprobe.d does not apply, only the
  kernel command line does (``nvme_core.multipath=``), which this module leaves alone. A live
  ``multipath`` that differs is refused; the udev rule still sets the policies.
- in the initramfs of the running kernel (``lsinitramfs /boot/initrd.img-<release>`` lists
  ``nvme-core.ko*``; with Debian's ``MODULES=most`` it is there without being named in
  ``/etc/initramfs-tools/modules``, so only the image tells): the copy of modprobe.d inside the
  image counts, so the image is rebuilt (``update-initramfs -u -k <release>``) whenever the
  modprobe.d file changes.
- otherwise nvme_core loads from the root file system and reads ``/etc/modprobe.d`` there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re
import stat

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.nvme_host import (
    NQN_MAX_BYTES, NVME_CORE_PARAMS, SUBSYSTEMS, initiator_facts, kernel_facts, module_name)
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.undo import take_back

MODPROBE_FILE = "/etc/modprobe.d/nvmeof-fleet-multipath.conf"
UDEV_RULE = "/etc/udev/rules.d/71-nvmeof-fleet-iopolicy.rules"
DEFAULT_IOPOLICY = NVME_CORE_PARAMS + "/iopolicy"
INITSTATE = "/sys/module/nvme_core/initstate"
INITRAMFS_IMAGE = "/boot/initrd.img-%s"
# Where Debian installs lsinitramfs, update-initramfs and udevadm; looked up through HostFS.
TOOL_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")

# Each policy with the first Linux release that has it (drivers/nvme/host/multipath.c).
POLICIES = (("numa", (3, 0)), ("round-robin", (5, 1)), ("queue-depth", (6, 11)))
POLICY_NAMES = tuple(name for name, _first in POLICIES)

MODPROBE_HEADER = (
    "# Managed by Ansible (nvmeof.fleet.nvme_multipath); changes made here are overwritten.\n"
    "# nvme_core reads these options when it loads (from the initramfs when it is in there):\n"
    "# a changed multipath takes effect at the next boot.\n")
UDEV_HEADER = (
    "# Managed by Ansible (nvmeof.fleet.nvme_multipath); changes made here are overwritten.\n"
    "# The I/O policy of NVMe subsystems as they appear. udev applies the lines in order and the\n"
    "# last assignment wins: the line for every subsystem first, then one per NQN pattern.\n")
UDEV_LINE = ('ACTION=="add|change", SUBSYSTEM=="nvme-subsystem", ATTR{subsystype}=="nvm", '
             '%sATTR{iopolicy}="%s"\n')

_RELEASE = re.compile(r"^(\d+)\.(\d+)")
# What ends or escapes a udev value, udev's "|" alternatives, and blanks: never in an NQN pattern.
_NOT_IN_PATTERN = re.compile(r'["\\|\s]')
_TEXT = (str, type(u""))


class NvmeMultipathError(Exception):
    """A refusal with nothing changed, or a failure that says what was undone and what not."""


# -- the running kernel and the options ----------------------------------------------

def release_version(release):
    """``6.1.0-28-amd64`` -> (6, 1); None for a release that does not start with two numbers."""
    match = _RELEASE.match(release or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def policy_problem(option, policy, release):
    """Why ``policy`` cannot be used on kernel ``release``, or None."""
    if policy not in POLICY_NAMES:
        return "%s %r is not an I/O policy (%s)" % (option, policy, ", ".join(POLICY_NAMES))
    version = release_version(release)
    first = dict(POLICIES)[policy]
    if version is None or version >= first:
        return None  # an unknown release: the kernel itself refuses what it lacks (EINVAL)
    usable = [name for name, since in POLICIES if version >= since]
    return "%s %s needs Linux %d.%d or later; this host runs %s; use %s" % (
        option, policy, first[0], first[1], release, usable[-1])


def read_host(fs):
    """nvme_core (loaded, built in, live parameters) and every multipath (nvm) subsystem."""
    kernel = kernel_facts(fs, modules=("nvme_core",))
    core = kernel["modules"]["nvme_core"]
    initiator = initiator_facts(fs)
    builtin = core["builtin"] or (not kernel["module_index_found"] and core["loaded"]
                                  and not fs.exists(INITSTATE))
    return {
        "release": kernel["release"],
        "loaded": core["loaded"],
        "builtin": builtin,
        "multipath": initiator["multipath"],
        "default_iopolicy": initiator["default_iopolicy"],
        "subsystems": [subsystem for subsystem in initiator["subsystems"]
                       if subsystem["subsystype"] in ("nvm", None)],
    }


def check_params(params, host):
    """The options of state=present as (multipath, iopolicy, [(nqn pattern, policy)]).

    Raises NvmeMultipathError naming every problem with its option and value.
    """
    problems = []
    multipath = params.get("multipath", True)
    if not isinstance(multipath, bool):
        problems.append("multipath %r must be true or false" % (multipath,))
    iopolicy = params.get("iopolicy")
    if iopolicy is not None:
        problems.append(policy_problem("iopolicy", iopolicy, host["release"]))
    entries = []
    for index, entry in enumerate(params.get("subsystems") or []):
        option = "subsystems[%d]" % index
        if not isinstance(entry, dict):
            problems.append("%s must be a dictionary with nqn and iopolicy" % option)
            continue
        nqn, policy = entry.get("nqn"), entry.get("iopolicy")
        if not isinstance(nqn, _TEXT) or not nqn:
            problems.append("%s.nqn is required: an NQN or a glob pattern of NQNs" % option)
        elif _NOT_IN_PATTERN.search(nqn) or len(nqn.encode("utf-8")) > NQN_MAX_BYTES:
            problems.append("%s.nqn %r: at most %d bytes, without blanks, '\"', '\\' and '|'"
                            % (option, nqn, NQN_MAX_BYTES))
        elif nqn in [pattern for pattern, _policy in entries]:
            problems.append("%s.nqn %r is given twice" % (option, nqn))
        problems.append("%s.iopolicy is required" % option if policy is None
                        else policy_problem(option + ".iopolicy", policy, host["release"]))
        entries.append((nqn, policy))
    if multipath is True and host["loaded"] and host["multipath"] is None:
        problems.append("multipath true: this kernel has no native NVMe multipath (nvme_core has no "
                        "multipath parameter, CONFIG_NVME_MULTIPATH is off)")
    elif host["builtin"] and host["multipath"] not in (None, multipath):
        problems.append("multipath %s: nvme_core is built into kernel %s, so modprobe.d does not apply "
                        "to it; set nvme_core.multipath=%s on the kernel command line and reboot"
                        % (str(multipath).lower(), host["release"], "Y" if multipath else "N"))
    problems = [problem for problem in problems if problem]
    if problems:
        raise NvmeMultipathError("%s. Nothing was changed." % ". ".join(problems))
    return multipath, iopolicy, entries


def wanted_policy(nqn, iopolicy, entries):
    """A subsystem's policy: that of the last entry whose pattern matches its NQN, else ``iopolicy``."""
    for pattern, policy in reversed(entries):
        if nqn is not None and fnmatch.fnmatchcase(nqn, pattern):
            return policy
    return iopolicy


# -- files -----------------------------------------------------------------------------

def render_modprobe(multipath, iopolicy):
    lines = [MODPROBE_HEADER, "options nvme_core multipath=%s\n" % ("Y" if multipath else "N")]
    if iopolicy:
        lines.append("options nvme_core iopolicy=%s\n" % iopolicy)
    return "".join(lines)


def render_udev(iopolicy, entries):
    """The udev rule: the catch-all line first, then the patterns in order; None without policies."""
    lines = [UDEV_LINE % ("", iopolicy)] if iopolicy else []
    lines += [UDEV_LINE % ('ATTR{subsysnqn}=="%s", ' % nqn, policy) for nqn, policy in entries]
    return UDEV_HEADER + "".join(lines) if lines else None


def find_tool(fs, name):
    """The absolute path of an installed command, or None."""
    for directory in TOOL_DIRS:
        path = "%s/%s" % (directory, name)
        if fs.exists(path) and not fs.is_dir(path):
            return path
    return None


def initramfs_facts(fs, runner, release):
    """{image, contains_nvme_core} for the running kernel, and a warning or None.

    ``contains_nvme_core`` is None when it cannot be told (lsinitramfs is not installed).
    """
    image = INITRAMFS_IMAGE % release if release else None
    if image is None or not fs.exists(image):
        return {"image": None, "contains_nvme_core": False}, None
    lister = find_tool(fs, "lsinitramfs")
    if lister is None:
        return ({"image": image, "contains_nvme_core": None},
                "cannot tell whether nvme_core is in %s (lsinitramfs, from initramfs-tools, is not installed), "
                "so it was not rebuilt: rebuild it if nvme_core loads from there" % image)
    listing = runner.run([lister, image])[1]
    contains = any(module_name(line) == "nvme_core" for line in listing.splitlines() if line.strip())
    return {"image": image, "contains_nvme_core": contains}, None


# -- changes with their undo -------------------------------------------------------------

class _Undoable:
    """The steps of one call; ``failed()`` takes back the done ones, newest first."""

    def __init__(self, fs, runner):
        self.fs = fs
        self.runner = runner
        self.done = []         # (what taking it back does, how), oldest first
        self.repeat = None     # a udev reload, run again once the rules are back as they were

    def write_live(self, path, old, new):
        self.fs.write(path, new)
        self.done.append(("%s set back to %s" % (path, old), lambda: self.fs.write(path, old)))

    def put_file(self, path, old, new):
        """Writes ``new`` to ``path``, or removes it when None; ``old`` is its text now (None: absent)."""
        before = self.fs.stat(path)
        if new is None:
            self.fs.unlink(path)
        else:
            self._parents(path.rsplit("/", 1)[0])
            self.fs.write_file_atomic(path, new, mode=0o644)
        if old is None:
            self.done.append(("%s removed" % path, lambda: self.fs.unlink(path)))
        else:
            mode = stat.S_IMODE(before.st_mode)
            self.done.append(("%s put back" % path, lambda: self.fs.write_file_atomic(path, old, mode=mode)))

    def _parents(self, directory):
        if directory and not self.fs.is_dir(directory):
            self._parents(directory.rsplit("/", 1)[0])
            self.fs.make_dir(directory, mode=0o755)
            self.done.append(("%s removed" % directory, lambda: self.fs.remove_dir(directory)))

    def run(self, args, repeat_after_undo):
        self.runner.run(args)
        if repeat_after_undo:
            self.repeat = args

    def failed(self, what, error):
        """The error for a failed step, once every step before it is taken back."""
        done = list(self.done)
        if self.repeat:
            # first in the list, so that it runs last, with the rules back as they were
            done.insert(0, ("udev rules reloaded", lambda: self.runner.run(self.repeat)))
        return NvmeMultipathError(take_back(done, what, error))


def _commit(fs, runner, live, files, commands):
    steps = _Undoable(fs, runner)
    for path, old, new in live:
        try:
            steps.write_live(path, old, new)
        except HostFSError as error:
            raise steps.failed("the kernel refused I/O policy %s in %s" % (new, path), error)
    for path, old, new in files:
        try:
            steps.put_file(path, old, new)
        except HostFSError as error:
            raise steps.failed("%s %s failed" % ("writing" if new is not None else "removing", path), error)
    for args, repeat_after_undo in commands:
        try:
            steps.run(args, repeat_after_undo)
        except CommandError as error:
            raise steps.failed("'%s' failed" % " ".join(args), error)


# -- the job of one call ---------------------------------------------------------------

def _paths(subsystem):
    """One entry per path device (nvmeXcYnZ) of each controller; a controller without one gets one too."""
    paths = []
    for controller in subsystem["controllers"]:
        for device in controller["namespaces"] or [{}]:
            paths.append({
                "controller": controller["name"], "transport": controller["transport"],
                "address": controller["address"], "state": controller["state"],
                "device": device.get("name"), "nsid": device.get("nsid"),
                "ana_grpid": device.get("ana_grpid"), "ana_state": device.get("ana_state"),
            })
    return paths


def apply(fs, runner, params, check_mode=False):
    """Applies (state present) or removes (state absent) the multipath settings; returns the module result.

    ``params`` are the module's options. Raises NvmeMultipathError, HostFSError or CommandError
    with nothing changed, except where the message says otherwise.
    """
    host = read_host(fs)
    present = params.get("state", "present") != "absent"
    multipath, iopolicy, entries = check_params(params, host) if present else (None, None, [])
    warnings = []

    live = []
    if iopolicy and host["default_iopolicy"] not in (None, iopolicy):
        live.append((DEFAULT_IOPOLICY, host["default_iopolicy"], iopolicy))
    for subsystem in host["subsystems"]:
        wanted = wanted_policy(subsystem["nqn"], iopolicy, entries)
        subsystem["after"] = wanted if wanted and subsystem["iopolicy"] is not None else subsystem["iopolicy"]
        if subsystem["after"] != subsystem["iopolicy"]:
            live.append(("%s/%s/iopolicy" % (SUBSYSTEMS, subsystem["name"]), subsystem["iopolicy"], wanted))

    planned = [(MODPROBE_FILE, render_modprobe(multipath, iopolicy) if present else None),
               (UDEV_RULE, render_udev(iopolicy, entries) if present else None)]
    texts = [(path, fs.read_text(path), new) for path, new in planned]
    files = [(path, old, new) for path, old, new in texts if old != new]
    changed_paths = [path for path, _old, _new in files]

    commands = []
    initramfs = {"image": None, "contains_nvme_core": None, "rebuilt": False}
    if UDEV_RULE in changed_paths:
        udevadm = find_tool(fs, "udevadm")
        if udevadm:
            commands.append(([udevadm, "control", "--reload"], True))
        else:
            warnings.append("udevadm is not installed: %s was not loaded" % UDEV_RULE)
    if MODPROBE_FILE in changed_paths and host["builtin"]:
        warnings.append("nvme_core is built into kernel %s: %s does not apply to it, the kernel command line "
                        "does (nvme_core.multipath=, nvme_core.iopolicy=)" % (host["release"], MODPROBE_FILE))
    elif MODPROBE_FILE in changed_paths:
        found, warning = initramfs_facts(fs, runner, host["release"])
        initramfs.update(found)
        warnings += [warning] if warning else []
        if found["contains_nvme_core"]:
            builder = find_tool(fs, "update-initramfs")
            if builder is None:
                raise NvmeMultipathError("nvme_core is in %s, but update-initramfs is not installed to rebuild it "
                                         "with %s. Nothing was changed." % (found["image"], MODPROBE_FILE))
            commands.append(([builder, "-u", "-k", host["release"]], False))
            initramfs["rebuilt"] = True

    actions = ["write '%s' to %s (was %s)" % (new, path, old) for path, old, new in live]
    actions += ["%s %s" % ("write" if new is not None else "remove", path) for path, _old, new in files]
    actions += ["run %s" % " ".join(args) for args, _repeat in commands]
    if not check_mode:
        _commit(fs, runner, live, files, commands)

    before = dict((path, old) for path, old, _new in live)
    after = dict((path, new) for path, _old, new in live)
    for path, value in [(DEFAULT_IOPOLICY, host["default_iopolicy"])] + [
            ("%s/%s/iopolicy" % (SUBSYSTEMS, s["name"]), s["iopolicy"]) for s in host["subsystems"]]:
        if value is not None and path not in before:
            before[path] = after[path] = value
    diff = [{"before_header": "I/O policies (live)", "after_header": "I/O policies (live)",
             "before": before, "after": after}]
    diff += [{"before_header": path, "after_header": path, "before": old or "", "after": new or ""}
             for path, old, new in texts]

    return {
        "changed": bool(actions),
        "multipath": {"live": host["multipath"], "wanted": multipath, "builtin": host["builtin"],
                      "persisted": present and not host["builtin"]},
        "reboot_required": present and host["multipath"] is not None and host["multipath"] != multipath,
        "default_iopolicy": {"before": host["default_iopolicy"], "after": after.get(DEFAULT_IOPOLICY)},
        "subsystems": [{"name": s["name"], "nqn": s["nqn"], "iopolicy_before": s["iopolicy"],
                        "iopolicy": s["after"], "paths": _paths(s)} for s in host["subsystems"]],
        "initramfs": initramfs,
        "files": [{"path": path, "present": new is not None, "changed": old != new} for path, old, new in texts],
        "actions": actions,
        "diff": diff,
        "warnings": warnings,
    }


# The options of module nvme_multipath (also checked by module host_state).
ARGUMENT_SPEC = dict(
    multipath=dict(type="bool", default=True),
    iopolicy=dict(type="str", choices=list(POLICY_NAMES)),
    subsystems=dict(type="list", elements="dict", default=[], options=dict(
        nqn=dict(type="str", required=True),
        iopolicy=dict(type="str", required=True, choices=list(POLICY_NAMES)),
    )),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
