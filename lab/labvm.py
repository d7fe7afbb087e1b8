"""Starts, probes and stops one lab VM (QEMU with a copy-on-write overlay)."""

import hashlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from labcommon import LabError, say
import labsnapshot
from labswitch import fabric_socket, vm_socket

MAC_PREFIX = "52:54:00:4e"


def kvm_works():
    """KVM only helps where the CPU exposes virtualisation; stock kernels hang otherwise."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " vmx" in flags or " svm" in flags


def choose_accel():
    wanted = os.environ.get("LAB_ACCEL", "auto")
    if wanted not in ("auto", "kvm", "tcg"):
        raise LabError(f"LAB_ACCEL must be auto, kvm or tcg, not {wanted!r}")
    if wanted == "auto":
        return "kvm" if kvm_works() else "tcg"
    return wanted


def ssh_base(key, port):
    return ["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=5", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "root@127.0.0.1"]


def port_is_free(port):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def process_alive(pid, marker):
    """True for a live (not zombie) process whose command line mentions marker."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state != "Z" and marker.encode() in cmdline


def read_pid(pidfile, marker):
    """The pid in pidfile if that process is alive and is ours, else None."""
    try:
        pid = int(Path(pidfile).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if process_alive(pid, marker) else None


class Vm:
    def __init__(self, spec, lab, socket_dir):
        self.spec = spec
        self.lab = lab
        self.state = lab.state_dir
        self.socket_dir = socket_dir
        self.name = spec.name
        self.overlay = self.state / f"{self.name}.qcow2"
        self.pidfile = self.state / f"{self.name}.pid"
        self.qmp_path = Path(socket_dir) / f"{self.name}.qmp"
        self.fwcfg = self.state / f"{self.name}.fwcfg"
        self.serial_log = self.state / "logs" / f"{self.name}.serial.log"
        self.qemu_log = self.state / "logs" / f"{self.name}.qemu.log"
        self.accel = None
        self.process = None
        self.restored_from = None

    # -- state ---------------------------------------------------------------
    def pid(self):
        return read_pid(self.pidfile, self.name)

    def running_kernel(self, image_dir, manifest):
        """The lab kernel the running QEMU boots from this image, or None."""
        pid = self.pid()
        if pid is None:
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        for name, kernel in manifest["kernels"].items():
            if str(image_dir / kernel["kernel"]).encode() in cmdline:
                return name
        return None

    def boots(self, image_dir, manifest):
        """True if the running QEMU boots this VM's kernel from the given image."""
        return self.running_kernel(image_dir, manifest) == self.spec.kernel

    def machine_id(self):
        return hashlib.md5(f"{self.state}:{self.name}".encode()).hexdigest()

    def mac(self, nic):
        return f"{MAC_PREFIX}:{self.spec.index:02x}:{nic:02x}"

    # -- start ---------------------------------------------------------------
    def fwcfg_text(self, public_key):
        """The identity the guest applies at boot (lab/guest/usr/local/sbin/nvmeof-lab-init)."""
        lines = [f"hostname={self.name}", f"ssh_key={public_key.strip()}"]
        for fabric, addresses in enumerate(self.spec.storage):
            if addresses:
                lines.append(f"storage=eth{fabric + 1} {' '.join(addresses)}")
        return "\n".join(lines) + "\n"

    def _write_fwcfg(self, public_key):
        self.fwcfg.write_text(self.fwcfg_text(public_key))

    @property
    def nvdimm_backing(self):
        return self.state / f"{self.name}.nvdimm"

    def memory_tier_args(self):
        """The machine option, memory and devices of the slower memory tier (lab_memory_tier)."""
        spec = self.spec
        if spec.memory_tier == "cxl":
            # A volatile CXL Type 3 device behind a CXL host bridge, in a 4 GiB fixed memory window.
            return f"{spec.machine},cxl=on", ["-m", f"{spec.memory_mb}M,maxmem={spec.memory_mb + 4096}M,slots=2"], [
                "-object", f"memory-backend-ram,id=cxlmem0,size={spec.memory_tier_mb}M",
                "-device", "pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1",
                "-device", "cxl-rp,port=0,bus=cxl.1,id=cxl_rp0,chassis=0,slot=2",
                "-device", "cxl-type3,bus=cxl_rp0,volatile-memdev=cxlmem0,id=cxl-vmem0",
                "-M", "cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G"]
        if spec.memory_tier == "nvdimm":
            # RAM and the CPUs on node 0, the NVDIMM alone on node 1; labels make namespaces possible.
            return f"{spec.machine},nvdimm=on", [
                "-m", f"{spec.memory_mb}M,slots=2,maxmem={spec.memory_mb + spec.memory_tier_mb + 1024}M",
                "-object", f"memory-backend-ram,id=ram0,size={spec.memory_mb}M",
                "-numa", f"node,nodeid=0,cpus=0-{spec.cpus - 1},memdev=ram0",
                "-numa", "node,nodeid=1"], [
                "-object", f"memory-backend-file,id=nvmem0,share=on,mem-path={self.nvdimm_backing},"
                           f"size={spec.memory_tier_mb}M",
                "-device", "nvdimm,id=nvdimm0,memdev=nvmem0,node=1,label-size=128K"]
        return spec.machine, ["-m", f"{spec.memory_mb}M"], []

    @property
    def data_disks(self):
        return [self.state / f"{self.name}.data{number}.qcow2" for number in range(len(self.spec.data_disks))]

    def disk_args(self, bus):
        drive = f"file={self.overlay},format=qcow2,cache=unsafe,discard=unmap"
        args = (["-drive", f"{drive},if=virtio"] if not bus else
                ["-drive", f"{drive},if=none,id=disk0", "-device", f"virtio-blk-pci,drive=disk0{bus}"])
        # The serial gives the guest a stable name: /dev/disk/by-id/virtio-lab-data<N>.
        for number, path in enumerate(self.data_disks):
            args += ["-drive", f"file={path},format=qcow2,cache=unsafe,discard=unmap,if=none,id=data{number}",
                     "-device", f"virtio-blk-pci,drive=data{number},serial=lab-data{number}{bus}"]
        return args

    def command(self, image_dir, manifest, accel):
        kernel = manifest["kernels"].get(self.spec.kernel)
        if kernel is None:
            raise LabError(f"{self.name}: unknown lab kernel {self.spec.kernel!r}; "
                           f"the image has {sorted(manifest['kernels'])}")
        # Data disks may take /dev/vda (PCI slots are handed out in their own order): the root
        # file system is then found by its label.
        root = "LABEL=nvmeof-lab" if self.spec.data_disks else "/dev/vda"
        append = (f"root={root} rw console=ttyS0 net.ifnames=0 mitigations=off "
                  f"systemd.machine_id={self.machine_id()}")
        # Without hypervisor=off the guest cannot commit a CXL region (docs/lab.md).
        tcg_cpu = "max,hypervisor=off" if self.spec.memory_tier == "cxl" else "max"
        cpu = ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else \
              ["-accel", "tcg,thread=multi", "-cpu", tcg_cpu]
        machine, memory, tier_devices = self.memory_tier_args()
        # The guests keep time with the TSC; QEMU's emulated HPET alone kept an idle guest at
        # 20-27 % of a host core (4 % without it), on every VM of every scenario (docs/lab.md).
        machine += ",hpet=off"
        # Devices behind the CXL host bridge would not work: everything else sits on pcie.0.
        bus = ",bus=pcie.0" if self.spec.memory_tier == "cxl" else ""
        cmd = [self.spec.qemu, "-name", self.name, "-machine", machine, *cpu,
               "-smp", str(self.spec.cpus), *memory,
               "-nodefaults", "-display", "none", "-no-user-config",
               "-kernel", str(image_dir / kernel["kernel"]),
               "-initrd", str(image_dir / kernel["initrd"]), "-append", append,
               *self.disk_args(bus),
               "-device", f"virtio-rng-pci{bus}",
               # A new generation id at every start: a guest restored from a snapshot reseeds its RNG.
               "-device", "vmgenid,guid=auto",
               "-netdev", f"user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{self.spec.ssh_port}-:22",
               "-device", f"virtio-net-pci,netdev=mgmt,mac={self.mac(0)}{bus}", *tier_devices]
        for fabric in range(self.lab.fabrics):
            local = vm_socket(self.socket_dir, f"fabric{fabric}", self.name)
            remote = fabric_socket(self.socket_dir, f"fabric{fabric}")
            cmd += ["-netdev", f"dgram,id=fab{fabric},local.type=unix,local.path={local},"
                               f"remote.type=unix,remote.path={remote}",
                    "-device", f"virtio-net-pci,netdev=fab{fabric},mac={self.mac(fabric + 1)}{bus}"]
        cmd += ["-fw_cfg", f"name=opt/nvmeof-lab/config,file={self.fwcfg}",
                "-chardev", f"file,id=serial0,path={self.serial_log},append=on",
                "-serial", "chardev:serial0",
                "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
                "-pidfile", str(self.pidfile), *self.spec.qemu_args]
        return cmd

    def start(self, image_dir, manifest, public_key, accel, snapshot=None):
        """Boots the VM, or with snapshot (labsnapshot) resumes it from that booted state."""
        if self.pid():
            raise LabError(f"{self.name} is already running (pid {self.pid()}); "
                           "run lab-down first")
        if not port_is_free(self.spec.ssh_port):
            raise LabError(f"{self.name}: SSH port 127.0.0.1:{self.spec.ssh_port} is in use "
                           "by another process; change ansible_port or stop that process")
        self.serial_log.parent.mkdir(parents=True, exist_ok=True)
        for log in (self.serial_log, self.qemu_log):
            if log.exists():
                log.replace(log.with_suffix(log.suffix + ".1"))
        for fabric in range(self.lab.fabrics):
            Path(vm_socket(self.socket_dir, f"fabric{fabric}", self.name)).unlink(missing_ok=True)
        self.overlay.unlink(missing_ok=True)
        self.restored_from = snapshot
        if snapshot:
            labsnapshot.restore_disks(snapshot, self)
        else:
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                            "-b", str(image_dir / manifest["image"]), str(self.overlay)], check=True)
            for path, size in zip(self.data_disks, self.spec.data_disks):
                subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), f"{size}M"], check=True)
        self._write_fwcfg(public_key)
        self.accel = accel
        command = self.command(image_dir, manifest, accel) + (["-loadvm", labsnapshot.TAG] if snapshot else [])
        with open(self.qemu_log, "ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def exited_early(self):
        return self.process is not None and self.process.poll() is not None

    def reachable(self, key):
        probe = subprocess.run(ssh_base(key, self.spec.ssh_port) + ["true"],
                               stdin=subprocess.DEVNULL, capture_output=True, check=False)
        return probe.returncode == 0

    # -- stop ----------------------------------------------------------------
    def qmp(self, command, arguments=None, timeout=5):
        """Runs one QMP command and returns its reply."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(self.qmp_path))
            stream = conn.makefile("rw")
            stream.readline()
            for execute, args in (("qmp_capabilities", None), (command, arguments)):
                stream.write(json.dumps({"execute": execute, **({"arguments": args} if args else {})}) + "\n")
                stream.flush()
                while True:
                    reply = json.loads(stream.readline() or "{}")
                    if "event" not in reply:
                        break
        return reply

    def hmp(self, command_line):
        """A human monitor command (savevm has no plain QMP equivalent in QEMU 7.2); its output."""
        reply = self.qmp("human-monitor-command", {"command-line": command_line}, timeout=120)
        if "error" in reply:
            raise LabError(f"{self.name}: {command_line}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return", "")

    def kill(self):
        pid = self.pid()
        if pid is None:
            return
        try:
            self.qmp("quit")
        except (OSError, ValueError):
            pass
        deadline = time.monotonic() + 5
        while self.pid() and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.pid():
            say(f"{self.name}: QEMU did not quit, killing pid {pid}")
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)

    def remove_runtime_files(self):
        for path in (self.overlay, self.pidfile, self.fwcfg, self.qmp_path, self.nvdimm_backing, *self.data_disks):
            Path(path).unlink(missing_ok=True)
        for fabric in range(self.lab.fabrics):
            Path(vm_socket(self.socket_dir, f"fabric{fabric}", self.name)).unlink(missing_ok=True)
