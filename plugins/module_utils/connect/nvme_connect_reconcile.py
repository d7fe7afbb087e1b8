# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconciles one declared NVMe/TCP connection: identity -> read -> plan -> apply -> persist.

The declared connection is a subsystem NQN on explicit paths, or what a
discovery controller offers (all of it, or one NQN). Live state comes from
sysfs, connects and disconnects go through nvme_fabrics.KernelFabrics (tests
give a fake). Everything that can be refused without touching the kernel
(bad options, a missing host interface, a persistence conflict) is checked
before the first change; when a connect fails, the paths this run connected
are disconnected again, so the host is left as it was.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.nvmeof.fleet.plugins.module_utils.connect import nvme_connect_persist as persistence
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.kernel_features import (
    host_auth_supported, host_tls_supported, kernel_release_and_config, tls_handshake_problem)
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_plan import plan, serves
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_spec import (
    DISCOVERY_SERVICE_ID, connect_string, normalize_endpoint, normalize, normalize_options)
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_fabrics import (
    LIVE_OPTIONS, ConnectError, explain)
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.nvme_host import fabrics_controllers
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_identity import ensure_identity
from ansible_collections.nvmeof.fleet.plugins.module_utils.nvme.names import SpecError, validate_nqn

NVME_SUBSYSTEM_ENTRY = "nvme subsystem"


class NvmeConnectError(Exception):
    """The connection could not be reconciled; str() says why and in what state the host is."""


def label(path):
    text = "%s port %s" % (path["address"], path["service_id"])
    if path.get("host_iface"):
        text += " via %s" % path["host_iface"]
    if path.get("host_traddr"):
        text += " from %s" % path["host_traddr"]
    return text


# -- discovery ---------------------------------------------------------------------
def discover(runner, endpoint, hostnqn, hostid):
    """The discovery log entries a discovery controller gives this host (nvme-cli reads it)."""
    args = ["nvme", "discover", "--transport", endpoint["transport"], "--traddr", endpoint["address"],
            "--trsvcid", endpoint["service_id"], "--hostnqn", hostnqn, "--hostid", hostid,
            "--output-format", "json"]
    if endpoint.get("host_iface"):
        args += ["--host-iface", endpoint["host_iface"]]
    if endpoint.get("host_traddr"):
        args += ["--host-traddr", endpoint["host_traddr"]]
    rc, out, err = runner.run(args, check=False)
    if rc != 0:
        raise NvmeConnectError("discovery at %s failed: %s" % (label(endpoint), (err or out).strip()))
    try:
        records = json.loads(out or "{}").get("records") or []
    except ValueError:
        raise NvmeConnectError("nvme discover at %s printed no JSON: %r" % (label(endpoint), out[:200]))
    return [{"subtype": record.get("subtype"), "nqn": record.get("subnqn"),
             "transport": record.get("trtype"), "address": record.get("traddr"),
             "service_id": int(record.get("trsvcid") or 0), "port_id": record.get("portid"),
             "address_family": record.get("adrfam"), "security": record.get("sectype")}
            for record in records]


def offered_connections(entries, endpoint, nqn, state, options):
    """One declared connection per NVMe subsystem in the log (only ``nqn`` when given)."""
    by_nqn = {}
    for entry in entries:
        if entry["subtype"] != NVME_SUBSYSTEM_ENTRY or entry["transport"] != endpoint["transport"]:
            continue
        if nqn and entry["nqn"] != nqn:
            continue
        path = dict(endpoint, address=entry["address"], service_id=entry["service_id"])
        paths = by_nqn.setdefault(entry["nqn"], [])
        if path not in paths:
            paths.append(path)
    return [{"nqn": name, "state": state, "paths": paths, "options": options}
            for name, paths in sorted(by_nqn.items())]


# -- declared connections ------------------------------------------------------------
def _declared(params, runner, identity, state):
    """(connections, persistence record, discovery log) for the call's parameters."""
    if params.get("discovery") and params.get("paths"):
        raise SpecError("paths and discovery: give one of them, not both")
    if not params.get("discovery"):
        spec = normalize(dict(params, state=state))
        record = {"kind": "subsystem", "nqn": spec["nqn"], "paths": spec["paths"],
                  "options": spec["options"]}
        return [spec], record, None
    endpoint = normalize_endpoint("discovery", params["discovery"], DISCOVERY_SERVICE_ID)
    nqn = validate_nqn("nqn", params["nqn"]) if params.get("nqn") else None
    options = normalize_options(params)
    entries = discover(runner, endpoint, identity["hostnqn"], identity["hostid"])
    if state == "discovered":
        return [], None, entries
    connections = offered_connections(entries, endpoint, nqn, state, options)
    if nqn and not connections and state == "present":
        raise NvmeConnectError(
            "the discovery controller at %s does not offer %s to host %s: the target does not "
            "allow this host, or does not export the subsystem there"
            % (label(endpoint), nqn, identity["hostnqn"]))
    if nqn:
        paths = connections[0]["paths"] if connections else []
        record = {"kind": "subsystem", "nqn": nqn, "paths": paths, "options": options}
    else:
        record = {"kind": "discovery", "endpoint": endpoint, "options": options}
    return connections, record, entries


