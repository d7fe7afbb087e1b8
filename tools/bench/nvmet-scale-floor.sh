#!/bin/sh
# The floor under nvmeof.fleet.nvmet_subsystem at scale, for tools/bench/bench.py: the configfs
# writes the module makes on a tree without the subsystem, done by hand in one shell, piped over one
# ssh connection:
#   ssh TARGET sh -s -- NQN HOST_NQN DIR COUNT SERVICE_ID ADDRESS... < nvmet-scale-floor.sh
# Host entry and allowed_hosts link; subsystem with serial and allow_any_host 0; per namespace
# (NSID 1..COUNT, backed by DIR/ns-NSID.img) mkdir, device_path, device_uuid, device_nguid,
# buffered_io, ana_grpid, enable; per address a new port (lowest free ids) with its addr_* and the
# link to the subsystem. Serial, uuid and nguid are random here (the module derives them from the
# NQN): the same writes, other values. nvmet-scale-floor-teardown.sh undoes it.
#
# A floor starts as few processes as it can: every directory comes from one mkdir and the links
# from three ln, the writes are the shell's own redirections. Under emulation (TCG) starting a
# process costs about a tenth of a second: with one mkdir per namespace, 256 namespaces took 33 s
# instead of 5.6 s on the project's machines.
set -eu
nqn=$1 host=$2 dir=$3 count=$4 service=$5
shift 5
cfg=/sys/kernel/config/nvmet
subsys=$cfg/subsystems/$nqn

# Port ids: the lowest free ones, as the module picks them; pairs of id=address.
listeners=
port=1
for addr in "$@"; do
    while [ -e "$cfg/ports/$port" ]; do port=$((port + 1)); done
    listeners="$listeners $port=$addr"
    port=$((port + 1))
done

set -- "$cfg/hosts/$host" "$subsys"
nsid=1
while [ "$nsid" -le "$count" ]; do
    set -- "$@" "$subsys/namespaces/$nsid"
    nsid=$((nsid + 1))
done
for listener in $listeners; do
    set -- "$@" "$cfg/ports/${listener%%=*}"
done
mkdir "$@"

IFS=- read -r a b c d _ < /proc/sys/kernel/random/uuid
echo "$a$b$c$d" > "$subsys/attr_serial"
echo 0 > "$subsys/attr_allow_any_host"
ln -s "$cfg/hosts/$host" "$subsys/allowed_hosts/$host"

nsid=1
while [ "$nsid" -le "$count" ]; do
    ns=$subsys/namespaces/$nsid
    echo "$dir/ns-$nsid.img" > "$ns/device_path"
    read -r uuid < /proc/sys/kernel/random/uuid
    echo "$uuid" > "$ns/device_uuid"
    read -r nguid < /proc/sys/kernel/random/uuid
    echo "$nguid" > "$ns/device_nguid"
    echo 0 > "$ns/buffered_io"
    echo 1 > "$ns/ana_grpid"
    echo 1 > "$ns/enable"
    nsid=$((nsid + 1))
done

for listener in $listeners; do
    port=$cfg/ports/${listener%%=*}
    addr=${listener#*=}
    case $addr in
        *:*) family=ipv6 ;;
        *) family=ipv4 ;;
    esac
    echo tcp > "$port/addr_trtype"
    echo "$family" > "$port/addr_adrfam"
    echo "$addr" > "$port/addr_traddr"
    echo "$service" > "$port/addr_trsvcid"
    ln -s "$subsys" "$port/subsystems/$nqn"
done
