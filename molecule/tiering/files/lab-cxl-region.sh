#!/bin/sh
# The lab's stand-in for platform firmware: on a real server the BIOS programs the
# CXL decoders of volatile memory and Linux finds the region ready; QEMU has no such
# firmware, so this assembles a RAM region from every CXL memory device at boot,
# through the kernel's sysfs ABI (the bookworm cxl tool cannot create RAM regions).
# The kernel then hands the region to kmem and onlines it as system RAM.
set -eu
cxl=/sys/bus/cxl/devices
if ls -d "$cxl"/region* >/dev/null 2>&1; then
    echo "a CXL region exists already"; exit 0
fi

# Firmware also resets the devices at boot. QEMU keeps CXL.mem enabled in a memory
# device's DVSEC control register across a reboot, with range registers outside the
# platform's CXL windows, and the kernel then fails to probe the endpoint ("Range
# register decodes outside platform defined CXL ranges"): clear the bit and probe again.
for device in /sys/bus/pci/devices/*; do
    [ "$(cat "$device/class")" = 0x050210 ] || continue
    address=$(basename "$device")
    for _ in $(seq 60); do [ -e "$device/driver" ] && break; sleep 1; done
    dvsec=$(lspci -s "$address" -vvv |
        sed -n 's/.*Capabilities: \[\([0-9a-f]*\) v1\] Designated Vendor-Specific: Vendor=1e98 ID=0000.*/\1/p')
    [ -n "$dvsec" ] || continue
    control=$(printf '0x%x' $((0x$dvsec + 0xc)))
    if [ $((0x$(setpci -s "$address" "$control.w") & 0x4)) -ne 0 ]; then
        setpci -s "$address" "$control.w=0000:0004"
        echo "$address" > /sys/bus/pci/drivers/cxl_pci/unbind
        echo "$address" > /sys/bus/pci/drivers/cxl_pci/bind
        echo "$address: CXL.mem left enabled by the last boot, cleared"
    fi
done

for _ in $(seq 60); do
    [ -e "$cxl/decoder0.0/create_ram_region" ] && ls -d "$cxl"/endpoint* >/dev/null 2>&1 && break
    sleep 1
done
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
