#!/usr/bin/env python
"""The fault campaign of nvmeof.fleet on the VM lab (behind `make reliability`).

  campaign.py -i lab/inventory.yml --json docs/reliability.json [--only NAME ...] [--log-dir build/faults]

The lab of `make lab` (one target, two initiators, two storage networks, site.yml rolled) is
brought up and converged, then each fault runs while fio writes and verifies (crc32c, verify_backlog)
on initiator1's multipath device of its own volume, with a one-second IOPS log:

  target-reboot     target1 reboots (systemctl reboot) under I/O
  fabric-cuts       target1's eth2 (fabric 2) down 6 s, up 14 s, 10 times, under I/O
  killed-play       site.yml with one more subsystem (200 file-backed namespaces) is killed once 20 of them
                    exist: SIGKILL to the play's process group and to the module on target1; the next run
                    converges (configfs and the saved copy), the one after changes nothing
  concurrent-runs   two site.yml runs at once against the whole lab; both succeed, a third changes nothing
  initiator-reboots initiator1 reboots 3 times: every path back each time, and the data written before
                    each reboot read back and verified after it

Each fault's record: outcome (held or not, and why), fio's errors, the longest stall (the longest
time without a completed I/O, from the IOPS log), the kernel's I/O errors logged on initiator1, and
what the fault measured (reboot time, time until every path was back). Only the Python standard library.
"""

import argparse
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LABCTL = ROOT / "lab" / "labctl.py"
KILL_APPLY = ROOT / "molecule" / "faults" / "files" / "kill-apply.py"
CONFIGFS_SUBSYSTEMS = "/sys/kernel/config/nvmet/subsystems"
SITE = ROOT / "playbooks" / "site.yml"
WORKLOAD_HOST = "initiator1"
TARGET = "target1"
VOLUME_NQN = "nqn.2026-11.invalid.nvmeof-fleet.lab:vol1"
REMOTE_DIR = "/root/faults"
EXTRA_NQN = "nqn.2026-11.invalid.nvmeof-fleet.lab:extra"
EXTRA_DIR = "/var/lib/nvmeof-faults"
EXTRA_NAMESPACES = 200
KILL_AFTER_NAMESPACES = 20
# Seconds of I/O on the whole lab after a fault is over, before fio is stopped.
SETTLE_S = 15
FIO_EXIT_ON_SIGINT = 128
# fio's cap while site.yml runs under it: uncapped it takes both host cores from the TCG lab and a
# no-op site.yml ran 9 minutes instead of about 2.
RATE_IOPS_UNDER_PLAYS = 100
FAULTS = ("target-reboot", "fabric-cuts", "killed-play", "concurrent-runs", "initiator-reboots")


