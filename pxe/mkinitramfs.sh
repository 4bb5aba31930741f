#!/bin/bash
# pxe/mkinitramfs.sh: the kernel and initramfs half of `fleetcast pxe build` (cli/cmd_pxe.c
# writes the boot loader and its menu, then runs this). Owns what goes into the initramfs:
#   /init, /etc/udhcpc.script     from this directory (pxe/init, pxe/udhcpc.script)
#   /bin/busybox + applet links   busybox-static: sh, udhcpc, ip, modprobe, poweroff ...
#   /bin/fleetcast-recv           with the shared libraries ldd names and the ELF loader
#   /lib/modules/VERSION          the kernel's NIC and disk drivers with their dependencies:
#                                 every module of MODULE_DIRS (all Ethernet and USB network
#                                 drivers, NVMe, MMC/SD, virtio, Hyper-V, USB host
#                                 controllers) and of MODULES (AHCI, Intel VMD, ...);
#                                 modules.dep/.alias made by depmod for exactly that set, so
#                                 pxe/init loads them by modalias (real lab hardware and VMs)
#   /lib/firmware                 the firmware files those modules name (modinfo -F firmware)
#                                 that this host has (Debian main: firmware-linux-free), and
#                                 the --firmware DIR tree (a site's own, non-free firmware)
#   /sbin/e2fsck, /sbin/resize2fs, /sbin/ntfsresize, /sbin/ntfsfix with their libraries:
#                                 the --grow step (common/grow.c: ext2/3/4 and NTFS)
#   /etc/fleetcast/trusted.pub    the --key public key, if given
# and copies the kernel next to it as OUTDIR/vmlinuz. Compressed with zstd when the kernel's
# config says it can unpack it (CONFIG_RD_ZSTD), else gzip. Lists the contents at the end.
#
# usage: mkinitramfs.sh --out DIR --recv PATH [--kernel VMLINUZ] [--key PUB] [--firmware DIR]
# Needs: busybox (static), cpio, kmod (depmod, modprobe -S, modinfo), ldd, e2fsprogs,
# ntfs-3g, zstd or gzip.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Drivers for the NICs and disk controllers of lab PCs, laptops on docks, servers and VMs.
# Whole directories of the kernel's module tree (a NIC nobody listed still works: issue 11),
# then single modules; their dependencies come from modules.dep. A name this kernel lacks is
# skipped with a note (kernels differ in what they build as modules).
MODULE_DIRS=(drivers/net/ethernet drivers/net/usb drivers/net/hyperv drivers/nvme drivers/mmc
    drivers/virtio drivers/hv drivers/usb/host)
MODULES=(virtio_net vmxnet3 ahci ata_piix ata_generic pata_acpi sd_mod virtio_blk virtio_scsi
    vmw_pvscsi megaraid_sas hv_storvsc vmd loop)

die() {
    echo "mkinitramfs: error: $*" >&2
    exit 1
}
note() { echo "mkinitramfs: $*" >&2; }

usage() {
    echo "usage: mkinitramfs.sh --out DIR --recv PATH [--kernel VMLINUZ] [--key PUB] [--firmware DIR]" >&2
    exit 2
}

OUT='' RECV='' KERNEL='' KEY='' FIRMWARE=''
while (($#)); do
    case $1 in
    --out) OUT=${2:?}; shift 2 ;;
    --recv) RECV=${2:?}; shift 2 ;;
    --kernel) KERNEL=${2:?}; shift 2 ;;
    --key) KEY=${2:?}; shift 2 ;;
    --firmware) FIRMWARE=${2:?}; shift 2 ;;
    *) usage ;;
    esac
done
[[ -n $OUT && -n $RECV ]] || usage

# kernel_version VMLINUZ: the release string a bzImage carries (the x86 boot protocol: the
# 16-bit word at 0x20e points, relative to 0x200, at "VERSION (builder) #...").
kernel_version() {
    local off
    off=$(od -An -tu2 -j 526 -N 2 "$1" | tr -d ' ')
    [[ $off =~ ^[0-9]+$ ]] && ((off > 0)) || return 1
    dd if="$1" bs=1 skip=$((off + 512)) count=128 status=none | tr '\0' '\n' | head -n 1 |
        cut -d' ' -f1
}

