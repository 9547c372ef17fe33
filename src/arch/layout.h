/*
 * The kernel's virtual address space (3 GiB / 1 GiB split).
 *
 *   0x00000000 +---------------------------+
 *              | user space (3 GiB)        |
 *   0xC0000000 +---------------------------+ KERNEL_BASE = PAGE_OFFSET
 *              | direct map of lowmem      |  physical 0 .. LOWMEM_MAX
 *              |  0xC0100000 kernel image  |  (physical 1 MiB)
 *   0xF8000000 +---------------------------+ KERNEL_BASE + LOWMEM_MAX (896 MiB)
 *              | 8 MiB gap                 |  catches overruns of the direct map
 *   0xF8800000 +---------------------------+ VMALLOC_START
 *              | vmalloc area              |  page tables preallocated at boot
 *              +---------------------------+ VMALLOC_END (2 guard pages below PKMAP)
 *              | pkmap: one page table     |  PKMAP_BASE: kmap(), 1024 entries
 *              |  (4 MiB; PAE: 2 MiB)      |  (PAE: 512)
 *              +---------------------------+ FIXADDR_START (PMD-aligned region)
 *              | fixmap                    |  kmap_atomic slots per CPU and type,
 *              |                           |  local APIC, I/O APIC
 *   0xFFFFF000 +---------------------------+ FIXADDR_TOP (the last page: a hole)
 *
 * Lowmem is the physical memory the direct map covers: everything below
 * LOWMEM_MAX (896 MiB).  Memory above it is HighMem and is reached only
 * through kmap / kmap_atomic.  layout.inc holds KERNEL_BASE for assembly.
 */
#ifndef ARCH_LAYOUT_H
#define ARCH_LAYOUT_H
#include "lib/types.h"

#define KERNEL_BASE 0xC0000000u
#define PAGE_OFFSET KERNEL_BASE
#define LOWMEM_MAX 0x38000000u /* 896 MiB of directly mapped physical memory */
#define VMALLOC_OFFSET 0x00800000u
#define VMALLOC_START (KERNEL_BASE + LOWMEM_MAX + VMALLOC_OFFSET)

#define BOOT_STACK_SIZE 16384
#define BOOT_CMDLINE_MAX 1024
#define BOOT_MMAP_MAX 4096
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
/* The boot page tables map physical 0..16 MiB at KERNEL_BASE (and at 0). */
#define EARLY_MAP_END 0x01000000u

#define phys_to_virt(pa) ((void *)((uintptr_t)(pa) + KERNEL_BASE))
#define virt_to_phys(va) ((uintptr_t)(va) - KERNEL_BASE)

extern char __kernel_phys_start[], __kernel_phys_end[], __kernel_end[];
extern char __text_start[], __text_end[], __bss_start[], __bss_end[];
extern char __rodata_start[], __rodata_end[];
extern char boot_stack[], boot_stack_top[];

#endif