def say(message):
    print("[faults %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


class Lab:
    def __init__(self, inventory, log_dir):
        self.inventory = inventory
        self.log_dir = log_dir
        self.env = dict(os.environ, ANSIBLE_FORCE_COLOR="0")
        # How many fabrics controllers the workload host has when the lab is whole.
        self.paths_when_whole = 0

    def ssh(self, host, command, timeout=120, check=True):
        run = subprocess.run([sys.executable, str(LABCTL), "ssh", "-i", self.inventory, host, command],
                             capture_output=True, text=True, timeout=timeout, check=False)
        if check and run.returncode != 0:
            detail = (run.stderr or run.stdout).strip()
            raise RuntimeError("%s: %r failed (%d): %s" % (host, command, run.returncode, detail))
        return run

    def wait_ssh(self, host, timeout=600):
        """Seconds until the host answers on SSH again."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if self.ssh(host, "true", timeout=20, check=False).returncode == 0:
                    return time.monotonic() - started
            except subprocess.TimeoutExpired:
                pass
            time.sleep(3)
        raise RuntimeError("%s did not answer on SSH within %d s" % (host, timeout))

    def wait_down(self, host, timeout=180):
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if self.ssh(host, "true", timeout=10, check=False).returncode != 0:
                    return
            except subprocess.TimeoutExpired:
                return
            time.sleep(1)
        raise RuntimeError("%s did not go down within %d s" % (host, timeout))

    def reboot(self, host):
        """Reboots ``host``; seconds until it answers on SSH again."""
        # --no-block: the SSH session returns before sshd goes away under it.
        self.ssh(host, "systemctl --no-block reboot", check=False)
        started = time.monotonic()
        self.wait_down(host)
        self.wait_ssh(host)
        return time.monotonic() - started

    def playbook(self, name, *args, background=False):
        log = open(self.log_dir / ("%s.log" % name), "w")
        command = ["ansible-playbook", "-i", self.inventory, str(SITE)] + list(args)
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                   cwd=str(ROOT), start_new_session=True)
        if background:
            return process, log
        process.wait()
        log.close()
        return process.returncode, (self.log_dir / ("%s.log" % name)).read_text()

    def paths(self, host):
        """[(subsystem NQN, controller state)] of every fabrics controller of the host."""
        out = self.ssh(host, "for c in /sys/class/nvme/nvme*; do [ -e $c/subsysnqn ] && "
                             "echo \"$(cat $c/subsysnqn) $(cat $c/state)\"; done; true").stdout
        return [tuple(line.split()) for line in out.splitlines() if len(line.split()) == 2]

    def wait_paths_live(self, host, timeout=300):
        """Seconds until the host has as many controllers as when the lab was whole, all live."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                states = self.paths(host)
            except (RuntimeError, subprocess.TimeoutExpired):
                states = []
            if len(states) >= self.paths_when_whole and all(state == "live" for _nqn, state in states):
                return time.monotonic() - started
            time.sleep(2)
        raise RuntimeError("%s: not every path live after %d s: %s" % (host, timeout, self.paths(host)))

    def kernel_io_errors(self, host):
        out = self.ssh(host, "dmesg | grep -c -E 'I/O error|critical medium error|Buffer I/O' || true").stdout
        return int(out.strip() or 0)


def workload_device(lab):
    out = lab.ssh(WORKLOAD_HOST, "for s in /sys/class/nvme-subsystem/nvme-subsys*; do "
                                 "[ \"$(cat $s/subsysnqn)\" = %s ] && ls -d $s/nvme*n1; done; true" % VOLUME_NQN).stdout
    names = [line.rsplit("/", 1)[-1] for line in out.split()]
    if len(names) != 1:
        raise RuntimeError("%s: expected one multipath device of %s, found %s" % (WORKLOAD_HOST, VOLUME_NQN, names))
    return "/dev/" + names[0]


def fio_args(name, device, runtime=None, mode="verify-backlog", rate_iops=None):
    """fio on the whole device: random writes verified as they go, or a write pass / a verify pass."""
    args = ["fio", "--name=" + name, "--filename=" + device, "--ioengine=libaio", "--direct=1", "--bs=4k",
            "--iodepth=4", "--size=64M", "--verify=crc32c", "--verify_fatal=1", "--output-format=json",
            "--output=%s/%s.json" % (REMOTE_DIR, name)]
    if mode == "verify-backlog":
        args += ["--rw=randwrite", "--verify_backlog=256", "--time_based", "--runtime=%d" % runtime,
                 "--write_iops_log=%s/%s" % (REMOTE_DIR, name), "--log_avg_msec=1000"]
        args += ["--rate_iops=%d" % rate_iops] if rate_iops else []
    elif mode == "write":
        args += ["--rw=write", "--do_verify=0"]
    else:
        args += ["--rw=write", "--verify_only"]
    return args


class Workload:
    """fio under a fault, run over SSH from here; its JSON and IOPS log fetched when it ends.

    fio runs until the fault is over and the paths are back plus ``SETTLE_S``, then is stopped
    with SIGINT, on which it ends its jobs and still writes its report (exit status 128 then);
    ``runtime`` is only the bound if the stop never comes.
    """

    def __init__(self, lab, name, device, runtime=1800, rate_iops=None):
        self.lab, self.name, self.rate_iops = lab, name, rate_iops
        self.stopped = False
        command = "mkdir -p %s && rm -f %s/%s* && %s" % (
            REMOTE_DIR, REMOTE_DIR, name, " ".join(fio_args(name, device, runtime, rate_iops=rate_iops)))
        self.process = subprocess.Popen(
            [sys.executable, str(LABCTL), "ssh", "-i", lab.inventory, WORKLOAD_HOST, command],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.errors_before = lab.kernel_io_errors(WORKLOAD_HOST)

    def finish(self, timeout=300):
        """Stops fio after ``SETTLE_S`` more seconds of I/O on the whole lab; its figures."""
        time.sleep(SETTLE_S)
        if self.process.poll() is None:
            self.lab.ssh(WORKLOAD_HOST, "pkill -INT -x fio", check=False)
            self.stopped = True
        output = self.process.communicate(timeout=timeout)[0]
        report = fio_report(self.lab.ssh(WORKLOAD_HOST, "cat %s/%s.json" % (REMOTE_DIR, self.name)).stdout)
        log = self.lab.ssh(WORKLOAD_HOST, "cat %s/%s_iops.1.log" % (REMOTE_DIR, self.name)).stdout
        job = report["jobs"][0]
        return {
            "fio_exit": self.process.returncode,
            "fio_stopped": self.stopped,
            "fio_rate_iops": self.rate_iops,
            "fio_output": output.strip()[-400:],
            "fio_errors": job.get("error", 0) + job.get("total_err", 0),
            "written_mib": round(job["write"]["io_kbytes"] / 1024.0, 1),
            "verified_mib": round(job["read"]["io_kbytes"] / 1024.0, 1),
            "longest_stall_s": longest_stall(log),
            "kernel_io_errors": self.lab.kernel_io_errors(WORKLOAD_HOST) - self.errors_before,
        }


def fio_report(text):
    """fio's JSON report; a stopped fio writes "fio: terminating on signal 2" lines ahead of it."""
    start = re.search(r"^\{", text, re.MULTILINE)
    if not start:
        raise RuntimeError("no fio report in %r" % text[-300:])
    return json.loads(text[start.start():])


def longest_stall(iops_log, interval_ms=1000):
    """The longest time (s) between two log windows that completed I/O, minus one window."""
    completed = {}
    for line in iops_log.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) >= 2 and fields[0].isdigit():
            completed[int(fields[0])] = completed.get(int(fields[0]), 0) + int(fields[1])
    busy = sorted(msec for msec, count in completed.items() if count > 0)
    if not busy:
        return None
    gaps = [later - earlier - interval_ms for earlier, later in zip(busy, busy[1:])]
    return round(max([0] + gaps) / 1000.0, 1)


def fio_exit_ok(record):
    """fio ended by itself with 0, or with 128 because the campaign stopped it (SIGINT)."""
    return record.get("fio_exit", 0) == 0 or (record.get("fio_stopped") and record["fio_exit"] == FIO_EXIT_ON_SIGINT)


def held(record, extra_ok=True):
    record["held"] = bool(extra_ok and fio_exit_ok(record) and record.get("fio_errors", 0) == 0
                          and record.get("kernel_io_errors", 0) == 0)
    return record


# -- the faults ------------------------------------------------------------------

def target_reboot(lab, device):
    work = Workload(lab, "target-reboot", device)
    time.sleep(20)
    reboot = lab.reboot(TARGET)
    back = lab.wait_paths_live(WORKLOAD_HOST)
    record = work.finish()
    record.update(target_reboot_s=round(reboot, 1), paths_back_after_ssh_s=round(back, 1))
    return held(record)


def fabric_cuts(lab, device, cycles=10, down=6, up=14):
    work = Workload(lab, "fabric-cuts", device)
    time.sleep(15)
    for _cycle in range(cycles):
        lab.ssh(TARGET, "ip link set eth2 down && sleep %d && ip link set eth2 up" % down)
        time.sleep(up)
    back = lab.wait_paths_live(WORKLOAD_HOST)
    record = work.finish()
    record.update(cycles=cycles, down_s=down, up_s=up, paths_back_after_last_cut_s=round(back, 1))
    return held(record)


def killed_play_vars(log_dir, count=EXTRA_NAMESPACES):
    """One more subsystem for site.yml: file-backed namespaces, enough for the apply to take seconds."""
    extra = {"nqn": EXTRA_NQN, "hosts": [],
             "namespaces": [{"nsid": nsid, "device_path": "%s/ns-%d.img" % (EXTRA_DIR, nsid)}
                            for nsid in range(1, count + 1)],
             "listeners": [{"address": address, "service_id": 4430} for address in ("10.90.1.11", "10.90.2.11")]}
    path = log_dir / "killed-play-vars.json"
    path.write_text(json.dumps({"lab_extra_subsystems": [extra]}, indent=1))
    return path


def extra_state(lab):
    """(namespaces, linked ports) of the extra subsystem in target1's configfs."""
    out = lab.ssh(TARGET, "ls %s/%s/namespaces 2>/dev/null | wc -l; "
                          "ls -d /sys/kernel/config/nvmet/ports/*/subsystems/%s 2>/dev/null | wc -l"
                  % (CONFIGFS_SUBSYSTEMS, EXTRA_NQN, EXTRA_NQN)).stdout.split()
    return int(out[0]), int(out[1])


def remove_extra(lab):
    """Takes the extra subsystem and its files away; the exit status of the module call."""
    removed = subprocess.run(
        ["ansible", TARGET, "-i", lab.inventory, "-m", "nvmeof.fleet.nvmet_subsystem",
         "-a", json.dumps({"nqn": EXTRA_NQN, "state": "absent"})], cwd=str(ROOT), env=lab.env,
        capture_output=True, text=True, check=False)
    lab.ssh(TARGET, "rm -rf %s" % EXTRA_DIR, check=False)
    return removed.returncode


def key_values(output):
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def killed_play(lab, device):
    """Both the play and the module on target1 are killed once the apply is under way."""
    remove_extra(lab)
    work = Workload(lab, "killed-play", device, rate_iops=RATE_IOPS_UNDER_PLAYS)
    lab.ssh(TARGET, "mkdir -p %s && for i in $(seq 1 %d); do truncate -s 1M %s/ns-$i.img; done"
            % (EXTRA_DIR, EXTRA_NAMESPACES, EXTRA_DIR))
    extra_vars = "@%s" % killed_play_vars(lab.log_dir)
    # The watcher on target1 kills the module (by the pid in the host lock) the moment namespace
    # KILL_AFTER_NAMESPACES appears: polled from here over SSH, the apply was over before it was seen.
    with open(KILL_APPLY, "rb") as script:
        watcher = subprocess.Popen(
            [sys.executable, str(LABCTL), "ssh", "-i", lab.inventory, TARGET, "python3 - %s/%s 900 %d" % (
                CONFIGFS_SUBSYSTEMS, EXTRA_NQN, KILL_AFTER_NAMESPACES)],
            stdin=script, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    process, log = lab.playbook("killed-play-1", "-e", extra_vars, background=True)
    watched = key_values(watcher.communicate(timeout=1200)[0].decode("utf-8", "replace"))
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    killed = process.wait() == -signal.SIGKILL and "module_killed" in watched
    log.close()
    at_kill = (len(watched.get("namespaces_left", "").split()), len(watched.get("ports_linked_left", "").split()))
    left = extra_state(lab)
    rc2, _out2 = lab.playbook("killed-play-2", "-e", extra_vars)
    rc3, out3 = lab.playbook("killed-play-3", "-e", extra_vars)
    converged = extra_state(lab)
    saved = lab.ssh(TARGET, "python3 -c \"import json,sys; print(len(json.load(open(sys.argv[1]))['namespaces']))\" "
                            "/etc/nvmeof-fleet/nvmet/subsystems/%s.json" % EXTRA_NQN,
                    check=False).stdout.strip()
    cleanup_rc = remove_extra(lab)
    record = work.finish()
    third_changed = changed_counts(out3)
    record.update(killed=killed, at_kill={"namespaces": at_kill[0], "linked_ports": at_kill[1]},
                  left_by_kill={"namespaces": left[0], "linked_ports": left[1]}, rerun_rc=rc2, third_run_rc=rc3,
                  third_run_changed=third_changed, converged={"namespaces": converged[0], "linked_ports": converged[1]},
                  saved_namespaces=saved, cleanup_rc=cleanup_rc,
                  module_killed=watched.get("module_killed", "no"))
    return held(record, killed and left[0] < EXTRA_NAMESPACES and rc2 == 0 and rc3 == 0 and bool(third_changed)
                and not any(third_changed.values()) and converged == (EXTRA_NAMESPACES, 2)
                and saved == str(EXTRA_NAMESPACES) and cleanup_rc == 0)


def concurrent_runs(lab, device):
    work = Workload(lab, "concurrent-runs", device, rate_iops=RATE_IOPS_UNDER_PLAYS)
    first = lab.playbook("concurrent-a", background=True)
    second = lab.playbook("concurrent-b", background=True)
    codes = []
    for process, log in (first, second):
        codes.append(process.wait())
        log.close()
    rc3, out3 = lab.playbook("concurrent-after")
    record = work.finish()
    record.update(run_rcs=codes, after_rc=rc3, after_changed=changed_counts(out3))
    return held(record, codes == [0, 0] and rc3 == 0 and not any(changed_counts(out3).values()))


def initiator_reboots(lab, device, reboots=3):
    rounds = []
    for number in range(1, reboots + 1):
        name = "initiator-reboot-%d" % number
        lab.ssh(WORKLOAD_HOST, "mkdir -p %s && %s" % (REMOTE_DIR, " ".join(fio_args(name, device, mode="write"))),
                timeout=600)
        booted = lab.reboot(WORKLOAD_HOST)
        back = lab.wait_paths_live(WORKLOAD_HOST)
        device = workload_device(lab)
        verify = lab.ssh(WORKLOAD_HOST, "%s && cat %s/%s.json" % (
            " ".join(fio_args(name, device, mode="verify")), REMOTE_DIR, name), timeout=600, check=False)
        job = fio_report(verify.stdout)["jobs"][0] if verify.returncode == 0 else {}
        rounds.append({"reboot": number, "ssh_back_s": round(booted, 1), "paths_back_after_ssh_s": round(back, 1),
                       "paths": len(lab.paths(WORKLOAD_HOST)), "verify_exit": verify.returncode,
                       "verified_mib": round(job.get("read", {}).get("io_kbytes", 0) / 1024.0, 1),
                       "fio_errors": job.get("error", 1) + job.get("total_err", 0)})
    ok = all(item["verify_exit"] == 0 and item["fio_errors"] == 0 and item["verified_mib"] >= 64 for item in rounds)
    return {"held": ok, "rounds": rounds, "fio_errors": sum(item["fio_errors"] for item in rounds),
            "kernel_io_errors": lab.kernel_io_errors(WORKLOAD_HOST), "longest_stall_s": None}


def changed_counts(output):
    """{host: changed} of a play recap."""
    return dict((host, int(changed)) for host, changed in re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)",
                                                                     output, re.MULTILINE))


