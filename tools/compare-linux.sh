#!/bin/bash
# compare-linux.sh: free lowmem after boot, Linux 6.1 686-pae versus ia32mm.
#
# Boots, one after the other, Debian's i386 Linux 6.1 PAE/HIGHPTE kernel (with a
# busybox initramfs that prints /proc/meminfo) and two ia32mm variants (which
# print a `# lowmem:` line) under one QEMU command line per RAM size, and writes
#   build/compare/lowmem.tsv   size_gib, system, low_total_mib, low_free_mib, mem_map_mib, note
#   build/compare/lowmem.md    Markdown tables for the README
#   build/compare/lowmem.png   free lowmem (MiB) against RAM (GiB), one line per system
#   build/compare/boots.tsv    every boot: result, seconds, serial log, exact command
#   build/compare/logs/        serial and QEMU logs of every boot, make logs
# Downloads (the .deb files) and what is unpacked from them are cached under
# build/compare/ too; `rm -rf build/compare` starts from scratch.
#
# Usage: tools/compare-linux.sh [SIZE...]        (run from anywhere in the repo)
# Settings (environment):
#   SIZES="2 16 32 48 64"  RAM sizes in GiB (1..64); arguments override it
#   VARIANTS="64g-highpte-up-nopreempt-pgcl1 64g-highpte-up-nopreempt-pgcl4"
#   LINUX=1                0: do not boot Linux (no downloads either)
#   LINUX_PKG=             Debian package to use, e.g. linux-image-6.1.0-50-686-pae-unsigned
#                          (default: the cached one, else the newest 6.1.0-N one apt offers)
#   LINUX_KASLR=off        off: boot Linux with `nokaslr` (reproducible); on: as shipped,
#                          at a random physical load address that splits lowmem, so at 48
#                          and 64 GiB mem_map may not fit and the boot panics by chance
#   BUILD=1                0: do not run make for the ia32mm variants (use build/<v>/kernel.elf)
#   TIMEOUT=               seconds per boot (default 30 + 2 s per GiB)
#   ACCEL=tcg              tcg or kvm (kvm needs /dev/kvm)
#   OUT=build/compare      where results and logs go (the package cache stays in build/compare)
set -euo pipefail

die() { echo "compare-linux: $*" >&2; exit 2; }
say() { echo "compare-linux: $*"; }

start_time=$(date +%s)
cd "$(dirname "$0")/.." || die "cannot cd to the repository root"
ROOT=$PWD
[ -f GNUmakefile ] && [ -d src ] || die "$ROOT does not look like the ia32mm repository"

# ---- settings and their checks (before anything slow) -----------------------
if [ $# -gt 0 ]; then
	case $1 in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
	SIZES="$*"
fi
SIZES=${SIZES:-2 16 32 48 64}
VARIANTS=${VARIANTS-64g-highpte-up-nopreempt-pgcl1 64g-highpte-up-nopreempt-pgcl4}
LINUX=${LINUX:-1}
LINUX_KASLR=${LINUX_KASLR:-off}
BUILD=${BUILD:-1}
ACCEL=${ACCEL:-tcg}
OUT=${OUT:-build/compare}
TIMEOUT=${TIMEOUT:-}

sizes=()
for s in $SIZES; do
	t=${s%GiB}; t=${t%G}
	[[ $t =~ ^[0-9]+$ ]] || die "unknown size '$s': give whole GiB, e.g. SIZES=\"2 16 64\""
	t=$((10#$t))
	(( t >= 1 && t <= 64 )) || die "size '$s' out of range: 1..64 GiB (PAE addresses 64 GiB)"
	sizes+=("$t")
done
[ ${#sizes[@]} -gt 0 ] || die "no sizes given"
mapfile -t sizes < <(printf '%s\n' "${sizes[@]}" | sort -n -u)

case $LINUX in 0|1) ;; *) die "LINUX must be 0 or 1, not '$LINUX'" ;; esac
case $BUILD in 0|1) ;; *) die "BUILD must be 0 or 1, not '$BUILD'" ;; esac
case $LINUX_KASLR in on|off) ;; *) die "LINUX_KASLR must be on or off, not '$LINUX_KASLR'" ;; esac
case $ACCEL in
tcg) ;;
kvm) [ -w /dev/kvm ] || die "ACCEL=kvm but /dev/kvm is missing or not writable; use ACCEL=tcg" ;;
*) die "ACCEL must be tcg or kvm, not '$ACCEL'" ;;
esac
if [ -n "$TIMEOUT" ]; then
	[[ $TIMEOUT =~ ^[0-9]+$ ]] && (( TIMEOUT > 0 )) || die "TIMEOUT must be a positive number of seconds, not '$TIMEOUT'"
