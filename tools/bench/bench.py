#!/usr/bin/env python
"""Benchmark of nvmeof.fleet on the VM lab (behind `make bench`); prints a table, writes JSON and Markdown.

  bench.py -i lab/inventory.yml --json docs/benchmark.json --markdown docs/benchmark.md
           [--skip-fleet] [--skip-nvmet] [--namespaces 256] [--log-dir build/bench]

A. Fleet: fresh VMs (labctl down, then up: the boot is reported apart), then the floor
   (ansible -m ansible.builtin.ping on nvme_targets:nvme_initiators, after one warm-up), the full
   converge (ansible-playbook playbooks/site.yml) and its no-op re-run (which must change nothing).
B. nvmet_subsystem at scale on the first host of nvme_targets: one task with N namespaces, two
   listeners and one host (tools/bench/nvmet-scale.yml), its no-op re-run, and the floor: the same
   configfs writes by a shell script over one ssh connection (tools/bench/nvmet-scale-floor.sh).

Every ansible run is a subprocess: wall time is the time.monotonic() delta, controller CPU the
delta of getrusage(RUSAGE_CHILDREN) user+sys, which includes ansible's workers and its ssh
processes (this process is their child subreaper, so the ControlPersist masters it ends after each
run count too). Each run gets its own ControlPath directory: no run reuses another's connection.
The callback plugin tools/bench/callback_plugins/bench_counter.py counts module runs per host and
times every task. Only the Python standard library is used; Ansible runs from PATH (or beside
sys.executable). The lab is left up (converged, if part A ran).
"""

import argparse
import ctypes
import datetime
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LABCTL = ROOT / "lab" / "labctl.py"
SITE = ROOT / "playbooks" / "site.yml"
SCALE_PLAYBOOK = HERE / "nvmet-scale.yml"
ABSENT_PLAYBOOK = HERE / "nvmet-scale-absent.yml"
FLOOR_SCRIPT = HERE / "nvmet-scale-floor.sh"
FLOOR_TEARDOWN_SCRIPT = HERE / "nvmet-scale-floor-teardown.sh"
PREPARE_SCRIPT = HERE / "nvmet-scale-prepare.sh"
CALLBACK_DIR = HERE / "callback_plugins"

FLEET_GROUPS = ("nvme_targets", "nvme_initiators")
TARGET_GROUP = "nvme_targets"
BENCH_NQN = "nqn.2026-11.invalid.nvmeof-fleet.bench:scale"
BENCH_HOST_NQN = "nqn.2026-11.invalid.nvmeof-fleet.bench:host"
BENCH_REMOTE_DIR = "/var/lib/nvmeof-bench"
BENCH_SERVICE_ID = 4430
MODULE_ACTION = "nvmeof.fleet.nvmet_subsystem"
SSH_ROUND_TRIPS = 3
PR_SET_CHILD_SUBREAPER = 36
HEARTBEAT_SECONDS = 30


class BenchError(Exception):
    """A step of the benchmark failed; the message says what to look at."""


def say(message):
    """Progress on stdout, flushed at once."""
    print(f"[bench] {message}", flush=True)


# -- pure helpers: parsing ----------------------------------------------------------
def parse_ansible_version(text):
    """'ansible [core 2.19.14]' (first line of `ansible --version`) -> '2.19.14'."""
    match = re.search(r"\[core ([^\]\s]+)\]", text)
    return match.group(1) if match else None


def cpuinfo_field(cpuinfo, name):
    """The first value of a field of /proc/cpuinfo, None without one."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == name:
            return value.strip()
    return None


def parse_cpu_model(cpuinfo):
    """The first 'model name' of /proc/cpuinfo, None without one."""
    return cpuinfo_field(cpuinfo, "model name")


def parse_cpu_flags(cpuinfo):
    """The CPU flags of the first processor in /proc/cpuinfo."""
    return set((cpuinfo_field(cpuinfo, "flags") or "").split())


def parse_meminfo_mib(meminfo):
    """MemTotal of /proc/meminfo in MiB."""
    match = re.search(r"^MemTotal:\s+(\d+)\s+kB", meminfo, re.MULTILINE)
    return int(match.group(1)) // 1024 if match else None


def parse_os_release(text):
    """/etc/os-release as a dict, quotes removed."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            values[key.strip()] = value.strip().strip('"')
    return values


def accel_from_cmdline(args):
    """kvm or tcg from a QEMU command line (a list of arguments), None if it does not say."""
    for flag, value in zip(args, args[1:]):
        if flag == "-accel":
            return value.split(",")[0]
        if flag in ("-machine", "-M"):
            match = re.search(r"accel=(\w+)", value)
            if match:
                return match.group(1)
    return "kvm" if "-enable-kvm" in args else None


