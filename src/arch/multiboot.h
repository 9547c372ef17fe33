/* What the Multiboot v1 loader handed over, as copied by boot.asm. */
#ifndef ARCH_MULTIBOOT_H
#define ARCH_MULTIBOOT_H
#include "lib/types.h"
#include "mm/memmap.h"

#define MULTIBOOT_BOOTED 0x2BADB002u

/* The first 52 bytes of the information structure (Multiboot 0.6.96, 3.3). */
struct multiboot_info {
	u32 flags;
	u32 mem_lower, mem_upper; /* KiB below 1 MiB and above 1 MiB (flags bit 0) */
	u32 boot_device;
	u32 cmdline;              /* flags bit 2 */
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr; /* flags bit 6 */
} __packed;

extern u32 boot_magic;
extern struct multiboot_info boot_mbi;
extern char boot_cmdline[];
extern u32 boot_cmdline_truncated;
extern u8 boot_mmap[];
extern u32 boot_mmap_len; /* as the loader gave it; at most BOOT_MMAP_MAX was copied */

/*
 * Decodes a Multiboot memory map buffer (entries of {u32 size; u64 base;
 * u64 len; u32 type}, each followed by size + 4 bytes to the next) into at
 * most max regions.  Stops at a truncated or malformed entry and counts it
 * in *bad.  Returns the number of regions.
 */
int multiboot_parse_mmap(const u8 *buf, u32 len, struct mem_region *out, int max, int *bad);
/*
 * The firmware memory map of this boot: from the mmap when given, else from
 * mem_lower/mem_upper.  Returns the number of regions; warns on truncation.
 */
int multiboot_memmap(struct mem_region *out, int max);

#endif
