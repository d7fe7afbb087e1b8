# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report of filter nvmeof.fleet.fleet_report: declarations and live data -> one clean dictionary."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

DEFAULT_SERVICE_ID = 4420
DEFAULT_ANA_GROUP = 1  # what nvmet_subsystem gives a namespace without ana_group
HIDDEN = "(hidden)"
# DH-HMAC-CHAP secrets in their NVMe text form. Redacted wherever they turn up, because free text such as a health
# problem may quote a connect command line.
SECRET_PATTERN = re.compile(r"DHHC-1:[0-9A-Fa-f]{2}:[A-Za-z0-9+/=]+:?")
_HOST_KEYS = ("dhchap_key", "dhchap_ctrl_key")
_CONNECTION_SECRETS = ("dhchap_secret", "dhchap_ctrl_secret")
# Shorter declared values are not searched for: replacing them everywhere would mangle names and NQNs.
_MIN_SECRET_SEARCH = 8


def _fail(message):
    raise AnsibleFilterError("fleet_report: %s" % message)


def _mapping(value, where, what="a dictionary", optional=True):
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        _fail("%s must be %s, not %s" % (where, what, type(value).__name__))
    return value


def _sequence(value, where):
    if value is None:
        return []
    if isinstance(value, (Mapping, str, bytes)) or not hasattr(value, "__iter__"):
        _fail("%s must be a list, not %s" % (where, type(value).__name__))
    return list(value)


def _text(value, what, where):
    """A required, non-empty string."""
    if not isinstance(value, str) or not value.strip():
        _fail("%s has no %s" % (where, what) if value is None or value == ""
              else "%s: %s must be a non-empty string, not %r" % (where, what, value))
    return value.strip()


def _optional_text(value, what, where):
    if value is None:
        return None
    if not isinstance(value, str):
        _fail("%s: %s must be a string or null, not %r" % (where, what, value))
    return value


def _number(value, what, where, low, high, default=None):
    if value is None and default is not None:
        return default
    if isinstance(value, bool):
        _fail("%s: %s must be a number, not %r" % (where, what, value))
    try:
        number = int(value)
    except (TypeError, ValueError):
        _fail("%s: %s must be a number, not %r" % (where, what, value))
    if not low <= number <= high:
        _fail("%s: %s %d is out of range (%d-%d)" % (where, what, number, low, high))
    return number


def _integer(value):
    """Numbers the kernel reports as text (trsvcid), or None when they are not numbers."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def address_key(address):
    """The address as one string per host: IPv6 written any way is the same address."""
    if address is None:
        return None
    try:
        return ipaddress.ip_address(address.strip()).compressed
    except ValueError:
        return address.strip().lower()


def address_order(address):
    """Sorts IP addresses numerically, IPv4 first, names after them."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return (9, 0, address or "")
    return (parsed.version, int(parsed), "")


def _networks(value):
    networks = []
    for position, declared in enumerate(_sequence(value, "networks")):
        where = "networks[%d]" % position
        text = _text(declared, "network", where)
        try:
            networks.append((ipaddress.ip_network(text, strict=False), text))
        except ValueError:
            _fail("%s: %r is not a network in CIDR notation (10.90.1.0/24, fd00:90:1::/64)" % (where, text))
    return networks


