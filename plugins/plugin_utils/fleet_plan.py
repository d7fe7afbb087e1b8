# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet seen from the controller before any change: identities, ACLs, paths, findings.

Plain Python behind the filters ``nvmeof.fleet.fleet_plan`` and ``nvmeof.fleet.fleet_health``,
so that unit tests drive it with dictionaries. Errors in the input raise ``FleetInputError``
naming the place; problems of the fleet itself (clones, MTUs, addresses) are *findings*, all
of them collected, so that the operator sees every one in a single run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

try:
    import netaddr
except ImportError:  # reported when the plan is asked for, with what to install
    netaddr = None

DEFAULT_SERVICE_ID = 4420
UUID_NQN_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:"
# nvmet puts every namespace in ANA group 1 and every port's groups start optimized.
DEFAULT_ANA_GROUP = 1
DEFAULT_ANA_STATE = "optimized"
# Keys of a host entry that only the fleet knows: the role's argument spec would refuse them.
FLEET_HOST_KEYS = ("inventory_host",)


class FleetInputError(ValueError):
    """The data handed to the fleet filters is malformed; the message names the place."""


def _require_mapping(value, where):
    if not isinstance(value, Mapping):
        raise FleetInputError("%s must be a dictionary, not %s" % (where, type(value).__name__))
    return value


def _require_list(value, where):
    if value is None:
        return []
    if isinstance(value, (Mapping, str)) or not hasattr(value, "__iter__"):
        raise FleetInputError("%s must be a list, not %s" % (where, type(value).__name__))
    return list(value)


def address_key(address):
    """One spelling per address, so that IPv6 written two ways compares equal."""
    try:
        return str(netaddr.IPAddress(str(address)))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return str(address).lower()


def _is_wildcard(address):
    return address_key(address) in ("0.0.0.0", "::")


def parse_networks(networks):
    parsed = []
    for position, text in enumerate(_require_list(networks, "fleet_storage_networks")):
        if "/" not in str(text):
            raise FleetInputError("fleet_storage_networks[%d]: %r has no prefix length: write it as address/prefix"
                                  % (position, text))
        try:
            parsed.append(netaddr.IPNetwork(str(text)).cidr)
        except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
            raise FleetInputError("fleet_storage_networks[%d]: %r is not a network in CIDR form (%s)"
                                  % (position, text, exc))
    return parsed


def network_of(address, networks):
    """The declared network (CIDR text) that holds the address, or None."""
    try:
        ip = netaddr.IPAddress(str(address))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None
    for network in networks:
        if network.version == ip.version and ip in network:
            return str(network.cidr)
    return None


def host_addresses(ip_json):
    """[{ifname, mtu, address}] from the output of ``ip -json address show`` (parsed)."""
    rows = []
    for link in _require_list(ip_json, "ip -json address show"):
        if not isinstance(link, Mapping):
            continue
        for info in link.get("addr_info") or []:
            if isinstance(info, Mapping) and info.get("local") and info.get("family") in ("inet", "inet6"):
                rows.append({"ifname": link.get("ifname"), "mtu": link.get("mtu"), "address": info["local"]})
    return rows


# -- identities ---------------------------------------------------------------------------------
def effective_identity(name, initiator):
    """(hostnqn, hostid, source) the initiator role will give the host, as it decides.

    ``initiator``: identity (nvme_info's ``host``), hostnqn/hostid (the role's initiator_hostnqn and
    initiator_hostid), unique_identity (initiator_unique_identity), derived_hostnqn.
    """
    read = initiator.get("identity") or {}
    explicit = (initiator.get("hostnqn") or "").strip()
    if explicit:
        hostid = (initiator.get("hostid") or "").strip().lower()
        if not hostid and explicit.startswith(UUID_NQN_PREFIX):
            hostid = explicit[len(UUID_NQN_PREFIX):].lower()
        return explicit, hostid, "initiator_hostnqn"
    if read.get("hostnqn") and not read.get("problems"):
        return read["hostnqn"], (read.get("hostid") or "").lower(), "read on the host"
    if initiator.get("unique_identity", True):
        derived = initiator.get("derived_hostnqn")
        if not derived:
            raise FleetInputError("initiators.%s: derived_hostnqn is missing" % name)
        return derived, derived[len(UUID_NQN_PREFIX):].lower(), "derived from the inventory name"
    return read.get("hostnqn"), (read.get("hostid") or "").lower(), "read on the host (broken, kept)"


def _duplicates(identities, field, label):
    by_value = {}
    for name in sorted(identities):
        value = identities[name][field]
        if value:
            by_value.setdefault(value, []).append(name)
    return ["%s %s is shared by %s" % (label, value, " and ".join(names))
            for value, names in sorted(by_value.items()) if len(names) > 1]


CLONE_HINT = ("(cloned images?): give each host its own: remove /etc/nvme/hostnqn and /etc/nvme/hostid on all but one "
              "and role nvmeof.fleet.initiator derives one from the inventory name, or set initiator_hostnqn")


