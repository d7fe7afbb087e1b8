# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixes the bad-input table asked for, one by one, and the checks of the table's own harness.

* sysctl_tuning: a refused value is quoted in the message (a line break was named, its value not);
* net_qdisc: a refused interface names the option, reapply_qdisc_interfaces;
* nvme_identity: regenerate_host_identity with an explicit identity names what was given;
* nvme_connect_reconcile: the host identity is written only once every check has passed, so that a
  refused call leaves /etc/nvme/hostnqn and hostid as they were;
* nvmet_guards: a backing file of the kernel's /proc or /sys (such as /proc/sysrq-trigger) is refused;
* the harness: a valid call or a role that gets past its checks does not hold.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import uuid
import warnings

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.connect import nvme_identity
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.net_qdisc import QdiscError, check_interfaces
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_connect_persist import PersistError
from ansible_collections.nvmeof.fleet.plugins.module_utils.connect.nvme_identity import desired_identity
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_guards import KERNEL_FILE_SYSTEMS, tree_of
from ansible_collections.nvmeof.fleet.plugins.module_utils.target.nvmet_spec import SpecError
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.sysctl_tuning import SysctlError, parse_settings

from lab_hosts import BASE, DATA, hostnqn, to_uuid
from role_cases import outcome, run
from test_bad_input import _module_case, _role_case
from test_nvme_connect_reconcile import DB, HOSTID, HOSTNQN, UUID_PREFIX, Host, two_paths

NEW_ID = "2f7a4c1e-9b3d-4e5f-8a6b-0c1d2e3f4a5b"
OTHER_ID = "5b4a3f2e-1d0c-4b6a-8f5e-4d3c9b1e7a2f"


# -- sysctl_tuning: values are quoted ---------------------------------------------------------------
@pytest.mark.parametrize("value, shown", [
    ("1\nnet.ipv4.ip_forward = 1", "contains a line break: '1\\nnet.ipv4.ip_forward = 1'"),
    ("50\rkernel.sysrq = 1", "contains a line break: '50\\rkernel.sysrq = 1'"),
    (1.5, "must be a string, an integer or a list of them, not float: 1.5"),
    ([[4096, 87380], 16777216], "lists may hold integers and strings only: [[4096, 87380], 16777216]"),
    ("   ", "is empty: '   '"),
])
def test_a_refused_sysctl_value_is_quoted(value, shown):
    with pytest.raises(SysctlError) as info:
        parse_settings({"net.ipv4.tcp_ecn": value})
    assert str(info.value) == "invalid settings: value of net.ipv4.tcp_ecn " + shown


# -- net_qdisc: the option is named -----------------------------------------------------------------
def test_a_refused_interface_names_the_option(tmp_path):
    fs = HostFS(str(tmp_path))
    os.makedirs(fs.path("/sys/class/net/eth1"))
    assert check_interfaces(fs, ["eth1", "eth1"]) == ["eth1"]
    with pytest.raises(QdiscError) as info:
        check_interfaces(fs, ["eth1", "eth9", "eth8"])
    assert str(info.value) == ("reapply_qdisc_interfaces: network interfaces not found (no /sys/class/net/<name>): "
                               "eth9, eth8; nothing was changed")
    with pytest.raises(QdiscError) as info:
        check_interfaces(fs, ["eth1;reboot/x"])
    assert str(info.value) == "reapply_qdisc_interfaces: 'eth1;reboot/x' is not a network interface name"


# -- nvmet_guards: files of the kernel's own file systems are not volumes ---------------------------
@pytest.mark.parametrize("root", ["fake", "/"])
def test_kernel_files_are_told_from_volumes(tmp_path, root):
    fs = HostFS(str(tmp_path) if root == "fake" else "/")
    base = "" if root == "fake" else str(tmp_path)
    for path in ("/proc/sysrq-trigger", "/sys/kernel/mm/numa/demotion_enabled", "/srv/vol1.img", "/srvsys/x"):
        os.makedirs(fs.path(base + os.path.dirname(path)), exist_ok=True)
        open(fs.path(base + path), "w").close()
    os.symlink(fs.path(base + "/proc/sysrq-trigger"), fs.path(base + "/srv/innocent.img"))
    expected = {"/proc/sysrq-trigger": "/proc", "/sys/kernel/mm/numa/demotion_enabled": "/sys",
                "/srv/vol1.img": None, "/srvsys/x": None, "/srv/innocent.img": "/proc"}
    for path, kernel in expected.items():
        # on the real root, the temporary tree is below /tmp, never in /proc or /sys
        assert tree_of(fs, base + path, KERNEL_FILE_SYSTEMS) == (kernel if root == "fake" else None), path
    if root == "/":
        assert tree_of(fs, "/proc/sysrq-trigger", KERNEL_FILE_SYSTEMS) == "/proc"
        assert tree_of(fs, "/sys", KERNEL_FILE_SYSTEMS) == "/sys"