def bad_input_counts():
    """The unit suite's own summary line, and the lab's (molecule/faults writes it) when there is one."""
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/bad_input"],
                         cwd=str(ROOT), capture_output=True, text=True, check=False)
    match = re.search(r"bad input: (\d+) cases ran, (\d+) held", run.stdout)
    counts = {"unit": {"ran": int(match.group(1)), "held": int(match.group(2))} if match else None,
              "unit_exit": run.returncode, "lab": None}
    lab_file = ROOT / "build" / "faults" / "bad-input-lab.json"
    if lab_file.exists():
        counts["lab"] = json.loads(lab_file.read_text())
    return counts


FAULT_TITLES = {
    "target-reboot": "Target rebooted under I/O",
    "fabric-cuts": "Storage fabric 2 cut and restored 10 times under I/O",
    "killed-play": "Play killed while applying a target, then run again",
    "concurrent-runs": "Two runs of site.yml at once against the lab",
    "initiator-reboots": "Initiator rebooted 3 times",
}
MEASURES = ("fio_rate_iops", "target_reboot_s", "paths_back_after_ssh_s", "paths_back_after_last_cut_s",
            "module_killed", "at_kill", "left_by_kill", "converged", "saved_namespaces", "third_run_changed",
            "run_rcs", "after_changed", "rounds", "error")