def qemu_shape(args):
    """vCPUs, memory in MiB and acceleration from a QEMU command line (a list of arguments)."""
    shape = {"cpus": None, "memory_mib": None, "accel": accel_from_cmdline(args)}
    for flag, value in zip(args, args[1:]):
        if flag == "-smp":
            match = re.match(r"(?:cpus=)?(\d+)", value)
            shape["cpus"] = int(match.group(1)) if match else None
        elif flag == "-m":
            match = re.match(r"(?:size=)?(\d+)([MG]?)", value)
            if match:
                shape["memory_mib"] = int(match.group(1)) * (1024 if match.group(2) == "G" else 1)
    return shape


def group_hosts(inventory, group):
    """Hosts of a group in `ansible-inventory --list` output, children included, in their order."""
    hosts, seen = [], set()

    def walk(name):
        if name in seen:
            return
        seen.add(name)
        entry = inventory.get(name) or {}
        for host in entry.get("hosts", []):
            if host not in hosts:
                hosts.append(host)
        for child in entry.get("children", []):
            walk(child)

    walk(group)
    return hosts


def fleet_hosts(inventory, groups=FLEET_GROUPS):
    """The union of the groups' hosts, as the pattern 'g1:g2' selects them."""
    hosts = []
    for group in groups:
        hosts += [host for host in group_hosts(inventory, group) if host not in hosts]
    return hosts


def storage_listeners(storage_addresses, service_id=BENCH_SERVICE_ID):
    """One listener per storage fabric: the fabric's first address, without its prefix."""
    listeners = []
    for entry in storage_addresses or []:
        addresses = [entry] if isinstance(entry, str) else list(entry or [])
        if addresses:
            address = str(addresses[0]).split("/", maxsplit=1)[0]
            listeners.append({"address": address, "service_id": service_id})
    return listeners


def bench_vars(target, count, listeners, directory=BENCH_REMOTE_DIR):
    """The extra vars of nvmet-scale.yml and nvmet-scale-absent.yml."""
    return {
        "bench_target": target,
        "bench_nqn": BENCH_NQN,
        "bench_namespaces": [{"nsid": nsid, "device_path": f"{directory}/ns-{nsid}.img"}
                             for nsid in range(1, count + 1)],
        "bench_listeners": listeners,
        "bench_hosts": [{"nqn": BENCH_HOST_NQN}],
    }


def parse_existing(text):
    """'existing subsystems=3' lines (nvmet-scale-prepare.sh) -> {'subsystems': 3, ...}."""
    return {key: int(value) for key, value in re.findall(r"^existing (\w+)=(\d+)$", text, re.MULTILINE)}


def parse_teardown(text):
    """'removed namespaces=256 ports=2' (last such line) -> {'namespaces': 256, 'ports': 2}."""
    found = {}
    for line in text.splitlines():
        if line.startswith("removed "):
            found = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}
    return found


# -- pure helpers: figures ------------------------------------------------------------
def ratio(numerator, denominator):
    """numerator / denominator, None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def cpu_seconds(before, after):
    """User, system and total CPU seconds between two resource.getrusage() results."""
    user = after.ru_utime - before.ru_utime
    system = after.ru_stime - before.ru_stime
    return {"cpu_user_s": round(user, 4), "cpu_sys_s": round(system, 4), "cpu_s": round(user + system, 4)}


def task_duration(counter, action=MODULE_ACTION):
    """Seconds the tasks with this action took (from the bench_counter report), None without one."""
    durations = [task["duration"] for task in (counter or {}).get("tasks", [])
                 if task.get("action") == action and task.get("duration") is not None]
    return round(sum(durations), 4) if durations else None


def run_summary(run, hosts):
    """The figures of one ansible run over `hosts`: totals, per host, and the callback's counts."""
    counter = run.get("counter") or {}
    counts = counter.get("hosts") or {}
    recap = counter.get("recap") or {}
    count = len(hosts) or 1
    modules = sum(counts.get(host, {}).get("modules", 0) for host in hosts)
    return {
        "hosts": len(hosts),
        "wall_s": run["wall_s"],
        "wall_per_host_s": round(run["wall_s"] / count, 4),
        "cpu_s": run["cpu_s"],
        "cpu_per_host_s": round(run["cpu_s"] / count, 4),
        "modules": modules,
        "modules_per_host": round(modules / count, 2),
        "changed": sum(counts.get(host, {}).get("changed", 0) for host in hosts),
        "failed": sum(counts.get(host, {}).get("failed", 0) for host in hosts),
        "recap_changed": sum(entry.get("changed", 0) for entry in recap.values()),
        "per_host": {host: {"modules": counts.get(host, {}).get("modules", 0),
                            "changed": counts.get(host, {}).get("changed", 0)} for host in hosts},
    }


def fleet_ratios(ping, converge, noop):
    """converge/ping and noop/ping, for wall and CPU per host (summaries of run_summary)."""
    ratios = {}
    for name, run in (("converge", converge), ("noop", noop)):
        for figure in ("wall", "cpu"):
            key = f"{figure}_per_host_s"
            ratios[f"{name}_over_ping_{figure}"] = ratio(run and run[key], ping and ping[key])
    return ratios


