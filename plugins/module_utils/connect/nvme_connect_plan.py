# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which declared paths exist among the live fabrics controllers, and what to do about the rest.

A path is the subsystem NQN plus transport, address, service id and, when
declared, the host interface or host address. Live controllers come from
nvme_host.fabrics_controllers (sysfs). A controller that is still connecting
or resetting is an existing path: connecting it again would be a duplicate.
Options are compared only where sysfs shows what the kernel applied
(timeouts and keep-alive); queue counts are capped by the kernel to the CPUs,
so they are not compared.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

# declared option -> the controller attribute that shows it
COMPARED_OPTIONS = {
    "ctrl_loss_tmo": "ctrl_loss_tmo",
    "reconnect_delay": "reconnect_delay",
    "fast_io_fail_tmo": "fast_io_fail_tmo",
    "keep_alive_tmo": "kato",
}


def _same_address(left, right):
    try:
        return ipaddress.ip_address(left) == ipaddress.ip_address(right)
    except ValueError:
        return left == right


def serves(controller, nqn, path):
    """Whether a live controller is this declared path (undeclared host fields match any)."""
    if controller.get("subsysnqn") != nqn or controller.get("transport") != path["transport"]:
        return False
    if str(controller.get("trsvcid")) != str(path["service_id"]):
        return False
    if not _same_address(controller.get("traddr") or "", path["address"]):
        return False
    if path.get("host_iface") and controller.get("host_iface") != path["host_iface"]:
        return False
    if path.get("host_traddr") and not _same_address(controller.get("host_traddr") or "",
                                                     path["host_traddr"]):
        return False
    return True


def shown_ctrl_loss_tmo(ctrl_loss_tmo, reconnect_delay):
    """What sysfs shows for a ctrl_loss_tmo: the kernel keeps a number of reconnects
    (rounded up) and shows them times the delay, so 25 s at 10 s per attempt shows 30."""
    if ctrl_loss_tmo < 0:
        return -1
    return -(-ctrl_loss_tmo // reconnect_delay) * reconnect_delay


def option_differences(controller, options):
    """{option: (live, declared)} for the declared options the controller shows otherwise."""
    live = controller.get("options") or {}
    expected = dict(options)
    if "ctrl_loss_tmo" in options:
        delay = options.get("reconnect_delay") or live.get("reconnect_delay")
        if delay:
            expected["ctrl_loss_tmo"] = shown_ctrl_loss_tmo(options["ctrl_loss_tmo"], delay)
    differences = {}
    for name, attribute in sorted(COMPARED_OPTIONS.items()):
        if name in options and attribute in live and live[attribute] != expected[name]:
            differences[name] = (live[attribute], options[name])
    if "dhchap_secret" in options and controller.get("dhchap_secret_set") is False:
        differences["dhchap_secret"] = ("not set", "set")
    return differences


def plan(spec, controllers):
    """What reconciling one declared connection with the live controllers means.

    Returns {"keep": [(path, controller)], "connect": [path],
    "differ": [(path, controller, differences)], "disconnect": [controller]}.
    With state absent only the declared paths are disconnected, nothing else.
    """
    result = {"keep": [], "connect": [], "differ": [], "disconnect": []}
    for path in spec["paths"]:
        matches = [controller for controller in controllers if serves(controller, spec["nqn"], path)]
        if spec["state"] == "absent":
            result["disconnect"] += matches
        elif not matches:
            result["connect"].append(path)
        else:
            controller = matches[0]
            differences = option_differences(controller, spec["options"])
            if differences:
                result["differ"].append((path, controller, differences))
            else:
                result["keep"].append((path, controller))
    return result