# -- target declarations ------------------------------------------------------------------------
def _resolve_hosts(target, position, subsystem, identities, findings):
    """The subsystem's host entries with inventory_host turned into nqn; (entries, inventory names)."""
    nqn = subsystem["nqn"]
    resolved, names, seen = [], [], set()
    for index, entry in enumerate(_require_list(subsystem.get("hosts"), "%s: target_subsystems[%d].hosts"
                                                % (target, position))):
        where = "%s: target_subsystems[%d].hosts[%d] (subsystem %s)" % (target, position, index, nqn)
        entry = _require_mapping(entry, where)
        inventory_host = entry.get("inventory_host")
        hostnqn = entry.get("nqn")
        if inventory_host and hostnqn:
            raise FleetInputError("%s gives both nqn and inventory_host (%s): give one" % (where, inventory_host))
        if inventory_host:
            if inventory_host not in identities:
                findings.append("%s names inventory host %s, which is not an initiator of this run (left out by --limit, or unreachable)"
                                % (where, inventory_host))
                continue
            hostnqn = identities[inventory_host]["hostnqn"]
            if not hostnqn:
                findings.append("%s: inventory host %s has no host NQN (initiator_unique_identity is false and "
                                "its /etc/nvme/hostnqn is missing): set initiator_hostnqn" % (where, inventory_host))
                continue
        elif not hostnqn:
            raise FleetInputError("%s has neither nqn nor inventory_host" % where)
        if hostnqn in seen:
            continue
        seen.add(hostnqn)
        clean = dict((key, value) for key, value in entry.items() if key not in FLEET_HOST_KEYS)
        clean["nqn"] = hostnqn
        resolved.append(clean)
        names.append(inventory_host or _name_of(hostnqn, identities))
    return resolved, names


def _name_of(hostnqn, identities):
    for name, identity in identities.items():
        if identity["hostnqn"] == hostnqn:
            return name
    return None


def _listener_ana(listener):
    """{group: state} a listener declares."""
    states = {}
    for group in listener.get("ana_groups") or []:
        if isinstance(group, Mapping) and group.get("group") is not None:
            states[int(group["group"])] = group.get("state") or DEFAULT_ANA_STATE
    return states


def _check_listeners(target, subsystem, addresses, networks, findings):
    own = set(address_key(row["address"]) for row in addresses)
    for listener in subsystem.get("listeners") or []:
        address = str(listener.get("address", ""))
        if not address or _is_wildcard(address):
            continue
        if networks and network_of(address, networks) is None:
            findings.append("%s: subsystem %s listens on %s, outside the storage networks %s"
                            % (target, subsystem["nqn"], address, ", ".join(str(n.cidr) for n in networks)))
        if addresses and address_key(address) not in own:
            findings.append("%s: subsystem %s listens on %s, which is not an address of %s"
                            % (target, subsystem["nqn"], address, target))


def _expected_paths(target, subsystem):
    groups = sorted(set(int(ns.get("ana_group") or DEFAULT_ANA_GROUP) for ns in subsystem.get("namespaces") or []
                        if isinstance(ns, Mapping)))
    paths = []
    for listener in subsystem.get("listeners") or []:
        address = str(listener.get("address", ""))
        if not address or _is_wildcard(address):
            continue
        declared = _listener_ana(listener)
        paths.append({"target": target, "address": address,
                      "service_id": int(listener.get("service_id") or DEFAULT_SERVICE_ID),
                      "ana_states": dict((str(group), declared.get(group, DEFAULT_ANA_STATE)) for group in groups)})
    return paths


def _add_expected(expected, name, nqn, paths):
    connections = expected.setdefault(name, [])
    connection = next((c for c in connections if c["nqn"] == nqn), None)
    if connection is None:
        connection = {"nqn": nqn, "paths": []}
        connections.append(connection)
    have = set((address_key(p["address"]), p["service_id"]) for p in connection["paths"])
    for path in paths:
        if (address_key(path["address"]), path["service_id"]) not in have:
            connection["paths"].append(path)


# -- MTU ----------------------------------------------------------------------------------------
def _mtu_findings(hosts, networks):
    """Hosts on one storage network with different MTUs (as they will be after network tuning)."""
    findings = []
    for network in networks:
        seen = {}  # mtu -> ["host (ifname)"]
        for name in sorted(hosts):
            host = hosts[name]
            planned = host.get("planned_mtu") or {}
            for row in host["addresses"]:
                if network_of(row["address"], [network]) and row.get("mtu"):
                    mtu = int(planned.get(row["ifname"], row["mtu"]))
                    label = "%s (%s)" % (name, row["ifname"])
                    if label not in seen.setdefault(mtu, []):
                        seen[mtu].append(label)
        if len(seen) > 1:
            findings.append("storage network %s has different MTUs: %s" % (
                network.cidr, "; ".join("%d on %s" % (mtu, ", ".join(labels)) for mtu, labels in sorted(seen.items()))))
    return findings


