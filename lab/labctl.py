#!/usr/bin/env python
"""The nvmeof.fleet VM lab: real Debian kernels in QEMU for tests and `make lab`.

  labctl.py image                      build (or reuse) the cached VM image
  labctl.py up     -i INVENTORY        boot the inventory's VMs, wait for SSH
  labctl.py down   -i INVENTORY        stop the VMs (QEMU quits), remove overlays
  labctl.py status -i INVENTORY        what runs, what answers
  labctl.py ssh    -i INVENTORY HOST [COMMAND...]
"""

import argparse
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import labimage
import labqemu
import labsnapshot
import labspec
from labcommon import LabError, say, tail
from labvm import Vm, choose_accel, read_pid, ssh_base

BOOT_TIMEOUT = int(os.environ.get("LAB_BOOT_TIMEOUT", "420"))
KVM_GRACE = 15  # seconds a KVM guest must survive before we trust KVM here
RESTORE_GRACE = 5  # seconds in which QEMU refuses a snapshot it cannot load


def socket_dir(lab):
    # Unix socket paths are limited to 108 bytes, checkouts can be deep.
    tag = hashlib.sha256(str(lab.state_dir).encode()).hexdigest()[:10]
    path = Path(tempfile.gettempdir()) / f"nvmeof-lab-{tag}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def lab_vms(lab):
    sockets = socket_dir(lab)
    return [Vm(spec, lab, sockets) for spec in lab.vms]


def ssh_key(lab):
    """The lab's SSH key: a copy of the cache's, so that the VMs of every lab are the same VMs
    (their snapshots hold the key they accept)."""
    key = lab.state_dir / "id_ed25519"
    if not key.exists():
        shared = labsnapshot.snapshots_dir() / "id_ed25519"
        shared.parent.mkdir(parents=True, exist_ok=True)
        with open(shared.parent / ".key.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not shared.exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nvmeof-lab",
                                "-f", str(shared)], check=True)
        lab.state_dir.mkdir(parents=True, exist_ok=True)
        for suffix in ("", ".pub"):
            shutil.copyfile(f"{shared}{suffix}", f"{key}{suffix}")
        key.chmod(0o600)
    return key


# -- the fabric switch -----------------------------------------------------------
def switch_pidfile(lab):
    return lab.state_dir / "switch.pid"


def switch_pid(lab):
    return read_pid(switch_pidfile(lab), "labswitch")


def start_switch(lab, vms):
    if switch_pid(lab):
        return
    specs = [f"fabric{n}:{','.join(vm.name for vm in vms)}" for n in range(lab.fabrics)]
    log = lab.state_dir / "logs" / "switch.log"
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("labswitch.py")), str(socket_dir(lab)),
             *specs],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    switch_pidfile(lab).write_text(str(process.pid))
    time.sleep(0.3)
    if process.poll() is not None:
        raise LabError(f"the storage fabric switch failed:\n{tail(log)}")


def stop_switch(lab):
    pid = switch_pid(lab)
    if pid:
        os.kill(pid, signal.SIGTERM)
    switch_pidfile(lab).unlink(missing_ok=True)


# -- commands --------------------------------------------------------------------
def cmd_image(_args):
    manifest = labimage.ensure_image()
    for name, kernel in manifest["kernels"].items():
        say(f"kernel {name}: {kernel['release']}")


def wait_for_ssh(vms, key, started):
    pending = list(vms)
    last_report = 0
    while pending:
        elapsed = time.monotonic() - started
        for vm in list(pending):
            if vm.exited_early():
                raise LabError(f"{vm.name}: QEMU exited during boot:\n{tail(vm.qemu_log)}\n"
                               f"serial console:\n{tail(vm.serial_log)}")
            if vm.reachable(key):
                say(f"{vm.name} answers on SSH 127.0.0.1:{vm.spec.ssh_port} after {elapsed:.0f}s")
                pending.remove(vm)
        if not pending:
            return
        if elapsed > BOOT_TIMEOUT:
            details = "\n".join(f"--- {vm.name} serial console (last lines):\n{tail(vm.serial_log)}"
                                for vm in pending)
            raise LabError(f"{', '.join(vm.name for vm in pending)} did not answer on SSH within "
                           f"{BOOT_TIMEOUT}s\n{details}")
        if elapsed - last_report >= 20:
            last_report = elapsed
            say(f"waiting for SSH on {', '.join(vm.name for vm in pending)} "
                f"({elapsed:.0f}s of at most {BOOT_TIMEOUT}s)")
        time.sleep(2)


