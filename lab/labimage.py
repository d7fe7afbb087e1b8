"""Builds the lab's VM image from Debian packages and caches it by recipe.

One raw ext4 image carries both guest kernels the lab can boot: Debian 12's
stock 6.1 and bookworm-backports' 6.12. The kernel and initramfs of each are
copied out next to the image, because QEMU boots them directly (-kernel).
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

from labcommon import LabError, cache_root, run_logged, say

LAB_DIR = Path(__file__).resolve().parent
GUEST_FILES = LAB_DIR / "guest"
SUITE = "bookworm"
BACKPORTS = f"{SUITE}-backports"
IMAGE_SIZE = "4G"
# Bump when the steps after mmdebstrap change what the cached image holds.
IMAGE_FORMAT = 1

PACKAGES = [
    "systemd-sysv", "udev", "dbus", "openssh-server", "sudo",
    "python3", "python3-apt",
    "linux-image-amd64", "initramfs-tools", "zstd", "kmod",
    "ifupdown", "iproute2", "iputils-ping", "ethtool", "nftables",
    "nvme-cli", "fio", "e2fsprogs", "pciutils",
    "numactl", "ndctl", "daxctl", "irqbalance", "linux-cpupower", "procps",
]

# Kernel name in the lab -> the /boot/vmlinuz-<release> prefix that identifies it.
KERNELS = {"6.1": "6.1.", "6.12": "6.12."}
DEFAULT_KERNEL = "6.1"

# Drivers a VM never needs: leaving them out of both kernels halves the image
# and the time to build it.
_UNNEEDED_MODULE_DIRS = [
    "drivers/gpu", "drivers/media", "drivers/net/wireless", "drivers/net/ethernet",
    "drivers/staging", "drivers/bluetooth", "drivers/infiniband", "drivers/isdn",
    "drivers/iio", "drivers/usb", "drivers/mmc", "sound", "net/bluetooth",
    "net/mac80211", "net/wireless",
]
DPKG_EXCLUDES = [
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
] + [
    f"path-exclude={prefix}/modules/*/kernel/{sub}/*"
    for prefix in ("/lib", "/usr/lib") for sub in _UNNEEDED_MODULE_DIRS
]

MASKED_UNITS = [
    "e2scrub_reap.service", "e2scrub_all.timer", "fstrim.timer",
    "apt-daily.timer", "apt-daily-upgrade.timer", "ndctl-monitor.service",
    "systemd-networkd-wait-online.service", "getty@tty1.service",
    # A udev settle before networking: needless, the initramfs already
    # loaded virtio_net, and it costs ~20 s of every boot under TCG.
    "ifupdown-pre.service",
]


def _guest_tree_items():
    for path in sorted(GUEST_FILES.rglob("*")):
        if path.is_file():
            yield path


def recipe_digest():
    """Everything that shapes the image; a change to any of it means a new image."""
    digest = hashlib.sha256()
    # Placeholders for paths: the same recipe in any checkout is the same image.
    recipe = mmdebstrap_command(Path("ROOTFS"), Path("SOURCES"), Path("GUEST"))
    digest.update(json.dumps([IMAGE_FORMAT, IMAGE_SIZE, KERNELS, [str(a) for a in recipe]]).encode())
    for path in _guest_tree_items():
        digest.update(str(path.relative_to(GUEST_FILES)).encode())
        digest.update(oct(path.stat().st_mode & 0o777).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def images_dir():
    return cache_root() / "images"


def image_dir(digest=None):
    return images_dir() / (digest or recipe_digest())


def load_manifest(digest=None):
    manifest = image_dir(digest) / "manifest.json"
    if not manifest.exists():
        return None
    return json.loads(manifest.read_text())


def _apt_source_paragraphs(etc_apt):
    """The host's apt sources as (uris, suites, components), from both formats."""
    found = []
    sources_d = etc_apt / "sources.list.d"
    for path in sorted(sources_d.glob("*.sources")):
        for block in re.split(r"\n\s*\n", path.read_text()):
            fields = {}
            for line in block.splitlines():
                if line.startswith("#") or ":" not in line or line[0].isspace():
                    continue
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and fields.get("uris"):
                found.append((fields["uris"], fields.get("suites", []),
                              fields.get("components", ["main"])))
    for path in [etc_apt / "sources.list", *sorted(sources_d.glob("*.list"))]:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            words = re.sub(r"\[[^]]*\]", "", line).split()
            if len(words) >= 3 and words[0] == "deb":
                found.append(([words[1]], [words[2]], words[3:] or ["main"]))
    return found


