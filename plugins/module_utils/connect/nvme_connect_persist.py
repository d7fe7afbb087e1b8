# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bringing declared NVMe/TCP connections back after a reboot, through nvme-cli's own boot path.

nvme-cli ships nvmf-autoconnect.service, which runs ``nvme connect-all`` once
at boot. The collection writes what that command reads rather than adding a
boot service of its own:

- nvme-cli 2.x (Debian 12: 2.3 with libnvme 1.3) reads /etc/nvme/discovery.conf:
  one discovery endpoint per line, written as ``nvme discover`` flags. For each
  line, connect-all connects EVERY subsystem that endpoint offers to this host,
  not only the declared one, with that line's options. A Linux nvmet port
  serves the discovery subsystem on every port, so each path's own address is
  its discovery endpoint. One line per endpoint means connections that share
  an endpoint must persist the same options, and fast_io_fail_tmo and
  DH-HMAC-CHAP secrets cannot be carried at all (2.x has no such flag there,
  or ignores it). The collection owns one marked block of the file; every
  other line stays byte for byte. /etc/nvme/config.json is not used: 2.3
  treats its ports as discovery controllers, libnvme 1.3 drops ctrl_loss_tmo
  from it, and in 2.3/2.4 its mere presence (next to discovery.conf) keeps
  nvmf-autoconnect.service from starting (inverted ConditionPathExists).
- nvme-cli 3.x reads the INI file /etc/nvme/nvme-fabrics.conf plus the drop-in
  directory nvme-fabrics.conf.d/ (``*.conf``, read in alphabetical order). The
  collection owns the whole drop-in nvmeof-fleet.conf: one [Subsystem] per
  connection with one ``controller =`` line per path (only that subsystem
  connects), and one [Discovery Controller] per discovery record.

Each persisted connection is saved as a record under SAVED_DIR (mode 0600: it
may hold secrets) and the config file is rendered again from all records, so
the file never depends on the order of runs. Everything is validated and
rendered before anything is written: an error leaves every file as it was.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
import re

from ansible_collections.nvmeof.fleet.plugins.module_utils.host.commands import CommandError
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_spec import path_key

SAVED_DIR = "/etc/nvmeof-fleet/nvme/connections"
_FILES = {"discovery.conf": "/etc/nvme/discovery.conf",
          "nvme-fabrics.conf": "/etc/nvme/nvme-fabrics.conf.d/nvmeof-fleet.conf"}
BEGIN = "# BEGIN nvmeof.fleet managed block (do not edit)"
END = "# END nvmeof.fleet managed block"
# What a 2.x discovery.conf line carries, in the order it is written.
DISCOVERY_CONF_OPTIONS = ("ctrl_loss_tmo", "reconnect_delay", "keep_alive_tmo", "nr_io_queues", "nr_poll_queues")
# Option -> nvme-fabrics.conf key. libnvme renamed dhchap-secret to kxchap-secret
# after 3.0-rc1 (TP4201); unknown keys are ignored there, so the name matters.
FABRICS_KEYS = (("ctrl_loss_tmo", "ctrl-loss-tmo"), ("reconnect_delay", "reconnect-delay"),
                ("fast_io_fail_tmo", "fast-io-fail-tmo"), ("keep_alive_tmo", "keep-alive-tmo"),
                ("nr_io_queues", "nr-io-queues"), ("nr_poll_queues", "nr-poll-queues"),
                ("dhchap_secret", "kxchap-secret"), ("dhchap_ctrl_secret", "kxchap-ctrl-secret"),
                ("tls", "tls"))
FABRICS_HEADER = ("# Managed by nvmeof.fleet: nvme connect-all (nvmf-autoconnect.service) brings\n"
                  "# these connections back at boot. Rewritten on every run: do not edit.\n")
_VERSION = re.compile(r"^nvme version v?(\d+)\.(\d+)", re.MULTILINE)
_SECRET = re.compile(r"DHHC-1:[^\s;]*")
_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


class PersistError(Exception):
    """A connection cannot be persisted as declared; str() says why and what to do instead."""


# -- which nvme-cli, which file ----------------------------------------------------

def nvme_cli_version(runner):
    """(major, minor) of the installed nvme-cli, or None when it is not installed."""
    try:
        out = runner.run(["nvme", "version"])[1] or ""
    except (CommandError, OSError):
        return None
    match = _VERSION.search(out)
    if not match:
        raise PersistError("cannot tell nvme-cli's version from what 'nvme version' printed: %r"
                           % out.strip()[:200])
    return int(match.group(1)), int(match.group(2))


