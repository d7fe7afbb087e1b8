# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validates a declared nvmet subsystem and turns it into its normal form.

The normal form is what the planner reconciles and what is saved for the
boot-time restore: every id resolved (serial, uuid and nguid derived when not
given), addresses in canonical form, values checked the way the kernel would
check them, so that configfs never gets to refuse (or half-accept) a value.
Every error names the option and the offending value; secrets are named but
never quoted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re
import uuid

from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.names import (
    DHCHAP_SECRET, SpecError, fail as _fail, ip_address, validate_nqn)

NSID_MAX = 1024
ANA_GROUP_MAX = 128
SERIAL_MAX = 20
MODEL_MAX = 40
ANA_STATES = ("optimized", "non-optimized", "inaccessible", "persistent-loss", "change")
DHCHAP_HASHES = ("hmac(sha256)", "hmac(sha384)", "hmac(sha512)")
DHCHAP_DHGROUPS = ("null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192")

# The options of one subsystem, as modules nvmet_subsystem and nvmet_target take them.
SUBSYSTEM_OPTIONS = dict(
    nqn=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    serial=dict(type="str"),
    model=dict(type="str"),
    allow_any_host=dict(type="bool", default=False),
    cluster_aware=dict(type="bool", default=False),
    hosts=dict(type="list", elements="dict", default=[], options=dict(
        nqn=dict(type="str", required=True),
        dhchap_key=dict(type="str", no_log=True),
        dhchap_ctrl_key=dict(type="str", no_log=True),
        dhchap_hash=dict(type="str", choices=list(DHCHAP_HASHES)),
        dhchap_dhgroup=dict(type="str", choices=list(DHCHAP_DHGROUPS)),
    )),
    namespaces=dict(type="list", elements="dict", default=[], options=dict(
        nsid=dict(type="int", required=True),
        device_path=dict(type="path", required=True),
        uuid=dict(type="str"),
        nguid=dict(type="str"),
        enabled=dict(type="bool", default=True),
        ana_group=dict(type="int", default=1),
        buffered_io=dict(type="bool", default=False),
    )),
    listeners=dict(type="list", elements="dict", default=[], options=dict(
        address=dict(type="str", required=True),
        service_id=dict(type="int", default=4420),
        transport=dict(type="str", choices=["tcp"], default="tcp"),
        port_id=dict(type="int"),
        inline_data_size=dict(type="int"),
        tls=dict(type="bool", default=False),
        ana_groups=dict(type="list", elements="dict", default=[], options=dict(
            group=dict(type="int", required=True),
            state=dict(type="str", required=True, choices=list(ANA_STATES)),
        )),
    )),
)

_HEX_ID = re.compile(r"^[0-9a-fA-F]{32}$")
# Derived ids are uuid5 names under this namespace: stable across runs and hosts.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "nvmeof-fleet.invalid")


def _ascii_text(option, value, limit):
    if not value or len(value) > limit or any(not " " <= char <= "~" for char in value) \
            or value != value.strip(" "):
        _fail(option, value, "must be 1 to %d printable ASCII characters without leading or "
              "trailing spaces" % limit)
    return value