def fleet_plan(fleet):
    """See the filter nvmeof.fleet.fleet_plan."""
    if netaddr is None:
        raise FleetInputError("the controller lacks the Python library netaddr: install it (pip install netaddr, "
                              "or the python3-netaddr package) where ansible-playbook runs")
    fleet = _require_mapping(fleet, "the input")
    networks = parse_networks(fleet.get("networks"))
    targets = _require_mapping({} if fleet.get("targets") is None else fleet["targets"], "targets")
    initiators = _require_mapping({} if fleet.get("initiators") is None else fleet["initiators"], "initiators")

    findings = []
    identities = {}
    for name in sorted(initiators):
        hostnqn, hostid, source = effective_identity(name, _require_mapping(initiators[name], "initiators." + name))
        identities[name] = {"hostnqn": hostnqn, "hostid": hostid, "source": source}
    shared = _duplicates(identities, "hostnqn", "host NQN") + _duplicates(identities, "hostid", "host ID")
    if shared:
        findings.append("; ".join(shared) + " " + CLONE_HINT)

    hosts = {}
    for group in (targets, initiators):
        for name, host in group.items():
            hosts[name] = {"addresses": host_addresses(host.get("ip_addresses")),
                           "planned_mtu": host.get("planned_mtu") or {}}
    findings += _mtu_findings(hosts, networks)

    resolved, annotated, expected = {}, {}, {}
    for target in sorted(targets):
        declared = _require_list(_require_mapping(targets[target], "targets." + target).get("subsystems"),
                                 "%s: target_subsystems" % target)
        resolved[target], annotated[target] = [], []
        for position, subsystem in enumerate(declared):
            subsystem = _require_mapping(subsystem, "%s: target_subsystems[%d]" % (target, position))
            if not subsystem.get("nqn"):
                raise FleetInputError("%s: target_subsystems[%d] has no nqn" % (target, position))
            entries, names = _resolve_hosts(target, position, subsystem, identities, findings)
            clean = dict(subsystem)
            if "hosts" in subsystem:
                clean["hosts"] = entries
            resolved[target].append(clean)
            annotated[target].append(dict(clean, hosts=[dict(entry, inventory_host=names[i])
                                                        for i, entry in enumerate(entries)]))
            if (subsystem.get("state") or "present") != "present":
                continue
            _check_listeners(target, subsystem, hosts[target]["addresses"], networks, findings)
            if len(entries) > 1 and not subsystem.get("cluster_aware"):
                findings.append("%s: subsystem %s allows %d hosts (%s) but is not cluster_aware: a file system "
                                "mounted on two hosts corrupts; set cluster_aware: true if its users are"
                                % (target, subsystem["nqn"], len(entries),
                                   ", ".join(name or entry["nqn"] for name, entry in zip(names, entries))))
            paths = _expected_paths(target, subsystem)
            for name in names:
                if name and paths:
                    _add_expected(expected, name, subsystem["nqn"], paths)

    return {"findings": findings, "identities": identities, "target_subsystems": resolved,
            "report_subsystems": annotated,
            "expected": dict((name, expected.get(name, [])) for name in sorted(initiators))}


# -- health -------------------------------------------------------------------------------------
def fleet_health(initiator, expected):
    """Problems of the live paths (nvme_info's ``initiator``) against the expected connections."""
    if netaddr is None:
        raise FleetInputError("the controller lacks the Python library netaddr: install it where ansible-playbook runs")
    initiator = _require_mapping(initiator or {}, "the input (nvme_info's initiator)")
    live = dict((subsystem.get("nqn"), subsystem) for subsystem in initiator.get("subsystems") or []
                if isinstance(subsystem, Mapping))
    problems = []
    for connection in _require_list(expected, "expected"):
        nqn = connection["nqn"]
        subsystem = live.get(nqn)
        for path in connection["paths"]:
            where = "%s via %s port %s (%s)" % (nqn, path["address"], path["service_id"], path.get("target"))
            controller = None
            for candidate in (subsystem or {}).get("controllers") or []:
                if (address_key(candidate.get("traddr")) == address_key(path["address"])
                        and str(candidate.get("trsvcid")) == str(path["service_id"])):
                    controller = candidate
                    break
            if controller is None:
                problems.append("%s: no path" % where)
                continue
            if controller.get("state") != "live":
                problems.append("%s: path %s is %s, not live" % (where, controller.get("name"), controller.get("state")))
                continue
            for namespace in controller.get("namespaces") or []:
                group = namespace.get("ana_grpid")
                state = namespace.get("ana_state")
                want = (path.get("ana_states") or {}).get(str(group))
                if group is None or state is None or want is None:
                    continue
                if state != want:
                    problems.append("%s: namespace %s is ANA %s, declared %s"
                                    % (where, namespace.get("nsid"), state, want))
    return problems
