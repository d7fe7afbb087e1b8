"""Booted VMs saved once and restored in seconds (QEMU internal snapshots, savevm/-loadvm).

A VM's first boot under TCG costs 25-40 s of a whole core; restoring the same VM from a snapshot
taken the moment it answered on SSH costs a few seconds. A snapshot is the VM's qcow2 overlay (and
its data disks) holding the internal snapshot "booted", kept in the cache under a key made of
everything the guest saw at boot: the QEMU binary and its version, the whole command line with the
paths and ports of one lab replaced by placeholders (image digest, kernel, machine, CPUs, memory,
devices, MAC addresses) and the identity passed through fw_cfg (host name, storage addresses, SSH
key). A VM whose key matches is the same VM as a fresh boot would give, so the scenarios of
`make test` that declare the same host (target1 of default, target and multipath) boot it once.
What differs after a restore is put right at once: the clock (set from the host), the kernel's
random state (a vmgenid device tells the guest it was restored, so it reseeds).

VMs with a slower memory tier (CXL, NVDIMM) always boot: their memory is not only RAM.
LAB_SNAPSHOTS=0 turns restoring and saving off.
"""

import hashlib
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from labcommon import LabError, cache_root, say

TAG = "booted"
# Bump when what a snapshot holds changes in a way its key does not show.
SNAPSHOT_FORMAT = 1


def enabled():
    return os.environ.get("LAB_SNAPSHOTS", "1") != "0"


def snapshots_dir():
    return cache_root() / "snapshots"


def eligible(vm):
    return enabled() and vm.spec.memory_tier == "none"


def qemu_version(binary):
    found = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return found.stdout.splitlines()[0] if found.returncode == 0 and found.stdout else "unknown"


def snapshot_key(vm, command, fwcfg_text, version):
    """The key of the VM's snapshot: the same for the same VM in any lab directory."""
    placeholders = [(str(vm.state), "STATE"), (str(vm.socket_dir), "SOCKETS"),
                    (f"127.0.0.1:{vm.spec.ssh_port}-:22", "127.0.0.1:PORT-:22"),
                    (f"systemd.machine_id={vm.machine_id()}", "systemd.machine_id=ID")]
    normal = []
    for arg in command:
        for value, placeholder in placeholders:
            arg = arg.replace(value, placeholder)
        normal.append(arg)
    digest = hashlib.sha256(json.dumps([SNAPSHOT_FORMAT, version, normal, fwcfg_text]).encode()).hexdigest()
    return digest[:24]


class Store:
    """The cached snapshots: one directory per key with root.qcow2 and data<N>.qcow2."""

    def __init__(self, root=None):
        self.root = Path(root) if root else snapshots_dir()

    def path(self, key):
        return self.root / key

    def find(self, key):
        found = self.path(key)
        return found if (found / "complete").exists() else None

    def discard(self, key):
        shutil.rmtree(self.path(key), ignore_errors=True)

    def save(self, vm, key, image_digest):
        """Pauses the running VM, saves its state into its own disks, copies them here, resumes it."""
        if self.find(key):
            return
        started = time.monotonic()
        staging = self.root / f".{key}.{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        try:
            vm.qmp("stop")
            try:
                # savevm writes the state into the qcow2 files and hands qcow2's caches to the host
                # even with cache=unsafe, so the paused VM's files can be copied as they are.
                reply = vm.hmp(f"savevm {TAG}")
                if reply.strip():
                    raise LabError(f"{vm.name}: savevm said: {reply.strip()}")
                copy_disk(vm.overlay, staging / "root.qcow2")
                for number, disk in enumerate(vm.data_disks):
                    copy_disk(disk, staging / f"data{number}.qcow2")
            finally:
                vm.qmp("cont")
            (staging / "complete").write_text(json.dumps({"vm": vm.name, "image": image_digest}) + "\n")
            try:
                staging.rename(self.path(key))
            except OSError:
                pass  # another lab saved the same VM first: theirs is as good
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        say(f"{vm.name}: saved as snapshot {key} in {time.monotonic() - started:.1f}s")

    def prune(self, image_digest):
        """Removes the snapshots of other images: they can never be restored again."""
        for entry in self.root.glob("*/complete"):
            try:
                image = json.loads(entry.read_text()).get("image")
            except (OSError, ValueError):
                image = None
            if image != image_digest:
                shutil.rmtree(entry.parent, ignore_errors=True)


def copy_disk(source, dest):
    subprocess.run(["cp", "--sparse=always", "--reflink=auto", str(source), str(dest)], check=True)


def restore_disks(snapshot, vm):
    """The VM's overlay and data disks, copied from the snapshot: QEMU then starts with -loadvm."""
    copy_disk(snapshot / "root.qcow2", vm.overlay)
    for number, disk in enumerate(vm.data_disks):
        copy_disk(snapshot / f"data{number}.qcow2", disk)
