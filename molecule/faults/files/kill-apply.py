#!/usr/bin/env python
"""Runs on the target: waits until namespace NSID (1 unless given) of the nvmet subsystem directory
given as argument appears (the module is setting that subsystem up), then kills the module with
SIGKILL, in the middle of its configfs writes, before it gives that namespace its device. The module
holds the collection's host lock while it applies and writes its PID into the lock file
(module_utils/host/host_lock.py): that is the process killed. Prints what it did and what the apply
left in configfs, as key=value lines.
usage: python3 - SUBSYSTEM_DIR TIMEOUT_SECONDS [NSID] < kill-apply.py
(tools/faults/campaign.py uses it too, with a later NSID, for its killed play.)
"""

import os
import signal
import sys
import time

LOCK = "/run/lock/nvmeof-fleet.lock"


def wait_for(path, deadline, pause):
    while not os.path.isdir(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(pause)
    return True


def main(path, timeout, nsid=1):
    deadline = time.monotonic() + timeout
    # First the subsystem's directory, at ease; then, at real-time priority, the namespace:
    # each short sleep ends by preempting the module, so the kill comes before the module's next
    # write, while that namespace has no device yet.
    if not wait_for(path, deadline, 0.005):
        print("apply_seen=no")
        return 1
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
    if not wait_for("%s/namespaces/%d" % (path, nsid), deadline, 0.0001):
        print("apply_seen=no")
        return 1
    with open(LOCK, "rb") as handle:
        pid = int(handle.read().strip())
    with open("/proc/%d/cmdline" % pid, "rb") as handle:
        command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    os.kill(pid, signal.SIGKILL)
    print("module_killed=%d (%s)" % (pid, command))
    namespaces = sorted(os.listdir(path + "/namespaces"))
    print("namespaces_left=%s" % " ".join(namespaces))
    for name in ("device_path", "enable"):
        values = []
        for nsid in namespaces:
            with open("%s/namespaces/%s/%s" % (path, nsid, name), "rb") as handle:
                values.append(handle.read().decode("utf-8", "replace").strip())
        print("%s_left=%s" % (name, " ".join(values)))
    ports = os.path.dirname(os.path.dirname(path)) + "/ports"
    print("ports_left=%s" % " ".join(sorted(os.listdir(ports))))
    name = os.path.basename(path)
    linked = [port for port in os.listdir(ports) if os.path.lexists("%s/%s/subsystems/%s" % (ports, port, name))]
    print("ports_linked_left=%s" % " ".join(sorted(linked)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2]), *[int(arg) for arg in sys.argv[3:4]]))