def _check_kernel(fs, runner, options):
    """Secrets and TLS only where this kernel and host can honour them, before anything changes."""
    release, _config = kernel_release_and_config(fs)
    if options.get("dhchap_secret") and host_auth_supported(fs) is False:
        raise NvmeConnectError(
            "dhchap_secret: given, but this kernel (%s) has no NVMe in-band authentication on the host "
            "(CONFIG_NVME_HOST_AUTH, CONFIG_NVME_AUTH before Linux 6.7): it would connect without "
            "authenticating wherever the target does not insist. Debian 12's 6.1 kernel has none, "
            "bookworm-backports 6.12 has it" % release)
    if options.get("tls"):
        if host_tls_supported(fs) is False:
            raise NvmeConnectError("tls: true, but this kernel (%s) has no NVMe/TCP TLS on the host "
                                   "(CONFIG_NVME_TCP_TLS, Linux 6.7 or later): Debian 12's 6.1 kernel has none, "
                                   "bookworm-backports 6.12 has it" % release)
        problem = tls_handshake_problem(fs, runner)
        if problem:
            raise NvmeConnectError("tls: true, but %s" % problem)


def _check_interfaces(fs, connections):
    for connection in connections:
        for path in connection["paths"]:
            iface = path.get("host_iface")
            if iface and not fs.is_dir("/sys/class/net/%s" % iface):
                raise SpecError("paths: host_iface %r does not exist on this host (path to %s)"
                                % (iface, label(path)))


# -- apply ---------------------------------------------------------------------------
class _Run:
    """The changes of one run, so that a failed connect can undo the connects before it."""

    def __init__(self, fabrics, identity, check_mode):
        self.fabrics = fabrics
        self.identity = identity
        self.check_mode = check_mode
        self.connected = []
        self.irreversible = ["host identity written"] if identity["changed"] and not check_mode else []
        self.actions = []

    def connect(self, connection, path):
        self.actions.append("connect %s on %s" % (connection["nqn"], label(path)))
        if self.check_mode:
            return None
        options = connect_string(connection["nqn"], path, connection["options"],
                                 self.identity["hostnqn"], self.identity["hostid"])
        try:
            name = self.fabrics.connect(options)
        except ConnectError as error:
            raise NvmeConnectError(self.undo(explain(error, connection["nqn"], path,
                                                     self.identity["hostnqn"])))
        self.connected.append(name)
        return name

    def disconnect(self, connection, path, controller):
        self.actions.append("disconnect %s on %s (%s)"
                            % (connection["nqn"], label(path), controller["name"]))
        if not self.check_mode:
            self.fabrics.disconnect(controller["name"])
            self.irreversible.append("%s disconnected" % controller["name"])

    def update(self, connection, path, controller, differences):
        self.actions.append("set %s of %s on %s (%s) live" % (
            ", ".join(sorted(differences)), connection["nqn"], label(path), controller["name"]))
        if self.check_mode:
            return
        declared = connection["options"]
        live = controller.get("options") or {}
        values = dict((option, declared[option]) for option in differences)
        if "reconnect_delay" in values:
            # The kernel keeps the number of reconnects, not the loss timeout: a new delay
            # changes the timeout unless it is written again after the delay.
            values["ctrl_loss_tmo"] = declared.get("ctrl_loss_tmo", live.get("ctrl_loss_tmo"))
        for option in LIVE_OPTIONS:  # LIVE_OPTIONS puts the delay first
            if values.get(option) is not None:
                self.fabrics.set_option(controller["name"], option, values[option])
        self.irreversible.append("%s options set on %s" % (", ".join(sorted(differences)),
                                                           controller["name"]))

    def undo(self, message):
        """``message`` completed with what undoing the run's connects left behind."""
        undone = []
        for name in reversed(self.connected):
            try:
                self.fabrics.disconnect(name)
                undone.append(name)
            except Exception as error:  # pylint: disable=broad-except
                return "%s. Undoing failed too (%s: %s): the host is partly connected" % (
                    message, name, error)
        if undone:
            message += ". The paths this run connected (%s) were disconnected again" % ", ".join(undone)
        if self.irreversible:
            return message + ". Done before the failure and not undone: %s" % "; ".join(self.irreversible)
        return message + ("." if undone else ". Nothing was changed.")


def _path_result(connection, path, action, controller=None, differences=None):
    result = dict(path, nqn=connection["nqn"], action=action,
                  controller=controller.get("name") if controller else None,
                  state=controller.get("state") if controller else None)
    if differences:
        result["differences"] = dict((name, {"live": live, "declared": declared})
                                     for name, (live, declared) in differences.items())
    return result


