#!/bin/sh
# Removes the subsystem NQN from the nvmet configfs, as nvmet-scale-floor.sh or the module made it:
# its links from ports (and the ports left without a subsystem), its namespaces, its allowed-host
# links, the subsystem, and the host entry HOST_NQN. Prints what it removed; not timed, but kept
# to a few processes (one rm, one rmdir): under emulation each one costs a tenth of a second.
#   ssh TARGET sh -s -- NQN HOST_NQN < nvmet-scale-floor-teardown.sh
set -eu
nqn=$1 host=$2
cfg=/sys/kernel/config/nvmet
subsys=$cfg/subsystems/$nqn

# Links first: nothing linked can be removed.
linked=
set --
for port in "$cfg"/ports/*; do
    if [ -L "$port/subsystems/$nqn" ]; then
        set -- "$@" "$port/subsystems/$nqn"
        linked="$linked $port"
    fi
done
if [ -d "$subsys" ]; then
    for link in "$subsys"/allowed_hosts/*; do
        if [ -L "$link" ]; then set -- "$@" "$link"; fi
    done
fi
if [ $# -gt 0 ]; then rm "$@"; fi

namespaces=0 ports=0
set --
if [ -d "$subsys" ]; then
    for ns in "$subsys"/namespaces/*; do
        if [ ! -d "$ns" ]; then continue; fi
        echo 0 > "$ns/enable"
        set -- "$@" "$ns"
        namespaces=$((namespaces + 1))
    done
    set -- "$@" "$subsys"
fi
for port in $linked; do
    for entry in "$port"/subsystems/*; do
        if [ -e "$entry" ] || [ -L "$entry" ]; then continue 2; fi
    done
    set -- "$@" "$port"
    ports=$((ports + 1))
done
if [ -d "$cfg/hosts/$host" ]; then set -- "$@" "$cfg/hosts/$host"; fi
if [ $# -gt 0 ]; then rmdir "$@"; fi
echo "removed namespaces=$namespaces ports=$ports"