def bad_input_line(counts):
    """The bad-input figures of the record, as one sentence."""
    unit, lab = counts.get("unit"), counts.get("lab")
    unit_figures = ("%d cases ran, %d held" % (unit["ran"], unit["held"]) if unit
                    else "no summary (exit %s)" % counts.get("unit_exit"))
    parts = ["fake lab hosts (`make units`): %s" % unit_figures]
    parts.append("real kernels of the faults lab (`molecule test -s faults`, %s): %d cases ran, %d held" % (
        lab["date"], lab["ran"], lab["held"]) if lab else "real kernels of the faults lab: not run on this machine")
    return "Bad input (`tests/bad_input/cases.yml`): " + "; ".join(parts) + "."


def render_markdown(record):
    """The campaign as a Markdown section (docs/reliability.md includes it)."""
    faults = record["faults"]
    lines = ["Measured %s on `%s` (workload device on initiator1: `%s`)." % (
        record["date"], record["inventory"], record["device"]), "",
        bad_input_line(record.get("bad_input") or {}), "",
        "Workload during each fault: `%s`, stopped with %s (%d fabrics controllers on initiator1 when the lab "
        "is whole); capped at `fio_rate_iops` where a fault's line gives it." % (
            record["workload"], record["workload_stop"], record["paths_when_whole"]), "",
        "| fault | held | fio errors | kernel I/O errors | longest I/O stall | duration |",
        "| --- | --- | --- | --- | --- | --- |"]
    for name, result in faults.items():
        stall = result.get("longest_stall_s")
        lines.append("| %s | %s | %s | %s | %s | %d s |" % (
            FAULT_TITLES[name], "yes" if result["held"] else "**no**", result.get("fio_errors", "-"),
            result.get("kernel_io_errors", "-"), "-" if stall is None else "%.1f s" % stall,
            result.get("duration_s", 0)))
    stalls = [result["longest_stall_s"] for result in faults.values() if result.get("longest_stall_s") is not None]
    errors = sum(result.get("fio_errors", 0) + result.get("kernel_io_errors", 0) for result in faults.values())
    lines += ["", "Longest I/O stall over the campaign: %s. I/O errors over the campaign: %d." % (
        "%.1f s" % max(stalls) if stalls else "not measured", errors), ""]
    for name, result in faults.items():
        details = dict((key, result[key]) for key in MEASURES if result.get(key) is not None)
        lines.append("- %s: `%s`" % (FAULT_TITLES[name], json.dumps(details, sort_keys=True)))
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- campaign: begin (tools/faults/campaign.py writes this part) -->", "<!-- campaign: end -->"


