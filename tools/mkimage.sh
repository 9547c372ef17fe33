#!/bin/bash
# mkimage.sh: build a bootable USB-stick image without root, loop devices or
# mounts.  The image is what a PC BIOS (or Bochs, or QEMU) boots from a disk:
#
#   byte 0         MBR: syslinux's mbr.bin (440 bytes of boot code) and one
#                  active partition entry, type 0x0E (FAT16, LBA)
#   byte 1 MiB     the partition (LBA 2048 to the end): FAT16 holding
#                    /syslinux/ldlinux.sys, ldlinux.c32   (syslinux --install)
#                    /syslinux/mboot.c32, libcom32.c32     (Multiboot v1 loader)
#                    /syslinux/syslinux.cfg
#                    /k/<name>.elf                         (the kernels)
#   size           C cylinders x 16 heads x 63 sectors x 512 bytes, so that
#                  every BIOS (and Bochs' geometry autodetection) agrees on
#                  the CHS geometry.  C is 64 (31.5 MiB) unless the kernels
#                  need more.
#
# Usage:
#   mkimage.sh OUT.img DEFAULT_VARIANT VARIANT...
#       The full image, for a real PC: every VARIANT whose
#       build/<variant>/kernel.elf exists becomes /k/<variant>.elf and a
#       syslinux label of the same name.  Syslinux prompts on the screen and
#       on COM1 (115200 baud) for 5 s, then boots DEFAULT_VARIANT, which must
#       have been built.  At the prompt a label name may be followed by
#       kernel arguments; syslinux appends them to the label's command line.
#   mkimage.sh --single OUT.img KERNEL.elf 'KERNEL ARGS'
#       A one-kernel image for one test boot: no prompt, boots
#       "/k/kernel.elf KERNEL ARGS" at once.  Fast: it copies a cached
#       template (build/cache/template.img, rebuilt when missing or older
#       than this script) and adds just the kernel and syslinux.cfg.
#
# What the kernel receives: mboot.c32 passes the Multiboot command line with
# the kernel's file name first, e.g. "/k/kernel.elf tests=all".
#
# Tools: mkfs.fat (dosfstools), mtools, syslinux (the mtools installer), dd.
# Every image is written under a temporary name and renamed when complete,
# so a failed or concurrent build never leaves a half-written OUT.img.
set -eu

SYSLINUX_MBR=/usr/lib/syslinux/mbr/mbr.bin
SYSLINUX_C32=/usr/lib/syslinux/modules/bios

HEADS=16
SECTORS=63
CYL_BYTES=$((HEADS * SECTORS * 512))  # 516096
MIN_CYLS=64                           # 33,030,144 bytes
MAX_CYLS=4000                         # ~1.9 GiB: FAT16 (32 KiB clusters) tops out at 2 GiB
PART_LBA=2048
PART_OFF=$((PART_LBA * 512))          # 1 MiB

# mtools refuses FAT images whose geometry it finds odd; ours is fine.
export MTOOLS_SKIP_CHECK=1

root=$(cd "$(dirname "$0")/.." && pwd)
self="$root/tools/mkimage.sh"
cache="$root/build/cache"

die() {
    echo "mkimage: $*" >&2
    exit 1
}

usage() {
    cat >&2 <<EOF
usage: $0 OUT.img DEFAULT_VARIANT VARIANT...
       $0 --single OUT.img KERNEL.elf 'KERNEL ARGS'
EOF
    exit 2
}

# Temporary files and directories removed on exit, whatever happens.
cleanup_list=()
cleanup() {
    local f
    for f in "${cleanup_list[@]+"${cleanup_list[@]}"}"; do
        rm -rf -- "$f"
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# tmpname FILE: set TMP to a unique name beside FILE (same directory, so
# that mv is an atomic rename), removed at exit unless renamed by then.
# (Not to be called in $(...): the cleanup list lives in this shell.)
tmpname() {
    TMP="$1.tmp.$$.$RANDOM"
    cleanup_list+=("$TMP")
}

# le32 N: the escape sequence of N as four little-endian bytes, for printf %b.
le32() {
    printf '\\x%02x\\x%02x\\x%02x\\x%02x' \
        $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255))
}

# chs LBA: the three CHS bytes of a partition entry (head; sector with the
# cylinder's bits 9:8 on top; cylinder bits 7:0) for sector LBA in our
# 16 x 63 geometry.  Past cylinder 1023 CHS cannot say it: FE FF FF, as is
# usual, tells the BIOS to use the LBA fields.
chs() {
    local c=$(($1 / (HEADS * SECTORS)))
    local h=$(($1 / SECTORS % HEADS))
    local s=$(($1 % SECTORS + 1))
    if ((c > 1023)); then
        printf '\\xfe\\xff\\xff'
    else
        printf '\\x%02x\\x%02x\\x%02x' $h $((s | (c >> 8) << 6)) $((c & 255))
    fi
}