def nvmet_ratios(apply_run, noop_run, floor_wall):
    """Module apply and no-op over the floor, by task duration and by playbook wall."""
    ratios = {}
    for name, run in (("apply", apply_run), ("noop", noop_run)):
        ratios[f"{name}_task_over_floor"] = ratio(run and run.get("task_s"), floor_wall)
        ratios[f"{name}_wall_over_floor"] = ratio(run and run.get("wall_s"), floor_wall)
    return ratios


# -- pure helpers: rendering ----------------------------------------------------------
def fmt(value, digits=2, suffix=""):
    """A table cell: '-' for None, yes/no for booleans, fixed decimals for floats."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value}{suffix}"
    if isinstance(value, float):
        return f"{value:.{digits}f}{suffix}"
    return str(value)


def fmt_ratio(value):
    """A ratio as '12.34x'."""
    return fmt(value, 2, "x")


def changed_cell(changed, must_be_zero, recap=None):
    """The changed count, flagged when a run that must change nothing did; the play recap's count
    too when it differs (it also counts controller-side changes, add_host for one)."""
    cell = fmt(changed)
    if recap is not None and recap != changed:
        cell += f" (recap {recap})"
    if must_be_zero and (changed or recap):
        cell += " NOT 0!"
    return cell


def render_table(headers, rows):
    """A fixed-width table: first column left-aligned, the others right-aligned."""
    cells = [[str(cell) for cell in row] for row in [headers] + rows]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]

    def line(row):
        return "  ".join(cell.ljust(width) if index == 0 else cell.rjust(width)
                         for index, (cell, width) in enumerate(zip(row, widths))).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])


def render_markdown_table(headers, rows):
    """A Markdown table: first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(str(cell) for cell in headers) + " |",
             "| " + " | ".join(["---"] + ["---:"] * (len(headers) - 1)) + " |"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


FLEET_HEADERS = ["run", "wall s", "wall/host s", "CPU s", "CPU/host s", "modules/host", "changed",
                 "wall/ping", "CPU/ping"]
FLEET_HOST_HEADERS = ["host", "converge modules", "converge changed", "no-op modules", "no-op changed"]
NVMET_HEADERS = ["run", "playbook wall s", "task s", "changed", "task/floor", "wall/floor"]


def fleet_rows(fleet):
    """Rows of the fleet table: ping, converge, no-op."""
    rows = []
    ratios = fleet.get("ratios") or {}
    for name, label in (("ping", "ping (floor)"), ("converge", "converge"), ("noop", "no-op re-run")):
        run = fleet.get("summary", {}).get(name)
        if run is None:
            continue
        wall_ratio = 1.0 if name == "ping" else ratios.get(f"{name}_over_ping_wall")
        cpu_ratio = 1.0 if name == "ping" else ratios.get(f"{name}_over_ping_cpu")
        rows.append([label, fmt(run["wall_s"]), fmt(run["wall_per_host_s"]), fmt(run["cpu_s"]),
                     fmt(run["cpu_per_host_s"]), fmt(run["modules_per_host"], 1),
                     changed_cell(run["changed"], name == "noop",
                                  run.get("recap_changed") if name == "noop" else None),
                     fmt_ratio(wall_ratio), fmt_ratio(cpu_ratio)])
    return rows


def fleet_host_rows(fleet):
    """Rows of the per-host table: module runs and changes of converge and no-op."""
    summary = fleet.get("summary", {})
    converge, noop = summary.get("converge") or {}, summary.get("noop") or {}
    rows = []
    for host in fleet.get("hosts", []):
        first = converge.get("per_host", {}).get(host, {})
        second = noop.get("per_host", {}).get(host, {})
        rows.append([host, fmt(first.get("modules")), fmt(first.get("changed")),
                     fmt(second.get("modules")), changed_cell(second.get("changed"), True)])
    return rows


def nvmet_rows(nvmet):
    """Rows of the nvmet_subsystem table: module runs, teardown, floor, ssh round trip."""
    ratios = nvmet.get("ratios") or {}
    rows = []
    for name, label, must_be_zero in (("module_apply", "module apply", False),
                                      ("module_noop", "module no-op re-run", True)):
        run = nvmet.get(name)
        if run is None:
            continue
        key = "apply" if name == "module_apply" else "noop"
        rows.append([label, fmt(run["wall_s"]), fmt(run.get("task_s")),
                     changed_cell(run.get("changed"), must_be_zero),
                     fmt_ratio(ratios.get(f"{key}_task_over_floor")),
                     fmt_ratio(ratios.get(f"{key}_wall_over_floor"))])
    absent = nvmet.get("module_absent")
    if absent is not None:
        rows.append(["module state=absent (teardown)", fmt(absent["wall_s"]), fmt(absent.get("task_s")),
                     fmt(absent.get("changed")), "-", "-"])
    floor = nvmet.get("floor")
    if floor is not None:
        rows.append(["floor: sh over one ssh", fmt(floor["wall_s"]), "-", "-", "1.00x", "1.00x"])
    trips = nvmet.get("ssh_true") or []
    if trips:
        rows.append([f"ssh round trip (true, median of {len(trips)})",
                     fmt(statistics.median(run["wall_s"] for run in trips)), "-", "-", "-", "-"])
    return rows