def test_a_kernel_file_is_refused_before_anything_is_written(lab_host):
    host = lab_host("target1")
    for path, kernel in (("/proc/sysrq-trigger", "/proc"), ("/proc/version", "/proc")):
        problems = _module_case({"module": "nvmeof.fleet.nvmet_subsystem", "args": {
            "nqn": BASE.replace(":base", ":new"), "namespaces": [{"nsid": 1, "device_path": path}]},
            "expect": ["namespaces[nsid=1].device_path: %r is a file of the kernel's %s, not a volume" % (path, kernel)]},
            host)
        assert problems == [], problems


def test_a_file_of_the_operating_system_is_refused_before_anything_is_written(lab_host):
    host = lab_host("target1")
    for path, tree in (("/etc/hostname", "/etc"), ("/boot/config-6.12.95+deb12-amd64", "/boot")):
        os.makedirs(os.path.dirname(host.root + path), exist_ok=True)
        with open(host.root + path, "a") as handle:
            handle.write("a file of the system\n")
        problems = _module_case({"module": "nvmeof.fleet.nvmet_subsystem", "args": {
            "nqn": BASE.replace(":base", ":new"), "namespaces": [{"nsid": 1, "device_path": path}]},
            "expect": ["namespaces[nsid=1].device_path: %r is a file of the operating system (under %s), not a "
                       "volume" % (path, tree)]}, host)
        assert problems == [], problems


# -- nvme_identity: what regenerate cannot be combined with is named ------------------------------------
@pytest.mark.parametrize("given, named", [
    ({"hostnqn": HOSTNQN}, "hostnqn %r" % HOSTNQN),
    ({"hostid": HOSTID}, "hostid %r" % HOSTID),
    ({"hostnqn": HOSTNQN, "hostid": HOSTID}, "hostnqn %r, hostid %r" % (HOSTNQN, HOSTID)),
])
def test_regenerate_with_an_explicit_identity_names_it(given, named):
    with pytest.raises(SpecError) as info:
        desired_identity({"hostnqn": HOSTNQN, "hostid": HOSTID}, regenerate=True, **given)
    assert str(info.value) == ("regenerate_host_identity: true cannot be combined with %s: a regenerated identity "
                               "is a new random one" % named)


# -- nvme_connect: the identity is written last ---------------------------------------------------------
@pytest.fixture
def initiator(tmp_path):
    """test_nvme_connect_reconcile's host: an identity, eth1/eth2, two target addresses exporting DB."""
    return Host(tmp_path)


def _identity(host):
    return host.file("/etc/nvme/hostnqn"), host.file("/etc/nvme/hostid")


@pytest.mark.parametrize("changes, error", [
    (dict(nqn=DB + ";reboot"), SpecError),                                       # the options
    (dict(paths=[{"address": "10.90.1.11", "host_iface": "eth9"}]), SpecError),  # an interface
    (dict(persist=True, fast_io_fail_tmo=5), PersistError),                      # the persistence
])
def test_a_refused_call_leaves_a_new_identity_unwritten(initiator, changes, error):
    before = _identity(initiator)
    with pytest.raises(error):
        initiator.run(**dict(two_paths(hostnqn=UUID_PREFIX + NEW_ID), **changes))
    assert _identity(initiator) == before
    assert initiator.fabrics.calls == []


def test_a_new_identity_is_written_before_the_connects_use_it(initiator):
    initiator.fabrics.allow("10.90.1.11", 4420, DB, UUID_PREFIX + NEW_ID)
    initiator.fabrics.allow("10.90.2.11", 4420, DB, UUID_PREFIX + NEW_ID)
    result = initiator.run(**two_paths(hostnqn=UUID_PREFIX + NEW_ID))
    assert result["actions"][0] == "write host identity %s%s (host ID %s)" % (UUID_PREFIX, NEW_ID, NEW_ID)
    assert _identity(initiator) == (UUID_PREFIX + NEW_ID + "\n", NEW_ID + "\n")
    assert [call[0] for call in initiator.fabrics.calls] == ["connect", "connect"]
    assert all("hostnqn=%s%s," % (UUID_PREFIX, NEW_ID) in call[1] for call in initiator.fabrics.calls)


def test_a_regenerated_identity_is_the_one_written_and_used(initiator, monkeypatch):
    # every uuid4() a new one, as in life; the target allows the first two
    fresh = [uuid.UUID(NEW_ID), uuid.UUID(OTHER_ID), uuid.UUID(int=3)]
    monkeypatch.setattr(nvme_identity.uuid, "uuid4", lambda: fresh.pop(0))
    for address in ("10.90.1.11", "10.90.2.11"):
        initiator.fabrics.allow(address, 4420, DB, UUID_PREFIX + NEW_ID, UUID_PREFIX + OTHER_ID)
    result = initiator.run(regenerate_host_identity=True, **two_paths())
    assert result["host"]["hostid"] == NEW_ID
    written = _identity(initiator)
    assert written == (result["host"]["hostnqn"] + "\n", result["host"]["hostid"] + "\n")
    assert written[0] != HOSTNQN + "\n" and written[0] == UUID_PREFIX + written[1]
    assert initiator.fabrics.calls and all("hostnqn=%s," % result["host"]["hostnqn"] in call[1]
                                           for call in initiator.fabrics.calls)