def _in_range(option, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _fail(option, value, "is out of range %d..%d" % (low, high))
    return value


def kernel_uuid(option, value):
    """A uuid in the kernel's %pUb form (lower-case, dashed); the nil uuid is refused."""
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        _fail(option, value, "is not a UUID")
    if parsed.int == 0:
        _fail(option, value, "is the nil UUID, which hosts treat as no UUID")
    return str(parsed)


def kernel_nguid(option, value):
    """An NGUID (16 bytes in hex, '-' or ':' allowed) in the form configfs shows it."""
    digits = str(value).replace("-", "").replace(":", "")
    if not _HEX_ID.match(digits) or int(digits, 16) == 0:
        _fail(option, value, "is not an NGUID (32 hexadecimal digits, not all zero)")
    return str(uuid.UUID(hex=digits))


def derived_serial(nqn):
    return hashlib.sha256(("serial:" + nqn).encode("utf-8")).hexdigest()[:SERIAL_MAX]


def derived_uuid(nqn, nsid, kind="uuid"):
    return str(uuid.uuid5(ID_NAMESPACE, "%s/%s/namespace/%d" % (kind, nqn, nsid)))


def _duplicates(items, key):
    seen, repeated = set(), []
    for item in items:
        value = key(item)
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


def _normal_host(index, host):
    option = "hosts[%d]" % index
    normal = {"nqn": validate_nqn(option + ".nqn", host.get("nqn"))}
    for name in ("dhchap_key", "dhchap_ctrl_key"):
        secret = host.get(name)
        if secret is not None and not DHCHAP_SECRET.match(secret):
            # The value is a secret: name the option and host, never the value.
            raise SpecError("%s.%s of host %s is not a DH-HMAC-CHAP secret in the "
                            "'DHHC-1:0N:<base64>:' form (see nvme gen-dhchap-key)"
                            % (option, name, normal["nqn"]))
        normal[name] = secret
    if normal["dhchap_ctrl_key"] and not normal["dhchap_key"]:
        raise SpecError("%s.dhchap_ctrl_key of host %s needs %s.dhchap_key: bidirectional "
                        "authentication starts with the host key" % (option, normal["nqn"], option))
    for name, choices in (("dhchap_hash", DHCHAP_HASHES), ("dhchap_dhgroup", DHCHAP_DHGROUPS)):
        value = host.get(name)
        if value is not None and value not in choices:
            _fail("%s.%s" % (option, name), value, "is not one of %s" % ", ".join(choices))
        normal[name] = value
    return normal


def _normal_namespace(nqn, index, namespace):
    option = "namespaces[%d]" % index
    nsid = _in_range(option + ".nsid", namespace.get("nsid"), 1, NSID_MAX)
    device = namespace.get("device_path")
    if not isinstance(device, str) or not device.startswith("/") or "\n" in device:
        _fail(option + ".device_path", device, "must be an absolute path")
    given_uuid, given_nguid = namespace.get("uuid"), namespace.get("nguid")
    return {
        "nsid": nsid,
        "device_path": device,
        "uuid": kernel_uuid(option + ".uuid", given_uuid) if given_uuid
        else derived_uuid(nqn, nsid),
        "nguid": kernel_nguid(option + ".nguid", given_nguid) if given_nguid
        else derived_uuid(nqn, nsid, kind="nguid"),
        "enabled": bool(namespace.get("enabled", True)),
        "ana_group": _in_range(option + ".ana_group", namespace.get("ana_group", 1), 1, ANA_GROUP_MAX),
        "buffered_io": bool(namespace.get("buffered_io", False)),
    }


def _normal_listener(index, listener):
    option = "listeners[%d]" % index
    transport = listener.get("transport") or "tcp"
    if transport != "tcp":
        _fail(option + ".transport", transport, "is not supported (tcp)")
    address, family = ip_address(option + ".address", listener.get("address"))
    port_id = listener.get("port_id")
    inline = listener.get("inline_data_size")
    groups = []
    for number, group in enumerate(listener.get("ana_groups") or []):
        where = "%s.ana_groups[%d]" % (option, number)
        state = group.get("state")
        if state not in ANA_STATES:
            _fail(where + ".state", state, "is not one of %s" % ", ".join(ANA_STATES))
        groups.append({"group": _in_range(where + ".group", group.get("group"), 1, ANA_GROUP_MAX),
                       "state": state})
    for group in _duplicates(groups, lambda item: item["group"]):
        _fail(option + ".ana_groups", group, "is declared twice")
    tls = listener.get("tls", False)
    if not isinstance(tls, bool):
        _fail(option + ".tls", tls, "is not a boolean")
    normal = {
        "transport": transport,
        "address": address,
        "address_family": family,
        "service_id": _in_range(option + ".service_id", listener.get("service_id", 4420), 1, 65535),
        "port_id": None if port_id is None else _in_range(option + ".port_id", port_id, 1, 65535),
        "inline_data_size": None if inline is None
        else _in_range(option + ".inline_data_size", inline, 0, 1 << 30),
        "ana_groups": sorted(groups, key=lambda item: item["group"]),
    }
    # Only when asked: subsystems saved before TLS existed keep their saved form.
    if tls:
        normal["tls"] = True
    return normal


def normalize(params):
    """The normal form of module parameters (a dict shaped like the module options)."""
    nqn = validate_nqn("nqn", params.get("nqn"))
    state = params.get("state") or "present"
    spec = {"nqn": nqn, "state": state}
    if state == "absent":
        return spec
    serial, model = params.get("serial"), params.get("model")
    spec.update({
        "serial": _ascii_text("serial", serial, SERIAL_MAX) if serial is not None
        else derived_serial(nqn),
        "model": None if model is None else _ascii_text("model", model, MODEL_MAX),
        "allow_any_host": bool(params.get("allow_any_host")),
        "cluster_aware": bool(params.get("cluster_aware")),
        "hosts": [_normal_host(index, host) for index, host in enumerate(params.get("hosts") or [])],
        "namespaces": [_normal_namespace(nqn, index, namespace)
                       for index, namespace in enumerate(params.get("namespaces") or [])],
        "listeners": [_normal_listener(index, listener)
                      for index, listener in enumerate(params.get("listeners") or [])],
    })
    _check_combinations(spec)
    spec["hosts"].sort(key=lambda item: item["nqn"])
    spec["namespaces"].sort(key=lambda item: item["nsid"])
    return spec


def _check_combinations(spec):
    for nsid in _duplicates(spec["namespaces"], lambda item: item["nsid"]):
        _fail("namespaces", nsid, "is used as nsid by more than one namespace")
    for name in ("uuid", "nguid"):
        for value in _duplicates(spec["namespaces"], lambda item, name=name: item[name]):
            _fail("namespaces", value, "is the %s of more than one namespace" % name)
    for host in _duplicates(spec["hosts"], lambda item: item["nqn"]):
        _fail("hosts", host, "is listed more than once")
    for listener in _duplicates(spec["listeners"],
                                lambda item: (item["address"], item["service_id"])):
        _fail("listeners", "%s port %s" % listener, "is declared more than once")
    for port_id in _duplicates([item for item in spec["listeners"] if item["port_id"]],
                               lambda item: item["port_id"]):
        _fail("listeners", port_id, "is the port_id of more than one listener")
    if spec["allow_any_host"] and spec["hosts"]:
        raise SpecError("allow_any_host=true and hosts (%s) exclude each other: the kernel admits "
                        "either any host or the listed ones"
                        % ", ".join(host["nqn"] for host in spec["hosts"]))
    if len(spec["hosts"]) > 1 and not spec["cluster_aware"]:
        raise SpecError("hosts: %s may all attach the same namespaces; ext4 or xfs mounted on two "
                        "hosts corrupts at once. Set cluster_aware=true only if the consumer is "
                        "cluster-aware (GFS2, OCFS2, clustered LVM, a cluster database)"
                        % ", ".join(host["nqn"] for host in spec["hosts"]))