# write_mbr IMG TOTAL_SECTORS: put syslinux's boot code and a partition table
# with one active FAT16 (LBA) partition from PART_LBA to the end of the disk
# into sector 0 of IMG.
write_mbr() {
    local img=$1 total=$2
    local count=$((total - PART_LBA))
    dd if="$SYSLINUX_MBR" of="$img" bs=440 count=1 conv=notrunc status=none
    # Entry 1 at byte 446: status, CHS first, type, CHS last, LBA first, count.
    # Entries 2-4 stay zero; the boot signature 55 AA ends the sector.
    printf '%b' "\\x80$(chs $PART_LBA)\\x0e$(chs $((total - 1)))$(le32 $PART_LBA)$(le32 $count)" |
        dd of="$img" bs=1 seek=446 conv=notrunc status=none
    printf '\x55\xaa' | dd of="$img" bs=1 seek=510 conv=notrunc status=none
}

# make_base IMG CYLS: a CYLS-cylinder image (sparse where it is empty) with
# the MBR, the FAT16 partition, syslinux installed in it, its Multiboot
# loader, and an empty /k directory: everything but kernels and config.
make_base() {
    local img=$1 cyls=$2
    local total=$((cyls * HEADS * SECTORS))
    local work part
    work=$(mktemp -d "${TMPDIR:-/tmp}/mkimage.XXXXXX")
    cleanup_list+=("$work")
    part="$work/part.img"

    rm -f -- "$img"
    truncate -s $((total * 512)) "$img"
    write_mbr "$img" $total
    # -h: hidden sectors (the partition's LBA), which the boot sector needs;
    # --invariant: fixed volume id and times, for reproducible images.
    mkfs.fat -F 16 -h $PART_LBA -g $HEADS/$SECTORS -n IA32MM --invariant \
        -C "$part" $(((total - PART_LBA) / 2)) >/dev/null ||
        die "mkfs.fat failed for a $cyls-cylinder image"
    dd if="$part" of="$img" bs=1M seek=$PART_OFF oflag=seek_bytes \
        conv=notrunc,sparse status=none
    rm -f -- "$part"
    # The installer does not create its directory (and still exits 0 when
    # it cannot place its files there): make it first, check afterwards.
    mmd -i "$img@@$PART_OFF" ::/syslinux ::/k || die "cannot make directories in $img"
    syslinux --install --offset $PART_OFF --directory /syslinux "$img" ||
        die "syslinux --install failed on $img"
    mdir -a -b -i "$img@@$PART_OFF" ::/syslinux/ldlinux.sys ::/syslinux/ldlinux.c32 \
        >/dev/null 2>&1 || die "syslinux --install did not install ldlinux.sys and ldlinux.c32 in $img"
    mcopy -o -i "$img@@$PART_OFF" "$SYSLINUX_C32/mboot.c32" \
        "$SYSLINUX_C32/libcom32.c32" ::/syslinux/ ||
        die "cannot copy mboot.c32 and libcom32.c32 into $img"
}

# put IMG SRC DEST: copy file SRC (or "-", standard input) to DEST in IMG's FAT.
put() {
    mcopy -o -i "$1@@$PART_OFF" "$2" "::$3" || die "cannot copy $2 to $3 in $1 (image full?)"
}

# cyls_for BYTES: cylinders for an image whose partition must hold BYTES of
# files, with room for the FATs, syslinux, cluster rounding and some slack.
cyls_for() {
    local need=$(($1 + $1 / 8 + PART_OFF + 4 * 1024 * 1024))
    local c=$(((need + CYL_BYTES - 1) / CYL_BYTES))
    ((c < MIN_CYLS)) && c=$MIN_CYLS
    ((c <= MAX_CYLS)) || die "kernels too big for a FAT16 image ($1 bytes)"
    echo $c
}

filesize() {
    stat -L -c %s -- "$1"
}

# The template for --single: a base image of MIN_CYLS cylinders, rebuilt
# when missing or older than this script or syslinux' files; its path is
# left in TEMPLATE.  Concurrent builders each write their own temporary
# file; the last rename wins and every reader sees a complete template.
template() {
    local t="$cache/template.img" f stale=0
    if [ ! -f "$t" ]; then
        stale=1
    else
        for f in "$self" "$SYSLINUX_MBR" "$SYSLINUX_C32/mboot.c32" "$(command -v syslinux)"; do
            [ "$t" -nt "$f" ] || stale=1
        done
    fi
    if [ $stale = 1 ]; then
        mkdir -p "$cache"
        tmpname "$t"
        make_base "$TMP" $MIN_CYLS
        mv -f -- "$TMP" "$t"
    fi
    TEMPLATE=$t
}