def machine_line(data):
    """The machine in one line."""
    machine = data["machine"]
    return (f"{machine.get('cpu_model') or 'unknown CPU'}, {machine.get('cores')} cores, "
            f"{fmt(machine.get('memory_mib'))} MiB, accel {machine.get('accel')} "
            f"(/dev/kvm usable: {fmt(machine.get('kvm_usable'))}), host kernel {machine.get('host_kernel')}, "
            f"Debian {machine.get('debian_version') or '-'}; ansible-core {data.get('ansible_core')}")


def guest_line(data):
    """Every VM with its guest kernel and size, in one line."""
    kernels = data.get("guest_kernels") or {}
    shapes = data.get("vms") or {}
    parts = []
    for host, release in sorted(kernels.items()):
        shape = shapes.get(host) or {}
        size = (f" ({shape['cpus']} vCPU, {shape['memory_mib']} MiB)"
                if shape.get("cpus") and shape.get("memory_mib") else "")
        parts.append(f"{host} {release}{size}")
    return ", ".join(parts) or "-"


def fleet_heading(data):
    """The line above the fleet table, with the boot time."""
    fleet = data["fleet"]
    boot = fleet.get("boot") or {}
    return (f"Fleet: {len(fleet['hosts'])} host(s) ({', '.join(fleet['hosts'])}); boot of "
            f"{len(fleet.get('vms', []))} VM(s) from fresh overlays {fmt(boot.get('wall_s'))} s "
            "(not in the per-host figures)")


def nvmet_heading(data):
    """The line above the nvmet_subsystem table."""
    nvmet = data["nvmet"]
    listeners = ", ".join(f"{item['address']}:{item['service_id']}" for item in nvmet["listeners"])
    existing = nvmet.get("existing") or {}
    return (f"nvmet_subsystem at scale on {nvmet['target']}: {nvmet['namespaces']} namespaces, "
            f"listeners {listeners}, 1 allowed host, persist false; the target already served "
            f"{fmt(existing.get('subsystems'))} subsystem(s) on {fmt(existing.get('ports'))} port(s)")


def render_text(data):
    """The printed report: fixed-width tables."""
    parts = [f"nvmeof.fleet benchmark, {data['date']}", machine_line(data),
             f"VMs: {guest_line(data)}"]
    if data.get("fleet"):
        parts += ["", fleet_heading(data), render_table(FLEET_HEADERS, fleet_rows(data["fleet"])),
                  "", render_table(FLEET_HOST_HEADERS, fleet_host_rows(data["fleet"]))]
    if data.get("nvmet"):
        parts += ["", nvmet_heading(data), render_table(NVMET_HEADERS, nvmet_rows(data["nvmet"]))]
    return "\n".join(parts) + "\n"


HOW_MEASURED = """\
Every Ansible run is a subprocess of `tools/bench/bench.py`. Wall time is the `time.monotonic()`
delta around it; controller CPU is the delta of `getrusage(RUSAGE_CHILDREN)` user+system, which
includes Ansible's worker processes and the ssh processes (the tool is the child subreaper of each
run, and ends and reaps the ssh ControlPersist masters after it, so their encryption work counts
too). Each run gets a fresh ssh ControlPath directory, so every run, the floor included, opens its
own connections. Per-host figures are the run's totals divided by the number of hosts, which Ansible
works on in parallel.

The fleet's floor is `ansible -m ansible.builtin.ping` on `nvme_targets:nvme_initiators`, after one
uncounted warm-up; the VMs are booted first from fresh copy-on-write overlays of the cached image
(`labctl.py down`, then `up`), and the boot is reported apart. Module runs and changes per host come
from the callback plugin `tools/bench/callback_plugins/bench_counter.py`: every ok, changed or
failed task result that ran a module on the host, one per loop item, without controller-side actions
(set_fact, assert, debug, includes, ...) and tasks delegated to localhost.

For `nvmet_subsystem`, "task s" is the task's duration as the callback saw it (task start to result)
and "playbook wall s" the whole `ansible-playbook` run; the floor is
`tools/bench/nvmet-scale-floor.sh`, the same configfs writes (host, subsystem, per namespace mkdir,
device_path, device_uuid, device_nguid, buffered_io, ana_grpid, enable, two ports and their links)
piped into `sh -s` over one ssh connection and timed from the controller; it starts as few processes
as it can (one `mkdir` for every directory, three `ln`), since under emulation starting a process
costs far more than a configfs write. Every run starts from the same configfs without the benchmark
subsystem: the module's subsystem is removed with `state: absent` and the floor's by
`nvmet-scale-floor-teardown.sh`, neither timed in the ratios. The ssh round trip (`ssh ... true`)
shows the fixed cost inside the floor. One uncounted `state: absent` call comes first, so that no
timed run pays for the first use of the module's code in the guest. The VMs run under QEMU with the
acceleration shown above.
"""


