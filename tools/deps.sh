#!/bin/bash
# deps.sh: make sure the Debian packages ia32mm needs are installed.
#
# Quiet and fast (one dpkg-query) when everything is there.  Otherwise, as
# root, installs the missing ones with apt-get (non-interactive); as anyone
# else, prints the apt-get command to run and exits 1.
set -euo pipefail

packages=(
    bochs bochsbios vgabios            # the reference emulator and its BIOSes
    bochs-term                         # satisfies bochs' GUI dependency without GTK (we use rfb)
    qemu-system-x86                    # the fast emulator
    nasm gcc-multilib                  # the kernel's toolchain (gcc -m32)
    syslinux syslinux-common syslinux-utils mtools dosfstools   # disk images
    python3-pexpect                    # ci/harness.py drives Bochs' debugger
)

# Packages dpkg reports as fully installed ("install ok installed").
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null \
            | awk '$4 == "installed" { print $1 }' || true)

missing=()
for p in "${packages[@]}"; do
    grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: as root, run: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || echo "deps: apt-get update had errors; installing anyway" >&2
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: installed ${missing[*]}" >&2
