/*
 * The kernel's virtual layout as far as the boot code fixes it; the full
 * diagram (direct map, vmalloc, pkmap, fixmap) comes with the page-table code.
 *
 *   0x00000000 - 0xBFFFFFFF   user space (3 GiB)
 *   0xC0000000 - ...          direct map of low physical memory
 *   0xC0100000                kernel image (physical 1 MiB)
 *
 * layout.inc holds the same constants for the assembly files.
 */
#ifndef ARCH_LAYOUT_H
#define ARCH_LAYOUT_H
#include "lib/types.h"

#define KERNEL_BASE 0xC0000000u
#define BOOT_STACK_SIZE 16384
#define BOOT_CMDLINE_MAX 1024
#define BOOT_MMAP_MAX 4096
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
/* The boot page tables map physical 0..16 MiB at KERNEL_BASE. */
#define EARLY_MAP_END 0x01000000u

#define phys_to_virt(pa) ((void *)((uintptr_t)(pa) + KERNEL_BASE))
#define virt_to_phys(va) ((uintptr_t)(va) - KERNEL_BASE)

extern char __kernel_phys_start[], __kernel_phys_end[], __kernel_end[];
extern char __text_start[], __text_end[], __bss_start[], __bss_end[];
extern char boot_stack[], boot_stack_top[];

#endif
