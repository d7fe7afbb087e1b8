#!/bin/sh
# The lab's stand-in for platform firmware: on a real server the BIOS programs the
# CXL decoders of volatile memory and Linux finds the region ready; QEMU has no such
# firmware, so this assembles a RAM region from every CXL memory device at boot,
# through the kernel's sysfs ABI (the bookworm cxl tool cannot create RAM regions).
# The kernel then hands the region to kmem and onlines it as system RAM.
set -eu
cxl=/sys/bus/cxl/devices
for _ in $(seq 60); do
    [ -e "$cxl/decoder0.0/create_ram_region" ] && ls -d "$cxl"/endpoint* >/dev/null 2>&1 && break
    sleep 1
done
if ls -d "$cxl"/region* >/dev/null 2>&1; then
    echo "a CXL region exists already"; exit 0
fi
for endpoint in "$cxl"/endpoint*; do
    set -- "$endpoint"/decoder*.0
    decoder=$(basename "$1")
    memdev=$(basename "$(readlink -f "$endpoint/uport")")
    size=$(cat "$cxl/$memdev/ram/size")
    region=$(cat "$cxl/decoder0.0/create_ram_region")
    echo "$region" > "$cxl/decoder0.0/create_ram_region"
    cat "$cxl/decoder0.0/interleave_granularity" > "$cxl/$region/interleave_granularity"
    echo 1 > "$cxl/$region/interleave_ways"
    echo ram > "$cxl/$decoder/mode"
    echo "$size" > "$cxl/$decoder/dpa_size"
    echo "$size" > "$cxl/$region/size"
    echo "$decoder" > "$cxl/$region/target0"
    echo 1 > "$cxl/$region/commit"
    echo "$region" > /sys/bus/cxl/drivers/cxl_region/bind
    echo "$region: $memdev ($decoder, $size bytes) committed"
done
