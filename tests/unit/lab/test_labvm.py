from pathlib import Path

import labspec
import labvm
import pytest
from labcommon import LabError


@pytest.fixture
def lab(tmp_path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        "all: {vars: {lab_fabrics: 2}, hosts: {t1: {ansible_port: 2299, "
        "lab_storage_addresses: ['10.90.1.11/24', ['10.90.2.11/24', 'fd90:2::11/64']]}}}\n")
    return labspec.load(inventory)


MANIFEST = {"image": "rootfs.raw", "kernels": {"6.1": {"kernel": "vmlinuz-6.1", "initrd": "initrd-6.1"}}}


def test_qemu_command_isolates_management_and_joins_every_fabric(lab, tmp_path):
    vm = labvm.Vm(lab.vms[0], lab, str(tmp_path / "sockets"))
    cmd = vm.command(Path("/images/x"), MANIFEST, "tcg")
    joined = " ".join(cmd)
    assert "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:2299-:22" in joined
    assert joined.count("-netdev dgram") == 2
    assert "-kernel /images/x/vmlinuz-6.1" in joined
    assert "tcg,thread=multi" in joined and "-accel kvm" not in joined
    assert "kvm" in " ".join(vm.command(Path("/i"), MANIFEST, "kvm"))


def test_fw_cfg_config_describes_identity_and_storage(lab, tmp_path):
    vm = labvm.Vm(lab.vms[0], lab, str(tmp_path))
    lab.state_dir.mkdir()
    vm._write_fwcfg("ssh-ed25519 AAAA test\n")
    assert vm.fwcfg.read_text().splitlines() == [
        "hostname=t1", "ssh_key=ssh-ed25519 AAAA test",
        "storage=eth1 10.90.1.11/24", "storage=eth2 10.90.2.11/24 fd90:2::11/64"]


def test_unknown_kernel_is_refused(lab, tmp_path):
    lab.vms[0].kernel = "5.10"
    vm = labvm.Vm(lab.vms[0], lab, str(tmp_path))
    with pytest.raises(LabError, match="unknown lab kernel '5.10'"):
        vm.command(Path("/i"), MANIFEST, "tcg")


def test_accel_choice(monkeypatch):
    monkeypatch.setenv("LAB_ACCEL", "tcg")
    assert labvm.choose_accel() == "tcg"
    monkeypatch.setenv("LAB_ACCEL", "auto")
    monkeypatch.setattr(labvm, "kvm_works", lambda: False)
    assert labvm.choose_accel() == "tcg"
    monkeypatch.setenv("LAB_ACCEL", "fast")
    with pytest.raises(LabError, match="LAB_ACCEL must be"):
        labvm.choose_accel()


def test_a_stopped_vm_boots_nothing(lab, tmp_path):
    vm = labvm.Vm(lab.vms[0], lab, str(tmp_path))
    assert vm.boots(Path("/images/x"), MANIFEST) is False


def _args_after(cmd, flag):
    return [cmd[i + 1] for i, arg in enumerate(cmd) if arg == flag]


def test_cxl_memory_tier_puts_a_volatile_type3_device_behind_a_cxl_host_bridge(lab, tmp_path):
    lab.vms[0].memory_tier, lab.vms[0].memory_tier_mb = "cxl", 256
    cmd = labvm.Vm(lab.vms[0], lab, str(tmp_path)).command(Path("/i"), MANIFEST, "tcg")
    assert _args_after(cmd, "-machine") == ["q35,cxl=on,hpet=off"]
    assert _args_after(cmd, "-cpu") == ["max,hypervisor=off"]
    assert "memory-backend-ram,id=cxlmem0,size=256M" in _args_after(cmd, "-object")
    devices = _args_after(cmd, "-device")
    assert "cxl-type3,bus=cxl_rp0,volatile-memdev=cxlmem0,id=cxl-vmem0" in devices
    # Every other PCI device stays on the root bus, out of the CXL host bridge.
    others = [d for d in devices if d.startswith("virtio-")]
    assert len(others) == 5 and all(d.endswith(",bus=pcie.0") for d in others)
    assert not any("if=virtio" in d for d in _args_after(cmd, "-drive"))


def test_nvdimm_memory_tier_sits_alone_on_a_cpu_less_node(lab, tmp_path):
    lab.vms[0].memory_tier = "nvdimm"
    vm = labvm.Vm(lab.vms[0], lab, str(tmp_path))
    cmd = vm.command(Path("/i"), MANIFEST, "tcg")
    assert _args_after(cmd, "-machine") == ["q35,nvdimm=on,hpet=off"]
    assert _args_after(cmd, "-numa") == ["node,nodeid=0,cpus=0-0,memdev=ram0", "node,nodeid=1"]
    assert f"memory-backend-file,id=nvmem0,share=on,mem-path={vm.nvdimm_backing},size=512M" in _args_after(cmd, "-object")
    assert "nvdimm,id=nvdimm0,memdev=nvmem0,node=1,label-size=128K" in _args_after(cmd, "-device")
    assert _args_after(cmd, "-cpu") == ["max"]


def test_no_memory_tier_keeps_the_plain_machine(lab, tmp_path):
    cmd = labvm.Vm(lab.vms[0], lab, str(tmp_path)).command(Path("/i"), MANIFEST, "tcg")
    assert _args_after(cmd, "-machine") == ["q35,hpet=off"]
    assert _args_after(cmd, "-m") == ["1024M"]
    assert "-numa" not in cmd


def test_data_disks_get_stable_serials_and_the_root_is_found_by_label(lab, tmp_path):
    plain = labvm.Vm(lab.vms[0], lab, str(tmp_path)).command(Path("/i"), MANIFEST, "tcg")
    assert "root=/dev/vda " in _args_after(plain, "-append")[0]
    lab.vms[0].data_disks = [128, 128]
    vm = labvm.Vm(lab.vms[0], lab, str(tmp_path))
    cmd = vm.command(Path("/i"), MANIFEST, "tcg")
    # PCI slots may put a data disk at /dev/vda: the root file system is found by its label.
    assert "root=LABEL=nvmeof-lab " in _args_after(cmd, "-append")[0]
    assert [d for d in _args_after(cmd, "-device") if "serial=" in d] == [
        "virtio-blk-pci,drive=data0,serial=lab-data0", "virtio-blk-pci,drive=data1,serial=lab-data1"]
    assert [str(path) for path in vm.data_disks] == [str(lab.state_dir / f"{vm.name}.data{n}.qcow2") for n in (0, 1)]