def render_markdown(data):
    """docs/benchmark.md: title, date, machine, tables, how measured."""
    parts = ["# nvmeof.fleet benchmark", "",
             f"Measured {data['date']} by `tools/bench/bench.py` (`make bench`).", "",
             f"Machine: {machine_line(data)}.", "",
             f"VMs (guest kernel, size): {guest_line(data)}; {data['hosts']} host(s) in "
             f"{':'.join(FLEET_GROUPS)}.", ""]
    if data.get("fleet"):
        parts += ["## Fleet", "", fleet_heading(data) + ".", "",
                  render_markdown_table(FLEET_HEADERS, fleet_rows(data["fleet"])), "",
                  render_markdown_table(FLEET_HOST_HEADERS, fleet_host_rows(data["fleet"])), ""]
        if not data["fleet"].get("noop_clean", True):
            parts += ["**The no-op re-run changed something: the playbook is not idempotent.**", ""]
    if data.get("nvmet"):
        parts += ["## nvmet_subsystem at scale", "", nvmet_heading(data) + ".", "",
                  render_markdown_table(NVMET_HEADERS, nvmet_rows(data["nvmet"])), ""]
        if not data["nvmet"].get("noop_clean", True):
            parts += ["**The module's no-op re-run reported a change.**", ""]
    parts += ["## How measured", "", HOW_MEASURED]
    return "\n".join(parts)


# -- the machine ----------------------------------------------------------------------
def read_text(path):
    """A file's text, empty when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def kvm_usable():
    """As lab/labvm.py decides: /dev/kvm read-write and a CPU that shows vmx or svm."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    return bool(parse_cpu_flags(read_text("/proc/cpuinfo")) & {"vmx", "svm"})


