"""QEMU 10 for the lab's VMs, unpacked from Debian's bookworm-backports into the cache.

Debian 12's QEMU 7.2 emulates only persistent CXL Type 3 memory, and guests that demoted pages
onto it crashed (docs/lab.md). QEMU 10 from bookworm-backports emulates volatile CXL memory. It is
unpacked (dpkg -x) rather than installed, so the host's QEMU, which every other VM uses, stays
as it is; a wrapper script points the unpacked binary at its own modules and firmware.
"""

import fcntl
import subprocess
import tempfile
from pathlib import Path

import labimage
from labcommon import LabError, cache_root, run_logged, say

SUITE = labimage.BACKPORTS
PACKAGES = ("qemu-system-x86", "qemu-system-common", "qemu-system-data", "seabios")
BINARY = "qemu-system-x86_64"


def qemu_dir():
    return cache_root() / "qemu" / SUITE


def wrapper_text(tree):
    modules = tree / "usr/lib/x86_64-linux-gnu/qemu"
    firmware = [tree / "usr/share/seabios", tree / "usr/share/qemu"]
    return ("#!/bin/sh\n"
            "# QEMU from " + SUITE + ", unpacked by lab/labqemu.py: its own modules and firmware.\n"
            f"export QEMU_MODULE_DIR={modules}\n"
            f"exec {tree / 'usr/bin' / BINARY} {' '.join(f'-L {path}' for path in firmware)} \"$@\"\n")


def _apt_options(work):
    return ["-o", "Dir::Etc::SourceList=/dev/null", "-o", f"Dir::Etc::SourceParts={work / 'sources'}",
            "-o", f"Dir::State::Lists={work / 'lists'}", "-o", f"Dir::Cache={work / 'cache'}"]


def _unpack(target):
    """Downloads the packages from the host's Debian archive (with backports) into target/tree."""
    with tempfile.TemporaryDirectory(prefix="nvmeof-lab-qemu-") as tmp:
        work = Path(tmp)
        for sub in ("sources", "lists/partial", "cache/archives/partial", "debs"):
            (work / sub).mkdir(parents=True)
        labimage.write_sources(work / "sources" / "lab.sources")
        log = target.parent / f"{target.name}.log"
        apt = ["apt-get", "-q", *_apt_options(work)]
        run_logged(apt + ["update"], f"apt indexes of {SUITE}", log)
        run_logged(apt + ["download"] + [f"{name}/{SUITE}" for name in PACKAGES],
                   f"download QEMU from {SUITE}", log, cwd=work / "debs")
        tree = target / "tree"
        for deb in sorted((work / "debs").glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)


def ensure_qemu10():
    """The path of a QEMU 10 wrapper script, unpacking QEMU the first time.

    Labs that start at the same time (make test's two lanes) take turns: the first unpacks.
    """
    target = qemu_dir()
    wrapper = target / BINARY
    if wrapper.exists():
        return wrapper
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if wrapper.exists():
            return wrapper
        return _unpack_once(target, wrapper)


def _unpack_once(target, wrapper):
    staging = target.with_name(target.name + ".partial")
    subprocess.run(["rm", "-rf", str(staging)], check=True)
    staging.mkdir(parents=True)
    say(f"unpacking QEMU from {SUITE} into {target} (once; the host's QEMU is not changed)")
    _unpack(staging)
    (staging / BINARY).write_text(wrapper_text(target / "tree"))
    (staging / BINARY).chmod(0o755)
    subprocess.run(["rm", "-rf", str(target)], check=True)
    staging.rename(target)
    version = subprocess.run([str(wrapper), "--version"], capture_output=True, text=True, check=False)
    if version.returncode != 0 or "version 10." not in version.stdout:
        raise LabError(f"the QEMU unpacked into {target} does not run as QEMU 10: "
                       f"{(version.stdout + version.stderr).strip()}")
    say(version.stdout.splitlines()[0])
    return wrapper