# single OUT KERNEL ARGS: the one-kernel image of a test boot.
single() {
    local out=$1 kernel=$2 args=$3
    [ -f "$kernel" ] || die "kernel '$kernel' not found"
    case $args in *$'\n'* | *$'\r'*) die "kernel arguments must be one line" ;; esac
    mkdir -p -- "$(dirname -- "$out")"
    local tmp cyls
    cyls=$(cyls_for "$(filesize "$kernel")")
    if ((cyls == MIN_CYLS)); then
        template
        tmpname "$out"
        tmp=$TMP
        cp --reflink=auto --sparse=always -- "$TEMPLATE" "$tmp"
    else
        tmpname "$out"
        tmp=$TMP
        make_base "$tmp" "$cyls"
    fi
    put "$tmp" "$kernel" /k/kernel.elf
    printf '%s\n' \
        'SERIAL 0 115200' \
        'PROMPT 0' \
        'TIMEOUT 0' \
        'DEFAULT kernel' \
        'LABEL kernel' \
        '  KERNEL /syslinux/mboot.c32' \
        "  APPEND /k/kernel.elf${args:+ $args}" | put "$tmp" - /syslinux/syslinux.cfg
    mv -f -- "$tmp" "$out"
}

# star VARIANT: "*" for the default variant (in $default), else " ".
star() {
    if [ "$1" = "$default" ]; then echo '*'; else echo ' '; fi
}

# full OUT DEFAULT VARIANT...: the image with every built variant, for a PC.
full() {
    local out=$1 default=$2
    shift 2
    local v k total=0 labels=()
    [ -f "$root/build/$default/kernel.elf" ] ||
        die "the default variant's kernel build/$default/kernel.elf was not built (make VARIANT=$default kernel)"
    # The default first, then the others in the order given, once each.
    for v in "$default" "$@"; do
        k="$root/build/$v/kernel.elf"
        [ -f "$k" ] || continue
        case " ${labels[*]-} " in *" $v "*) continue ;; esac
        labels+=("$v")
        total=$((total + $(filesize "$k")))
    done

    mkdir -p -- "$(dirname -- "$out")"
    local tmp work cyls
    tmpname "$out"
    tmp=$TMP
    work=$(mktemp -d "${TMPDIR:-/tmp}/mkimage.XXXXXX")
    cleanup_list+=("$work")
    cyls=$(cyls_for $total)
    make_base "$tmp" "$cyls"

    # The list of labels, shown before the prompt (DISPLAY) and on F1: two
    # columns, so that 40 variants, the SAY line and the prompt fit on one
    # 25-line screen.  (Syslinux 6 sends DISPLAY and SAY output, which it
    # prints while reading the config, only to the screen, not to the serial
    # port; at the serial prompt, F1 (ESC O P) shows the list.)
    local n=${#labels[@]} rows i line
    rows=$(((n + 1) / 2))
    {
        echo "ia32mm variants, <memory>-<cpus>-<preemption>-pgcl<N>; * = default:"
        for ((i = 0; i < rows; i++)); do
            line=$(printf '  %s %-34s' "$(star "${labels[i]}")" "${labels[i]}")
            if ((i + rows < n)); then
                line+=$(printf '  %s %s' "$(star "${labels[i + rows]}")" "${labels[i + rows]}")
            fi
            echo "${line%"${line##*[! ]}"}"
        done
    } >"$work/variants.txt"

    {
        echo 'SERIAL 0 115200'
        echo 'PROMPT 1'
        echo 'TIMEOUT 50'
        echo "DEFAULT $default"
        echo 'DISPLAY /syslinux/variants.txt'
        echo 'F1 /syslinux/variants.txt'
        echo 'SAY Type a variant name, optionally followed by kernel arguments, and Enter.'
        echo 'SAY Without input, the * variant boots in 5 s.  F1 shows the list again.'
        for v in "${labels[@]}"; do
            echo
            echo "LABEL $v"
            echo '  KERNEL /syslinux/mboot.c32'
            echo "  APPEND /k/$v.elf"
        done
    } >"$work/syslinux.cfg"

    for v in "${labels[@]}"; do
        put "$tmp" "$root/build/$v/kernel.elf" "/k/$v.elf"
    done
    put "$tmp" "$work/variants.txt" /syslinux/variants.txt
    put "$tmp" "$work/syslinux.cfg" /syslinux/syslinux.cfg
    mv -f -- "$tmp" "$out"
    echo "$out: $(filesize "$out") bytes, ${#labels[@]} kernel(s), default $default"
}

for f in "$SYSLINUX_MBR" "$SYSLINUX_C32/mboot.c32" "$SYSLINUX_C32/libcom32.c32"; do
    [ -f "$f" ] || die "$f missing (apt-get install syslinux syslinux-common)"
done
for t in mkfs.fat mcopy mmd syslinux; do
    command -v $t >/dev/null || die "$t not found (apt-get install dosfstools mtools syslinux)"
done

if [ "${1-}" = --single ]; then
    [ $# -eq 3 ] || [ $# -eq 4 ] || usage
    single "$2" "$3" "${4-}"
else
    [ $# -ge 2 ] || usage
    case $1 in -*) usage ;; esac
    full "$@"
fi
