#!/bin/bash
# flash.sh: write a disk image (build/ia32mm.img) to a USB stick, then read
# it back and compare.
#
# Usage: tools/flash.sh [--yes] IMAGE DEVICE
#
# DEVICE is a whole disk such as /dev/sdb (a /dev/disk/by-id/... link is
# fine).  Before anything is written, the script refuses, with exit status 2
# and one message naming the reason, a DEVICE that
#   - does not exist, or is not a block device (a file, /dev/null, a directory),
#   - is a partition (/dev/sdb1) rather than the whole disk,
#   - is not removable (sysfs "removable" is not 1: internal disks),
#   - is read-only (a write-protect switch),
#   - is mounted, or any of its partitions is, is used as swap, or is held
#     by device-mapper / RAID / LVM,
#   - holds no medium, or is smaller than IMAGE,
#   - cannot be opened for writing by this user.
# It also refuses a missing IMAGE.  It then shows the device's vendor, model
# and size and asks "Write IMAGE to DEVICE, destroying its contents? [y/N]"
# on the terminal; anything but y or yes aborts (exit status 1).  With no
# terminal on standard input it refuses (exit 2) unless --yes was given.
# It writes with dd, syncs, reads back exactly IMAGE's length with O_DIRECT
# (so the page cache cannot fake the answer) and compares: "verified N
# bytes", or exit status 1 and a loud message.
#
# For tests only (ci/test_flash.sh), these replace the kernel's views so
# that the refusals can be checked without hardware:
#   FLASH_SYSFS   the sysfs root              (default /sys)
#   FLASH_MOUNTS  the mount table             (default /proc/mounts)
#   FLASH_SWAPS   the table of active swaps   (default /proc/swaps)
set -eu

sysfs=${FLASH_SYSFS:-/sys}
mounts=${FLASH_MOUNTS:-/proc/mounts}
swaps=${FLASH_SWAPS:-/proc/swaps}

usage() {
    echo "usage: $0 [--yes] IMAGE DEVICE   (DEVICE: a whole USB stick, e.g. /dev/sdb)" >&2
    exit 2
}

# refuse MESSAGE: nothing has been written; say why and stop.
refuse() {
    echo "flash: refusing: $*" >&2
    exit 2
}

fail() {
    echo "flash: FAILED: $*" >&2
    exit 1
}

# first_line FILE: FILE's first line with surrounding blanks removed, or
# nothing if it cannot be read.
first_line() {
    local l=''
    if [ -r "$1" ]; then
        IFS= read -r l <"$1" || true
    fi
    l=${l#"${l%%[![:space:]]*}"}
    echo "${l%"${l##*[![:space:]]}"}"
}

# human BYTES: "16.0 GB (16008609792 bytes)"-style size for the prompt.
human() {
    awk -v b="$1" 'BEGIN {
        split("bytes KB MB GB TB", u, " "); v = b; i = 1
        while (v >= 1000 && i < 5) { v /= 1000; i++ }
        if (i == 1) printf "%.0f bytes", b; else printf "%.1f %s (%.0f bytes)", v, u[i], b }'
}

yes=0
args=()
while [ $# -gt 0 ]; do
    case $1 in
    -y | --yes) yes=1 ;;
    -h | --help) usage ;;
    --) shift; args+=("$@"); break ;;
    -*) echo "flash: unknown option '$1'" >&2; usage ;;
    *) args+=("$1") ;;
    esac
    shift