def running_vms(state_dir, vm_names):
    """vCPUs, memory and acceleration of the lab's running QEMU processes, from their command lines."""
    shapes = {}
    for name in vm_names:
        try:
            pid = int(read_text(Path(state_dir) / f"{name}.pid").strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (ValueError, OSError):
            continue
        if name.encode() not in cmdline:  # a stale pid file, the number reused
            continue
        shapes[name] = qemu_shape([arg.decode(errors="replace") for arg in cmdline.split(b"\0")])
    return shapes


def machine_info():
    """The controller: CPU, cores, memory, KVM, kernel, Debian release."""
    cpuinfo = read_text("/proc/cpuinfo")
    os_release = parse_os_release(read_text("/etc/os-release"))
    usable = kvm_usable()
    wanted = os.environ.get("LAB_ACCEL", "auto")
    return {
        "cpu_model": parse_cpu_model(cpuinfo),
        "cores": os.cpu_count(),
        "memory_mib": parse_meminfo_mib(read_text("/proc/meminfo")),
        "kvm_usable": usable,
        "accel": wanted if wanted in ("kvm", "tcg") else ("kvm" if usable else "tcg"),
        "host_kernel": os.uname().release,
        "debian_version": read_text("/etc/debian_version").strip() or None,
        "os": os_release.get("PRETTY_NAME"),
        "python": sys.version.split()[0],
    }


# -- processes ------------------------------------------------------------------------
def set_child_subreaper(enabled):
    """Orphans of our children (ssh ControlPersist masters) become our children: their CPU counts."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if enabled else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def adopted_children(marker):
    """Our child processes whose command line contains marker."""
    pids = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == me and marker in cmdline:
            pids.append(int(entry.name))
    return pids


def end_adopted(marker):
    """Ends and reaps the ssh masters a run left behind (they hold the run's control directory)."""
    pids = adopted_children(marker)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    while True:  # anything else that was adopted and has exited
        try:
            pid = os.waitpid(-1, os.WNOHANG)[0]
        except ChildProcessError:
            break
        if pid == 0:
            break
    return len(pids)


class Heartbeat:
    """Says every HEARTBEAT_SECONDS that a long step still runs."""

    def __init__(self, label):
        self.label = label
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(HEARTBEAT_SECONDS):
            say(f"{self.label}: still running after {time.monotonic() - self.started:.0f}s")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        return False


def tail(path, lines=30):
    """The last lines of a log."""
    return "\n".join(read_text(path).splitlines()[-lines:])


def tool(name):
    """An Ansible command: beside this Python (the virtualenv) or on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise BenchError(f"{name} not found beside {sys.executable} or on PATH (make venv)")
    return found


# -- the benchmark --------------------------------------------------------------------
class Bench:
    """One benchmark run over one lab inventory."""

    def __init__(self, args):
        self.args = args
        self.inventory = Path(args.inventory).resolve()
        self.state_dir = self.inventory.parent / ".lab"
        self.log_dir = Path(args.log_dir).resolve()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ)
        self.env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / "build" / "collections"))
        self.env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.env["ANSIBLE_NOCOLOR"] = "1"
        self.inventory_data = None
        self.step = 0

    # -- running things --
    def log_path(self, label):
        """The next numbered log file of this run."""
        self.step += 1
        return self.log_dir / f"{self.step:02d}-{re.sub(r'[^A-Za-z0-9]+', '-', label).strip('-')}.log"

    # pylint: disable-next=too-many-arguments
    def measure(self, label, cmd, *, env=None, stdin_path=None, after_run=None):
        """Runs cmd once, its output in a log: wall is the monotonic delta, CPU the RUSAGE_CHILDREN
        delta, taken after after_run() (whose result goes into the run as "after_run")."""
        log = self.log_path(label)
        say(f"{label}...")
        run = {"command": [str(part) for part in cmd], "log": str(log)}
        with open(log, "wb") as output, open(stdin_path or os.devnull, "rb") as stdin, Heartbeat(label):
            output.write(f"$ {' '.join(run['command'])}\n".encode())
            output.flush()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.monotonic()
            process = subprocess.run(run["command"], stdin=stdin, stdout=output, stderr=subprocess.STDOUT,
                                     env=env or self.env, cwd=ROOT, check=False)
            wall = time.monotonic() - started
            run["after_run"] = after_run() if after_run else None
            run.update(cpu_seconds(before, resource.getrusage(resource.RUSAGE_CHILDREN)))
        run.update(rc=process.returncode, wall_s=round(wall, 4))
        if process.returncode != 0:
            raise BenchError(f"{label} failed (exit {process.returncode}); log {log}:\n{tail(log)}")
        say(f"{label}: {wall:.2f}s wall, {run['cpu_s']:.2f}s CPU")
        return run

    def ansible(self, label, cmd):
        """An ansible run with the counting callback and its own ssh ControlPath directory; its ssh
        masters are adopted, then ended and reaped inside the measured CPU."""
        control_dir = tempfile.mkdtemp(prefix="bench-cp-")
        report = self.log_dir / f"{self.step + 1:02d}-counter.json"  # beside the log measure() opens
        report.unlink(missing_ok=True)
        plugins = [str(CALLBACK_DIR), self.env.get("ANSIBLE_CALLBACK_PLUGINS")]
        enabled = [self.env.get("ANSIBLE_CALLBACKS_ENABLED"), "bench_counter"]
        env = dict(self.env, ANSIBLE_SSH_CONTROL_PATH_DIR=control_dir,
                   ANSIBLE_CALLBACK_PLUGINS=os.pathsep.join(filter(None, plugins)),
                   ANSIBLE_CALLBACKS_ENABLED=",".join(filter(None, enabled)),
                   ANSIBLE_LOAD_CALLBACK_PLUGINS="1", BENCH_COUNTER_OUTPUT=str(report))
        subreaper = set_child_subreaper(True)
        try:
            run = self.measure(label, cmd, env=env, after_run=lambda: end_adopted(control_dir))
        finally:
            set_child_subreaper(False)
            shutil.rmtree(control_dir, ignore_errors=True)
        run["ssh_masters"] = run.pop("after_run")
        run["subreaper"] = subreaper
        try:
            run["counter"] = json.loads(report.read_text())
        except (OSError, ValueError) as exc:
            raise BenchError(f"{label}: the bench_counter callback wrote no report ({report}): "
                             f"{exc}") from exc
        return run

    def labctl(self, label, action):
        """lab/labctl.py ACTION on the inventory, timed."""
        return self.measure(label, [sys.executable, LABCTL, action, "-i", self.inventory])

    # -- the inventory and ssh --
    def load_inventory(self):
        """The inventory as Ansible sees it (`ansible-inventory --list`)."""
        result = subprocess.run([tool("ansible-inventory"), "-i", str(self.inventory), "--list"],
                                capture_output=True, text=True, env=self.env, cwd=ROOT, check=False)
        if result.returncode != 0:
            raise BenchError(f"ansible-inventory -i {self.inventory} --list failed:\n{result.stderr}")
        self.inventory_data = json.loads(result.stdout)
        return self.inventory_data

    def hostvars(self, host):
        """A host's variables from the inventory (not templated)."""
        return self.inventory_data.get("_meta", {}).get("hostvars", {}).get(host, {})

    def ssh_command(self, host):
        """ssh to a lab VM as labctl.py does it (the lab's key beside the inventory), no multiplexing."""
        hostvars = self.hostvars(host)
        return ["ssh", "-i", str(self.state_dir / "id_ed25519"), "-p", str(hostvars["ansible_port"]),
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "ControlMaster=no", "-o", "ControlPath=none",
                f"{hostvars.get('ansible_user', 'root')}@{hostvars.get('ansible_host', '127.0.0.1')}"]

    def remote(self, host, args, stdin_path=None):
        """Runs a command (or a piped script) on a VM, untimed; returns its output, raises on failure."""
        with open(stdin_path or os.devnull, "rb") as stdin:
            result = subprocess.run(self.ssh_command(host) + [str(arg) for arg in args], stdin=stdin,
                                    capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BenchError(f"on {host}: {' '.join(map(str, args))} failed (exit {result.returncode}):\n"
                             f"{result.stdout}{result.stderr}")
        return result.stdout

    def guest_kernels(self, hosts):
        """uname -r of every VM."""
        return {host: self.remote(host, ["uname", "-r"]).strip() for host in hosts}

    # -- A: the fleet --
    def fleet(self):
        """Part A: fresh VMs, then ping, converge and no-op re-run of playbooks/site.yml."""
        hosts = fleet_hosts(self.inventory_data)
        vms = sorted(group_hosts(self.inventory_data, "all"))
        if not hosts:
            raise BenchError(f"no hosts in {' or '.join(FLEET_GROUPS)} of {self.inventory}")
        pattern = ":".join(FLEET_GROUPS)
        result = {"hosts": hosts, "vms": vms}
        result["lab_down"] = self.labctl("lab down (overlays removed)", "down")
        result["boot"] = self.labctl(f"boot {len(vms)} VM(s) from fresh overlays", "up")
        ping = [tool("ansible"), "-i", self.inventory, pattern, "-m", "ansible.builtin.ping"]
        site = [tool("ansible-playbook"), "-i", self.inventory, SITE]
        result["ping_warmup"] = self.ansible("ping warm-up (not counted)", ping)
        result["ping"] = self.ansible("ping (floor)", ping)
        result["converge"] = self.ansible("converge: playbooks/site.yml", site)
        result["noop"] = self.ansible("no-op re-run: playbooks/site.yml", site)
        result["summary"] = {name: run_summary(result[name], hosts) for name in ("ping", "converge", "noop")}
        result["ratios"] = fleet_ratios(*(result["summary"][name] for name in ("ping", "converge", "noop")))
        noop = result["summary"]["noop"]
        result["noop_changed"] = noop["changed"]
        result["noop_clean"] = noop["changed"] == 0 and noop["recap_changed"] == 0
        if not result["noop_clean"]:
            say(f"WARNING: the no-op re-run changed {noop['changed']} module result(s) "
                f"({noop['recap_changed']} in the play recap): site.yml is not idempotent")
        return result

    # -- B: nvmet_subsystem at scale --
    def nvmet_target(self):
        """The first host of nvme_targets and one listener per storage fabric of it."""
        targets = group_hosts(self.inventory_data, TARGET_GROUP)
        if not targets:
            raise BenchError(f"no host in {TARGET_GROUP} of {self.inventory}")
        listeners = storage_listeners(self.hostvars(targets[0]).get("lab_storage_addresses"))
        if not listeners:
            raise BenchError(f"{targets[0]} has no lab_storage_addresses in {self.inventory}")
        return targets[0], listeners

    def floor_teardown(self, target):
        """Removes the benchmark subsystem however it was made (untimed); what it removed."""
        return parse_teardown(self.remote(target, ["sh", "-s", "--", BENCH_NQN, BENCH_HOST_NQN],
                                          FLOOR_TEARDOWN_SCRIPT))

    def module_run(self, label, playbook, variables):
        """One run of a benchmark playbook, with the module task's duration and changes."""
        run = self.ansible(label, [tool("ansible-playbook"), "-i", self.inventory, playbook,
                                   "-e", f"@{variables}"])
        run["task_s"] = task_duration(run["counter"])
        run["changed"] = sum(entry.get("changed", 0) for entry in run["counter"]["hosts"].values())
        return run

    def nvmet(self, count):
        """Part B: nvmet_subsystem with COUNT namespaces against the shell floor."""
        target, listeners = self.nvmet_target()
        variables = self.log_dir / "nvmet-scale-vars.json"
        variables.write_text(json.dumps(bench_vars(target, count, listeners), indent=1) + "\n",
                             encoding="utf-8")
        result = {"target": target, "namespaces": count, "listeners": listeners, "nqn": BENCH_NQN}

        leftover = self.floor_teardown(target)
        if any(leftover.values()):
            say(f"removed a benchmark subsystem left over from an earlier run: {leftover}")
        say(f"preparing {count} backing files in {BENCH_REMOTE_DIR} on {target}, loading nvmet")
        result["existing"] = parse_existing(
            self.remote(target, ["sh", "-s", "--", "prepare", BENCH_REMOTE_DIR, count], PREPARE_SCRIPT))

        # The lab's guests cache the bytecode of module code on first use (docs/lab.md): one
        # uncounted call of the module (removing what is not there) so that no timed run pays it.
        result["module_warmup"] = self.module_run("nvmet_subsystem warm-up: state=absent (not counted)",
                                                  ABSENT_PLAYBOOK, variables)
        result["ssh_true"] = [self.measure(f"ssh round trip {n + 1}", self.ssh_command(target) + ["true"])
                              for n in range(SSH_ROUND_TRIPS)]
        result["module_apply"] = self.module_run(f"nvmet_subsystem: {count} namespaces", SCALE_PLAYBOOK,
                                                 variables)
        result["module_noop"] = self.module_run("nvmet_subsystem: no-op re-run", SCALE_PLAYBOOK, variables)
        result["module_absent"] = self.module_run("nvmet_subsystem: state=absent (teardown)",
                                                  ABSENT_PLAYBOOK, variables)
        left = self.floor_teardown(target)
        if any(left.values()):
            raise BenchError(f"state=absent left part of the subsystem behind on {target}: {left}")

        floor_args = [BENCH_NQN, BENCH_HOST_NQN, BENCH_REMOTE_DIR, count, BENCH_SERVICE_ID,
                      *(listener["address"] for listener in listeners)]
        result["floor"] = self.measure(f"floor: {FLOOR_SCRIPT.name} over one ssh",
                                       self.ssh_command(target) + ["sh", "-s", "--", *floor_args],
                                       stdin_path=FLOOR_SCRIPT)
        result["floor_teardown"] = self.floor_teardown(target)
        if result["floor_teardown"] != {"namespaces": count, "ports": len(listeners)}:
            raise BenchError(f"the floor script made {result['floor_teardown']} on {target}, not "
                             f"{count} namespaces and {len(listeners)} ports")
        self.remote(target, ["sh", "-s", "--", "cleanup", BENCH_REMOTE_DIR], PREPARE_SCRIPT)

        result["module_apply"]["expected_change"] = result["module_apply"]["changed"] == 1
        result["noop_clean"] = result["module_noop"]["changed"] == 0
        if not result["noop_clean"]:
            say("WARNING: the module's no-op re-run reported a change")
        if not result["module_apply"]["expected_change"]:
            say("WARNING: the module's first run reported no change: was the subsystem there already?")
        result["ratios"] = nvmet_ratios(result["module_apply"], result["module_noop"],
                                        result["floor"]["wall_s"])
        return result

    def ensure_lab_up(self):
        """Boots the lab if it is not up (part A skipped)."""
        return self.labctl("lab up (if not up already)", "up")

    def run(self):
        """Everything the arguments ask for; the data of the JSON report."""
        if not (ROOT / "build" / "collections" / "ansible_collections" / "nvmeof" / "fleet").exists() \
                and "ANSIBLE_COLLECTIONS_PATH" not in os.environ:
            raise BenchError("the collection link build/collections/ansible_collections/nvmeof/fleet "
                             "is missing (make collection)")
        version = subprocess.run([tool("ansible"), "--version"], capture_output=True, text=True,
                                 env=self.env, check=False).stdout
        self.load_inventory()
        data = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "ansible_core": parse_ansible_version(version),
            "inventory": str(self.inventory),
            "hosts": len(fleet_hosts(self.inventory_data)),
            "lab_kernel_override": os.environ.get("LAB_KERNEL"),
            "log_dir": str(self.log_dir),
            "fleet": None,
            "nvmet": None,
        }
        if not self.args.skip_fleet:
            data["fleet"] = self.fleet()
        else:
            data["lab_up"] = self.ensure_lab_up()
        vms = sorted(group_hosts(self.inventory_data, "all"))
        data["vms"] = running_vms(self.state_dir, vms)
        accels = sorted({shape["accel"] for shape in data["vms"].values() if shape["accel"]})
        data["machine"]["accel"] = "+".join(accels) or data["machine"]["accel"]
        data["guest_kernels"] = self.guest_kernels(vms)
        if not self.args.skip_nvmet:
            data["nvmet"] = self.nvmet(self.args.namespaces)
        return data


def write_outputs(data, json_path, markdown_path):
    """Writes the JSON and Markdown reports that were asked for."""
    for path, text in ((json_path, json.dumps(data, indent=1, sort_keys=True) + "\n"),
                       (markdown_path, render_markdown(data))):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
            say(f"wrote {path}")


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-i", "--inventory", required=True, help="the lab inventory (labctl.py and Ansible)")
    parser.add_argument("--json", help="write every raw number here")
    parser.add_argument("--markdown", help="write the tables here")
    parser.add_argument("--skip-fleet", action="store_true",
                        help="skip part A (reboot, ping, converge, no-op)")
    parser.add_argument("--skip-nvmet", action="store_true", help="skip part B (nvmet_subsystem at scale)")
    parser.add_argument("--namespaces", type=int, default=256, help="namespaces of part B (default 256)")
    parser.add_argument("--log-dir", default=str(ROOT / "build" / "bench"),
                        help="logs of every run (default build/bench)")
    args = parser.parse_args(argv)
    if not 1 <= args.namespaces <= 1024:
        parser.error("--namespaces must be 1 to 1024 (nvmet_subsystem's nsid range)")
    return args


def main(argv=None):
    """Runs the benchmark, prints the tables, writes the reports; 0 on success."""
    args = parse_args(argv)
    bench = Bench(args)
    try:
        data = bench.run()
    except BenchError as exc:
        print(f"[bench] ERROR: {exc}", file=sys.stderr)
        return 1
    print()
    print(render_text(data), end="")
    print()
    write_outputs(data, args.json, args.markdown)
    state = "converged by playbooks/site.yml" if data.get("fleet") else "as it was"
    say(f"the lab is left up ({', '.join(data['guest_kernels'])}, {state}); stop it with "
        f"{os.path.relpath(sys.executable, ROOT)} lab/labctl.py down -i {args.inventory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