def _network_of(networks, address):
    """The most specific declared network holding the address, as declared, or None."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    holding = [(network.prefixlen, text) for network, text in networks if parsed in network]
    return max(holding)[1] if holding else None


def _ana_groups(groups, where):
    result = []
    for position, group in enumerate(_sequence(groups, where)):
        group_where = "%s[%d]" % (where, position)
        group = _mapping(group, group_where, "a dictionary with group and state", optional=False)
        result.append({"group": _number(group.get("group"), "group", group_where, 1, 0xFFFFFFFE),
                       "state": _text(group.get("state"), "'state'", group_where)})
    return sorted(result, key=lambda item: item["group"])


def _by_nqn(subsystems, where):
    """The live subsystems by NQN; the first one wins, as the kernel cannot hold two."""
    found = {}
    for position, subsystem in enumerate(_sequence(subsystems, where)):
        subsystem = _mapping(subsystem, "%s[%d]" % (where, position), optional=False)
        found.setdefault(subsystem.get("nqn"), subsystem)
    return found


class _Builder(object):
    """Walks the input once; collects what the summary, the path lookup and the redaction need."""

    def __init__(self, networks):
        self.networks = networks
        self.secrets = set()
        self.listeners = {}  # (nqn, address key, port) and (address key, port) -> target names
        self.faults = 0  # what makes the fleet unhealthy, counted outside the paths
        self.nqns = set()

    def _host(self, group, name, entry, part):
        """(where, entry, live) of one host; live data that was not read counts against the fleet."""
        where = "%s.%s" % (group, name)
        entry = _mapping(entry, where)
        if entry.get("live") is None:
            self.faults += 1
        live = _mapping(entry.get("live"), where + ".live", "the '%s' value of nvmeof.fleet.nvme_info or null" % part)
        return where, entry, live

    def target(self, name, entry):
        where, entry, live = self._host("targets", name, entry, "target")
        live_subsystems = _by_nqn(live.get("subsystems"), where + ".live.subsystems")
        subsystems, seen = [], set()
        for position, declared in enumerate(_sequence(entry.get("subsystems"), where + ".subsystems")):
            sub_where = "%s.subsystems[%d]" % (where, position)
            declared = _mapping(declared, sub_where, "a subsystem (a dictionary)", optional=False)
            nqn = _text(declared.get("nqn"), "'nqn'", sub_where + " (a subsystem)")
            state = declared.get("state") or "present"
            if state not in ("present", "absent"):
                _fail("%s (%s): state must be present or absent, not %r" % (sub_where, nqn, state))
            if nqn in seen:
                _fail("%s: subsystem %s is declared twice on target %s" % (sub_where, nqn, name))
            seen.add(nqn)
            if state == "present":
                subsystems.append(self.target_subsystem(name, declared, nqn, sub_where, live_subsystems.get(nqn)))
        return {"name": name, "live": entry.get("live") is not None,
                "subsystems": sorted(subsystems, key=lambda item: item["nqn"])}

    def target_subsystem(self, target, declared, nqn, where, live):
        self.nqns.add(nqn)
        is_live = live is not None
        if not is_live:
            self.faults += 1
        live = live or {}
        where = "%s (subsystem %s)" % (where, nqn)
        live_namespaces = {}
        for namespace in _sequence(live.get("namespaces"), where + ": live namespaces"):
            if isinstance(namespace, Mapping):
                live_namespaces.setdefault(_integer(namespace.get("nsid")), namespace)
        live_listeners = {}
        for listener in _sequence(live.get("listeners"), where + ": live listeners"):
            if isinstance(listener, Mapping):
                key = (address_key(listener.get("address")), _integer(listener.get("service_id")))
                live_listeners.setdefault(key, listener)

        namespaces = []
        for position, namespace in enumerate(_sequence(declared.get("namespaces"), where + ".namespaces")):
            ns_where = "%s.namespaces[%d]" % (where, position)
            namespace = _mapping(namespace, ns_where, "a namespace (a dictionary)", optional=False)
            nsid = _number(namespace.get("nsid"), "nsid", ns_where, 1, 0xFFFFFFFE)
            found = live_namespaces.get(nsid)
            enabled = None if found is None or found.get("enabled") is None else bool(found.get("enabled"))
            if namespace.get("enabled", True) and enabled is not True:
                self.faults += 1
            namespaces.append({
                "nsid": nsid,
                "device_path": _optional_text(namespace.get("device_path"), "device_path", ns_where),
                "ana_group": _number(namespace.get("ana_group"), "ana_group", ns_where, 1, 0xFFFFFFFE,
                                     DEFAULT_ANA_GROUP),
                "enabled": enabled})

        listeners = []
        for position, listener in enumerate(_sequence(declared.get("listeners"), where + ".listeners")):
            lis_where = "%s.listeners[%d]" % (where, position)
            listener = _mapping(listener, lis_where, "a dictionary with 'address'", optional=False)
            address = address_key(_text(listener.get("address"), "'address'", lis_where))
            port = _number(listener.get("service_id"), "service_id", lis_where, 1, 65535, DEFAULT_SERVICE_ID)
            for key in ((nqn, address, port), (address, port)):
                self.listeners.setdefault(key, set()).add(target)
            found = live_listeners.get((address, port))
            groups = listener.get("ana_groups") if found is None else found.get("ana_groups")
            listeners.append({"address": address, "service_id": port,
                              "network": _network_of(self.networks, address),
                              "ana_groups": _ana_groups(groups, lis_where + ".ana_groups")})

        hosts = []
        for position, host in enumerate(_sequence(declared.get("hosts"), where + ".hosts")):
            host_where = "%s.hosts[%d]" % (where, position)
            host = _mapping(host, host_where, "a dictionary with 'nqn'", optional=False)
            keys = [host.get(key) for key in _HOST_KEYS if host.get(key) not in (None, "")]
            self.secrets.update(str(key) for key in keys)
            hosts.append({"nqn": _text(host.get("nqn"), "'nqn'", host_where),
                          "inventory_host": _optional_text(host.get("inventory_host"), "inventory_host", host_where),
                          "dhchap": bool(keys)})

        return {"nqn": nqn, "allow_any_host": bool(declared.get("allow_any_host")),
                "cluster_aware": bool(declared.get("cluster_aware")),
                "namespaces": sorted(namespaces, key=lambda item: item["nsid"]),
                "listeners": sorted(listeners, key=lambda item: (address_order(item["address"]), item["service_id"])),
                "allowed_hosts": sorted(hosts, key=lambda item: item["nqn"]),
                "live": is_live}

    def initiator(self, name, entry):
        where, entry, live = self._host("initiators", name, entry, "initiator")
        health = _mapping(entry.get("health"), where + ".health")
        problems = [str(problem) for problem in _sequence(health.get("problems"), where + ".health.problems")]
        self.faults += len(problems)
        expected = self.expected(entry.get("expected"), where + ".expected")
        live_subsystems = {}
        for nqn, subsystem in _by_nqn(live.get("subsystems"), where + ".live.subsystems").items():
            controllers = [controller for controller in _sequence(subsystem.get("controllers"),
                                                                  "%s.live: controllers of %s" % (where, nqn))
                           if isinstance(controller, Mapping) and controller.get("traddr")
                           and controller.get("transport") != "pcie"]
            # Local PCIe drives and discovery controllers are no paths of the fabric.
            if nqn in expected or (controllers and subsystem.get("subsystype") != "discovery"):
                live_subsystems[nqn] = (subsystem, controllers)
        subsystems = [self.initiator_subsystem(nqn, expected.get(nqn, {}), live_subsystems.get(nqn))
                      for nqn in sorted(set(expected) | set(live_subsystems))]
        return {"name": name, "hostnqn": _optional_text(entry.get("hostnqn"), "hostnqn", where),
                "live": entry.get("live") is not None, "health_problems": problems,
                "subsystems": subsystems}

    def expected(self, connections, where):
        """nqn -> {(address key, port): None}, in declared order, without duplicates."""
        expected = {}
        for position, connection in enumerate(_sequence(connections, where)):
            con_where = "%s[%d]" % (where, position)
            connection = _mapping(connection, con_where, "a connection (a dictionary)", optional=False)
            self.secrets.update(str(connection.get(key)) for key in _CONNECTION_SECRETS
                                if connection.get(key) not in (None, ""))
            nqn = _text(connection.get("nqn"), "'nqn'", con_where + " (a connection)")
            paths = expected.setdefault(nqn, {})
            for number, path in enumerate(_sequence(connection.get("paths"), con_where + ".paths")):
                path_where = "%s.paths[%d] (subsystem %s)" % (con_where, number, nqn)
                path = _mapping(path, path_where, "a dictionary with 'address'", optional=False)
                key = (address_key(_text(path.get("address"), "'address'", path_where)),
                       _number(path.get("service_id"), "service_id", path_where, 1, 65535, DEFAULT_SERVICE_ID))
                paths.setdefault(key, None)
        return expected

    def initiator_subsystem(self, nqn, expected, live):
        subsystem, controllers = live or ({}, [])
        by_key = {}
        for controller in controllers:
            key = (address_key(controller.get("traddr")), _integer(controller.get("trsvcid")))
            by_key.setdefault(key, []).append(controller)
        paths = [self.path(nqn, key, (by_key.get(key) or [None]).pop(0), True) for key in expected]
        # What is left (another address, or a second connection to the same one) was not declared.
        paths.extend(self.path(nqn, key, controller, False)
                     for key, rest in by_key.items() for controller in rest)
        devices = [namespace.get("name") for namespace in _sequence(subsystem.get("namespaces"), "namespaces")
                   if isinstance(namespace, Mapping) and namespace.get("name")]
        if not devices:  # native multipath off: the devices hang below the controllers
            devices = [namespace.get("name") for controller in controllers
                       for namespace in _sequence(controller.get("namespaces"), "namespaces")
                       if isinstance(namespace, Mapping) and namespace.get("name")]
        return {"nqn": nqn, "iopolicy": subsystem.get("iopolicy"), "devices": sorted(set(devices)),
                "paths": sorted(paths, key=lambda item: (address_order(item["address"]), item["service_id"] or 0,
                                                         not item["expected"], item["controller"] or ""))}

    def path(self, nqn, key, controller, expected):
        address, port = key
        targets = self.listeners.get((nqn, address, port)) or self.listeners.get((address, port)) or ()
        ana_states = []
        if controller is not None:
            namespaces = [namespace for namespace in _sequence(controller.get("namespaces"), "namespaces")
                          if isinstance(namespace, Mapping)]
            ana_states = [namespace["ana_state"] for namespace in
                          sorted(namespaces, key=lambda item: _integer(item.get("nsid")) or 0)
                          if namespace.get("ana_state")]
        return {"target": min(targets) if targets else None, "address": address, "service_id": port,
                "network": _network_of(self.networks, address),
                "controller": None if controller is None else controller.get("name"),
                "state": "missing" if controller is None else (controller.get("state") or "unknown"),
                "ana_states": ana_states, "expected": expected}


def _redact(value, secrets):
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, HIDDEN)
        return SECRET_PATTERN.sub(HIDDEN, value)
    if isinstance(value, list):
        return [_redact(item, secrets) for item in value]
    if isinstance(value, dict):
        return dict((key, _redact(item, secrets)) for key, item in value.items())
    return value


def _summary(builder, targets, initiators):
    expected = [path for initiator in initiators for subsystem in initiator["subsystems"]
                for path in subsystem["paths"] if path["expected"]]
    live = [path for path in expected if path["state"] == "live"]
    not_optimized = [path for initiator in initiators for subsystem in initiator["subsystems"]
                     for path in subsystem["paths"]
                     if path["state"] == "live" and any(state != "optimized" for state in path["ana_states"])]
    unexpected = sum(1 for initiator in initiators for subsystem in initiator["subsystems"]
                     for path in subsystem["paths"] if not path["expected"])
    return {"targets": len(targets), "initiators": len(initiators), "subsystems": len(builder.nqns),
            "paths_expected": len(expected), "paths_live": len(live), "paths_missing": len(expected) - len(live),
            "paths_not_optimized": len(not_optimized), "paths_unexpected": unexpected,
            "healthy": builder.faults == 0 and len(live) == len(expected)}


def build_report(fleet):
    """The report of filter fleet_report: see its DOCUMENTATION."""
    fleet = _mapping(fleet, "the input", "a dictionary with generated, networks, targets and initiators",
                     optional=False)
    generated = fleet.get("generated")
    if hasattr(generated, "isoformat"):  # now() in a template gives a datetime
        generated = generated.isoformat()
    generated = _optional_text(generated, "generated", "the input")
    networks = _networks(fleet.get("networks"))
    targets = _mapping(fleet.get("targets"), "targets", "a dictionary by target name")
    initiators = _mapping(fleet.get("initiators"), "initiators", "a dictionary by initiator name")

    builder = _Builder(networks)
    # Targets first: the initiators' paths name the target that declares their listener.
    report_targets = [builder.target(str(name), targets[name]) for name in sorted(targets, key=str)]
    report_initiators = [builder.initiator(str(name), initiators[name]) for name in sorted(initiators, key=str)]
    secrets = sorted((secret for secret in builder.secrets if len(secret) >= _MIN_SECRET_SEARCH), key=len,
                     reverse=True)
    return _redact({"generated": generated, "networks": [item[1] for item in networks],
                    "summary": _summary(builder, report_targets, report_initiators),
                    "targets": report_targets, "initiators": report_initiators}, secrets)
