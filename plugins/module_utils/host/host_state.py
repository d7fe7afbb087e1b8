# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles manage on a host that is not NVMe: packages, systemd units, files, CPUs, links.

Module host_state reads all of it in one call, and the roles plan on the controller from
the result instead of reading each concern with a module run of its own. Every reader
returns plain data that survives JSON (string keys), and reads without changing anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import stat

# Debian policy: lower case letters, digits, '+', '-', '.'; at least two characters.
_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
# A leading '-' would reach systemctl as an option.
_MODULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_UNIT = re.compile(r"^[A-Za-z0-9:_.@][A-Za-z0-9:_.@\\-]*\.(service|socket|target|timer|mount|path)$")
UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "UnitFileState")


class HostStateError(Exception):
    """A refusal: the message names the option and the value."""


def _check_names(option, names, pattern, what):
    for index, name in enumerate(names):
        if not isinstance(name, str) or not pattern.match(name):
            raise HostStateError("%s[%d]: %r is not %s" % (option, index, name, what))


def check_request(params):
    """Refuses, before anything is read, a name that no reader could take."""
    _check_names("packages", params["packages"], _PACKAGE, "a Debian package name (no version or wildcard)")
    _check_names("kernel_modules", params["kernel_modules"], _MODULE, "a kernel module name")
    _check_names("units", params["units"], _UNIT, "a systemd unit name with its type (name.service)")
    for option in ("files", "directories"):
        for index, path in enumerate(params[option]):
            if not path.startswith("/"):
                raise HostStateError("%s[%d]: %r is not an absolute path" % (option, index, path))


def read_packages(runner, names):
    """{package: dpkg status ('installed', 'config-files', ...; 'not-installed' when dpkg knows none)}."""
    if not names:
        return {}
    rc, out, err = runner.run(["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n"]
                              + list(names), check=False)
    if rc > 1:  # 1: a package dpkg does not know, which is an answer
        raise HostStateError("dpkg-query failed (exit %d): %s" % (rc, err.strip()))
    found = dict.fromkeys(names, "not-installed")
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0].split(":")[0] in found:
            found[fields[0].split(":")[0]] = fields[1]
    return found


def read_units(runner, names):
    """{unit: {Id, LoadState, ActiveState, UnitFileState}} from one systemctl show."""
    if not names:
        return {}
    _rc, out, _err = runner.run(["systemctl", "show", "--property=" + ",".join(UNIT_PROPERTIES)]
                                + list(names))
    units = dict((name, {"Id": name, "LoadState": "not-found"}) for name in names)
    for block, name in zip(out.strip("\n").split("\n\n"), names):
        properties = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        units[name] = dict((key, properties.get(key, "")) for key in UNIT_PROPERTIES)
    return units


def read_file(fs, path):
    """{checksum (sha1), mode ('0644'), uid, gid} of a regular file; None when there is none."""
    found = fs.stat(path)
    if found is None or not stat.S_ISREG(found.st_mode):
        return None
    return {"checksum": fs.digest(path), "mode": "%04o" % stat.S_IMODE(found.st_mode),
            "uid": found.st_uid, "gid": found.st_gid}


def read_directory(fs, path):
    """{name: read_file()} of the regular files in a directory; None when it is not one."""
    if not fs.is_dir(path):
        return None
    files = {}
    for name in fs.list_dir(path):
        info = read_file(fs, "%s/%s" % (path.rstrip("/"), name))
        if info is not None:
            files[name] = info
    return files


def _count_cpus(ranges):
    """The number of CPUs in a kernel CPU list such as '0-3,8'."""
    count = 0
    for part in ranges.split(","):
        low, _dash, high = part.strip().partition("-")
        if low.isdigit():
            count += int(high) - int(low) + 1 if high.isdigit() else 1
    return count


def read_cpus(fs):
    """{online: CPUs online, policies: {policyN: {governor, available}}} (no cpufreq, no policies)."""
    root = "/sys/devices/system/cpu/cpufreq"
    policies = {}
    for name in fs.list_dir(root):
        governor = fs.read("%s/%s/scaling_governor" % (root, name))
        if name.startswith("policy") and governor is not None:
            available = fs.read("%s/%s/scaling_available_governors" % (root, name), "") or ""
            policies[name] = {"governor": governor, "available": available.split()}
    return {"online": _count_cpus(fs.read("/sys/devices/system/cpu/online", "") or ""), "policies": policies}


def read_addresses(runner):
    """What `ip -json address show` prints, parsed: the links with their MTUs and addresses."""
    _rc, out, _err = runner.run(["ip", "-json", "address", "show"])
    return json.loads(out or "[]")


def read_host(fs, runner, params):
    """Everything the request names, in the module's result shape."""
    check_request(params)
    return {
        "packages": read_packages(runner, params["packages"]),
        "units": read_units(runner, params["units"]),
        "files": dict((path, read_file(fs, path)) for path in params["files"]),
        "directories": dict((path, read_directory(fs, path)) for path in params["directories"]),
        "cpus": read_cpus(fs) if params.get("cpus") else None,
        "addresses": read_addresses(runner) if params.get("addresses") else None,
    }