def _apply(run, connections, controllers, replace_differing):
    results = []
    for connection in connections:
        steps = plan(connection, controllers)
        for path, controller in steps["keep"]:
            results.append(_path_result(connection, path, "kept", controller))
        for path, controller, differences in steps["differ"]:
            if not replace_differing:
                results.append(_path_result(connection, path, "differs", controller, differences))
            elif set(differences) <= set(LIVE_OPTIONS):
                run.update(connection, path, controller, differences)
                results.append(_path_result(connection, path, "updated", controller, differences))
            else:
                run.disconnect(connection, path, controller)
                name = run.connect(connection, path)
                results.append(_path_result(connection, path, "replaced", {"name": name}, differences))
        for path in steps["connect"]:
            name = run.connect(connection, path)
            results.append(_path_result(connection, path, "connected", {"name": name}))
        if connection["state"] == "absent":
            for path in connection["paths"]:
                matches = [c for c in controllers if serves(c, connection["nqn"], path)]
                for controller in matches:
                    run.disconnect(connection, path, controller)
                    results.append(_path_result(connection, path, "disconnected", controller))
                if not matches:
                    results.append(_path_result(connection, path, "absent"))
    return results


def _refresh(fs, results, check_mode):
    """Fills in the state of the controllers after the run."""
    if check_mode:
        return results
    live = dict((c["name"], c) for c in fabrics_controllers(fs))
    for result in results:
        if result["action"] == "disconnected":
            result["state"] = None
        elif result["controller"] in live:
            result["state"] = live[result["controller"]]["state"]
    return results


# -- the whole job -----------------------------------------------------------------------
def reconcile(fs, runner, fabrics, params, check_mode=False):
    """Makes the host match the call's parameters; returns the module's result fields."""
    state = params.get("state") or "present"
    if state == "discovered" and not params.get("discovery"):
        raise SpecError("state: discovered needs discovery (the discovery controller to query)")
    if not params.get("nqn") and not params.get("discovery") and params.get("paths"):
        raise SpecError("paths: give nqn, the subsystem to connect on these paths")
    # The identity this call gives the host, worked out without writing it: it is written once every
    # check below has passed, so that a call refused for its options, the kernel, an interface or the
    # persistence leaves the identity files as they were.
    identity = ensure_identity(fs, params.get("hostnqn"), params.get("hostid"),
                               params.get("regenerate_host_identity"), check_mode=True)
    result = {"changed": identity["changed"], "actions": [], "paths": [], "discovery_log": None,
              "persistence": None,
              "host": {"hostnqn": identity["hostnqn"], "hostid": identity["hostid"],
                       "changed": identity["changed"]}}
    if identity["changed"]:
        result["actions"].append("write host identity %s (host ID %s)"
                                 % (identity["hostnqn"], identity["hostid"]))
    if not params.get("nqn") and not params.get("discovery"):
        _write_identity(fs, identity, check_mode)
        return result
    connections, record, entries = _declared(params, runner, identity, state)
    result["discovery_log"] = entries
    if state == "discovered":
        _write_identity(fs, identity, check_mode)
        return result
    if state == "present":
        _check_kernel(fs, runner, record["options"] if record else {})
    _check_interfaces(fs, connections)
    fmt = None
    if params.get("persist", True):
        fmt = persistence.persistence_format(persistence.nvme_cli_version(runner))
        # Renders everything without writing: a conflict stops the run before the kernel changes.
        persistence.persist(fs, fmt, record, state == "present", check_mode=True)
    _write_identity(fs, identity, check_mode)
    run = _Run(fabrics, identity, check_mode)
    controllers = fabrics_controllers(fs)
    before = _path_results_before(connections, controllers)
    paths = _refresh(fs, _apply(run, connections, controllers, params.get("replace_differing")),
                     check_mode)
    result["paths"] = paths
    result["actions"] += run.actions
    result["changed"] = result["changed"] or bool(run.actions)
    if fmt:
        saved = persistence.persist(fs, fmt, record, state == "present", check_mode)
        result["persistence"] = {"file": saved["file"], "format": saved["format"],
                                 "record": saved["record"], "changed": saved["changed"]}
        result["changed"] = result["changed"] or saved["changed"]
        if saved["changed"]:
            result["actions"].append("%s %s for the boot in %s" % (
                "keep" if state == "present" else "drop", record.get("nqn") or
                label(record["endpoint"]), saved["file"]))
    result["diff"] = {
        "before": {"paths": before, "persistence": _lines(saved["before"]) if fmt else None},
        "after": {"paths": _after(paths), "persistence": _lines(saved["after"]) if fmt else None},
    }
    return result


def _write_identity(fs, identity, check_mode):
    """Writes the identity worked out at the start (the same one, also when it was regenerated)."""
    if identity["changed"] and not check_mode:
        ensure_identity(fs, identity["hostnqn"], identity["hostid"])


def _lines(text):
    return None if text is None else text.splitlines()


def _path_results_before(connections, controllers):
    view = {}
    for connection in connections:
        for path in connection["paths"]:
            matches = [c for c in controllers if serves(c, connection["nqn"], path)]
            view[label(path) + " " + connection["nqn"]] = (
                "%s (%s)" % (matches[0]["name"], matches[0]["state"]) if matches else "not connected")
    return view


def _after(results):
    view = {}
    for result in results:
        key = label(result) + " " + result["nqn"]
        if result["action"] in ("disconnected", "absent"):
            view[key] = "not connected"
        else:
            view[key] = "%s (%s)" % (result["controller"] or "new controller", result["state"] or "connecting")
    return view
