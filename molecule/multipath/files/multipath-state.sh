#!/bin/sh
# The initiator's native multipath as the kernel shows it, one fact per line:
#   param <nvme_core parameter> <value>
#   subsys <NQN> <iopolicy>
#   path <NQN> <controller> <traddr> <controller state> <path device> <ANA state> <writes completed>
set -eu
for param in multipath iopolicy; do
    printf 'param %s %s\n' "$param" "$(cat "/sys/module/nvme_core/parameters/$param")"
done
for subsys in /sys/class/nvme-subsystem/nvme-subsys*; do
    [ -e "$subsys/subsysnqn" ] || continue
    nqn=$(cat "$subsys/subsysnqn")
    printf 'subsys %s %s\n' "$nqn" "$(cat "$subsys/iopolicy")"
    for ctrl in "$subsys"/nvme[0-9]*; do
        # Controllers are nvmeN; nvmeNnM entries are the multipath heads.
        case "${ctrl##*/nvme}" in *n*) continue ;; esac
        traddr=$(sed -n 's/^traddr=\([^,]*\).*/\1/p' "$ctrl/address")
        for path in "$ctrl"/nvme*c*n*; do
            [ -e "$path/ana_state" ] || continue
            # Field 5 of a block device's stat: writes completed.
            writes=$(awk '{print $5}' "$path/stat")
            printf 'path %s %s %s %s %s %s %s\n' "$nqn" "${ctrl##*/}" "$traddr" "$(cat "$ctrl/state")" \
                "${path##*/}" "$(cat "$path/ana_state")" "$writes"
        done
    done
done
