# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake kernel nvmet configfs for unit tests.

FakeNvmetConfigfs is a HostFS over a temporary directory that refuses what
the kernel refuses, with the kernel's errno, so target-side code can be tested
against the configfs rules without a kernel:

* mkdir of an item creates its attribute files (kernel defaults, each ending
  in a newline as the kernel's show() prints them) and its default groups;
* writes are checked like the nvmet ``*_store()`` functions of
  drivers/nvme/target/configfs.c (Debian 12: 6.1, bookworm-backports: 6.12);
* symlinks are checked like ``allow_link()``, and the first link in
  ``ports/<id>/subsystems`` enables the port like ``nvmet_enable_port()`` and
  nvmet-tcp's ``add_port()`` (address family, address, bind);
* rmdir/unlink follow fs/configfs/dir.c and symlink.c (``configfs_rmdir``,
  ``configfs_detach_prep``, ``configfs_unlink``).

State the kernel keeps but does not show in configfs is kept here: whether a
host identified a subsystem (``identify``), and the live controllers
(``connect``/``disconnect``/``controllers``).

Paths outside /sys/kernel/config behave as in HostFS, so tests can create the
files a namespace's device_path points at.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import ipaddress
import os
import posixpath
import random
import re
import shutil
import uuid

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS, HostFSError

CONFIGFS = "/sys/kernel/config"
NVMET = CONFIGFS + "/nvmet"
DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery"
LOCAL_ADDRESSES = frozenset(["10.90.1.11", "10.90.2.11", "fd90:1::11", "127.0.0.1"])

# nvmet.h / nvme.h limits
MAX_ANAGRPS = 128            # NVMET_MAX_ANAGRPS
NR_QUEUES = 128              # NVMET_NR_QUEUES, the default and maximum attr_qid_max
MAX_NAMESPACES = 1024        # NVMET_MAX_NAMESPACES
CNTLID_MIN, CNTLID_MAX = 1, 0xffef
SN_MAX, MN_MAX, FR_MAX = 20, 40, 8
TRADDR_SIZE, TRSVCID_SIZE, NQN_FIELD_LEN = 256, 32, 256
TCP_DEF_INLINE_DATA_SIZE = 4 * 4096    # nvmet-tcp: 4 * PAGE_SIZE
RDMA_DEF_INLINE_DATA_SIZE = 4096       # nvmet-rdma: PAGE_SIZE

# Names the stores accept (nvmet_addr_family[] without "pcie", which the store skips)
ADRFAMS = ("ipv4", "ipv6", "ib", "fc", "loop")
TRTYPES = ("rdma", "fc", "tcp", "loop")
TREQS = ("not specified", "required", "not required")
ANA_STATES = ("optimized", "non-optimized", "inaccessible", "persistent-loss", "change")
DHCHAP_HASHES = ("hmac(sha256)", "hmac(sha384)", "hmac(sha512)")
DHCHAP_DHGROUPS = ("null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192")
ZERO_UUID = "00000000-0000-0000-0000-000000000000"

# Kinds of configfs directories (see _kind)
DEFAULT_GROUPS = frozenset([
    "root", "subsystems", "ports", "hosts", "namespaces", "allowed_hosts", "passthru",
    "port_subsystems", "referrals", "ana_groups", "ana_group_default"])
USER_ITEMS = frozenset(["subsystem", "namespace", "port", "referral", "ana_group", "host"])
LINK_DIRS = {"allowed_hosts": "host", "port_subsystems": "subsystem"}
WRITE_ONLY = frozenset([("namespace", "revalidate_size")])


class _Refused(Exception):
    """The kernel's answer to one operation: the public methods turn it into a HostFSError."""

    def __init__(self, err):
        super(_Refused, self).__init__(os.strerror(err))
        self.err = err


def _oserror(err):
    return OSError(err, os.strerror(err))


def _line(value):
    """What stores that use strcspn(page, "\\n") see."""
    return value.split("\n", 1)[0]


def _streq(value, name):
    """sysfs_streq(): equal but for one trailing newline."""
    return (value[:-1] if value.endswith("\n") else value) == name


def _choice(value, names):
    for name in names:
        if _streq(value, name):
            return name
    raise _Refused(errno.EINVAL)


def _kstrtobool(value):
    """kstrtobool() of 6.1: y/Y/1, n/N/0, on/off."""
    if value[:1] in ("y", "Y", "1"):
        return True
    if value[:1] in ("n", "N", "0"):
        return False
    if value[:1] in ("o", "O") and value[1:2] in ("n", "N", "f", "F"):
        return value[1:2] in ("n", "N")
    raise _Refused(errno.EINVAL)


def _kstrtoul(value, limit):
    """kstrtouNN(s, 0, ...): '+', 0x hex and 0 octal prefixes, one trailing newline.

    Bad text is EINVAL, a number above ``limit`` ERANGE (callers that hide the
    distinction catch it).
    """
    text = value[:-1] if value.endswith("\n") else value
    if text.startswith("+"):
        text = text[1:]
    if text[:2] in ("0x", "0X") and re.match(r"[0-9a-fA-F]", text[2:3]):
        base, digits = 16, text[2:]
    elif text.startswith("0") and len(text) > 1:
        base, digits = 8, text[1:]
    else:
        base, digits = 10, text
    pattern = {16: r"[0-9a-fA-F]+\Z", 8: r"[0-7]+\Z", 10: r"[0-9]+\Z"}[base]
    if not re.match(pattern, digits):
        raise _Refused(errno.EINVAL)
    number = int(digits, base)
    if number > limit:
        raise _Refused(errno.ERANGE)
    return number


def _kstrtoint(value):
    """kstrtoint(s, 0, ...); the nvmet stores report every failure as EINVAL."""
    negative = value.startswith("-")
    try:
        number = _kstrtoul(value[1:] if negative else value, 2 ** 31)
    except _Refused:
        raise _Refused(errno.EINVAL)
    number = -number if negative else number
    if not -2 ** 31 <= number < 2 ** 31:
        raise _Refused(errno.EINVAL)
    return number


def _sscanf_hu(value):
    """sscanf(page, "%hu\\n"): leading blanks, optional sign, decimal, wraps to 16 bits."""
    match = re.match(r"\s*([+-]?)([0-9]+)", value)
    if not match:
        raise _Refused(errno.EINVAL)
    number = int(match.group(2))
    return (-number if match.group(1) == "-" else number) & 0xffff


def _ascii(text):
    """nvmet_is_ascii() for every character: 0x20..0x7e."""
    return all(0x20 <= ord(char) <= 0x7e for char in text)


def _uuid(value):
    """uuid_parse(): the first 36 characters are 8-4-4-4-12 hex digits; shown lowercase (%pUb)."""
    text = value[:36]
    if not re.match(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z", text):
        raise _Refused(errno.EINVAL)
    return text.lower()


def _nguid(value):
    """nvmet_ns_device_nguid_store(): 16 hex pairs, each optionally followed by '-' or ':'."""
    digits, pos = [], 0
    for _pair_index in range(16):
        pair = value[pos:pos + 2]
        if len(pair) < 2 or not re.match(r"[0-9a-fA-F]{2}\Z", pair):
            raise _Refused(errno.EINVAL)
        digits.append(pair.lower())
        pos += 2
        if value[pos:pos + 1] in ("-", ":"):
            pos += 1
    text = "".join(digits)
    return "-".join([text[:8], text[8:12], text[12:16], text[16:20], text[20:]])


def _kind(parts):
    """What configfs object ``parts`` (a path below /sys/kernel/config, split) names, or None."""
    if not parts or parts[0] != "nvmet":
        return None
    p = parts[1:]
    if not p:
        return "root"
    if p[0] == "hosts":
        return {1: "hosts", 2: "host"}.get(len(p))
    if p[0] == "subsystems":
        if len(p) <= 2:
            return ("subsystems", "subsystem")[len(p) - 1]
        group = {"namespaces": ("namespaces", "namespace"),
                 "allowed_hosts": ("allowed_hosts", "allowed_host_link"),
                 "passthru": ("passthru", None)}.get(p[2])
    elif p[0] == "ports":
        if len(p) <= 2:
            return ("ports", "port")[len(p) - 1]
        group = {"subsystems": ("port_subsystems", "port_subsystem_link"),
                 "referrals": ("referrals", "referral"),
                 "ana_groups": ("ana_groups", "ana_group")}.get(p[2])
    else:
        return None
    if group is None or len(p) > 4:
        return None
    if len(p) == 3:
        return group[0]
    if group[1] == "ana_group" and p[3] == "1":
        return "ana_group_default"  # created with the port, cannot be removed
    return group[1]


class FakeNvmetConfigfs(HostFS):
    """HostFS over ``root`` with the nvmet configfs rules of kernel 6.1 or 6.12.

    Options:
      local_addresses  IPs a listener may bind (plus the wildcards 0.0.0.0 and ::);
                       enabling a port on another address fails EADDRNOTAVAIL.
      kernel           "6.1" (Debian 12) or "6.12" (bookworm-backports): which
                       attribute files exist and a few store rules.
      transports       trtypes whose nvmet-<transport> module "loads"; a port of
                       another trtype fails to enable with EINVAL.
      block_devices    host paths treated as block devices (see add_block_device).
      auth             CONFIG_NVME_TARGET_AUTH: hosts get the dhchap_* attributes.
      tls_keyring      6.12 only: the .nvme keyring existed when ports were made, so
                       addr_tsas takes tls1.3 (and addr_treq becomes "required").
      passthru         CONFIG_NVME_TARGET_PASSTHRU: subsystems get passthru/.
      nvmet_loaded     create /sys/kernel/config/nvmet now (else call load_nvmet()).
      lio              also create /sys/kernel/config/target/core (LIO loaded).
      seed             seed for the random serials and namespace UUIDs.
    """

    def __init__(self, root, local_addresses=None, kernel="6.1", transports=("tcp", "loop"),
                 block_devices=(), auth=True, passthru=False, nvmet_loaded=True, lio=False, seed=None,
                 tls_keyring=False):
        super(FakeNvmetConfigfs, self).__init__(root)
        if kernel not in ("6.1", "6.12"):
            raise ValueError("kernel must be '6.1' or '6.12', got %r" % (kernel,))
        self.kernel = kernel
        self.local_addresses = frozenset(
            ipaddress.ip_address(address) for address in (
                LOCAL_ADDRESSES if local_addresses is None else local_addresses))
        self.transports = frozenset(transports)
        self.auth = auth
        self.tls_keyring = tls_keyring
        self.passthru = passthru
        self._random = random.Random(seed)
        self._block_devices = set()
        self._discovered = set()
        self._controllers = []
        self._realroot = os.path.realpath(self.root)
        self._mkdirs(CONFIGFS)
        if lio:
            self._mkdirs(CONFIGFS + "/target/core")
        for path in block_devices:
            self.add_block_device(path)
        if nvmet_loaded:
            self.load_nvmet()

    # -- set-up helpers for tests ---------------------------------------------
    def load_nvmet(self):
        """What ``modprobe nvmet`` does to configfs: the nvmet root and its three groups."""
        if not os.path.isdir(self.path(NVMET)):
            self._mkdirs(NVMET)
            self._put(["nvmet"], "discovery_nqn", DISCOVERY_NQN)
            for group in ("subsystems", "ports", "hosts"):
                os.mkdir(self.path(NVMET + "/" + group))

    def add_block_device(self, path):
        """Makes host ``path`` a block device for namespace enable and is_block_device().

        Real block device nodes need mknod (root, and a real device behind them);
        the fake creates an empty placeholder file and remembers the path.
        """
        real = self.path(path)
        self._mkdirs(posixpath.dirname(path))
        if not os.path.lexists(real):
            open(real, "a").close()
        self._block_devices.add(posixpath.normpath(path))

    def is_block_device(self, path):
        real = os.path.realpath(self.path(path))  # by-id links resolve to the device, as udev's do
        if os.path.exists(real) and any(os.path.realpath(self.path(device)) == real for device in self._block_devices):
            return True
        return super(FakeNvmetConfigfs, self).is_block_device(path)

    # -- state the kernel does not show in configfs ---------------------------
    def identify(self, nqn):
        """A host sent Identify Controller to subsystem ``nqn``: its serial, model and
        version (6.12: also ieee_oui and firmware) are fixed from now on until the
        subsystem is removed (admin-cmd.c sets subsys_discovered, nothing clears it)."""
        if not os.path.isdir(self.path(NVMET + "/subsystems/" + nqn)):
            raise KeyError("no subsystem %s" % nqn)
        self._discovered.add(nqn)

    def is_discovered(self, nqn):
        return nqn in self._discovered

    def connect(self, nqn, host_nqn, port_id):
        """A host connects: the port must be enabled with ``nqn`` linked, the host allowed
        (attr_allow_any_host or an allowed_hosts link to hosts/<host_nqn>), as in
        nvmet_alloc_ctrl(). Refusals raise ConnectionRefusedError. Connecting identifies
        the subsystem (the host driver sends Identify). Returns the controller ID."""
        port = ["nvmet", "ports", str(port_id)]
        linked = [posixpath.basename(target) for target in self._links(port + ["subsystems"]).values()]
        if nqn not in linked:
            raise ConnectionRefusedError("port %s does not export %s" % (port_id, nqn))
        subsys = ["nvmet", "subsystems", nqn]
        allowed = [posixpath.basename(target) for target in self._links(subsys + ["allowed_hosts"]).values()]
        if self._get(subsys, "attr_allow_any_host") != "1" and host_nqn not in allowed:
            raise ConnectionRefusedError("host %s may not connect to %s" % (host_nqn, nqn))
        used = set(ctrl[3] for ctrl in self._controllers if ctrl[0] == nqn)
        cntlid = int(self._get(subsys, "attr_cntlid_min"))
        while cntlid in used:
            cntlid += 1
        self._controllers.append((nqn, host_nqn, str(port_id), cntlid))
        self._discovered.add(nqn)
        return cntlid

    def disconnect(self, nqn, host_nqn=None, port_id=None):
        """Drops the matching controllers (None matches any); returns how many."""
        return self._drop_controllers(nqn, host_nqn, port_id)

    def controllers(self, nqn=None):
        """Live controllers, sorted: (subsystem nqn, host nqn, port id, controller id)."""
        return sorted(ctrl for ctrl in self._controllers if nqn is None or ctrl[0] == nqn)

    def _drop_controllers(self, nqn, host_nqn=None, port_id=None):
        keep = [ctrl for ctrl in self._controllers
                if not (ctrl[0] == nqn and host_nqn in (None, ctrl[1]) and port_id in (None, ctrl[2]))]
        dropped = len(self._controllers) - len(keep)
        self._controllers = keep
        return dropped

    def snapshot(self, path=CONFIGFS):
        """The tree under ``path`` as {host path: (kind, data)}, sorted by path.

        kind is "dir" (data None), "file" (data: the whole content, newline
        included) or "link" (data: the link text). Equal snapshots mean the tree
        is unchanged byte for byte; hidden state (controllers, identify) is not in it.
        """
        result = {}
        top = self.path(path)
        for current, dirs, files in os.walk(top):
            host = posixpath.normpath("/" + os.path.relpath(current, self.root))
            result[host] = ("dir", None)
            for name in sorted(dirs + files):
                full, child = os.path.join(current, name), posixpath.join(host, name)
                if os.path.islink(full):
                    result[child] = ("link", os.readlink(full))
                elif os.path.isfile(full):
                    with open(full, "r") as handle:
                        result[child] = ("file", handle.read())
            dirs[:] = sorted(name for name in dirs if not os.path.islink(os.path.join(current, name)))
        return dict(sorted(result.items()))

    # -- HostFS overrides -------------------------------------------------------
    def read(self, path, default=None):
        parts = self._parts(path)
        if parts and (_kind(parts[:-1]), parts[-1]) in WRITE_ONLY and os.path.isfile(self.path(path)):
            # configfs_open_file(): no show() method, so opening for reading is EACCES
            raise HostFSError("reading", path, _oserror(errno.EACCES))
        return super(FakeNvmetConfigfs, self).read(path, default)

    def write(self, path, value, secret=False):
        parts = self._parts(path)
        if parts is None:
            return super(FakeNvmetConfigfs, self).write(path, value, secret=secret)
        data = value if isinstance(value, str) else str(value)
        try:
            self._write(parts, data)
        except _Refused as exc:
            raise HostFSError("writing", path, _oserror(exc.err), value="(hidden)" if secret else data)
        return None

    def make_dir(self, path, mode=None):
        parts = self._parts(path)
        if parts is None:
            return super(FakeNvmetConfigfs, self).make_dir(path, mode=mode)
        try:
            self._mkdir(parts)
        except _Refused as exc:
            raise HostFSError("creating", path, _oserror(exc.err))
        return None

    def remove_dir(self, path):
        parts = self._parts(path)
        if parts is None:
            return super(FakeNvmetConfigfs, self).remove_dir(path)
        try:
            self._rmdir(parts)
        except _Refused as exc:
            raise HostFSError("removing", path, _oserror(exc.err))
        return None

    def link(self, target, path):
        parts = self._parts(path)
        if parts is None:
            return super(FakeNvmetConfigfs, self).link(target, path)
        try:
            self._symlink(target, parts)
        except _Refused as exc:
            raise HostFSError("linking %s at" % target, path, _oserror(exc.err))
        return None

    def unlink(self, path):
        parts = self._parts(path)
        if parts is None:
            return super(FakeNvmetConfigfs, self).unlink(path)
        try:
            self._unlink(parts)
        except _Refused as exc:
            raise HostFSError("removing", path, _oserror(exc.err))
        return None

    def write_file_atomic(self, path, content, mode=0o644):
        if self._parts(path) is not None:
            # configfs directories have no ->create: the temporary file cannot be made
            raise HostFSError("writing", path, _oserror(errno.EACCES))
        return super(FakeNvmetConfigfs, self).write_file_atomic(path, content, mode)

    # -- tree helpers -----------------------------------------------------------
    def _parts(self, path):
        """``path`` below /sys/kernel/config, split; None outside configfs."""
        norm = posixpath.normpath(path)
        if norm == CONFIGFS:
            return []
        if not norm.startswith(CONFIGFS + "/"):
            return None
        return norm[len(CONFIGFS) + 1:].split("/")

    def _host(self, parts):
        return posixpath.join(CONFIGFS, *parts) if parts else CONFIGFS

    def _real(self, parts):
        return self.path(self._host(parts))

    def _mkdirs(self, path):
        real = self.path(path)
        if not os.path.isdir(real):
            os.makedirs(real)

    def _get(self, dirparts, attr):
        with open(self._real(dirparts + [attr]), "r") as handle:
            return handle.read().rstrip("\n")

    def _put(self, dirparts, attr, text, mode=0o644):
        """Sets what show() prints: the value and a newline."""
        real = self._real(dirparts + [attr])
        with open(real, "w") as handle:
            handle.write("" if (_kind(dirparts), attr) in WRITE_ONLY else text + "\n")
        os.chmod(real, mode)

    def _resolve(self, host_path):
        """The host path ``host_path`` names after following symlinks; None outside the root."""
        real = os.path.realpath(self.path(host_path))
        if real == self._realroot:
            return "/"
        if not real.startswith(self._realroot + os.sep):
            return None
        return "/" + os.path.relpath(real, self._realroot)

    def _links(self, dirparts):
        """{link name: host path it resolves to} in a links directory."""
        real = self._real(dirparts)
        if not os.path.isdir(real):
            return {}
        return dict((name, self._resolve(self._host(dirparts + [name])))
                    for name in sorted(os.listdir(real)) if os.path.islink(os.path.join(real, name)))

    def _items(self, group):
        real = self._real(["nvmet", group])
        return sorted(os.listdir(real)) if os.path.isdir(real) else []

    def _links_to(self, host_path):
        """The configfs symlinks whose target is ``host_path`` (the dirent's s_links)."""
        found = []
        for nqn in self._items("subsystems"):
            found.extend(self._links(["nvmet", "subsystems", nqn, "allowed_hosts"]).values())
        for port in self._items("ports"):
            found.extend(self._links(["nvmet", "ports", port, "subsystems"]).values())
        return [target for target in found if target == host_path]

    def _check_parent(self, parts):
        """The VFS checks before configfs is asked: the parent exists and is a directory."""
        parent = self._real(parts[:-1])
        if not os.path.exists(parent):
            raise _Refused(errno.ENOENT)
        if not os.path.isdir(parent):
            raise _Refused(errno.ENOTDIR)

    # -- mkdir ------------------------------------------------------------------
    def _mkdir(self, parts):
        if os.path.lexists(self._real(parts)):
            raise _Refused(errno.EEXIST)
        if not parts:
            raise _Refused(errno.EPERM)
        self._check_parent(parts)
        maker = {"subsystems": self._make_subsystem, "namespaces": self._make_namespace,
                 "ports": self._make_port, "referrals": self._make_referral,
                 "ana_groups": self._make_ana_group, "hosts": self._make_host}.get(_kind(parts[:-1]))
        if maker is None:
            raise _Refused(errno.EPERM)  # configfs_mkdir(): "Lack-of-mkdir returns -EPERM"
        maker(parts, parts[-1])

    def _make_item(self, parts, attributes, groups=()):
        os.mkdir(self._real(parts))
        for name, value in attributes:
            self._put(parts, name, value, 0o200 if (_kind(parts), name) in WRITE_ONLY else 0o644)
        for group in groups:
            os.mkdir(self._real(parts + [group]))

    def _make_subsystem(self, parts, name):
        # nvmet_subsys_make(): the discovery NQNs are refused
        if _streq(name, DISCOVERY_NQN) or _streq(name, self._get(["nvmet"], "discovery_nqn")):
            raise _Refused(errno.EINVAL)
        # nvmet_subsys_alloc(): serial is bin2hex() of 10 random bytes (20 hex digits)
        attributes = [
            ("attr_allow_any_host", "0"), ("attr_version", "1.3"),
            ("attr_serial", "%020x" % self._random.getrandbits(80)),
            ("attr_cntlid_min", str(CNTLID_MIN)), ("attr_cntlid_max", str(CNTLID_MAX)),
            ("attr_model", "Linux"), ("attr_qid_max", str(NR_QUEUES)), ("attr_pi_enable", "0")]
        if self.kernel == "6.12":
            # 6.2+: ieee_oui 0, firmware = UTS_RELEASE cut to NVMET_FR_MAX_SIZE
            attributes += [("attr_ieee_oui", "0x000000"), ("attr_firmware", "6.12.12+bpo-amd64"[:FR_MAX])]
        self._make_item(parts, attributes, ("namespaces", "allowed_hosts"))
        if self.passthru:
            self._make_item(parts + ["passthru"], [
                ("device_path", "(null)"), ("enable", "0"), ("admin_timeout", "0"),
                ("io_timeout", "0"), ("clear_ids", "0")])

    def _make_namespace(self, parts, name):
        nsid = _kstrtoul(name, 0xffffffff)  # nvmet_ns_make(): kstrtou32's error as is
        if nsid in (0, 0xffffffff):
            raise _Refused(errno.EINVAL)
        # nvmet_ns_alloc(): uuid_gen() gives a random UUID; device_path is NULL, which
        # show() prints as "(null)"; the nguid stays zero
        self._make_item(parts, [
            ("device_path", "(null)"),
            ("device_nguid", ZERO_UUID),
            ("device_uuid", str(uuid.UUID(int=self._random.getrandbits(128), version=4))),
            ("ana_grpid", "1"), ("enable", "0"), ("buffered_io", "0"), ("revalidate_size", "")])

    def _make_port(self, parts, name):
        try:
            _kstrtoul(name, 0xffff)  # nvmet_ports_make(): any kstrtou16 failure is EINVAL
        except _Refused:
            raise _Refused(errno.EINVAL)
        # adrfam NVMF_ADDR_FAMILY_MAX and trtype 0 have no name: show() prints ""
        attributes = [("addr_adrfam", ""), ("addr_treq", "not specified"), ("addr_traddr", ""),
                      ("addr_trsvcid", ""), ("addr_trtype", "")]
        if self.kernel == "6.12":
            attributes.append(("addr_tsas", "reserved"))
        attributes.append(("param_inline_data_size", "-1"))
        if self.kernel == "6.12":
            attributes.append(("param_max_queue_size", "-1"))
        attributes.append(("param_pi_enable", "0"))  # CONFIG_BLK_DEV_INTEGRITY (Debian: y)
        self._make_item(parts, attributes, ("subsystems", "referrals", "ana_groups"))
        self._make_item(parts + ["ana_groups", "1"], [("ana_state", "optimized")])

    def _make_referral(self, parts, name):
        self._make_item(parts, [
            ("addr_adrfam", ""), ("addr_portid", "0"), ("addr_treq", "not specified"),
            ("addr_traddr", ""), ("addr_trsvcid", ""), ("addr_trtype", ""), ("enable", "0")])

    def _make_ana_group(self, parts, name):
        grpid = _kstrtoul(name, 0xffffffff)
        if grpid <= 1 or grpid > MAX_ANAGRPS:
            raise _Refused(errno.EINVAL)
        # nvmet_ports_make() set every group but 1 inaccessible and
        # nvmet_ana_group_release() sets it back: a new group starts inaccessible
        self._make_item(parts, [("ana_state", "inaccessible")])

    def _make_host(self, parts, name):
        attributes = []
        if self.auth:
            attributes = [("dhchap_key", ""), ("dhchap_ctrl_key", ""),
                          ("dhchap_hash", "hmac(sha256)"), ("dhchap_dhgroup", "null")]
        self._make_item(parts, attributes)

    # -- rmdir ------------------------------------------------------------------
    def _rmdir(self, parts):
        real = self._real(parts)
        if not os.path.lexists(real):
            raise _Refused(errno.ENOENT)
        if os.path.islink(real) or not os.path.isdir(real):
            raise _Refused(errno.ENOTDIR)
        kind = _kind(parts)
        if kind not in USER_ITEMS:
            raise _Refused(errno.EPERM)  # default groups (CONFIGFS_USET_DEFAULT) and non-nvmet dirs
        if self._links_to(self._host(parts)):
            raise _Refused(errno.EBUSY)  # configfs_detach_prep(): the item is a link target
        self._detach_prep(parts)
        if kind == "subsystem":
            # nvmet_subsys_release(): controllers go; a new subsystem of that name starts afresh
            self._drop_controllers(parts[-1])
            self._discovered.discard(parts[-1])
        shutil.rmtree(real)

    def _detach_prep(self, parts):
        """configfs_detach_prep(): attributes go with the item, default groups are searched,
        anything else (user-made items, symlinks) makes the rmdir ENOTEMPTY."""
        real = self._real(parts)
        for name in sorted(os.listdir(real)):
            child = os.path.join(real, name)
            if os.path.islink(child):
                raise _Refused(errno.ENOTEMPTY)
            if os.path.isdir(child):
                if _kind(parts + [name]) not in DEFAULT_GROUPS:
                    raise _Refused(errno.ENOTEMPTY)
                self._detach_prep(parts + [name])

    # -- symlink / unlink ---------------------------------------------------------
    def _symlink(self, target, parts):
        if os.path.lexists(self._real(parts)):
            raise _Refused(errno.EEXIST)
        self._check_parent(parts)
        dir_kind = _kind(parts[:-1])
        if dir_kind not in LINK_DIRS:
            raise _Refused(errno.EPERM)  # no allow_link(): "What lack-of-symlink returns"
        # get_target(): the target is looked up (following links) and must be a configfs dir
        if not os.path.exists(self.path(target)):
            raise _Refused(errno.ENOENT)
        if not os.path.isdir(self.path(target)):
            raise _Refused(errno.ENOTDIR)
        resolved = self._resolve(target)
        target_parts = self._parts(resolved) if resolved else None
        if target_parts is None:
            raise _Refused(errno.EPERM)  # not on the configfs superblock
        if _kind(target_parts) != LINK_DIRS[dir_kind]:
            raise _Refused(errno.EINVAL)  # allow_link(): wrong item type
        existing = self._links(parts[:-1])
        if dir_kind == "allowed_hosts":
            # nvmet_allowed_hosts_allow_link()
            if self._get(parts[:-2], "attr_allow_any_host") == "1":
                raise _Refused(errno.EINVAL)
            if any(posixpath.basename(path) == target_parts[-1] for path in existing.values()):
                raise _Refused(errno.EEXIST)
        else:
            # nvmet_port_subsys_allow_link(): the first link enables the port
            if resolved in existing.values():
                raise _Refused(errno.EEXIST)
            if not existing:
                self._enable_port(parts[:-2])
        # configfs_get_target_path(): "../" per level up to the configfs root, then the target
        text = "../" * (len(parts) - 1) + "/".join(target_parts)
        os.symlink(text, self._real(parts))

    def _unlink(self, parts):
        real = self._real(parts)
        if not os.path.lexists(real):
            raise _Refused(errno.ENOENT)
        if os.path.isdir(real) and not os.path.islink(real):
            raise _Refused(errno.EISDIR)
        if not os.path.islink(real):
            raise _Refused(errno.EPERM)  # configfs_unlink(): only symlinks can be removed
        if _kind(parts) == "port_subsystem_link":
            # nvmet_port_subsys_drop_link(): that port's controllers of that subsystem go;
            # the last link disables the port
            target = self._resolve(self._host(parts))
            if target is not None:
                self._drop_controllers(posixpath.basename(target), port_id=parts[2])
        os.unlink(real)

    # -- ports --------------------------------------------------------------------
    def _port_enabled(self, port_parts):
        return bool(self._links(port_parts + ["subsystems"]))

    def _listener(self, port_parts):
        """nvmet-tcp/rdma add_port(): (address, port number) or EINVAL, as inet_pton_with_scope()."""
        adrfam = self._get(port_parts, "addr_adrfam")
        if adrfam not in ("ipv4", "ipv6"):
            raise _Refused(errno.EINVAL)
        text = self._get(port_parts, "addr_traddr")
        if adrfam == "ipv6":
            text = text.split("%", 1)[0]  # a scope id is allowed after %
        try:
            address = (ipaddress.IPv4Address if adrfam == "ipv4" else ipaddress.IPv6Address)(text)
        except ValueError:
            raise _Refused(errno.EINVAL)
        try:
            number = _kstrtoul(self._get(port_parts, "addr_trsvcid"), 0xffff)
        except _Refused:
            raise _Refused(errno.EINVAL)
        return address, number

    @staticmethod
    def _overlap(one, other):
        """Two listeners on one TCP port conflict (even with SO_REUSEADDR, once listening)
        when the addresses are equal or one is a wildcard covering the other; the
        IPv6 wildcard is dual-stack."""
        if one == other:
            return True
        for wild, addr in ((one, other), (other, one)):
            if wild.is_unspecified and (wild.version == 6 or addr.version == 4):
                return True
        return False

    def _enable_port(self, port_parts):
        """nvmet_enable_port() and the transport's add_port(); errors are the link's errno."""
        trtype = self._get(port_parts, "addr_trtype")
        if trtype not in self.transports:
            raise _Refused(errno.EINVAL)  # "transport type %d not supported"
        if self._get(port_parts, "param_pi_enable") == "1" and trtype != "rdma":
            raise _Refused(errno.EINVAL)  # only nvmet-rdma sets NVMF_METADATA_SUPPORTED
        if trtype in ("tcp", "rdma"):
            address, number = self._listener(port_parts)
            if not address.is_unspecified and address not in self.local_addresses:
                raise _Refused(errno.EADDRNOTAVAIL)  # kernel_bind() of a foreign address
            for other in self._items("ports"):
                other_parts = ["nvmet", "ports", other]
                if other_parts == port_parts or not self._port_enabled(other_parts):
                    continue
                if self._get(other_parts, "addr_trtype") != trtype:
                    continue
                other_address, other_number = self._listener(other_parts)
                if other_number == number and self._overlap(address, other_address):
                    raise _Refused(errno.EADDRINUSE)
        if int(self._get(port_parts, "param_inline_data_size")) < 0:
            default = {"tcp": TCP_DEF_INLINE_DATA_SIZE, "rdma": RDMA_DEF_INLINE_DATA_SIZE}.get(trtype, 0)
            self._put(port_parts, "param_inline_data_size", str(default))

    # -- attribute stores ---------------------------------------------------------
    def _write(self, parts, data):
        real = self._real(parts)
        if os.path.isdir(real):
            raise _Refused(errno.EISDIR)  # also a link in allowed_hosts or ports/*/subsystems
        self._check_parent(parts)
        if not os.path.lexists(real):
            raise _Refused(errno.EACCES)  # open(O_CREAT): configfs dirs have no ->create
        if data == "":
            return  # write() of nothing never reaches the store method
        dirparts, attr = parts[:-1], parts[-1]
        store = {"root": self._store_root, "subsystem": self._store_subsystem,
                 "namespace": self._store_namespace, "port": self._store_port,
                 "referral": self._store_port, "ana_group": self._store_ana_group,
                 "ana_group_default": self._store_ana_group, "host": self._store_host,
                 }.get(_kind(dirparts))
        if store is None:
            self._put(dirparts, attr, _line(data))  # passthru and foreign configfs: taken as is
            return
        store(dirparts, attr, data)

    def _store_root(self, d, attr, value):
        # nvmet_root_discovery_nqn_store()
        nqn = _line(value)
        if not nqn or len(nqn) > NQN_FIELD_LEN - 1:
            raise _Refused(errno.EINVAL)
        if any(name.startswith(nqn) for name in self._items("subsystems")):  # strncmp(name, page, len)
            raise _Refused(errno.EINVAL)
        self._put(d, attr, nqn)

    def _store_subsystem(self, d, attr, value):
        discovered = d[-1] in self._discovered
        if attr == "attr_allow_any_host":
            allow = _kstrtobool(value)
            if allow and self._links(d + ["allowed_hosts"]):
                raise _Refused(errno.EINVAL)  # "Can't set allow_any_host when explicit hosts are set!"
            self._put(d, attr, "1" if allow else "0")
        elif attr == "attr_version":
            if discovered:
                raise _Refused(errno.EINVAL)
            match = re.match(r"\s*([0-9]+)\.\s*([0-9]+)(?:\.\s*([0-9]+))?", value)  # sscanf "%d.%d.%d"
            if not match:
                raise _Refused(errno.EINVAL)
            major, minor, tertiary = (int(group or 0) for group in match.groups())
            self._put(d, attr, "%d.%d.%d" % (major, minor, tertiary) if tertiary else "%d.%d" % (major, minor))
        elif attr in ("attr_serial", "attr_model", "attr_firmware"):
            if discovered:
                raise _Refused(errno.EINVAL)  # "Can't set ... is already assigned"
            text = _line(value)
            limit = {"attr_serial": SN_MAX, "attr_model": MN_MAX, "attr_firmware": FR_MAX}[attr]
            if not text or len(text) > limit or not _ascii(text):
                raise _Refused(errno.EINVAL)
            # the serial is memcpy_and_pad()ed with blanks to NVMET_SN_MAX_SIZE
            self._put(d, attr, text.ljust(SN_MAX) if attr == "attr_serial" else text)
        elif attr in ("attr_cntlid_min", "attr_cntlid_max"):
            number = _sscanf_hu(value)
            if number == 0:
                raise _Refused(errno.EINVAL)
            low = number if attr == "attr_cntlid_min" else int(self._get(d, "attr_cntlid_min"))
            high = number if attr == "attr_cntlid_max" else int(self._get(d, "attr_cntlid_max"))
            # min == max: refused by the older stores (5.16-era source), allowed by the 6.12 one
            if low > high or (low == high and self.kernel == "6.1"):
                raise _Refused(errno.EINVAL)
            self._put(d, attr, str(number))
        elif attr == "attr_qid_max":
            number = _sscanf_hu(value)
            if not 1 <= number <= NR_QUEUES:
                raise _Refused(errno.EINVAL)
            self._put(d, attr, str(number))
            if self.kernel == "6.12":
                self._drop_controllers(d[-1])  # 6.2+: "Force reconnect"
        elif attr == "attr_pi_enable":
            self._put(d, attr, "1" if _kstrtobool(value) else "0")
        elif attr == "attr_ieee_oui":
            if discovered:
                raise _Refused(errno.EINVAL)
            number = _kstrtoul(value, 0xffffffff)
            if number >= 0x1000000:
                raise _Refused(errno.EINVAL)
            self._put(d, attr, "0x%06x" % number)
        else:
            self._put(d, attr, _line(value))

    def _store_namespace(self, d, attr, value):
        enabled = self._get(d, "enable") == "1"
        if attr in ("device_path", "device_uuid", "device_nguid"):
            if enabled:
                raise _Refused(errno.EBUSY)
            if attr == "device_path":
                if not _line(value):
                    raise _Refused(errno.EINVAL)
                self._put(d, attr, _line(value))
            else:
                self._put(d, attr, _uuid(value) if attr == "device_uuid" else _nguid(value))
        elif attr == "ana_grpid":
            grpid = _kstrtoul(value, 0xffffffff)  # kstrtou32's error as is; allowed while enabled
            if not 1 <= grpid <= MAX_ANAGRPS:
                raise _Refused(errno.EINVAL)
            self._put(d, attr, str(grpid))
        elif attr == "enable":
            enable = _kstrtobool(value)
            if enable and not enabled:
                self._enable_namespace(d)
            self._put(d, attr, "1" if enable else "0")
        elif attr == "buffered_io":
            buffered = _kstrtobool(value)
            if enabled:
                raise _Refused(errno.EINVAL)  # "disable ns before setting buffered_io value."
            self._put(d, attr, "1" if buffered else "0")
        elif attr == "revalidate_size":
            if not _kstrtobool(value) or not enabled:
                raise _Refused(errno.EINVAL)

    def _enable_namespace(self, d):
        """nvmet_ns_enable(): a block device (bdev backend) or else a file that opens O_RDWR."""
        siblings = self._real(d[:-1])
        if sum(self._get(d[:-1] + [nsid], "enable") == "1" for nsid in os.listdir(siblings)) >= MAX_NAMESPACES:
            raise _Refused(errno.EMFILE)
        device = self._get(d, "device_path")
        if device == "(null)":
            raise _Refused(errno.EINVAL)  # lookup_bdev() of a NULL path
        if not device.startswith("/") or not os.path.exists(self.path(device)):
            raise _Refused(errno.ENOENT)
        if os.path.isdir(self.path(device)):
            raise _Refused(errno.EISDIR)  # ENOTBLK, then filp_open(O_RDWR) of a directory

    def _store_port(self, d, attr, value):
        """Port and referral addresses: EACCES while enabled (nvmet_is_port_enabled())."""
        if _kind(d) == "referral":
            if attr == "enable":
                self._put(d, attr, "1" if _kstrtobool(value) else "0")
                return
            enabled = self._get(d, "enable") == "1"
        else:
            enabled = self._port_enabled(d)
        # a few stores validate before they look at the port
        parsed = None
        if attr in ("addr_traddr", "addr_trsvcid"):
            if len(value) > (TRADDR_SIZE if attr == "addr_traddr" else TRSVCID_SIZE):
                raise _Refused(errno.EINVAL)
        elif attr == "param_pi_enable":
            parsed = "1" if _kstrtobool(value) else "0"
        elif attr == "addr_portid":
            try:
                parsed = str(_kstrtoul(value, 0xffff))
            except _Refused:
                raise _Refused(errno.EINVAL)
        if enabled:
            raise _Refused(errno.EACCES)
        if parsed is not None:
            self._put(d, attr, parsed)
        elif attr in ("addr_traddr", "addr_trsvcid"):
            words = value.split()  # sscanf(page, "%s\n")
            if not words:
                raise _Refused(errno.EINVAL)
            self._put(d, attr, words[0])
        elif attr == "addr_adrfam":
            self._put(d, attr, _choice(value, ADRFAMS))
        elif attr == "addr_treq":
            self._put(d, attr, _choice(value, TREQS))
        elif attr == "addr_trtype":
            trtype = _choice(value, TRTYPES)
            self._put(d, attr, trtype)
            if os.path.exists(self._real(d + ["addr_tsas"])):
                # the transport-specific address subtype is reset with the type
                self._put(d, "addr_tsas", {"tcp": "none", "rdma": "connected"}.get(trtype, "reserved"))
        elif attr == "addr_tsas":
            # 6.7+: TCP only; tls1.3 needs the .nvme keyring (nvmet_addr_tsas_store), and
            # makes TLS required unless a secure channel requirement was set before
            sectype = _choice(value, ("none", "tls1.3")) if self._get(d, "addr_trtype") == "tcp" else None
            if sectype is None or (sectype == "tls1.3" and not self.tls_keyring):
                raise _Refused(errno.EINVAL)
            self._put(d, attr, sectype)
            self._put(d, "addr_treq", "required" if sectype == "tls1.3" else "not specified")
        elif attr in ("param_inline_data_size", "param_max_queue_size"):
            self._put(d, attr, str(_kstrtoint(value)))
        else:
            self._put(d, attr, _line(value))

    def _store_ana_group(self, d, attr, value):
        self._put(d, attr, _choice(value, ANA_STATES))  # allowed while the port is enabled

    def _store_host(self, d, attr, value):
        if attr in ("dhchap_key", "dhchap_ctrl_key"):
            # nvmet_auth_set_key(): sscanf("DHHC-1:%hhd:%*s"), hash id 0..3, kept strim()med
            match = re.match(r"DHHC-1:([+-]?[0-9]+)", value)
            if not match or int(match.group(1)) & 0xff > 3:
                raise _Refused(errno.EINVAL)
            self._put(d, attr, value.strip())
        elif attr == "dhchap_hash":
            self._put(d, attr, _choice(value, DHCHAP_HASHES))
        elif attr == "dhchap_dhgroup":
            self._put(d, attr, _choice(value, DHCHAP_DHGROUPS))
        else:
            self._put(d, attr, _line(value))
