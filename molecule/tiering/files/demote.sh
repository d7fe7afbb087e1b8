#!/bin/sh
# Memory pressure in one cgroup: a process touches SIZE MiB of anonymous memory on the
# DRAM node, then the kernel is asked to reclaim RECLAIM MiB of the cgroup
# (memory.reclaim). There is no swap, so the only way out for anonymous pages is
# demotion to the lower tier. Prints the growth of the pgdemote_* counters and where
# the cgroup's anonymous memory is after the reclaim:
#   demoted <pages>
#   anon <node> <bytes>     (one line per node)
set -eu
size_mib=$1
reclaim_mib=$2
unit="lab-demote-$$"
cgroup="/sys/fs/cgroup/system.slice/$unit.service"

demoted() { awk '/^pgdemote_/ { total += $2 } END { print total + 0 }' /proc/vmstat; }

before=$(demoted)
systemd-run --quiet --unit "$unit" --collect -p MemoryAccounting=yes \
    python3 -c "
import mmap, time
area = mmap.mmap(-1, $size_mib << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for offset in range(0, len(area), mmap.PAGESIZE):
    area[offset] = 1
open('/run/$unit.ready', 'w').close()
time.sleep(3600)
"
trap 'systemctl stop "$unit.service" 2>/dev/null || true; rm -f "/run/$unit.ready"' EXIT
for _ in $(seq 300); do
    [ -e "/run/$unit.ready" ] && break
    sleep 1
done
[ -e "/run/$unit.ready" ] || { echo "the allocation did not finish in 300 s" >&2; exit 1; }
# The kernel may reclaim less than asked (EAGAIN); the counters tell what happened.
echo "${reclaim_mib}M" > "$cgroup/memory.reclaim" 2>/dev/null || true
echo "demoted $(($(demoted) - before))"
awk '$1 == "anon" { for (i = 2; i <= NF; i++) { split($i, kv, "="); print "anon", substr(kv[1], 2), kv[2] } }' \
    "$cgroup/memory.numa_stat"
