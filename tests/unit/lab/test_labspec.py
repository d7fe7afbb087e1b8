import textwrap

import pytest

import labspec
from labcommon import LabError


def write(tmp_path, text):
    path = tmp_path / "inventory.yml"
    path.write_text(textwrap.dedent(text))
    return path


LAB = """
all:
  children:
    lab_vms:
      vars: {lab_fabrics: 2, lab_kernel: "6.1"}
      children:
        nvme_targets:
          vars: {lab_memory_mb: 2048}
          hosts:
            target1: {ansible_port: 2221, lab_storage_addresses: ["10.90.1.11/24", ["10.90.2.11/24", "fd90:2::11/64"]]}
        nvme_initiators:
          hosts:
            initiator1: {ansible_port: 2222, lab_cpus: 2}
"""


def test_hosts_inherit_group_vars_and_get_defaults(tmp_path):
    lab = labspec.load(write(tmp_path, LAB))
    assert lab.fabrics == 2
    assert lab.state_dir == tmp_path / ".lab"
    by_name = {vm.name: vm for vm in lab.vms}
    target, initiator = by_name["target1"], by_name["initiator1"]
    assert (target.ssh_port, target.memory_mb, target.cpus) == (2221, 2048, 1)
    assert target.storage == [["10.90.1.11/24"], ["10.90.2.11/24", "fd90:2::11/64"]]
    assert (initiator.memory_mb, initiator.cpus, initiator.storage) == (1024, 2, [])
    assert {vm.kernel for vm in lab.vms} == {"6.1"}
    assert len({vm.index for vm in lab.vms}) == 2


def test_kernel_override_from_argument_and_environment(tmp_path, monkeypatch):
    inventory = write(tmp_path, LAB)
    assert {vm.kernel for vm in labspec.load(inventory, "6.12").vms} == {"6.12"}
    monkeypatch.setenv("LAB_KERNEL", "6.12")
    assert {vm.kernel for vm in labspec.load(inventory).vms} == {"6.12"}


@pytest.mark.parametrize("text, message", [
    ("all: {hosts: {a: {lab_kernel: '6.1'}}}", "a has no ansible_port"),
    ("all: {hosts: {a: {ansible_port: 1}, b: {ansible_port: 1}}}", "share an ansible_port"),
    ("all: {hosts: {a: {ansible_port: 1, lab_fabrics: 1, lab_storage_addresses: [x, y]}}}",
     "2 storage addresses for 1 fabrics"),
    ("all: {hosts: {a: {ansible_port: 1, lab_fabrics: 1}, b: {ansible_port: 2}}}",
     "disagree on lab_fabrics"),
    ("all: {children: {}}", "defines no hosts"),
    ("all: [unclosed", "cannot read lab inventory"),
])
def test_bad_inventories_are_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(LabError, match=message):
        labspec.load(write(tmp_path, text))


def test_committed_lab_inventories_parse(request):
    root = request.config.rootpath
    for inventory in [root / "lab/inventory.yml", *sorted(root.glob("molecule/*/inventory.yml"))]:
        lab = labspec.load(inventory)
        assert lab.vms, inventory
        assert all(vm.kernel in ("6.1", "6.12") for vm in lab.vms), inventory


def test_memory_tier_is_read_and_checked(tmp_path):
    lab = labspec.load(write(tmp_path, "all: {hosts: {a: {ansible_port: 1, lab_memory_tier: cxl, lab_memory_tier_mb: 256}, "
                                       "b: {ansible_port: 2}}}"))
    by_name = {vm.name: vm for vm in lab.vms}
    assert (by_name["a"].memory_tier, by_name["a"].memory_tier_mb) == ("cxl", 256)
    assert (by_name["b"].memory_tier, by_name["b"].memory_tier_mb) == ("none", 512)
    with pytest.raises(LabError, match="lab_memory_tier must be one of none, cxl, nvdimm, not 'pmem'"):
        labspec.load(write(tmp_path, "all: {hosts: {a: {ansible_port: 1, lab_memory_tier: pmem}}}"))


def test_data_disks_are_read_and_checked(tmp_path):
    lab = labspec.load(write(tmp_path, "all: {hosts: {a: {ansible_port: 1, lab_data_disks: [128, 64]}, b: {ansible_port: 2}}}"))
    by_name = {vm.name: vm for vm in lab.vms}
    assert (by_name["a"].data_disks, by_name["b"].data_disks) == ([128, 64], [])
    for bad in ("128", "[0]", "[true]", "['1G']"):
        with pytest.raises(LabError, match="lab host a: lab_data_disks must be a list of sizes in MiB"):
            labspec.load(write(tmp_path, "all: {hosts: {a: {ansible_port: 1, lab_data_disks: %s}}}" % bad))
