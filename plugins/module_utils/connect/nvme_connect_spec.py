# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validates a declared NVMe/TCP connection and renders what the kernel and nvme-cli read.

The normal form of a connection is the subsystem NQN, its paths (transport,
address, service id, optional host interface or host address) and the
connection options. From it comes the option string written to
/dev/nvme-fabrics for one path (the kernel's own interface: no nvme-cli
version differences); what brings the paths back at boot is rendered by
nvme_connect_persist. Errors name the option and the value; secrets are
named, never quoted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.names import (
    DHCHAP_SECRET, SpecError, ip_address, validate_nqn)

DEFAULT_SERVICE_ID = 4420
DISCOVERY_SERVICE_ID = 8009
# Kernel option name -> (lowest, highest); -1 means "forever" or "off" where allowed.
OPTION_RANGES = {
    "ctrl_loss_tmo": (-1, 1 << 30),
    "reconnect_delay": (1, 1 << 30),
    "fast_io_fail_tmo": (-1, 1 << 30),
    "keep_alive_tmo": (0, 65535),
    "nr_io_queues": (1, 1024),
    "nr_poll_queues": (0, 1024),
}
SECRET_OPTIONS = ("dhchap_secret", "dhchap_ctrl_secret")
_IFACE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")


def _fail(option, value, problem):
    raise SpecError("%s: %r %s" % (option, value, problem))


def _address(option, value):
    return ip_address(option, value)[0]


def _service_id(option, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        _fail(option, value, "is out of range 1..65535")
    return value


def normalize_endpoint(option, path, default_service_id=DEFAULT_SERVICE_ID):
    """One path or discovery endpoint in normal form; errors name ``option``."""
    transport = path.get("transport") or "tcp"
    if transport != "tcp":
        _fail(option + ".transport", transport, "is not supported (tcp)")
    normal = {
        "transport": transport,
        "address": _address(option + ".address", path.get("address")),
        "service_id": _service_id(option + ".service_id", path.get("service_id", default_service_id)),
        "host_iface": path.get("host_iface"),
        "host_traddr": None,
    }
    if normal["host_iface"] is not None and not _IFACE.match(str(normal["host_iface"])):
        _fail(option + ".host_iface", normal["host_iface"], "is not a network interface name")
    if path.get("host_traddr") is not None:
        normal["host_traddr"] = _address(option + ".host_traddr", path["host_traddr"])
    return normal


def normalize_options(params):
    """The connection options that are set, checked against each other as the kernel does."""
    options = {}
    for name, (low, high) in sorted(OPTION_RANGES.items()):
        value = params.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            _fail(name, value, "is out of range %d..%d" % (low, high))
        options[name] = value
    loss, delay = options.get("ctrl_loss_tmo"), options.get("reconnect_delay", 10)
    if loss is not None and 0 <= loss < delay:
        raise SpecError("ctrl_loss_tmo: %d is shorter than reconnect_delay (%d): the kernel would "
                        "never reconnect; use -1 to retry forever" % (loss, delay))
    fail_fast = options.get("fast_io_fail_tmo")
    if fail_fast is not None and fail_fast >= 0 and loss is not None and 0 <= loss < fail_fast:
        raise SpecError("fast_io_fail_tmo: %d is longer than ctrl_loss_tmo (%d): I/O would fail "
                        "before it could fail fast" % (fail_fast, loss))
    for name in SECRET_OPTIONS:
        secret = params.get(name)
        if secret is not None:
            if not DHCHAP_SECRET.match(secret):
                raise SpecError("%s is not a DH-HMAC-CHAP secret in the 'DHHC-1:0N:<base64>:' form "
                                "(see nvme gen-dhchap-key)" % name)
            options[name] = secret
    tls = params.get("tls", False)
    if not isinstance(tls, bool):
        _fail("tls", tls, "is not a boolean")
    if tls:
        options["tls"] = True
    if "dhchap_ctrl_secret" in options and "dhchap_secret" not in options:
        raise SpecError("dhchap_ctrl_secret needs dhchap_secret: bidirectional authentication starts "
                        "with the host secret")
    return options


def normalize(params):
    """The normal form of one connection: NQN, state, paths and options."""
    nqn = validate_nqn("nqn", params.get("nqn"))
    paths = [normalize_endpoint("paths[%d]" % index, path)
             for index, path in enumerate(params.get("paths") or [])]
    if not paths:
        raise SpecError("paths: at least one path (address, service_id) is needed for %s" % nqn)
    seen = set()
    for path in paths:
        key = path_key(path)
        if key in seen:
            _fail("paths", "%s port %s" % (path["address"], path["service_id"]), "is declared more than once")
        seen.add(key)
    return {"nqn": nqn, "state": params.get("state") or "present", "paths": paths,
            "options": normalize_options(params)}


def path_key(path):
    """What identifies a path among the live controllers."""
    return (path["transport"], path["address"], path["service_id"],
            path.get("host_iface") or None, path.get("host_traddr") or None)


def connect_string(nqn, path, options, hostnqn, hostid):
    """The option string the kernel reads from /dev/nvme-fabrics for one path."""
    fields = [("nqn", nqn), ("transport", path["transport"]), ("traddr", path["address"]),
              ("trsvcid", path["service_id"])]
    fields += [(name, path[name]) for name in ("host_traddr", "host_iface") if path.get(name)]
    fields += [("hostnqn", hostnqn), ("hostid", hostid)]
    fields += sorted(options.items())
    # Flags (tls) are bare words in the kernel's option string.
    return ",".join(name if value is True else "%s=%s" % (name, value) for name, value in fields)