def snapshot_keys(vms, image_dir, manifest, public_key, accel):
    """Each VM that may be snapshotted -> its snapshot key (labsnapshot)."""
    versions = {}
    keys = {}
    for vm in vms:
        if labsnapshot.eligible(vm):
            version = versions.setdefault(vm.spec.qemu, labsnapshot.qemu_version(vm.spec.qemu))
            keys[vm.name] = labsnapshot.snapshot_key(vm, vm.command(image_dir, manifest, accel),
                                                     vm.fwcfg_text(public_key), version)
    return keys


def start_vms(vms, image_dir, manifest, public_key, accel, store, keys):
    for vm in vms:
        snapshot = store.find(keys[vm.name]) if vm.name in keys else None
        vm.start(image_dir, manifest, public_key, accel, snapshot=snapshot)
    restored = [vm.name for vm in vms if vm.restored_from]
    say(f"started {len(vms)} VM(s) with {accel.upper()} "
        f"(kernel {', '.join(sorted({vm.spec.kernel for vm in vms}))})"
        + (f", restored from snapshots: {', '.join(restored)}" if restored else "")
        + f"; serial logs in {vms[0].serial_log.parent}")


def restart_failed_restores(vms, image_dir, manifest, public_key, accel, store, keys):
    """A restore QEMU refuses (a snapshot from another QEMU build, a damaged copy) boots afresh."""
    deadline = time.monotonic() + RESTORE_GRACE
    while time.monotonic() < deadline and any(vm.restored_from for vm in vms):
        for vm in vms:
            if vm.restored_from and vm.exited_early():
                say(f"{vm.name}: QEMU refused the snapshot ({tail(vm.qemu_log, 3)}); dropping it and booting")
                store.discard(keys[vm.name])
                vm.start(image_dir, manifest, public_key, accel)
        time.sleep(0.5)


def after_boot(vms, lab, store, keys, digest):
    """Restored VMs get the host's clock; freshly booted ones are saved for the next time."""
    key = lab.state_dir / "id_ed25519"
    for vm in vms:
        if vm.restored_from:
            now = f"@{time.time():.3f}"
            subprocess.run(ssh_base(key, vm.spec.ssh_port) + ["date", "-s", now], stdin=subprocess.DEVNULL,
                           capture_output=True, check=True)
        elif vm.name in keys:
            store.save(vm, keys[vm.name], digest)
    if keys:
        store.prune(digest)


def boot(vms, lab, manifest, key, accel):
    image_dir = labimage.image_dir(manifest["digest"])
    public_key = key.with_suffix(".pub").read_text()
    started = time.monotonic()
    store = labsnapshot.Store()
    keys = snapshot_keys(vms, image_dir, manifest, public_key, accel) if accel == "tcg" else {}
    start_vms(vms, image_dir, manifest, public_key, accel, store, keys)
    if accel == "kvm":
        time.sleep(KVM_GRACE)
        if any(vm.exited_early() for vm in vms):
            say("KVM does not run these guests here; falling back to TCG (software emulation)")
            for vm in vms:
                vm.kill()
            return boot(vms, lab, manifest, key, "tcg")
    restart_failed_restores(vms, image_dir, manifest, public_key, accel, store, keys)
    wait_for_ssh(vms, key, started)
    after_boot(vms, lab, store, keys, manifest["digest"])
    return accel


