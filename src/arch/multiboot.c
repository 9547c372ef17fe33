/*
 * The Multiboot v1 memory information, as boot.asm copied it (Multiboot spec
 * 0.6.96, section 3.3, "Boot information format").
 *
 * Two sources, by the information structure's flags:
 *   bit 6: mmap_addr/mmap_length, a buffer of variable-size entries
 *            +0  u32 size   bytes of this entry after the size field (>= 20)
 *            +4  u64 base_addr
 *            +12 u64 length
 *            +20 u32 type   1 = available RAM, anything else reserved
 *          the next entry starts size + 4 bytes after this one;
 *   bit 0: mem_lower/mem_upper, KiB of RAM from 0 and from 1 MiB.
 * boot.asm copied at most BOOT_MMAP_MAX bytes of the buffer; boot_mmap_len
 * keeps the length the loader gave, so a longer map can be reported.
 */
#include "arch/multiboot.h"
#include "arch/layout.h"
#include "kernel/printk.h"
#include "lib/string.h"

/* Multiboot 0.6.96 3.3: flags bit 0 = mem_lower/mem_upper valid, bit 6 = mmap valid. */
#define MBI_FLAG_MEM (1u << 0)
#define MBI_FLAG_MMAP (1u << 6)

/* Multiboot 0.6.96 3.3: one mmap entry; `size` does not count itself. */
struct mb_mmap_entry {
	u32 size;
	u64 base_addr;
	u64 length;
	u32 type;
} __packed;

/* Multiboot 0.6.96 3.3: size "can be greater than the minimum of 20 bytes". */
#define MB_MMAP_MIN_SIZE 20u
_Static_assert(sizeof(struct mb_mmap_entry) == 4 + MB_MMAP_MIN_SIZE, "mmap entry layout");

/*
 * Decodes the entries of buf[0..len) into out[0..max).  An entry must lie
 * wholly inside the buffer and declare a size of at least 20 bytes; the first
 * one that does not (a map cut short, or garbage) stops the walk and is
 * counted in *bad.  Returns the number of regions written.
 */
int multiboot_parse_mmap(const u8 *buf, u32 len, struct mem_region *out, int max, int *bad)
{
	struct mb_mmap_entry e;
	u32 off = 0;
	int n = 0, bad_local = 0;

	if (!bad)
		bad = &bad_local;
	*bad = 0;
	while (off < len && n < max) {
		u32 left = len - off;

		if (left < 4) {
			(*bad)++;
			break;
		}
		memcpy(&e.size, buf + off, 4);
		if (e.size < MB_MMAP_MIN_SIZE || e.size > left - 4) {
			(*bad)++;
			break;
		}
		memcpy(&e, buf + off, sizeof(e));
		out[n].base = e.base_addr;
		out[n].len = e.length;
		out[n].type = e.type;
		n++;
		off += e.size + 4;
	}
	return n;
}

/* Returns the number of regions built from mem_lower (at 0) and mem_upper (at 1 MiB). */
static int memmap_from_mem_fields(struct mem_region *out, int max)
{
	int n = 0;

	/* Multiboot 0.6.96 3.3: lower memory starts at 0, upper memory at 1 MiB, sizes in KiB. */
	if (boot_mbi.mem_lower && n < max)
		out[n++] = (struct mem_region){ 0, KIB(boot_mbi.mem_lower), MEM_USABLE };
	if (boot_mbi.mem_upper && n < max)
		out[n++] = (struct mem_region){ MIB(1), KIB(boot_mbi.mem_upper), MEM_USABLE };
	return n;
}

/* Returns the number of regions decoded from the copied mmap, warning about damage. */
static int memmap_from_mmap(struct mem_region *out, int max)
{
	u32 len = boot_mmap_len;
	int n, bad;

	if (len > BOOT_MMAP_MAX) {
		pr_warn("multiboot: memory map of %u bytes truncated to its first %u bytes\n",
			len, (u32)BOOT_MMAP_MAX);
		len = BOOT_MMAP_MAX;
	}
	n = multiboot_parse_mmap(boot_mmap, len, out, max, &bad);
	if (bad)
		pr_warn("multiboot: memory map cut short or malformed after %d entries\n", n);
	if (n == max)
		pr_warn("multiboot: memory map filled all %d slots; later entries, if any, "
			"are ignored\n", max);
	return n;
}

/*
 * Fills out with this boot's firmware memory map: the mmap when the loader
 * gave one (flags bit 6), else mem_lower/mem_upper (flags bit 0).  Returns
 * the number of regions, 0 when the loader gave neither.
 */
int multiboot_memmap(struct mem_region *out, int max)
{
	int n = 0;

	if (boot_magic != MULTIBOOT_BOOTED || max <= 0)
		return 0;
	if (boot_mbi.flags & MBI_FLAG_MMAP) {
		n = memmap_from_mmap(out, max);
		if (n)
			return n;
		pr_warn("multiboot: the memory map holds no entries\n");
	}
	if (boot_mbi.flags & MBI_FLAG_MEM) {
		pr_warn("multiboot: no usable memory map; using mem_lower=%u KiB and "
			"mem_upper=%u KiB\n", boot_mbi.mem_lower, boot_mbi.mem_upper);
		return memmap_from_mem_fields(out, max);
	}
	return 0;
}
