# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Saving applied subsystems and restoring them at boot (nothing in configfs survives a reboot).

Each subsystem is saved in its normal form, port ids resolved, as
``<config_dir>/subsystems/<nqn>.json`` (mode 0600: it may hold DH-HMAC-CHAP
keys). At boot, the restore service of role nvmeof.fleet.target runs
``main()``: it waits until the backing devices and listener addresses exist,
then reconciles each saved subsystem exactly as the module would.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import sys
import time

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError, CommandRunner
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.host_lock import host_lock
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_guards import (
    GuardError, local_addresses, missing_addresses)
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_model import NVMET
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_reconcile import NvmetError, reconcile

DEFAULT_CONFIG_DIR = "/etc/nvmeof-fleet/nvmet"
_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:")


def saved_path(config_dir, nqn):
    name = "".join(char if char in _SAFE else "%%%02X" % ord(char) for char in nqn)
    return "%s/subsystems/%s.json" % (config_dir.rstrip("/"), name)


def render(spec):
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def save(fs, config_dir, spec, check_mode=False):
    """Writes the saved copy of a subsystem if it differs; True when it did (or would)."""
    path = saved_path(config_dir, spec["nqn"])
    content = render(spec)
    if fs.read_text(path) == content:
        return False
    if not check_mode:
        for directory in (config_dir.rstrip("/"), config_dir.rstrip("/") + "/subsystems"):
            if not fs.is_dir(directory):
                _make_parents(fs, directory)
        fs.write_file_atomic(path, content, mode=0o600)
    return True


def _make_parents(fs, directory):
    parts = directory.strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        path = "/" + "/".join(parts[:depth])
        if not fs.is_dir(path):
            fs.make_dir(path, mode=0o700)


def forget(fs, config_dir, nqn, check_mode=False):
    path = saved_path(config_dir, nqn)
    if not fs.exists(path):
        return False
    if not check_mode:
        fs.unlink(path)
    return True


def keep(fs, config_dir, spec, check_mode=False):
    """Saves a present subsystem, forgets an absent one; returns (saved path or None, action or None)."""
    path = saved_path(config_dir, spec["nqn"])
    if spec["state"] == "present":
        return path, ("save %s" % path if save(fs, config_dir, spec, check_mode) else None)
    return None, ("remove %s" % path if forget(fs, config_dir, spec["nqn"], check_mode) else None)


def load_all(fs, config_dir):
    directory = config_dir.rstrip("/") + "/subsystems"
    specs = []
    for name in fs.list_dir(directory):
        if name.endswith(".json"):
            specs.append(json.loads(fs.read("%s/%s" % (directory, name))))
    return specs


# -- the boot-time restore ---------------------------------------------------------

def _waiting_for(fs, runner, specs):
    missing = []
    for spec in specs:
        missing += ["device %s" % namespace["device_path"] for namespace in spec.get("namespaces", [])
                    if fs.stat(namespace["device_path"]) is None]
    addresses = local_addresses(runner)
    for spec in specs:
        missing += ["address %s" % address for address in missing_addresses(spec, addresses)]
    return sorted(set(missing))


def restore(fs, runner, specs, wait_timeout, log, sleep=time.sleep):
    """Reconciles every saved subsystem; returns the number that failed."""
    if specs and not fs.is_dir(NVMET):
        runner.run(["modprobe", "-a", "nvmet", "nvmet-tcp"])
    deadline = time.time() + wait_timeout
    missing = _waiting_for(fs, runner, specs)
    while missing and time.time() < deadline:
        sleep(1)
        missing = _waiting_for(fs, runner, specs)
    if missing:
        log("still missing after %ss: %s; restoring what can be" % (wait_timeout, ", ".join(missing)))
    failed = 0
    for spec in specs:
        try:
            result = reconcile(fs, runner, spec)
            log("%s: %s" % (spec["nqn"], "restored (%d steps)" % len(result["actions"])
                            if result["changed"] else "already in place"))
        except (NvmetError, GuardError, HostFSError, CommandError) as error:
            failed += 1
            log("%s: not restored: %s" % (spec["nqn"], error))
    return failed


def main(argv=None, out=None):
    """The restore command (nvmeof-nvmet-restore); returns its exit status."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="nvmeof-nvmet-restore",
        description="Restore the nvmet subsystems saved by nvmeof.fleet.nvmet_subsystem.")
    parser.add_argument("--config-dir", default=DEFAULT_CONFIG_DIR)
    parser.add_argument("--wait-timeout", type=int, default=120,
                        help="seconds to wait for backing devices and listener addresses")
    args = parser.parse_args(argv)
    fs = HostFS("/")

    def log(line):
        out.write(line + "\n")
        out.flush()

    # A play that reaches the host while it boots waits for the restore, not the reverse.
    with host_lock(fs):
        specs = load_all(fs, args.config_dir)
        failed = restore(fs, CommandRunner(), specs, args.wait_timeout, log)
    log("%d of %d saved subsystems restored" % (len(specs) - failed, len(specs)))
    return 1 if failed else 0