def cmd_up(args):
    lab = labspec.load(args.inventory, args.kernel)
    manifest = labimage.ensure_image()
    key = ssh_key(lab)
    vms = lab_vms(lab)
    running = [vm.name for vm in vms if vm.pid()]
    image_dir = labimage.image_dir(manifest["digest"])
    if running and all(vm.boots(image_dir, manifest) and vm.reachable(key) for vm in vms):
        say(f"lab already up: {', '.join(running)}")
        return
    if running:
        say(f"lab VMs {', '.join(running)} run, but not all of them answer, or they boot "
            "another kernel or an outdated image: restarting the whole lab")
        cmd_down(args)
    (lab.state_dir / "logs").mkdir(parents=True, exist_ok=True)
    # QEMU 10 for every VM that names no QEMU of its own: CXL needs it, and Debian 12's QEMU 7.2
    # runs a guest's kernel several times slower after a reboot (18-60 s against 8-10 s).
    for vm in vms:
        if vm.spec.qemu == labspec.DEFAULTS["lab_qemu"]:
            vm.spec.qemu = str(labqemu.ensure_qemu10())
    start_switch(lab, vms)
    boot(vms, lab, manifest, key, choose_accel())
    say(f"lab up: {len(vms)} VM(s) from {lab.inventory}")


def cmd_down(args):
    lab = labspec.load(args.inventory, args.kernel)
    vms = lab_vms(lab)
    running = [vm for vm in vms if vm.pid()]
    # QEMU quits at once, as when a plug is pulled: the overlays are thrown away next, so a guest
    # shutdown (units stopped, NVMe controllers torn down) would only cost seconds of emulated CPU.
    if running:
        say(f"stopping {', '.join(vm.name for vm in running)}")
        for vm in running:
            vm.kill()
    stop_switch(lab)
    for vm in vms:
        vm.remove_runtime_files()
    left = [vm.name for vm in vms if vm.pid()]
    if left:
        raise LabError(f"QEMU still running for {', '.join(left)}")
    for leftover in socket_dir(lab).glob("*"):
        leftover.unlink()
    socket_dir(lab).rmdir()
    say(f"lab down: no VM running, overlays removed (logs kept in {lab.state_dir / 'logs'})")


def cmd_status(args):
    lab = labspec.load(args.inventory, args.kernel)
    key = lab.state_dir / "id_ed25519"
    digest = labimage.recipe_digest()
    manifest = labimage.load_manifest(digest)
    image_dir = labimage.image_dir(digest)
    down = 0
    for vm in lab_vms(lab):
        pid = vm.pid()
        answers = bool(pid) and key.exists() and vm.reachable(key)
        down += not answers
        state = "answers on SSH" if answers else ("running, no SSH" if pid else "stopped")
        kernel = (vm.running_kernel(image_dir, manifest) if pid and manifest else None) or "-"
        print(f"{vm.name:<14} 127.0.0.1:{vm.spec.ssh_port:<6} kernel {kernel:<5} {state}")
    return 1 if down else 0


def cmd_ssh(args):
    lab = labspec.load(args.inventory, args.kernel)
    vm = next((vm for vm in lab_vms(lab) if vm.name == args.host), None)
    if vm is None:
        raise LabError(f"no host {args.host!r} in {args.inventory}")
    key = lab.state_dir / "id_ed25519"
    os.execvp("ssh", ssh_base(key, vm.spec.ssh_port) + args.command)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("image").set_defaults(func=cmd_image)
    for name, func in (("up", cmd_up), ("down", cmd_down), ("status", cmd_status),
                       ("ssh", cmd_ssh)):
        cmd = sub.add_parser(name)
        cmd.add_argument("-i", "--inventory", required=True)
        cmd.add_argument("--kernel", help="boot this lab kernel (6.1 or 6.12) on every VM")
        if name == "ssh":
            cmd.add_argument("host")
            cmd.add_argument("command", nargs=argparse.REMAINDER)
        cmd.set_defaults(func=func)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except LabError as exc:
        print(f"[lab] ERROR: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
