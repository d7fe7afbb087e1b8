#!/bin/sh
# Prints the whole nvmet configfs tree, one line per directory, link and
# readable attribute, so that two runs can be compared byte for byte.
set -eu
cd /sys/kernel/config/nvmet
find . | LC_ALL=C sort | while IFS= read -r path; do
    if [ -L "$path" ]; then
        echo "$path -> $(readlink "$path")"
    elif [ -d "$path" ]; then
        echo "$path/"
    elif value=$(cat "$path" 2>/dev/null); then
        echo "$path = $value"
    else
        echo "$path (write-only)"
    fi
done