def persistence_format(version):
    """The file nvme-cli reads at boot: 2.x discovery.conf, 3.x and later nvme-fabrics.conf."""
    if version is None:
        raise PersistError("nvme-cli is not installed ('nvme version' failed): bringing connections "
                           "back at boot needs nvme-cli 2 or 3")
    if version[0] == 2:
        return "discovery.conf"
    if version[0] >= 3:
        return "nvme-fabrics.conf"
    raise PersistError("nvme-cli %s is too old: bringing connections back at boot needs nvme-cli 2 or 3"
                       % ".".join(str(part) for part in version))


def config_path(fmt):
    if fmt not in _FILES:
        raise PersistError("unknown persistence format %r (discovery.conf or nvme-fabrics.conf)" % (fmt,))
    return _FILES[fmt]


# -- saved records -----------------------------------------------------------------

def _quote(text):
    """A file name from any text, reversibly: unsafe characters (':' '/' ...) become %XX."""
    return "".join(char if char in _SAFE else "%%%02X" % ord(char) for char in text)


def record_name(record):
    """The saved record's file name (without .json): the quoted NQN, or discovery-<addr>-<port>[-<iface>]."""
    kind = record.get("kind") if isinstance(record, dict) else None
    if kind == "subsystem":
        return _quote(record["nqn"])
    if kind == "discovery":
        endpoint = record["endpoint"]
        parts = ["discovery", endpoint["address"], str(endpoint["service_id"])]
        if endpoint.get("host_iface"):
            parts.append(endpoint["host_iface"])
        if endpoint.get("host_traddr"):
            parts += ["from", endpoint["host_traddr"]]
        return _quote("-".join(parts))
    raise PersistError("a connection record is of kind 'subsystem' or 'discovery', not %r" % (kind,))


def _saved_path(name):
    return "%s/%s.json" % (SAVED_DIR, name)


def load_records(fs):
    """Every saved record, sorted by name; a damaged one is an error naming its file."""
    records = []
    for entry in fs.list_dir(SAVED_DIR):
        if not entry.endswith(".json"):
            continue
        path = "%s/%s" % (SAVED_DIR, entry)
        try:
            record = json.loads(fs.read(path))
            record_name(record)
        except (ValueError, TypeError, KeyError, PersistError) as error:
            raise PersistError("%s is not a saved nvmeof.fleet connection record (%s); repair or remove it"
                               % (path, error))
        records.append(record)
    return sorted(records, key=record_name)


# -- rendering ---------------------------------------------------------------------

def _owner(record):
    return record["nqn"] if record["kind"] == "subsystem" else "discovery record %s" % record_name(record)


def _endpoints(record):
    return record["paths"] if record["kind"] == "subsystem" else [record["endpoint"]]


def _where(key):
    """An endpoint as error messages show it: tcp [fd90:1::11]:4420 host_iface eth1."""
    transport, address, service_id, iface, traddr = key
    text = "%s %s:%s" % (transport, "[%s]" % address if ":" in address else address, service_id)
    if iface:
        text += " host_iface %s" % iface
    if traddr:
        text += " host_traddr %s" % traddr
    return text


def _discovery_lines(records):
    """One discovery.conf line per distinct endpoint, sorted; refuses what 2.x cannot carry."""
    endpoints = {}
    for record in records:
        options = record.get("options") or {}
        unsupported = sorted(set(options) - set(DISCOVERY_CONF_OPTIONS))
        if unsupported:
            raise PersistError(
                "%s: %s cannot be persisted with nvme-cli 2.x: its /etc/nvme/discovery.conf, which nvme "
                "connect-all reads at boot, cannot carry %s; set persist: false for this connection "
                "(or drop the option)" % (_owner(record), ", ".join(unsupported),
                                          "it" if len(unsupported) == 1 else "them"))
        for key in [path_key(endpoint) for endpoint in _endpoints(record)]:
            if key not in endpoints:
                endpoints[key] = (record, options)
                continue
            first, first_options = endpoints[key]
            for name in DISCOVERY_CONF_OPTIONS:
                if first_options.get(name) != options.get(name):
                    shown = ["not set" if value is None else value
                             for value in (first_options.get(name), options.get(name))]
                    raise PersistError(
                        "%s and %s share the endpoint %s but persist different %s (%s and %s): nvme-cli "
                        "2.x's discovery.conf has one line per endpoint, whose options apply to every "
                        "subsystem it connects; declare the same %s for both"
                        % (_owner(first), _owner(record), _where(key), name, shown[0], shown[1], name))
    lines = []
    for key in sorted(endpoints, key=lambda key: tuple("" if part is None else part for part in key)):
        transport, address, service_id, iface, traddr = key
        fields = [("transport", transport), ("traddr", address), ("trsvcid", service_id)]
        fields += [(name, value) for name, value in (("host-iface", iface), ("host-traddr", traddr)) if value]
        options = endpoints[key][1]
        fields += [(name.replace("_", "-"), options[name]) for name in DISCOVERY_CONF_OPTIONS if name in options]
        lines.append(" ".join("--%s=%s" % field for field in fields))
    return lines