fi
for v in $VARIANTS; do
	tools/genconfig.sh "$v" 1 >/dev/null 2>&1 || die "unknown ia32mm variant '$v' (see 'make list-variants')"
done
[ "$LINUX" = 1 ] || [ -n "$VARIANTS" ] || die "nothing to boot: LINUX=0 and no VARIANTS"

# Downloads, unpacked packages and the initramfs live in CACHE whatever OUT is.
CACHE=build/compare
mkdir -p "$CACHE" "$OUT/logs" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
case $OUT in "$ROOT"/*) OUT=${OUT#"$ROOT"/} ;; esac
exec 9>"$CACHE/.lock"
flock -n 9 || die "another compare-linux.sh is running (lock $CACHE/.lock)"

# ---- host packages ------------------------------------------------------------
APT_UPDATED=0
apt_update_once() {
	[ $APT_UPDATED = 1 ] && return 0
	APT_UPDATED=1
	say "apt-get update (log: $OUT/logs/apt.log)"
	# A mirror being synced can fail one index and still leave the rest usable.
	apt-get update >>"$OUT/logs/apt.log" 2>&1 || say "warning: apt-get update reported errors (see $OUT/logs/apt.log); going on"
}
need_root() {
	[ "$(id -u)" = 0 ] || die "$1 needs root (apt-get); install it yourself or rerun as root"
}

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
if [ "$LINUX" = 1 ]; then
	command -v cpio >/dev/null || missing+=(cpio)
	command -v gzip >/dev/null || missing+=(gzip)
fi
if [ ${#missing[@]} -gt 0 ]; then
	need_root "installing ${missing[*]}"
	apt_update_once
	say "apt-get install ${missing[*]}"
	apt-get install -y --no-install-recommends "${missing[@]}" >>"$OUT/logs/apt.log" 2>&1 ||
		die "apt-get install ${missing[*]} failed (see $OUT/logs/apt.log)"
fi

# ---- Linux: kernel package, busybox, initramfs ---------------------------------
# apt-get download PKG into DIR, as root without apt's _apt sandbox user (which
# cannot write into build/).
apt_download() {
	local dir=$1 pkg=$2
	(cd "$dir" && apt-get -o APT::Sandbox::User=root download "$pkg") >>"$OUT/logs/apt.log" 2>&1
}
ensure_i386() {
	if ! dpkg --print-foreign-architectures | grep -qx i386; then
		need_root "adding the i386 architecture"
		say "dpkg --add-architecture i386"
		dpkg --add-architecture i386
		APT_UPDATED=0
	fi
}
# Newest first: the linux-image-6.1.0-N-686-pae-unsigned names apt knows.
linux_candidates() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-686-pae-unsigned$' 2>/dev/null |
		awk '{print $1}' | sort -V -r -u
}
# Unpacks DEB into DIR once (DIR/.unpacked marks a complete unpack).
unpack_once() {
	local deb=$1 dir=$2
	[ -f "$dir/.unpacked" ] && return 0
	rm -rf "$dir"; mkdir -p "$dir"
	dpkg -x "$deb" "$dir" || die "dpkg -x $deb failed"
	touch "$dir/.unpacked"
}

LINUX_KERNEL= LINUX_CONFIG= LINUX_DESC= INITRD=
if [ "$LINUX" = 1 ]; then
	DEBS=$CACHE/debs
	mkdir -p "$DEBS"
	pattern="linux-image-6.1.0-*-686-pae-unsigned_*_i386.deb"
	[ -n "${LINUX_PKG:-}" ] && pattern="${LINUX_PKG%:i386}_*_i386.deb"
	# shellcheck disable=SC2086 # the pattern is meant to glob
	kdeb=$(cd "$DEBS" && ls -1 $pattern 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -z "$kdeb" ]; then
		need_root "downloading the Linux package"
		ensure_i386
		if [ -n "${LINUX_PKG:-}" ]; then
			cands=("${LINUX_PKG%:i386}")
		else
			mapfile -t cands < <(linux_candidates)
			if [ ${#cands[@]} = 0 ]; then apt_update_once; mapfile -t cands < <(linux_candidates); fi
		fi
		[ ${#cands[@]} -gt 0 ] || die "apt knows no linux-image-6.1.0-N-686-pae-unsigned package (see $OUT/logs/apt.log)"
		for p in "${cands[@]}"; do
			say "apt-get download $p:i386"
			if apt_download "$DEBS" "$p:i386"; then break; fi
			apt_update_once
			apt_download "$DEBS" "$p:i386" && break
			say "warning: $p:i386 cannot be downloaded; trying the next one"
		done
		kdeb=$(cd "$DEBS" && ls -1 $pattern 2>/dev/null | sort -V | tail -n 1 || true)
		[ -n "$kdeb" ] || die "no Linux 6.1 686-pae package could be downloaded (see $OUT/logs/apt.log)"
	fi
	bdeb=$(cd "$DEBS" && ls -1 busybox-static_*_i386.deb 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -z "$bdeb" ]; then
		need_root "downloading busybox-static:i386"
		ensure_i386
		say "apt-get download busybox-static:i386"
		apt_download "$DEBS" busybox-static:i386 || { apt_update_once; apt_download "$DEBS" busybox-static:i386; } ||
			die "apt-get download busybox-static:i386 failed (see $OUT/logs/apt.log)"
		bdeb=$(cd "$DEBS" && ls -1 busybox-static_*_i386.deb | sort -V | tail -n 1)
	fi

	kdir=$CACHE/linux/${kdeb%.deb}
	bdir=$CACHE/busybox/${bdeb%.deb}
	unpack_once "$DEBS/$kdeb" "$kdir"
	unpack_once "$DEBS/$bdeb" "$bdir"
	LINUX_KERNEL=$(ls -1 "$kdir"/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
	LINUX_CONFIG=$(ls -1 "$kdir"/boot/config-* 2>/dev/null | head -n 1 || true)
	[ -n "$LINUX_KERNEL" ] && [ -n "$LINUX_CONFIG" ] || die "no boot/vmlinuz-* or boot/config-* in $kdeb"
	[ -x "$bdir/bin/busybox" ] || die "no bin/busybox in $bdeb"
	for opt in CONFIG_X86_PAE=y CONFIG_HIGHMEM64G=y CONFIG_HIGHPTE=y; do
		grep -qx "$opt" "$LINUX_CONFIG" || say "warning: $LINUX_CONFIG lacks $opt"
	done
	LINUX_DESC="$(dpkg-deb -f "$DEBS/$kdeb" Package) $(dpkg-deb -f "$DEBS/$kdeb" Version)"
	say "Linux: $LINUX_DESC ($LINUX_KERNEL)"
	say "busybox: $(dpkg-deb -f "$DEBS/$bdeb" Package) $(dpkg-deb -f "$DEBS/$bdeb" Version)"

	# The initramfs is rebuilt every run (well under a second).
	stage=$CACHE/initramfs
	rm -rf "$stage"; mkdir -p "$stage/bin" "$stage/dev" "$stage/proc"
	cp "$bdir/bin/busybox" "$stage/bin/busybox"
	cp tools/compare-linux/init "$stage/init"
	chmod 755 "$stage/init" "$stage/bin/busybox"
	INITRD=$CACHE/initramfs.cpio.gz
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
fi
setup_time=$(( $(date +%s) - start_time ))

# ---- boots, tables, plot ------------------------------------------------------
args=(--out "$OUT" --sizes "${sizes[*]}" --variants "$VARIANTS" --accel "$ACCEL"
      --kaslr "$LINUX_KASLR" --build "$BUILD")
[ -n "$TIMEOUT" ] && args+=(--timeout "$TIMEOUT")
[ "$LINUX" = 1 ] && args+=(--linux-kernel "$LINUX_KERNEL" --linux-initrd "$INITRD" --linux-desc "$LINUX_DESC")
rc=0
/usr/bin/python3 -B tools/compare-linux/compare.py "${args[@]}" || rc=$?
total=$(( $(date +%s) - start_time ))
say "time: ${total} s in all (${setup_time} s packages and initramfs, the rest builds and boots)"
exit $rc