def write_section(path, section):
    """Replaces the campaign's part of ``path`` (between BEGIN and END), or appends it."""
    text = path.read_text() if path.exists() else ""
    block = "%s\n%s%s\n" % (BEGIN, section, END)
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END) + 1:]
    else:
        text += ("\n" if text and not text.endswith("\n") else "") + block
    path.write_text(text)


RUNNERS = {"target-reboot": target_reboot, "fabric-cuts": fabric_cuts, "killed-play": killed_play,
           "concurrent-runs": concurrent_runs, "initiator-reboots": initiator_reboots}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-i", "--inventory", required=True)
    parser.add_argument("--json", required=True, help="where the campaign's record is written")
    parser.add_argument("--markdown", help="where the campaign's Markdown section is written")
    parser.add_argument("--only", action="append", choices=FAULTS, help="run only these faults (repeatable)")
    parser.add_argument("--log-dir", default=str(ROOT / "build" / "faults"))
    args = parser.parse_args(argv)
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    lab = Lab(args.inventory, log_dir)
    say("lab up and site.yml rolled")
    subprocess.run([sys.executable, str(LABCTL), "up", "-i", args.inventory], check=True)
    rc, out = lab.playbook("converge")
    if rc != 0:
        raise SystemExit("site.yml failed on the lab: see %s/converge.log" % log_dir)
    device = workload_device(lab)
    lab.paths_when_whole = len(lab.paths(WORKLOAD_HOST))
    record = {"date": datetime.date.today().isoformat(), "inventory": args.inventory, "device": device,
              "workload": " ".join(fio_args("NAME", device, 0)).replace("--runtime=0", "--runtime=<bound>"),
              "workload_stop": "SIGINT %d s after the fault is over and every path is back" % SETTLE_S,
              "paths_when_whole": lab.paths_when_whole,
              "faults": {}}
    record["bad_input"] = bad_input_counts()
    if args.only and Path(args.json).exists():
        # A partial run updates its faults in the last record and keeps the others.
        earlier = json.loads(Path(args.json).read_text()).get("faults", {})
        record["faults"] = dict((name, earlier[name]) for name in FAULTS if name in earlier)
    for name in args.only or FAULTS:
        say("fault %s" % name)
        started = time.monotonic()
        try:
            result = RUNNERS[name](lab, workload_device(lab))
        except Exception as error:  # pylint: disable=broad-except  # a fault that breaks the run is recorded
            result = {"held": False, "error": str(error)}
        result["duration_s"] = round(time.monotonic() - started, 1)
        result["date"] = datetime.date.today().isoformat()
        record["faults"][name] = result
        record["faults"] = dict((key, record["faults"][key]) for key in FAULTS if key in record["faults"])
        say("%s: %s" % (name, json.dumps(result, sort_keys=True)))
        Path(args.json).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        if args.markdown:
            write_section(Path(args.markdown), render_markdown(record))
    failed = [name for name, result in record["faults"].items() if not result["held"]]
    summary = "faults held: %d of %d" % (len(record["faults"]) - len(failed), len(record["faults"]))
    say(summary + ((" (not: %s)" % ", ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
