#!/usr/bin/env python
"""Prints what the collection's modules and roles may change on this host, one line per item,
sorted within each part, so that two runs can be compared line by line:

- every directory, link and attribute of the nvmet configfs tree (links with their targets;
  DH-HMAC-CHAP keys as a hash of their value, never the value);
- the kernel values the modules set: nvme_core's multipath and default I/O policy, each
  subsystem's I/O policy, the fabrics controllers, every interface's MTU and root qdisc, the
  memory tiering knobs and the sysctls named as arguments (the network tuning profiles);
- every file, directory and link under the configuration directories the modules and roles
  write (mode, owner, and the sha256 of each file's content, never the content), and the
  initramfs of the running kernel (nvme_multipath rebuilds it).

One process, no command per file: under TCG every fork costs.
usage: host-state.py SYSCTL...
"""

import glob
import hashlib
import os
import pwd
import grp
import stat
import subprocess
import sys

NVMET = "/sys/kernel/config/nvmet"
SECRET_ATTRS = ("dhchap_key", "dhchap_ctrl_key")
CONFIG = ("/etc/nvmeof-fleet", "/etc/nvme", "/etc/sysctl.d", "/etc/modprobe.d", "/etc/udev/rules.d",
          "/etc/network", "/etc/daxctl.conf.d", "/etc/modules-load.d", "/etc/tmpfiles.d",
          "/etc/systemd/network", "/etc/systemd/system", "/etc/NetworkManager/system-connections",
          "/etc/nftables.conf", "/usr/local/sbin", "/usr/local/lib/nvmeof-fleet")


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def value(label, path):
    """label = the attribute's value, or why there is none."""
    if not os.path.lexists(path):
        return "%s (absent)" % label
    try:
        text = read(path).decode("utf-8", "backslashreplace")
    except OSError as error:
        return "%s (unreadable: %s)" % (label, error.strerror)
    return "%s = %s" % (label, text.rstrip("\n").replace("\n", "\\n"))


def walk(top):
    """Every path under top, top included, sorted; links are not followed."""
    found = [top]
    for root, dirs, files in os.walk(top):
        found += [os.path.join(root, name) for name in dirs + files]
    return sorted(found)


def owner(info):
    try:
        user = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        user = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    return "%o %s:%s" % (stat.S_IMODE(info.st_mode), user, group)


def configfs():
    if not os.path.isdir(NVMET):
        return ["%s (absent)" % NVMET]
    lines = []
    for path in walk(NVMET):
        if os.path.islink(path):
            lines.append("%s -> %s" % (path, os.readlink(path)))
        elif os.path.isdir(path):
            lines.append(path + "/")
        elif os.path.basename(path) in SECRET_ATTRS:
            try:
                lines.append("%s sha256 %s" % (path, hashlib.sha256(read(path)).hexdigest()))
            except OSError as error:
                lines.append("%s (unreadable: %s)" % (path, error.strerror))
        else:
            lines.append(value(path, path))
    return lines


def kernel(sysctls):
    lines = [value("nvme_core." + name, "/sys/module/nvme_core/parameters/" + name)
             for name in ("multipath", "iopolicy")]
    lines += [value(path, path) for path in sorted(glob.glob("/sys/class/nvme-subsystem/*/iopolicy"))]
    lines += [value(path, path) for path in sorted(glob.glob("/sys/class/net/*/mtu"))]
    for ctl in sorted(glob.glob("/sys/class/nvme-fabrics/ctl/nvme*")):
        lines += [value(ctl + "/" + name, ctl + "/" + name) for name in ("subsysnqn", "address", "state")]
    qdiscs = subprocess.run(["tc", "qdisc", "show"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, check=False).stdout
    lines += [line for line in sorted(qdiscs.splitlines()) if " root " in line]
    lines.append(value("demotion_enabled", "/sys/kernel/mm/numa/demotion_enabled"))
    lines.append(value("auto_online_blocks", "/sys/devices/system/memory/auto_online_blocks"))
    for key in ["kernel.numa_balancing", "kernel.numa_balancing_promote_rate_limit_MBps"] + sysctls:
        lines.append(value("sysctl " + key, "/proc/sys/" + key.replace(".", "/")))
    return lines


def files():
    lines = []
    for top in CONFIG:
        if not os.path.lexists(top):
            lines.append("%s (absent)" % top)
            continue
        for path in walk(top):
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                lines.append("%s -> %s" % (path, os.readlink(path)))
            elif stat.S_ISDIR(info.st_mode):
                lines.append("%s/ %s" % (path, owner(info)))
            else:
                lines.append("%s %s %s" % (path, owner(info), sha256(path)))
    initrd = "/boot/initrd.img-" + os.uname().release
    lines.append("%s %s" % (initrd, sha256(initrd) if os.path.exists(initrd) else "(absent)"))
    return lines


def main(sysctls):
    for line in configfs() + kernel(sysctls) + files():
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
