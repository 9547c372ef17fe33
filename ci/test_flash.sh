#!/bin/bash
# test_flash.sh: check that tools/flash.sh refuses every DEVICE it must
# refuse, with exit status 2, a message naming the reason, and the target
# left untouched; and that a good device is written and verified.
#
# Usage: ci/test_flash.sh [FLASH_SH]   (default tools/flash.sh; give another
#        path to test a modified copy).  Prints "ok - WHAT" or
#        "not ok - WHAT" per case, then "N passed, N failed"; exits 1 if
#        anything failed.  With VERBOSE=1 in the environment, every
#        case's output follows its line, as "#   " comments.
#
# No real disk is ever touched.  The "USB stick" is a block device node
# made with mknod in a temporary directory, described by a fake sysfs tree
# (FLASH_SYSFS) and fake mount and swap tables (FLASH_MOUNTS, FLASH_SWAPS).
# As root with loop devices available, the node has the device number of a
# loop device attached to a temporary file, so "untouched" is checked by
# comparing that file with a copy, and the one case that must write (a good
# stick, --yes) really writes and verifies.  Otherwise the node gets a
# device number with no driver behind it (opening it fails), and the cases
# that need to read or write the stick are skipped.
#
# Every refusal case passes --yes, so a check missing from flash.sh shows
# up as an attempted write, not as a polite question.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
flash=${1:-$root/tools/flash.sh}
flash=$(readlink -f -- "$flash")
[ -x "$flash" ] || { echo "test_flash: $flash is not executable" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_flash.XXXXXX")
loops=()
cleanup() {
    local l
    for l in "${loops[@]+"${loops[@]}"}"; do
        losetup -d "$l" 2>/dev/null
    done
    rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

passed=0 failed=0 skipped=0

ok() {
    echo "ok - $1"
    passed=$((passed + 1))
}

not_ok() {
    echo "not ok - $1"
    shift
    local l
    for l in "$@"; do echo "#   $l"; done
    failed=$((failed + 1))
}

# show: with VERBOSE=1, print the last run's output as comments.
show() {
    [ "${VERBOSE-0}" = 1 ] || return 0
    sed 's/^/#   /' "$tmp/out"
}

skip() {
    echo "ok - $1 # SKIP $2"
    skipped=$((skipped + 1))
}

# --- Fixtures: an image, a regular file, the stick and its sysfs. ---

# The image: 1 MiB and 123 bytes, so that its length is not a whole number
# of sectors (the read-back must compare exactly that many bytes).
head -c $((1024 * 1024 + 123)) /dev/urandom >"$tmp/image.img"
img_bytes=$(stat -c %s "$tmp/image.img")

# The stick's contents: 4 MiB of a pattern, and a copy to compare with.
stick_bytes=$((4 * 1024 * 1024))
yes 'old contents of the stick' | head -c $stick_bytes >"$tmp/backing"
cp "$tmp/backing" "$tmp/backing.orig"
cp "$tmp/backing" "$tmp/plainfile"
cp "$tmp/backing" "$tmp/plainfile.orig"

mkdir -p "$tmp/dev/disk/by-id" "$tmp/adir"
yes 'old contents of partition 1' | head -c $((64 * 1024)) >"$tmp/backing-part"
cp "$tmp/backing-part" "$tmp/backing-part.orig"

# majmin NODE: "MAJOR MINOR" of a device node, in decimal.
majmin() {
    echo $((16#$(stat -c %t "$1"))) $((16#$(stat -c %T "$1")))
}

# The stick node and a node for its partition.  Both get device numbers
# that can only reach our own temporary files (two loop devices) or
# nothing at all (a major number with no driver).
stick="$tmp/dev/fakeusb"
part="$tmp/dev/fakeusb-part1"
real_stick=0
loops=()
if [ "$(id -u)" = 0 ] && l1=$(losetup --find --show -- "$tmp/backing" 2>/dev/null); then
    loops+=("$l1")
    if l2=$(losetup --find --show -- "$tmp/backing-part" 2>/dev/null); then
        loops+=("$l2")
        read -r maj min < <(majmin "$l1")
        read -r pmaj pmin < <(majmin "$l2")
        real_stick=1
    fi
fi
if [ $real_stick = 0 ]; then
    # A block major with no driver registered: the kernel refuses to open it.
    maj=
    for m in 60 61 62 63 240 241 242 243 244 245 246 247 248 249 250; do
        if ! awk '/^Block/ { b = 1 } b && $1 == m { f = 1 } END { exit !f }' m=$m /proc/devices; then
            maj=$m
            break
        fi
    done
    min=0 pmaj=$maj pmin=1
fi
have_node=0
if [ -n "$maj" ] && mknod "$stick" b "$maj" "$min" 2>/dev/null &&
    mknod "$part" b "$pmaj" "$pmin" 2>/dev/null; then
    have_node=1
    # The by-id links point at the loop devices' own nodes in /dev when
    # there are some: the one case that writes then works even if $tmp is
    # on a filesystem mounted nodev.
    if [ $real_stick = 1 ]; then
        ln -s "${loops[0]}" "$tmp/dev/disk/by-id/usb-Fake_Stick_0123"
        ln -s "${loops[1]}" "$tmp/dev/disk/by-id/usb-Fake_Stick_0123-part1"
    else
        ln -s ../../fakeusb "$tmp/dev/disk/by-id/usb-Fake_Stick_0123"
        ln -s ../../fakeusb-part1 "$tmp/dev/disk/by-id/usb-Fake_Stick_0123-part1"
    fi
fi

# make_sys [KEY=VALUE...]: (re)build the fake sysfs tree of a good stick
# named "fakeusb" with one partition "fakeusb1", then apply changes:
#   removable=N ro=N size=SECTORS holder=NAME partholder=NAME
#   node_is_partition=1 (the stick node's number names the partition)
#   unknown=1 (the stick's number is not in the tree at all)
make_sys() {
    local s="$tmp/sys" d kv
    local removable=1 ro=0 size=$((stick_bytes / 512)) holder='' partholder=''
    local node_is_partition=0 unknown=0
    for kv in "$@"; do
        case $kv in
        removable=* | ro=* | size=* | holder=* | partholder=* | node_is_partition=* | unknown=*)
            local "$kv" ;;
        *) echo "make_sys: bad option $kv" >&2; exit 2 ;;
        esac
    done
    rm -rf "$s"
    d="$s/devices/virtual/block/fakeusb"
    mkdir -p "$d/device" "$d/queue" "$d/holders" "$d/fakeusb1/holders" \
        "$s/block" "$s/class/block" "$s/dev/block"
    echo "$removable" >"$d/removable"
    echo "$ro" >"$d/ro"
    echo "$size" >"$d/size"
    echo "$maj:$min" >"$d/dev"
    echo 512 >"$d/queue/logical_block_size"
    echo 'FakeCo  ' >"$d/device/vendor"
    echo 'Fake Stick      ' >"$d/device/model"
    echo 1 >"$d/fakeusb1/partition"
    echo $((size > 2048 ? size - 2048 : 0)) >"$d/fakeusb1/size"
    echo "$pmaj:$pmin" >"$d/fakeusb1/dev"
    [ -z "$holder" ] || mkdir "$d/holders/$holder"
    [ -z "$partholder" ] || mkdir "$d/fakeusb1/holders/$partholder"
    ln -s ../devices/virtual/block/fakeusb "$s/block/fakeusb"
    ln -s ../../devices/virtual/block/fakeusb "$s/class/block/fakeusb"
    ln -s ../../devices/virtual/block/fakeusb/fakeusb1 "$s/class/block/fakeusb1"
    ln -s ../../devices/virtual/block/fakeusb/fakeusb1 "$s/dev/block/$pmaj:$pmin"
    if [ "$unknown" = 0 ]; then
        if [ "$node_is_partition" = 1 ]; then
            ln -s ../../devices/virtual/block/fakeusb/fakeusb1 "$s/dev/block/$maj:$min"
        else
            ln -s ../../devices/virtual/block/fakeusb "$s/dev/block/$maj:$min"
        fi
    fi
}

# A mount table and a swap table that do not mention the stick.
cat >"$tmp/mounts.none" <<'EOF'
proc /proc proc rw,relatime 0 0
sysfs /sys sysfs rw,relatime 0 0
/dev/vdz1 / ext4 rw,relatime 0 0
tmpfs /tmp tmpfs rw 0 0
EOF
printf 'Filename\tType\tSize\tUsed\tPriority\n' >"$tmp/swaps.none"
cp "$tmp/mounts.none" "$tmp/mounts"
cp "$tmp/swaps.none" "$tmp/swaps"

# run_flash ARGS...: run flash.sh with the fake views and no terminal;
# leaves the status in $status and stdout+stderr in $tmp/out.
run_flash() {
    FLASH_SYSFS="$tmp/sys" FLASH_MOUNTS="$tmp/mounts" FLASH_SWAPS="$tmp/swaps" \
        "$flash" "$@" </dev/null >"$tmp/out" 2>&1
    status=$?
}

# untouched FILE: true if FILE still equals FILE.orig.
untouched() {
    cmp -s -- "$1" "$1.orig"
}

# expect_refusal WHAT REGEX TARGET ARGS...: flash.sh ARGS must exit 2 with
# output matching REGEX (grep -Ei), and TARGET (a file with a .orig copy,
# or "-" for none) must be unchanged.
expect_refusal() {
    local what=$1 re=$2 target=$3
    shift 3
    run_flash "$@"
    local why=()
    [ "$status" = 2 ] || why+=("exit status $status, expected 2")
    grep -Eiq -- "$re" "$tmp/out" || why+=("output does not match /$re/")
    if [ "$target" != - ] && ! untouched "$target"; then
        why+=("$target was modified")
        cp -- "$target.orig" "$target"
    fi
    if [ ${#why[@]} = 0 ]; then
        ok "$what"
        show
    else
        not_ok "$what" "${why[@]}" "output: $(tr '\n' '|' <"$tmp/out")"
    fi
}

img="$tmp/image.img"
make_sys

# --- Devices that are not block devices, or do not exist. ---
expect_refusal "regular file as DEVICE" 'regular file' "$tmp/plainfile" \
    --yes "$img" "$tmp/plainfile"
expect_refusal "/dev/null as DEVICE" 'character device' - --yes "$img" /dev/null
expect_refusal "nonexistent /dev/sdzz" 'does not exist' - --yes "$img" /dev/sdzz
expect_refusal "directory as DEVICE" 'directory' - --yes "$img" "$tmp/adir"
ln -s "$tmp/nothing-here" "$tmp/dangling"
expect_refusal "dangling symlink as DEVICE" 'dangling|does not exist' - \
    --yes "$img" "$tmp/dangling"
expect_refusal "usage: one argument only" 'usage' - --yes "$img"

# --- The image. ---
if [ $have_node = 1 ]; then
    target="$tmp/backing"
    [ $real_stick = 1 ] || target=-
    expect_refusal "missing image" 'image .*does not exist' "$target" \
        --yes "$tmp/no-such.img" "$stick"
    expect_refusal "image is a directory" 'not a regular file' "$target" \
        --yes "$tmp/adir" "$stick"

    # --- Block devices the fake sysfs describes as unsuitable. ---
    make_sys removable=0
    expect_refusal "non-removable disk" 'not removable' "$target" --yes "$img" "$stick"
    make_sys removable=0
    expect_refusal "non-removable disk, through a by-id symlink" 'not removable' "$target" \
        --yes "$img" "$tmp/dev/disk/by-id/usb-Fake_Stick_0123"
    make_sys node_is_partition=1
    expect_refusal "partition instead of the whole disk" 'partition' "$target" \
        --yes "$img" "$stick"
    make_sys
    ptarget="$tmp/backing-part"
    [ $real_stick = 1 ] || ptarget=-
    expect_refusal "partition node of the stick" 'partition.*whole disk' "$ptarget" \
        --yes "$img" "$part"
    make_sys unknown=1
    expect_refusal "device number unknown to sysfs" 'cannot tell' "$target" \
        --yes "$img" "$stick"
    make_sys ro=1
    expect_refusal "read-only (write-protected) stick" 'read-only' "$target" \
        --yes "$img" "$stick"
    make_sys size=$(((img_bytes - 1) / 512))
    expect_refusal "stick smaller than the image" 'too small' "$target" \
        --yes "$img" "$stick"
    make_sys size=0
    expect_refusal "card reader with no medium" 'no medium' "$target" \
        --yes "$img" "$stick"
    make_sys holder=dm-7
    expect_refusal "whole disk held by device-mapper" 'held by dm-7' "$target" \
        --yes "$img" "$stick"
    make_sys partholder=md9
    expect_refusal "partition held by RAID" 'held by md9' "$target" \
        --yes "$img" "$stick"

    # --- Mounted, in the fake mount table. ---
    make_sys
    { cat "$tmp/mounts.none"; printf '%s\n' '/dev/fakeusb1 /media/user/FAKE\040STICK vfat rw 0 0'; } >"$tmp/mounts"
    expect_refusal "partition mounted" 'mounted: /dev/fakeusb1 on /media/user/FAKE STICK' \
        "$target" --yes "$img" "$stick"
    { cat "$tmp/mounts.none"; echo "/dev/fakeusb /mnt vfat rw 0 0"; } >"$tmp/mounts"
    expect_refusal "whole disk mounted" 'mounted' "$target" --yes "$img" "$stick"
    { cat "$tmp/mounts.none"; echo "$tmp/dev/disk/by-id/usb-Fake_Stick_0123-part1 /mnt vfat rw 0 0"; } >"$tmp/mounts"
    expect_refusal "mounted through a symlink (device number match)" 'mounted' "$target" \
        --yes "$img" "$tmp/dev/disk/by-id/usb-Fake_Stick_0123"
    cp "$tmp/mounts.none" "$tmp/mounts"
    { cat "$tmp/swaps.none"; printf '/dev/fakeusb1\tpartition\t1024\t0\t-2\n'; } >"$tmp/swaps"
    expect_refusal "partition used as swap" 'swap' "$target" --yes "$img" "$stick"
    cp "$tmp/swaps.none" "$tmp/swaps"

    # --- Asking. ---
    make_sys
    expect_refusal "no terminal and no --yes" 'no terminal' "$target" "$img" "$stick"
    if command -v script >/dev/null; then
        # A terminal (script(1) runs flash.sh on a pty), answering "n".
        printf 'n\n' | FLASH_SYSFS="$tmp/sys" FLASH_MOUNTS="$tmp/mounts" FLASH_SWAPS="$tmp/swaps" \
            script -qec "$(printf '%q ' "$flash" "$img" "$stick")" /dev/null >"$tmp/out" 2>&1
        status=$?
        if [ "$status" = 1 ] && grep -q 'destroying its contents? \[y/N\]' "$tmp/out" &&
            grep -q 'FakeCo Fake Stick' "$tmp/out" && grep -q 'aborted' "$tmp/out" &&
            { [ "$target" = - ] || untouched "$target"; }; then
            ok "answer 'n' on a terminal aborts with status 1"
            show
        else
            not_ok "answer 'n' on a terminal aborts with status 1" "status $status" \
                "output: $(tr '\r\n' '||' <"$tmp/out")"
        fi
    else
        skip "answer 'n' on a terminal aborts with status 1" "script(1) not installed"
    fi

    # --- A good stick: written and verified. ---
    if [ $real_stick = 1 ]; then
        make_sys
        run_flash --yes "$img" "$tmp/dev/disk/by-id/usb-Fake_Stick_0123"
        if [ "$status" = 0 ] && grep -q "verified $img_bytes bytes" "$tmp/out" &&
            cmp -s -n "$img_bytes" "$img" "$tmp/backing" &&
            cmp -s -i "$img_bytes" "$tmp/backing" "$tmp/backing.orig"; then
            ok "good stick (by-id link): written, verified, nothing past the image changed"
            show
        else
            not_ok "good stick (by-id link): written, verified, nothing past the image changed" \
                "status $status" "output: $(tr '\n' '|' <"$tmp/out")"
        fi
        cp "$tmp/backing.orig" "$tmp/backing"
    else
        skip "good stick: written and verified" "needs root and a free loop device"
    fi
else
    skip "block-device cases" "cannot mknod (needs root)"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