# pick_kernel: the newest /boot/vmlinuz-* that has its modules installed. Not the running
# kernel: a build host often runs a custom one without a modules tree.
pick_kernel() {
    local k best=''
    for k in /boot/vmlinuz-*; do
        [[ -f $k && -d /lib/modules/${k#/boot/vmlinuz-}/kernel ]] && best=$k
    done
    [[ -n $best ]] || die "no /boot/vmlinuz-* with modules in /lib/modules: install" \
        "linux-image-amd64 or pass --kernel"
    echo "$best"
}

check_tools() {
    local t
    for t in cpio depmod modprobe modinfo ldd busybox e2fsck resize2fs ntfsresize ntfsfix; do
        command -v "$t" >/dev/null ||
            die "missing $t (packages: cpio kmod busybox-static e2fsprogs ntfs-3g)"
    done
    BUSYBOX=$(command -v busybox)
    # A dynamic busybox would need its libraries too; Debian's busybox-static is static.
    if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is not static: install busybox-static"; fi
}

# copy_with_libs FILE DEST: FILE into the root at DEST, and every library ldd names for it
# (at the same path, so the loader finds them without a cache).
copy_with_libs() {
    local lib
    install -D -m 0755 "$1" "$ROOT$2"
    ldd "$1" >"$WORK/ldd.txt" 2>&1 || die "ldd $1: $(cat "$WORK/ldd.txt")"
    grep -q 'not found' "$WORK/ldd.txt" && die "$1 needs a library that is missing: $(cat "$WORK/ldd.txt")"
    # shellcheck disable=SC2013 # paths without spaces, one or two per line
    for lib in $(grep -Eo '(^|[[:space:]])/[^ ]+' "$WORK/ldd.txt"); do
        [[ -e $ROOT$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$ROOT$lib"
    done
}

add_busybox() {
    local applet
    install -D -m 0755 "$BUSYBOX" "$ROOT/bin/busybox"
    # --list-full gives each applet's usual place (bin/sh, sbin/modprobe, usr/bin/...).
    for applet in $("$BUSYBOX" --list-full); do
        [[ $applet == bin/busybox ]] && continue
        mkdir -p "$ROOT/$(dirname "$applet")"
        ln -sf /bin/busybox "$ROOT/$applet"
    done
}

# module_names VERSION: MODULE_DIRS' modules by name, then MODULES, one a line.
module_names() {
    local src=/lib/modules/$1/kernel d
    for d in "${MODULE_DIRS[@]}"; do
        if [[ -d $src/$d ]]; then
            find "$src/$d" -name '*.ko*' -printf '%f\n' | sed 's/\.ko.*$//'
        else
            note "kernel $1 has no $d: skipped"
        fi
    done | sort
    printf '%s\n' "${MODULES[@]}"
}

# add_firmware KO...: the firmware files the modules name that this host has (a name is a
# path under /lib/firmware, maybe compressed there), then the --firmware tree.
add_firmware() {
    local fw f
    while read -r fw; do
        for f in "/lib/firmware/$fw" "/lib/firmware/$fw".{zst,xz}; do
            [[ -e $f && ! -e $ROOT$f ]] || continue
            install -D -m 0644 "$(readlink -f "$f")" "$ROOT$f"
        done
    done < <(modinfo -F firmware "$@" 2>/dev/null | sort -u)
    mkdir -p "$ROOT/lib/firmware"
    if [[ -n $FIRMWARE ]]; then
        cp -rL --no-preserve=ownership "$FIRMWARE/." "$ROOT/lib/firmware/" ||
            die "cannot copy the firmware tree $FIRMWARE"
    fi
    FIRMWARE_COUNT=$(find "$ROOT/lib/firmware" -type f | wc -l)
}

# add_modules VERSION: the driver list and dependencies, their firmware, then depmod for
# this subset.
add_modules() {
    local ver=$1 src=/lib/modules/$1 m line ko n=0
    local -a kos=()
    [[ -d $src/kernel ]] || die "no modules for kernel $ver in $src (install its package)"
    : >"$WORK/kos"
    while read -r m; do
        if ! modprobe -S "$ver" --show-depends "$m" >"$WORK/dep.txt" 2>/dev/null; then
            note "kernel $ver has no module $m: skipped"
            continue
        fi
        while read -r line; do
            case $line in
            insmod\ *) ko=${line#insmod }; echo "${ko%% *}" >>"$WORK/kos" ;;
            esac # "builtin X": nothing to carry
        done <"$WORK/dep.txt"
    done < <(module_names "$ver")
    while read -r ko; do
        install -D -m 0644 "$ko" "$ROOT$ko"
        kos+=("$ko")
        n=$((n + 1))
    done < <(sort -u "$WORK/kos")
    add_firmware "${kos[@]}"
    for m in modules.order modules.builtin modules.builtin.modinfo; do
        [[ -f $src/$m ]] && cp "$src/$m" "$ROOT$src/"
    done
    depmod -b "$ROOT" "$ver" || die "depmod failed for the initramfs modules"
    MODULE_COUNT=$n
}

add_fleetcast() {
    copy_with_libs "$RECV" /bin/fleetcast-recv
    copy_with_libs "$(command -v e2fsck)" /sbin/e2fsck
    copy_with_libs "$(command -v resize2fs)" /sbin/resize2fs
    copy_with_libs "$(command -v ntfsresize)" /sbin/ntfsresize
    copy_with_libs "$(command -v ntfsfix)" /sbin/ntfsfix
    install -m 0755 "$HERE/init" "$ROOT/init"
    install -D -m 0755 "$HERE/udhcpc.script" "$ROOT/etc/udhcpc.script"
    if [[ -n $KEY ]]; then install -D -m 0644 "$KEY" "$ROOT/etc/fleetcast/trusted.pub"; fi
    mkdir -p "$ROOT"/{proc,sys,dev,tmp,run,mnt}
    # The kernel opens /dev/console before /init runs; without the node /init starts with no
    # stdio (pxe/init then opens it from devtmpfs itself). mknod needs root: best effort.
    mknod -m 0600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
}

# compressor VERSION: zstd if this kernel unpacks it and the tool is here, else gzip.
compressor() {
    local cfg=/boot/config-$1
    if command -v zstd >/dev/null && [[ -f $cfg ]] && grep -q '^CONFIG_RD_ZSTD=y' "$cfg"; then
        echo zstd
    else
        echo gzip
    fi
}

pack() {
    local comp=$1 img=$OUT/initramfs.img
    (cd "$ROOT" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --quiet) >"$WORK/root.cpio"
    case $comp in
    # -19 by default (a few hundred KiB less to send to every machine); tests that only
    # look at the tree set FC_INITRAMFS_ZSTD_LEVEL=3, which is much faster.
    zstd) zstd -q "-${FC_INITRAMFS_ZSTD_LEVEL:-19}" -T0 -f "$WORK/root.cpio" -o "$img.tmp" ;;
    gzip) gzip -9 -n -c "$WORK/root.cpio" >"$img.tmp" ;;
    esac
    mv -f "$img.tmp" "$img"
}

# list: what is in the initramfs, busybox's applet links summarized, and the sizes.
list() {
    local comp=$1 raw packed links
    links=$(find "$ROOT" -type l -lname /bin/busybox | wc -l)
    echo "initramfs contents (${OUT%/}/initramfs.img):"
    (cd "$ROOT" && find . -mindepth 1 \( -type f -o -type l \) ! -lname /bin/busybox -printf '%s %p\n' |
        sort -k2 | awk '{ printf "  %10d  %s\n", $1, substr($2, 2) }')
    echo "  (and $links busybox applet links: sh, ip, udhcpc, modprobe, poweroff, ...)"
    raw=$(stat -c %s "$WORK/root.cpio")
    packed=$(stat -c %s "$OUT/initramfs.img")
    awk -v n="$MODULE_COUNT" -v f="$FIRMWARE_COUNT" -v r="$raw" -v p="$packed" -v c="$comp" 'BEGIN {
        printf "initramfs: %d kernel modules, %d firmware files, %.1f MiB unpacked, %.1f MiB as %s\n", n, f, r / 1048576, p / 1048576, c }'
}

main() {
    local ver comp
    check_tools
    [[ -x $RECV ]] || die "fleetcast-recv not found at $RECV (build it, or pass --recv)"
    [[ -n $KERNEL ]] || KERNEL=$(pick_kernel)
    [[ -f $KERNEL ]] || die "no kernel at $KERNEL"
    ver=$(kernel_version "$KERNEL") || die "$KERNEL is not a bzImage kernel"
    [[ -n $ver ]] || die "cannot read the release of $KERNEL"
    [[ -z $KEY || -f $KEY ]] || die "no key file $KEY"
    [[ -z $FIRMWARE || -d $FIRMWARE ]] || die "no firmware directory $FIRMWARE"
    mkdir -p "$OUT"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/fc-mkinitramfs.XXXXXX")
    trap 'rm -rf -- "$WORK"' EXIT
    ROOT=$WORK/root
    mkdir -p "$ROOT"
    note "kernel $KERNEL, release $ver"
    add_busybox
    add_fleetcast
    add_modules "$ver"
    comp=$(compressor "$ver")
    pack "$comp"
    install -m 0644 "$KERNEL" "$OUT/vmlinuz"
    list "$comp"
}

main
