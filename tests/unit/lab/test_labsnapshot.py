import json
from pathlib import Path

import labsnapshot
import labspec
import labvm
import pytest
from labcommon import LabError

MANIFEST = {"image": "rootfs.raw", "kernels": {
    "6.1": {"kernel": "vmlinuz-6.1", "initrd": "initrd-6.1"},
    "6.12": {"kernel": "vmlinuz-6.12", "initrd": "initrd-6.12"}}}
KEY = "ssh-ed25519 AAAA lab\n"


def lab_in(directory, port=2299, host_vars=""):
    directory.mkdir(parents=True, exist_ok=True)
    inventory = directory / "inventory.yml"
    inventory.write_text(
        "all: {vars: {lab_fabrics: 2}, hosts: {target1: {ansible_port: %d, "
        "lab_storage_addresses: ['10.90.1.11/24', '10.90.2.11/24']%s}}}\n" % (port, host_vars))
    return labspec.load(inventory)


def key_of(lab, public_key=KEY, version="QEMU emulator version 7.2.22"):
    vm = labvm.Vm(lab.vms[0], lab, str(lab.state_dir.parent / "sockets"))
    return labsnapshot.snapshot_key(vm, vm.command(Path("/cache/images/abc"), MANIFEST, "tcg"),
                                    vm.fwcfg_text(public_key), version)


def test_the_same_vm_in_two_labs_has_one_key(tmp_path):
    # Another checkout, another scenario directory, another SSH port: the guest sees the same machine.
    assert key_of(lab_in(tmp_path / "default")) == key_of(lab_in(tmp_path / "deep/dir/target", port=2241))


@pytest.mark.parametrize("host_vars", [
    ", lab_kernel: '6.12'", ", lab_cpus: 2", ", lab_memory_mb: 2048", ", lab_data_disks: [64]",
    ", lab_storage_addresses: ['10.90.1.12/24', '10.90.2.11/24']", ", lab_qemu_args: ['-rtc', 'base=utc']",
])
def test_anything_the_guest_sees_at_boot_makes_another_key(tmp_path, host_vars):
    assert key_of(lab_in(tmp_path / "a")) != key_of(lab_in(tmp_path / "b", host_vars=host_vars))


def test_the_ssh_key_and_the_qemu_build_are_part_of_the_key(tmp_path):
    lab = lab_in(tmp_path / "a")
    assert key_of(lab) != key_of(lab, public_key="ssh-ed25519 BBBB other\n")
    assert key_of(lab) != key_of(lab, version="QEMU emulator version 10.0.2")


def test_only_vms_without_a_memory_tier_are_snapshotted(tmp_path, monkeypatch):
    plain_lab = lab_in(tmp_path / "a")
    cxl_lab = lab_in(tmp_path / "b", host_vars=", lab_memory_tier: cxl")
    plain, cxl = labvm.Vm(plain_lab.vms[0], plain_lab, "s"), labvm.Vm(cxl_lab.vms[0], cxl_lab, "s")
    monkeypatch.delenv("LAB_SNAPSHOTS", raising=False)
    assert labsnapshot.eligible(plain)
    assert not labsnapshot.eligible(cxl)
    monkeypatch.setenv("LAB_SNAPSHOTS", "0")
    assert not labsnapshot.eligible(plain)


class FakeVm:
    """Records the monitor commands; its disks are plain files."""

    def __init__(self, directory, savevm_reply=""):
        self.name = "target1"
        self.overlay = directory / "target1.qcow2"
        self.data_disks = [directory / "target1.data0.qcow2"]
        self.overlay.write_bytes(b"root with snapshot")
        self.data_disks[0].write_bytes(b"data with snapshot")
        self.savevm_reply = savevm_reply
        self.monitor = []

    def qmp(self, command):
        self.monitor.append(command)

    def hmp(self, command_line):
        self.monitor.append(command_line)
        return self.savevm_reply


def test_save_pauses_saves_copies_and_resumes(tmp_path):
    store = labsnapshot.Store(tmp_path / "snapshots")
    vm = FakeVm(tmp_path)
    store.save(vm, "k1", "img1")
    assert vm.monitor == ["stop", "savevm booted", "cont"]
    saved = store.find("k1")
    assert (saved / "root.qcow2").read_bytes() == b"root with snapshot"
    assert (saved / "data0.qcow2").read_bytes() == b"data with snapshot"
    assert json.loads((saved / "complete").read_text()) == {"vm": "target1", "image": "img1"}
    # Restoring copies them back as the VM's own disks.
    (tmp_path / "other").mkdir()
    restored = FakeVm(tmp_path / "other")
    restored.overlay.write_bytes(b"")
    restored.data_disks[0].write_bytes(b"")
    labsnapshot.restore_disks(saved, restored)
    assert restored.overlay.read_bytes() == b"root with snapshot"
    assert restored.data_disks[0].read_bytes() == b"data with snapshot"


def test_a_failed_savevm_resumes_the_vm_and_keeps_nothing(tmp_path):
    store = labsnapshot.Store(tmp_path / "snapshots")
    vm = FakeVm(tmp_path, savevm_reply="Error: Device 'disk0' is read-only")
    with pytest.raises(LabError, match="savevm said: Error: Device 'disk0' is read-only"):
        store.save(vm, "k1", "img1")
    assert vm.monitor == ["stop", "savevm booted", "cont"]
    assert store.find("k1") is None
    assert list(store.root.iterdir()) == []


def test_an_incomplete_snapshot_is_not_found_and_other_images_are_pruned(tmp_path):
    store = labsnapshot.Store(tmp_path)
    (tmp_path / "half").mkdir()
    assert store.find("half") is None
    for key, image in (("old", "img0"), ("new", "img1")):
        (tmp_path / key).mkdir()
        (tmp_path / key / "complete").write_text(json.dumps({"vm": "t", "image": image}))
    store.prune("img1")
    assert store.find("old") is None and store.find("new") == tmp_path / "new"
