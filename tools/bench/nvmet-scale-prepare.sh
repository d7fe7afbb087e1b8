#!/bin/sh
# Backing files and kernel modules for the nvmet part of tools/bench/bench.py; not timed.
#   ssh TARGET sh -s -- prepare DIR COUNT < nvmet-scale-prepare.sh
#       DIR/ns-1.img .. DIR/ns-COUNT.img (1 MiB, sparse), nvmet and nvmet-tcp loaded; prints how
#       many subsystems and ports nvmet serves already ("existing subsystems=N", "existing ports=N")
#   ssh TARGET sh -s -- cleanup DIR < nvmet-scale-prepare.sh
#       removes DIR
set -eu
action=$1 dir=$2
case $action in
    prepare)
        count=$3
        mkdir -p "$dir"
        set --
        i=1
        while [ "$i" -le "$count" ]; do
            set -- "$@" "$dir/ns-$i.img"
            i=$((i + 1))
        done
        truncate -s 1M "$@"
        modprobe -a nvmet nvmet-tcp
        # What the target serves already (the fleet's exports, if it was rolled): context.
        for kind in subsystems ports; do
            set -- "/sys/kernel/config/nvmet/$kind"/*
            if [ -e "$1" ]; then echo "existing $kind=$#"; else echo "existing $kind=0"; fi
        done
        ;;
    cleanup)
        rm -rf "$dir"
        ;;
    *)
        echo "usage: prepare DIR COUNT | cleanup DIR" >&2
        exit 2
        ;;
esac
