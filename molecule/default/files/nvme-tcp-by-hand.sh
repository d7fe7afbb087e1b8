#!/bin/sh
# Connects to SUBSYSTEM_NQN on every ADDRESS with nvme-cli, writes 32 MiB of
# random data with direct I/O to its namespace, reads it back, disconnects.
# Prints key=value lines for the caller to check.
# usage: nvme-tcp-by-hand.sh SUBSYSTEM_NQN ADDRESS...
set -eu
nqn=$1
shift
for addr in "$@"; do
    nvme connect -t tcp -a "$addr" -s 4420 -n "$nqn" >/dev/null
done
trap 'nvme disconnect -n "$nqn" >/dev/null 2>&1 || true' EXIT

# The namespace shows up a moment after connect returns.
subsys="" namespace="" waited=0
while [ -z "$namespace" ] && [ "$waited" -lt 30 ]; do
    for candidate in /sys/class/nvme-subsystem/nvme-subsys*; do
        [ "$(cat "$candidate/subsysnqn" 2>/dev/null)" = "$nqn" ] && subsys=$candidate
    done
    for candidate in "$subsys"/nvme*n1; do
        [ -n "$subsys" ] && [ -e "$candidate" ] && namespace=$(basename "$candidate")
    done
    [ -n "$namespace" ] || { sleep 1; waited=$((waited + 1)); }
done
[ -n "$namespace" ] || { echo "error=no namespace of $nqn appeared"; exit 1; }

live=0
for ctrl in "$subsys"/nvme[0-9]*; do
    case "$ctrl" in *n[0-9]*) continue ;; esac
    [ "$(cat "$ctrl/state")" = live ] && live=$((live + 1))
    echo "path=$(cat "$ctrl/transport") $(cat "$ctrl/address") $(cat "$ctrl/state")"
done
echo "controllers_live=$live"

device=/dev/$namespace
echo "device=$device"
head -c 33554432 /dev/urandom > /tmp/nvme-by-hand.data
dd if=/tmp/nvme-by-hand.data of="$device" bs=1M oflag=direct status=none
dd if="$device" of=/tmp/nvme-by-hand.back bs=1M count=32 iflag=direct status=none
echo "written_sha256=$(sha256sum < /tmp/nvme-by-hand.data | cut -d' ' -f1)"
echo "read_sha256=$(sha256sum < /tmp/nvme-by-hand.back | cut -d' ' -f1)"
rm -f /tmp/nvme-by-hand.data /tmp/nvme-by-hand.back