def test_an_identity_only_call_still_writes(initiator):
    result = initiator.run(hostnqn=UUID_PREFIX + NEW_ID)
    assert result["changed"] is True and _identity(initiator) == (UUID_PREFIX + NEW_ID + "\n", NEW_ID + "\n")


# -- the harness sees what a case must not do ---------------------------------------------------------
def test_the_lab_identities_are_those_the_role_derives():
    with warnings.catch_warnings():  # ansible-core 2.16 imports the deprecated crypt module with the filters
        warnings.simplefilter("ignore", DeprecationWarning)
        from ansible.plugins.filter.core import to_uuid as filter_to_uuid  # pylint: disable=import-outside-toplevel
    for name in ("target1", "initiator1", "initiator2"):
        assert to_uuid(name) == filter_to_uuid(name)
    assert hostnqn("initiator1") == "nqn.2014-08.org.nvmexpress:uuid:8ae91f10-eac8-5944-8fc9-0d07f409ce5c"


def test_a_valid_subsystem_does_not_hold(lab_host):
    host = lab_host("target1")
    problems = _module_case({"module": "nvmeof.fleet.nvmet_subsystem", "expect": ["nqn"], "args": {
        "nqn": BASE.replace(":base", ":new"), "namespaces": [{"nsid": 1, "device_path": DATA[2]}],
        "listeners": [{"address": "10.90.1.11"}], "hosts": [{"nqn": hostnqn("initiator1")}]}}, host)
    assert problems[0].startswith("the module did not fail (rc 0)")
    assert any(problem.startswith("the tree changed: added /sys/kernel/config/nvmet/subsystems/") for problem in problems)
    assert any(problem.startswith("the tree changed: added /etc/nvmeof-fleet/nvmet/subsystems/") for problem in problems)


def test_a_live_only_change_does_not_hold(lab_host):
    host = lab_host("initiator1")
    problems = _module_case({"module": "nvmeof.fleet.interface_mtu", "expect": [],
                             "args": {"interfaces": [{"name": "eth1", "mtu": 9000}], "persist": False}}, host)
    assert problems[0].startswith("the module did not fail (rc 0)")
    assert problems[1:] == ["a change ran: ip link set dev eth1 mtu 9000"]


def test_a_disconnect_does_not_hold(lab_host):
    host = lab_host("initiator2")
    problems = _module_case({"module": "nvmeof.fleet.nvme_connect", "expect": ["nqn"], "args": {
        "nqn": BASE.replace(":base", ":legacy"), "paths": [{"address": "10.90.2.11"}], "state": "absent",
        "persist": False}}, host)
    assert problems[0].startswith("the module did not fail (rc 0)")
    assert "a change ran: disconnect nvme1" in problems
    assert any(problem.startswith("the tree changed: removed /sys/devices/virtual/nvme-fabrics/ctl/nvme1")
               for problem in problems)


def test_a_message_without_the_value_does_not_hold(lab_host):
    host = lab_host("target1")
    problems = _module_case({"module": "nvmeof.fleet.nvmet_subsystem", "expect": ["nqn: ", "the value"],
                             "args": {"nqn": "nqn.bad"}}, host)
    message = ("nqn: 'nqn.bad' is not a valid NQN: use nqn.yyyy-mm.reverse.domain:identifier (identifier of "
               "letters, digits and . _ : + -) or nqn.2014-08.org.nvmexpress:uuid:<uuid>")
    assert problems == ["the message %r lacks ['the value']" % message]


def test_a_role_that_gets_past_its_checks_does_not_hold(tmp_path):
    cases = [{"id": "control-target", "host": "target1", "role": "nvmeof.fleet.target",
              "vars": {"target_subsystems": []}},
             {"id": "control-fleet", "host": "initiator1", "role": "nvmeof.fleet.fleet",
              "vars": {"fleet_serial": "50%"}}]
    events, output = run(cases, str(tmp_path))
    for case in cases:
        stage, message = outcome(events[case["id"]])
        assert stage.startswith("got past the role's checks: task "), (case["id"], stage, output[-2000:])
        assert stage.endswith(" unreachable") or "nvmeof-fleet-bad-input/ssh" in message, (stage, message)
        results = {"results": {case["id"]: (stage, message)}, "output": output}
        problems = _role_case(dict(case, expect=["anything"]), results)
        assert problems[0].startswith("the role was not refused by its argument spec or its checks")