done
[ ${#args[@]} -eq 2 ] || usage
image=${args[0]} device=${args[1]}

# --- The image. ---
[ -e "$image" ] || refuse "image '$image' does not exist (build it with 'make image')"
[ -f "$image" ] || refuse "image '$image' is not a regular file"
[ -r "$image" ] || refuse "image '$image' is not readable"
img_bytes=$(stat -L -c %s -- "$image")
[ "$img_bytes" -gt 0 ] || refuse "image '$image' is empty"

# --- The device: a block device, and which one in sysfs. ---
if [ ! -e "$device" ]; then
    if [ -L "$device" ]; then
        refuse "'$device' is a dangling link: no such device (is the stick plugged in?)"
    fi
    refuse "'$device' does not exist (is the stick plugged in? see lsblk)"
fi
dev=$(readlink -f -- "$device")
if [ ! -b "$dev" ]; then
    if [ -d "$dev" ]; then
        what="a directory"
    elif [ -c "$dev" ]; then
        what="a character device"
    elif [ -f "$dev" ]; then
        what="a regular file"
    else
        what="a socket or pipe"
    fi
    refuse "'$device' is $what, not a block device"
fi
[ "$dev" = "$device" ] || echo "flash: $device is $dev"

# The kernel's name for it, through its device number, as the kernel sees
# it: /sys/dev/block/MAJ:MIN links to .../block/sdb (a disk) or
# .../block/sdb/sdb1 (a partition).
read -r maj_hex min_hex < <(stat -L -c '%t %T' -- "$dev")
majmin=$((16#$maj_hex)):$((16#$min_hex))
[ -e "$sysfs/dev/block/$majmin" ] ||
    refuse "'$device' (device $majmin) is not in $sysfs/dev/block: cannot tell what it is"
sysdir=$(cd -P -- "$sysfs/dev/block/$majmin" && pwd)
name=${sysdir##*/}

if [ -e "$sysdir/partition" ]; then
    parent=$(dirname -- "$sysdir")
    refuse "'$device' is a partition ($name, partition $(first_line "$sysdir/partition") of /dev/${parent##*/}), not a whole disk; give the whole disk, /dev/${parent##*/}"
fi
[ -d "$sysfs/block/$name" ] || refuse "'$device' ($name) is not a whole disk ($sysfs/block/$name is missing)"
disk="$sysfs/block/$name"

removable=$(first_line "$disk/removable")
[ "$removable" = 1 ] ||
    refuse "'$device' ($name) is not removable (removable=${removable:-?}): it looks like an internal disk"
[ "$(first_line "$disk/ro")" != 1 ] ||
    refuse "'$device' ($name) is read-only (write-protect switch?)"

# The disk and its partitions, by name and by device number, for the
# mount, swap and holder checks.
names=("$name")
numbers=("$majmin")
for p in "$sysdir"/*/; do
    p=${p%/}
    [ -e "$p/partition" ] || continue
    names+=("${p##*/}")
    numbers+=("$(first_line "$p/dev")")
done

# is_ours PATH: true if PATH (e.g. /dev/sdb1, /dev/disk/by-uuid/...) names
# the disk or one of its partitions.
is_ours() {
    local r n num
    r=$(readlink -m -- "$1")
    for n in "${names[@]}"; do
        [ "${r##*/}" = "$n" ] && return 0
    done
    if [ -b "$r" ]; then
        read -r maj_hex min_hex < <(stat -L -c '%t %T' -- "$r")
        num=$((16#$maj_hex)):$((16#$min_hex))
        for n in "${numbers[@]}"; do
            [ "$num" = "$n" ] && return 0
        done
    fi
    return 1
}

[ -r "$mounts" ] || refuse "cannot read the mount table $mounts"
while read -r src dir _; do
    case $src in /*) ;; *) continue ;; esac
    if is_ours "$src"; then
        refuse "'$device' is mounted: $src on $(printf '%b' "${dir//\\/\\0}"); unmount it first (umount $src)"
    fi
done <"$mounts"
if [ -r "$swaps" ]; then
    while read -r src _; do
        case $src in /*) ;; *) continue ;; esac
        if is_ours "$src"; then
            refuse "'$device' is in use as swap: $src; swapoff it first"
        fi
    done <"$swaps"
fi
for n in "${names[@]}"; do
    h="$sysdir/holders"
    [ "$n" = "$name" ] || h="$sysdir/$n/holders"
    for x in "$h"/*; do
        [ -e "$x" ] || continue
        refuse "'$device' is in use: $n is held by ${x##*/} (device-mapper, RAID or LVM)"
    done
done

# Size: sysfs counts 512-byte sectors whatever the device's block size.
sectors=$(first_line "$disk/size")
if [ -n "$sectors" ]; then
    dev_bytes=$((sectors * 512))
else
    dev_bytes=$(blockdev --getsize64 "$dev" 2>/dev/null) || refuse "cannot find the size of '$device'"
fi
[ "$dev_bytes" -gt 0 ] || refuse "'$device' ($name) has no medium (size 0)"
[ "$dev_bytes" -ge "$img_bytes" ] ||
    refuse "'$device' ($name) is too small: $(human "$dev_bytes"), the image needs $(human "$img_bytes")"
[ -w "$dev" ] || refuse "no permission to write to '$device' (run as root, e.g. with sudo)"

# --- Confirm. ---
vendor=$(first_line "$disk/device/vendor")
model=$(first_line "$disk/device/model")
desc="${vendor:+$vendor }${model:-unknown model}"
echo "flash: $device: /dev/$name, $desc, $(human "$dev_bytes"), removable"
echo "flash: $image: $(human "$img_bytes")"
if [ $yes = 0 ]; then
    [ -t 0 ] || refuse "no terminal to ask for confirmation on; give --yes to write without asking"
    printf 'Write %s to %s, destroying its contents? [y/N] ' "$image" "$device"
    read -r answer || answer=
    case $answer in
    y | Y | yes | YES | Yes) ;;
    *)
        echo "flash: aborted, nothing written" >&2
        exit 1
        ;;
    esac
fi

# --- Write, flush, read back. ---
progress=none
[ -t 2 ] && progress=progress
dd if="$image" of="$dev" bs=4M conv=fsync status=$progress ||
    fail "dd could not write '$image' to '$device'; the stick now holds a partial image"
sync
# Drop the device's cached buffers (best effort: O_DIRECT below bypasses
# them anyway).
blockdev --flushbufs "$dev" 2>/dev/null || true

# O_DIRECT reads must be whole logical blocks; read whole blocks and let
# cmp compare the image's length only.
bsz=$(first_line "$disk/queue/logical_block_size")
case $bsz in '' | *[!0-9]* | 0) bsz=512 ;; esac
readlen=$(((img_bytes + bsz - 1) / bsz * bsz))
if ! cmp -n "$img_bytes" -- "$image" <(dd if="$dev" bs=4M iflag=direct,count_bytes \
    count="$readlen" status=none); then
    fail "read-back of '$device' differs from '$image' (see cmp above): the stick is faulty or was removed"
fi
echo "flash: verified $img_bytes bytes on $device; you can remove the stick"
