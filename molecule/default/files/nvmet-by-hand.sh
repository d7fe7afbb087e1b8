#!/bin/sh
# Exports a 64 MiB RAM disk over NVMe/TCP through configfs by hand, one port
# per storage address, to exactly one host NQN; or removes that export.
# usage: nvmet-by-hand.sh setup|teardown SUBSYSTEM_NQN HOST_NQN ADDRESS...
set -eu
action=$1 nqn=$2 host=$3
shift 3
cfg=/sys/kernel/config/nvmet
subsys=$cfg/subsystems/$nqn

teardown() {
    for port in "$cfg"/ports/*; do
        [ -d "$port" ] || continue
        if [ -L "$port/subsystems/$nqn" ]; then rm "$port/subsystems/$nqn"; fi
        if [ -z "$(ls "$port/subsystems")" ]; then rmdir "$port"; fi
    done
    if [ -d "$subsys" ]; then
        if [ -d "$subsys/namespaces/1" ]; then
            echo 0 > "$subsys/namespaces/1/enable"
            rmdir "$subsys/namespaces/1"
        fi
        if [ -L "$subsys/allowed_hosts/$host" ]; then rm "$subsys/allowed_hosts/$host"; fi
        rmdir "$subsys"
    fi
    if [ -d "$cfg/hosts/$host" ]; then rmdir "$cfg/hosts/$host"; fi
    if grep -q '^brd ' /proc/modules; then rmmod brd; fi
}

setup() {
    modprobe brd rd_nr=1 rd_size=65536
    mkdir -p "$cfg/hosts/$host" "$subsys"
    echo 0 > "$subsys/attr_allow_any_host"
    ln -s "$cfg/hosts/$host" "$subsys/allowed_hosts/$host"
    mkdir "$subsys/namespaces/1"
    echo /dev/ram0 > "$subsys/namespaces/1/device_path"
    echo 1 > "$subsys/namespaces/1/enable"
    id=100
    for addr in "$@"; do
        port=$cfg/ports/$id
        mkdir "$port"
        echo tcp > "$port/addr_trtype"
        echo ipv4 > "$port/addr_adrfam"
        echo "$addr" > "$port/addr_traddr"
        echo 4420 > "$port/addr_trsvcid"
        ln -s "$subsys" "$port/subsystems/$nqn"
        id=$((id + 1))
    done
}

"$action" "$@"