def _splice(existing, lines):
    """``existing`` with the managed block replaced by ``lines`` (removed when there are none)."""
    old = existing.splitlines(True) if existing else []
    begins = [index for index, line in enumerate(old) if line.rstrip("\r\n") == BEGIN]
    ends = [index for index, line in enumerate(old) if line.rstrip("\r\n") == END]
    if len(begins) > 1 or len(ends) != len(begins) or (begins and ends[0] < begins[0]):
        raise PersistError("%s: the nvmeof.fleet managed block is damaged (its BEGIN and END lines do not "
                           "pair up); repair or delete it by hand" % _FILES["discovery.conf"])
    block = "".join(line + "\n" for line in [BEGIN] + lines + [END]) if lines else ""
    if begins:
        return "".join(old[:begins[0]]) + block + "".join(old[ends[0] + 1:])
    if existing is None:
        return block or None
    if block and existing and not existing.endswith("\n"):
        existing += "\n"
    return existing + block


def _fabrics_section(record):
    if record["kind"] == "subsystem":
        lines = ["[Subsystem]", "nqn = %s" % record["nqn"]]
    else:
        lines = ["[Discovery Controller]"]
    options = record.get("options") or {}
    unknown = sorted(set(options) - set(name for name, _key in FABRICS_KEYS))
    if unknown:
        raise PersistError("%s: %s cannot be persisted in nvme-fabrics.conf" % (_owner(record), ", ".join(unknown)))
    lines += ["%s = %s" % (key, "true" if options[name] is True else options[name])
              for name, key in FABRICS_KEYS if name in options]
    for endpoint in _endpoints(record):
        fields = [("transport", endpoint["transport"]), ("traddr", endpoint["address"]),
                  ("trsvcid", endpoint["service_id"])]
        fields += [(key, endpoint[name]) for name, key in (("host_iface", "host-iface"),
                                                           ("host_traddr", "host-traddr")) if endpoint.get(name)]
        lines.append("controller = " + ";".join("%s=%s" % field for field in fields))
    return "\n" + "\n".join(lines) + "\n"


def render(fmt, records, existing_text=None):
    """The new config file text from all records; None means the file should not exist."""
    config_path(fmt)  # refuses an unknown format
    records = sorted(records, key=record_name)
    if fmt == "discovery.conf":
        return _splice(existing_text, _discovery_lines(records))
    if not records:
        return None
    return FABRICS_HEADER + "".join(_fabrics_section(record) for record in records)


def hide_secrets(text):
    """``text`` with every DH-HMAC-CHAP secret (DHHC-1:...) replaced by (hidden), for diffs and logs."""
    return None if text is None else _SECRET.sub("(hidden)", text)


# -- saving ------------------------------------------------------------------------

def _read_text(fs, path):
    """A config file exactly as it is, or None when absent."""
    try:
        return fs.read_text(path)
    except UnicodeDecodeError:
        raise PersistError("%s is not UTF-8 text; not rewriting it" % path)


def _make_dirs(fs, directory, mode):
    """Creates the missing directories down to ``directory`` with ``mode`` (a missing /etc: 0755)."""
    parts = directory.strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        path = "/" + "/".join(parts[:depth])
        if not fs.is_dir(path):
            fs.make_dir(path, mode=mode if depth > 1 else 0o755)


def persist(fs, fmt, record, present, check_mode=False):
    """Saves (present) or forgets one record and renders the boot config again from all records."""
    name = record_name(record)
    saved, target = _saved_path(name), config_path(fmt)
    records = dict((record_name(item), item) for item in load_records(fs))
    content = json.dumps(record, indent=2, sort_keys=True) + "\n"
    if present:
        records[name] = record
        record_changed = _read_text(fs, saved) != content
    else:
        records.pop(name, None)
        record_changed = fs.exists(saved)
    before = _read_text(fs, target)
    after = render(fmt, list(records.values()), before)
    if not check_mode:
        if record_changed and present:
            _make_dirs(fs, SAVED_DIR, 0o700)
            fs.write_file_atomic(saved, content, mode=0o600)
        elif record_changed:
            fs.unlink(saved)
        if after != before and after is None:
            fs.unlink(target)
        elif after != before:
            _make_dirs(fs, posixpath.dirname(target), 0o755)
            fs.write_file_atomic(target, after, mode=0o600)
    return {"changed": bool(record_changed or after != before), "file": target, "format": fmt,
            "record": name, "before": hide_secrets(before), "after": hide_secrets(after)}