def write_sources(dest, etc_apt=Path("/etc/apt")):
    """Reuses the host's Debian archive for the guest, adding the backports suite."""
    paragraphs = []
    archive_uris = None
    for uris, suites, components in _apt_source_paragraphs(etc_apt):
        wanted = [s for s in suites if s.startswith(SUITE)]
        if not wanted:
            continue
        if SUITE in wanted and archive_uris is None:
            archive_uris = uris
        paragraphs.append((uris, wanted, components))
    if archive_uris is None:
        raise LabError(f"no apt source for '{SUITE}' on this host: the lab image is built "
                       "from the same Debian archive the host uses")
    if not any(BACKPORTS in paragraph[1] for paragraph in paragraphs):
        paragraphs.append((archive_uris, [BACKPORTS], ["main"]))
    text = "\n".join(
        f"Types: deb\nURIs: {' '.join(uris)}\nSuites: {' '.join(suites)}\n"
        f"Components: {' '.join(components)}\n"
        for uris, suites, components in paragraphs)
    Path(dest).write_text(text)


def mmdebstrap_command(rootfs, sources, guest_files=GUEST_FILES):
    cmd = ["mmdebstrap", "--variant=minbase", "--mode=root", "--format=directory",
           "--include=" + ",".join(PACKAGES),
           f"--setup-hook=sync-in {guest_files} /"]
    cmd += [f"--dpkgopt={opt}" for opt in DPKG_EXCLUDES]
    cmd += [
        '--customize-hook=chroot "$1" apt-get install -y -q -t ' + BACKPORTS + " linux-image-amd64",
        '--customize-hook=chroot "$1" systemctl enable nvmeof-lab-init.service',
        '--customize-hook=chroot "$1" systemctl mask ' + " ".join(MASKED_UNITS),
        '--customize-hook=chroot "$1" systemctl set-default multi-user.target',
        # Each VM gets its machine id from the kernel command line.
        '--customize-hook=: > "$1/etc/machine-id"',
        SUITE, rootfs, sources,
    ]
    return cmd


def _build(workdir, log):
    rootfs = workdir / "rootfs"
    sources = workdir / "guest.sources"
    write_sources(sources)
    cmd = mmdebstrap_command(rootfs, sources)
    run_logged(cmd, "building the VM image from Debian packages (mmdebstrap, about 1-3 min)", log)

    kernels = {}
    boot = rootfs / "boot"
    for name, prefix in KERNELS.items():
        images = sorted(p for p in boot.glob(f"vmlinuz-{prefix}*"))
        if not images:
            raise LabError(f"kernel {name} missing from the image; see {log}")
        release = images[-1].name[len("vmlinuz-"):]
        shutil.copy2(images[-1], workdir / f"vmlinuz-{name}")
        shutil.copy2(boot / f"initrd.img-{release}", workdir / f"initrd-{name}")
        kernels[name] = {"release": release, "kernel": f"vmlinuz-{name}", "initrd": f"initrd-{name}"}

    run_logged(["mkfs.ext4", "-q", "-F", "-L", "nvmeof-lab", "-d", rootfs,
                workdir / "rootfs.raw", IMAGE_SIZE],
               "writing the root file system image (mkfs.ext4 -d)", log)
    shutil.rmtree(rootfs)
    return kernels


def ensure_image():
    """Returns the manifest of the current recipe's image, building it if needed."""
    digest = recipe_digest()
    final = image_dir(digest)
    images_dir().mkdir(parents=True, exist_ok=True)
    with open(images_dir() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = load_manifest(digest)
        if manifest:
            say(f"VM image {digest} is cached in {final}")
            return manifest
        for tool in ("mmdebstrap", "mkfs.ext4"):
            if not shutil.which(tool):
                raise LabError(f"'{tool}' is missing: run 'make deps' (installs the Debian packages)")
        workdir = images_dir() / f"{digest}.partial"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir()
        log = images_dir() / f"{digest}.build.log"
        log.unlink(missing_ok=True)
        say(f"no cached VM image for recipe {digest}: building it (log: {log})")
        started = time.monotonic()
        try:
            kernels = _build(workdir, log)
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        manifest = {"digest": digest, "image": "rootfs.raw", "kernels": kernels,
                    "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "build_seconds": round(time.monotonic() - started)}
        (workdir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(workdir, final)
        _prune_other_images(keep=digest)
        return manifest


def _prune_other_images(keep):
    for entry in images_dir().iterdir():
        if entry.name.startswith(keep) or entry.name.startswith(".") or entry.name.endswith(".partial"):
            continue
        say(f"removing outdated VM image file {entry.name}")
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
