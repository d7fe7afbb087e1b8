"""Reads a lab's VMs from an Ansible inventory file.

The inventory that Ansible uses to reach the lab is also the lab's
description, so the two cannot drift apart. Per host (or inherited from a
group) the lab reads:

  ansible_port            SSH port forwarded from 127.0.0.1 (required)
  lab_storage_addresses   one entry per storage fabric (eth1, eth2, ...):
                          an address/prefix, a list of them, or empty
  lab_fabrics             number of storage fabrics every VM joins (2)
  lab_memory_mb, lab_cpus memory and vCPUs (1024, 1: on a 2-core host, fewer
                          vCPUs per VM boot faster under TCG)
  lab_kernel              "6.1" or "6.12"; LAB_KERNEL in the environment wins
  lab_machine             QEMU machine type (q35)
  lab_qemu                QEMU binary (qemu-system-x86_64)
  lab_qemu_args           extra QEMU arguments (a list)
  lab_memory_tier         a slower memory tier besides RAM: "none", "cxl" (a volatile CXL
                          Type 3 device; QEMU 10, see labqemu.py) or "nvdimm" (an emulated
                          NVDIMM on its own CPU-less NUMA node)
  lab_memory_tier_mb      its size (512)
  lab_data_disks          sizes in MiB of empty virtio disks for the VM to export or use,
                          /dev/disk/by-id/virtio-lab-data<N> in the guest (none)
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from labcommon import LabError

DEFAULTS = {
    "lab_fabrics": 2, "lab_memory_mb": 1024, "lab_cpus": 1, "lab_kernel": "6.1",
    "lab_machine": "q35", "lab_qemu": "qemu-system-x86_64", "lab_qemu_args": [],
    "lab_storage_addresses": [], "lab_memory_tier": "none", "lab_memory_tier_mb": 512,
    "lab_data_disks": [],
}
MEMORY_TIERS = ("none", "cxl", "nvdimm")


def _disk_sizes(name, sizes):
    if not isinstance(sizes, list) or not all(isinstance(size, int) and not isinstance(size, bool) and size > 0
                                              for size in sizes):
        raise LabError(f"lab host {name}: lab_data_disks must be a list of sizes in MiB, not {sizes!r}")
    return list(sizes)


@dataclass
class VmSpec:
    name: str
    index: int
    ssh_port: int
    kernel: str
    memory_mb: int
    cpus: int
    machine: str
    qemu: str
    qemu_args: list
    storage: list = field(default_factory=list)  # per fabric: list of "addr/prefix"
    memory_tier: str = "none"
    memory_tier_mb: int = 512
    data_disks: list = field(default_factory=list)  # sizes in MiB


@dataclass
class LabSpec:
    inventory: Path
    state_dir: Path
    fabrics: int
    vms: list


def _walk(group, inherited, hosts):
    group = group or {}
    merged = {**inherited, **(group.get("vars") or {})}
    for name, host_vars in (group.get("hosts") or {}).items():
        hosts.setdefault(name, {}).update({**merged, **(host_vars or {})})
    for child in (group.get("children") or {}).values():
        _walk(child, merged, hosts)


def _addresses(entry):
    if not entry:
        return []
    return [entry] if isinstance(entry, str) else list(entry)


def load(inventory, kernel_override=None):
    inventory = Path(inventory).resolve()
    try:
        data = yaml.safe_load(inventory.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LabError(f"cannot read lab inventory {inventory}: {exc}") from exc
    hosts = {}
    for top in data.values():
        _walk(top, {}, hosts)
    if not hosts:
        raise LabError(f"lab inventory {inventory} defines no hosts")
    kernel_override = kernel_override or os.environ.get("LAB_KERNEL")
    vms, fabrics = [], set()
    for index, (name, raw) in enumerate(sorted(hosts.items())):
        values = {**DEFAULTS, **raw}
        if "ansible_port" not in raw:
            raise LabError(f"lab host {name} has no ansible_port in {inventory}")
        storage = [_addresses(e) for e in values["lab_storage_addresses"]]
        if len(storage) > int(values["lab_fabrics"]):
            raise LabError(f"lab host {name}: {len(storage)} storage addresses for "
                           f"{values['lab_fabrics']} fabrics")
        if values["lab_memory_tier"] not in MEMORY_TIERS:
            raise LabError(f"lab host {name}: lab_memory_tier must be one of {', '.join(MEMORY_TIERS)}, "
                           f"not {values['lab_memory_tier']!r}")
        fabrics.add(int(values["lab_fabrics"]))
        vms.append(VmSpec(
            name=name, index=index, ssh_port=int(raw["ansible_port"]),
            kernel=str(kernel_override or values["lab_kernel"]),
            memory_mb=int(values["lab_memory_mb"]), cpus=int(values["lab_cpus"]),
            machine=values["lab_machine"], qemu=values["lab_qemu"],
            qemu_args=[str(a) for a in values["lab_qemu_args"]], storage=storage,
            memory_tier=values["lab_memory_tier"], memory_tier_mb=int(values["lab_memory_tier_mb"]),
            data_disks=_disk_sizes(name, values["lab_data_disks"])))
    if len(fabrics) != 1:
        raise LabError(f"lab hosts in {inventory} disagree on lab_fabrics: {sorted(fabrics)}")
    ports = [vm.ssh_port for vm in vms]
    if len(set(ports)) != len(ports):
        raise LabError(f"lab hosts in {inventory} share an ansible_port: {ports}")
    return LabSpec(inventory=inventory, state_dir=inventory.parent / ".lab",
                   fabrics=fabrics.pop(), vms=vms)
