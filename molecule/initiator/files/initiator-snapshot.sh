#!/bin/sh
# The initiator's NVMe/TCP state as text, to compare before and after a change:
# every fabrics controller with its subsystem, address, state and timeouts, the
# established TCP connections to the targets, and the persisted endpoints.
set -eu
for ctl in /sys/class/nvme-fabrics/ctl/nvme*; do
    [ -e "$ctl/subsysnqn" ] || continue
    printf '%s %s %s %s cntlid=%s ctrl_loss_tmo=%s\n' "${ctl##*/}" "$(cat "$ctl/subsysnqn")" \
        "$(cat "$ctl/address")" "$(cat "$ctl/state")" "$(cat "$ctl/cntlid")" "$(cat "$ctl/ctrl_loss_tmo")"
done
ss -Htn state established '( dport = :4420 )' | awk '{print "tcp", $3, $4}' | sort
sed -n '/BEGIN nvmeof.fleet/,/END nvmeof.fleet/p' /etc/nvme/discovery.conf 2>/dev/null || true
cat /etc/nvme/hostnqn /etc/nvme/hostid
