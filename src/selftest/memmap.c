/*
 * Suite memmap: memmap_clean on synthetic firmware maps, with every number
 * of the result and the report worked out by hand in the comments; the
 * Multiboot mmap decoder on hand-built buffers; and this boot's own map.
 *
 * Unless a test says otherwise the limits are those of a PAE pgcl4 kernel:
 * RAM cut at 64 GiB, 16 KiB clusters, at least 16 MiB.
 */
#include "arch/multiboot.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "mm/memmap.h"
#include "selftest/ktest.h"

#define U MEM_USABLE
#define R MEM_RESERVED

static struct memmap mm;
static struct memmap_report rep;
static char err[160];
static struct memmap_limits lim;

/* Returns memmap_clean's verdict on in[0..n) with the given limits (result in mm, rep, err). */
static bool clean(const struct mem_region *in, int n, u64 max_addr, u32 align, u64 min_ram)
{
	lim = (struct memmap_limits){ max_addr, align, min_ram };
	memset(&mm, 0xa5, sizeof(mm));
	return memmap_clean(in, n, &mm, &lim, &rep, err, sizeof(err));
}

/* Cleans with the default limits; the test fails (with the message) unless that succeeds. */
#define CLEAN_OK(in, n)                                                           \
	do {                                                                      \
		if (!clean(in, n, GIB(64), KIB(16), MIB(16))) {                    \
			ktest_fail(__FILE__, __LINE__, "map refused: %s", err);    \
			return;                                                   \
		}                                                                 \
		KT_ASSERT_STREQ(err, "");                                         \
	} while (0)

/* Region i of the result is usable [base, base + len). */
#define REGION_EQ(i, b, l)                                                        \
	do {                                                                      \
		KT_ASSERT_EQ(mm.r[i].base, b);                                    \
		KT_ASSERT_EQ(mm.r[i].len, l);                                     \
		KT_ASSERT_EQ(mm.r[i].type, MEM_USABLE);                           \
	} while (0)

/* The report's counts, all at once. */
#define REPORT_EQ(in, empty, ovl, mrg, trim, drop, usable)                         \
	do {                                                                      \
		KT_ASSERT_EQ(rep.entries_in, in);                                 \
		KT_ASSERT_EQ(rep.ignored_empty, empty);                           \
		KT_ASSERT_EQ(rep.overlaps, ovl);                                  \
		KT_ASSERT_EQ(rep.merged, mrg);                                    \
		KT_ASSERT_EQ(rep.trimmed_bytes, trim);                            \
		KT_ASSERT_EQ(rep.dropped_bytes, drop);                            \
		KT_ASSERT_EQ(rep.usable_bytes, usable);                           \
	} while (0)

/* What QEMU's firmware reports for -m 1024 (Bochs differs only in the small holes). */
static const struct mem_region qemu_1g[] = {
	{ 0x00000000, 0x0009fc00, U },
	{ 0x0009fc00, 0x00000400, R }, /* EBDA */
	{ 0x000f0000, 0x00010000, R }, /* BIOS */
	{ 0x00100000, 0x3fee0000, U },
	{ 0x3ffe0000, 0x00020000, R }, /* ACPI tables, as QEMU marks them */
	{ 0xfffc0000, 0x00040000, R }, /* BIOS flash below 4 GiB */
};

/* The QEMU map: low RAM loses its last partial cluster, nothing else changes. */
KTEST(memmap, qemu_like)
{
	CLEAN_OK(qemu_1g, 6);
	KT_ASSERT_EQ(mm.n, 2);
	REGION_EQ(0, 0, 0x9c000);             /* 0x9fc00 rounded down to 16 KiB */
	REGION_EQ(1, 0x100000, 0x3fee0000);
	REPORT_EQ(6, 0, 0, 0, 0x3c00, 0, 0x9c000 + 0x3fee0000);
	/* With 4 KiB clusters only the 3 KiB of 0x9f000..0x9fc00 are lost. */
	KT_ASSERT(clean(qemu_1g, 6, GIB(64), KIB(4), MIB(16)));
	KT_ASSERT_EQ(mm.n, 2);
	REGION_EQ(0, 0, 0x9f000);
	REPORT_EQ(6, 0, 0, 0, KIB(3), 0, 0x9f000 + 0x3fee0000);
}

/* Overlapping and touching usable entries become one range; a nested one too. */
KTEST(memmap, overlapping_usable_merged)
{
	static const struct mem_region in[] = {
		{ 0x00100000, 0x00700000, U }, /* 1..8 MiB */
		{ 0x00400000, 0x00c00000, U }, /* 4..16 MiB: overlaps the first */
		{ 0x01000000, 0x01000000, U }, /* 16..32 MiB: touches the second */
		{ 0x00000000, 0x00080000, U }, /* 0..512 KiB: apart */
		{ 0x01800000, 0x00100000, U }, /* 24..25 MiB: inside the third */
	};

	CLEAN_OK(in, 5);
	KT_ASSERT_EQ(mm.n, 2);
	REGION_EQ(0, 0, 0x80000);
	REGION_EQ(1, 0x100000, 0x1f00000);
	/* overlaps: (0,1) and (2,4); merged: 5 usable entries became 2 ranges */
	REPORT_EQ(5, 0, 2, 3, 0, 0, 0x1f80000);
}

/* Where usable and anything else overlap, the other type wins. */
KTEST(memmap, reserved_wins)
{
	static const struct mem_region in[] = {
		{ 0x00100000, 0x03f00000, U },       /* 1..64 MiB */
		{ 0x00080000, 0x00100000, R },       /* 512 KiB..1.5 MiB: eats the start */
		{ 0x02000000, 0x00100000, R },       /* 32..33 MiB: a hole */
		{ 0x03ff0000, 0x00010000, MEM_ACPI }, /* the last 64 KiB */
		{ 0x03000000, 0x00004000, 12 },      /* an unknown type is not RAM */
		{ 0x02040000, 0x00010000, U },       /* usable inside the hole: gone */
	};

	CLEAN_OK(in, 6);
	KT_ASSERT_EQ(mm.n, 3);
	REGION_EQ(0, 0x180000, 0x1e80000);
	REGION_EQ(1, 0x2100000, 0xf00000);
	REGION_EQ(2, 0x3004000, 0xfec000);
	/* overlaps: entry 0 with 1..5, and 2 with 5; merged: entry 5 lies inside entry 0 */
	REPORT_EQ(6, 0, 6, 1, 0, 0, 0x1e80000 + 0xf00000 + 0xfec000);
}

/* Unaligned ends shrink to whole 16 KiB clusters; the loss is counted to the byte. */
KTEST(memmap, unaligned_16k)
{
	static const struct mem_region in[] = {
		{ 0x00001234, 0x0009fc00 - 0x1234, U },    /* -> 0x4000..0x9c000 */
		{ 0x00100400, 0x02000123 - 0x100400, U },  /* -> 0x104000..0x2000000 */
		{ 0x03000100, 0x00003e00, U },             /* within one cluster: all lost */
		{ 0x04000000, 0x01000000, U },             /* 64..80 MiB, with a hole: */
		{ 0x04801000, 0x00001000, R },             /* -> ..0x4800000, 0x4804000.. */
	};
	u64 lost = (0x4000 - 0x1234) + (0x9fc00 - 0x9c000) +     /* 0x2dcc + 0x3c00 */
		   (0x104000 - 0x100400) + (0x2000123 - 0x2000000) + /* 0x3c00 + 0x123 */
		   0x3e00 + 0x1000 + 0x2000;                   /* = 0x114ef */

	CLEAN_OK(in, 5);
	KT_ASSERT_EQ(lost, 0x114ef);
	KT_ASSERT_EQ(mm.n, 4);
	REGION_EQ(0, 0x4000, 0x98000);
	REGION_EQ(1, 0x104000, 0x1efc000);
	REGION_EQ(2, 0x4000000, 0x800000);
	REGION_EQ(3, 0x4804000, 0x7fc000);
	REPORT_EQ(5, 0, 1, 0, 0x114ef, 0, 0x2f90000);
}

/* RAM at or above max_addr is dropped, to the byte, before trimming. */
KTEST(memmap, above_max_addr)
{
	static const struct mem_region in[] = {
		{ 0x00100000, 0x3ff00000, U },                  /* 1 MiB..1 GiB */
		{ GIB(63), GIB(1) + MIB(512), U },             /* straddles 64 GiB */
		{ GIB(100), GIB(1), U },                       /* wholly above */
		{ GIB(64) + MIB(512), MIB(256) + KIB(4), U },  /* touches the straddler */
		{ GIB(70), MIB(1), R },                        /* reserved: not RAM */
	};

	CLEAN_OK(in, 5);
	KT_ASSERT_EQ(mm.n, 2);
	REGION_EQ(0, 0x100000, 0x3ff00000);
	REGION_EQ(1, GIB(63), GIB(1));
	/* dropped: 512 MiB + 256 MiB + 4 KiB of the joined run, and 1 GiB at 100 GiB */
	REPORT_EQ(5, 0, 0, 1, 0, GIB(1) + MIB(768) + KIB(4), 0x3ff00000 + GIB(1));
	/* A 2-level kernel stops at 4 GiB: 1 GiB more is dropped. */
	KT_ASSERT(clean(in, 5, GIB(4), KIB(4), MIB(16)));
	KT_ASSERT_EQ(mm.n, 1);
	REPORT_EQ(5, 0, 0, 1, 0, GIB(2) + MIB(768) + KIB(4), 0x3ff00000);
}

/* Less usable RAM than min_ram is refused with the amounts in the message. */
KTEST(memmap, tiny_map_refused)
{
	static const struct mem_region in[] = {
		{ 0x00000000, 0x0009fc00, U }, /* 624 KiB after trimming */
		{ 0x00100000, 0x00300000, U }, /* 3072 KiB */
	};

	KT_ASSERT(!clean(in, 2, GIB(64), KIB(16), MIB(16)));
	KT_ASSERT_STREQ(err, "only 3696 KiB of usable RAM; ia32mm needs at least 16 MiB");
	KT_ASSERT_EQ(rep.usable_bytes, KIB(3696));
	KT_ASSERT(clean(in, 2, GIB(64), KIB(16), MIB(3)));
	KT_ASSERT(!clean(in, 2, GIB(64), KIB(16), KIB(3697)));
	KT_ASSERT_STREQ(err, "only 3696 KiB of usable RAM; ia32mm needs at least 3697 KiB");
}

/* Maps with no usable RAM left: empty, reserved only, all above max_addr, all trimmed. */
KTEST(memmap, no_usable_ram)
{
	static const struct mem_region reserved[] = { { 0, 0xa0000, R }, { 0xf0000, 0x10000, R } };
	static const struct mem_region high[] = { { GIB(65), GIB(1), U } };
	static const struct mem_region small[] = { { 0x1000, 0x2000, U } };

	KT_ASSERT(!clean(NULL, 0, GIB(64), KIB(16), MIB(16)));
	KT_ASSERT_STREQ(err, "no usable RAM in the memory map");
	KT_ASSERT_EQ(mm.n, 0);
	REPORT_EQ(0, 0, 0, 0, 0, 0, 0);
	KT_ASSERT(!clean(reserved, 2, GIB(64), KIB(16), MIB(16)));
	KT_ASSERT_STREQ(err, "no usable RAM in the memory map");
	KT_ASSERT(!clean(high, 1, GIB(64), KIB(16), MIB(16)));
	KT_ASSERT_STREQ(err, "no usable RAM in the memory map");
	KT_ASSERT_EQ(rep.dropped_bytes, GIB(1));
	KT_ASSERT(!clean(small, 1, GIB(64), KIB(16), 0));
	KT_ASSERT_STREQ(err, "no usable RAM in the memory map");
	KT_ASSERT_EQ(rep.trimmed_bytes, 0x2000);
}

/* Zero-length entries are counted and ignored: a zero-length reserved one punches no hole. */
KTEST(memmap, zero_length_entries)
{
	static const struct mem_region in[] = {
		{ 0x00000000, 0x04000000, U },
		{ 0x00100000, 0, U },
		{ 0x00200000, 0, R },
		{ 0x08000000, 0, U },
	};

	CLEAN_OK(in, 4);
	KT_ASSERT_EQ(mm.n, 1);
	REGION_EQ(0, 0, 0x4000000);
	REPORT_EQ(4, 3, 0, 0, 0, 0, 0x4000000);
}

/* The order of the entries does not matter: the result is sorted either way. */
KTEST(memmap, unsorted)
{
	static const struct mem_region in[] = {
		{ 0x03000000, 0x01000000, U },
		{ 0xfffc0000, 0x00040000, R },
		{ 0x00100000, 0x00f00000, U },
		{ 0x01000000, 0x02000000, R },
		{ 0x00000000, 0x0009f000, U },
		{ 0x0009f000, 0x00001000, R },
	};
	static struct mem_region rev[6];
	static struct memmap first;
	int i;

	CLEAN_OK(in, 6);
	KT_ASSERT_EQ(mm.n, 3);
	REGION_EQ(0, 0, 0x9c000);
	REGION_EQ(1, 0x100000, 0xf00000);
	REGION_EQ(2, 0x3000000, 0x1000000);
	REPORT_EQ(6, 0, 0, 0, 0x3000, 0, 0x9c000 + 0xf00000 + 0x1000000);
	first = mm;
	for (i = 0; i < 6; i++)
		rev[i] = in[5 - i];
	CLEAN_OK(rev, 6);
	KT_ASSERT_EQ(mm.n, first.n);
	KT_ASSERT_EQ(memcmp(mm.r, first.r, sizeof(mm.r[0]) * mm.n), 0);
}

/* An entry whose base + len passes 2^64 is clipped to end at 2^64 - 1. */
KTEST(memmap, wrapping_entry)
{
	static const struct mem_region in[] = {
		{ 0x00100000, 0x3ff00000, U },
		{ GIB(63), ~0ULL - 5, U },                     /* ends "before" it starts */
		{ 0xffffffff00000000ULL, 0x200000000ULL, R },  /* wraps too */
		{ ~0ULL, 1, U },                               /* nothing left after clipping */
	};

	/* Alone, the wrapped entry is RAM from 63 GiB to 2^64 - 1. */
	CLEAN_OK(in, 2);
	KT_ASSERT_EQ(mm.n, 2);
	REGION_EQ(1, GIB(63), GIB(1));
	REPORT_EQ(2, 0, 0, 0, 0, ~0ULL - GIB(64), 0x3ff00000 + GIB(1));
	/* The reserved wrapped entry takes the top 4 GiB off the dropped part. */
	CLEAN_OK(in, 4);
	KT_ASSERT_EQ(mm.n, 2);
	REGION_EQ(0, 0x100000, 0x3ff00000);
	REGION_EQ(1, GIB(63), GIB(1));
	REPORT_EQ(4, 0, 1, 0, 0, 0xffffffff00000000ULL - GIB(64), 0x3ff00000 + GIB(1));
}

/* MEMMAP_MAX usable regions fit; one more that survives trimming does not. */
KTEST(memmap, too_many_regions)
{
	static struct mem_region in[MEMMAP_MAX + 1];
	int i;

	for (i = 0; i < MEMMAP_MAX; i++)
		in[i] = (struct mem_region){ MIB(1) * (u64)(i + 1), KIB(64), U };
	in[MEMMAP_MAX] = (struct mem_region){ MIB(200), KIB(4), U }; /* trimmed away */
	KT_ASSERT(clean(in, MEMMAP_MAX + 1, GIB(64), KIB(16), MIB(8)));
	KT_ASSERT_EQ(mm.n, MEMMAP_MAX);
	REGION_EQ(MEMMAP_MAX - 1, MIB(MEMMAP_MAX), KIB(64));
	KT_ASSERT_EQ(rep.usable_bytes, MIB(8));
	in[MEMMAP_MAX].len = KIB(16);
	KT_ASSERT(!clean(in, MEMMAP_MAX + 1, GIB(64), KIB(16), MIB(8)));
	KT_ASSERT_STREQ(err, "the memory map needs more than 128 usable regions");
}

/* memmap_print and memmap_report_print, as printk produced them. */
KTEST(memmap, print_format)
{
	static char out[1024];
	struct memmap_report r = { 9, 1, 2, 3, KIB(3), MIB(512), GIB(1) - KIB(3) };
	int saved = console_loglevel;

	console_loglevel = LOG_INFO;
	printk_capture_start(out, sizeof(out));
	memmap_print("test", qemu_1g, 2);
	memmap_report_print(&r);
	printk_capture_stop();
	console_loglevel = saved;
	KT_ASSERT_STREQ(out,
		"memmap: test\n"
		"  [0x0000000000000000-0x000000000009fbff] usable (639 KiB)\n"
		"  [0x000000000009fc00-0x000000000009ffff] reserved (1 KiB)\n"
		"warning: memmap: zero-length entries ignored: 1\n"
		"warning: memmap: overlapping entry pairs resolved (non-usable ranges win): 2\n"
		"warning: memmap: 3 KiB of usable RAM lost trimming to cluster boundaries\n"
		"warning: memmap: dropped 512 MiB of RAM above the highest address ia32mm manages\n"
		"memmap: usable entries merged into a neighbour: 3\n"
		"memmap: 1048573 KiB (1023 MiB) of usable RAM\n");
}

/* Writes one Multiboot mmap entry (size field `size`) at buf + off; returns the next offset. */
static u32 put_entry(u8 *buf, u32 off, u32 size, u64 base, u64 len, u32 type)
{
	/* Multiboot 0.6.96 3.3: size, base_addr, length, type, then size - 20 more bytes. */
	memset(buf + off, 0xee, 4 + size);
	memcpy(buf + off, &size, 4);
	memcpy(buf + off + 4, &base, 8);
	memcpy(buf + off + 12, &len, 8);
	memcpy(buf + off + 20, &type, 4);
	return off + 4 + size;
}

/* Region i of out is [base, base + len) of the given type. */
#define MB_EQ(i, b, l, t)                                                         \
	do {                                                                      \
		KT_ASSERT_EQ(out[i].base, b);                                     \
		KT_ASSERT_EQ(out[i].len, l);                                      \
		KT_ASSERT_EQ(out[i].type, t);                                     \
	} while (0)

/* Entries of size 20 and 24, and a last entry cut short by the buffer's end. */
KTEST(memmap, multiboot_parse)
{
	static u8 buf[128];
	struct mem_region out[8];
	u32 off = 0, whole;
	int bad = -1;

	off = put_entry(buf, off, 20, 0, 0x9fc00, 1);
	off = put_entry(buf, off, 24, 0x9fc00, 0x400, 2); /* + 4 bytes of ACPI 3.0 attributes */
	off = put_entry(buf, off, 20, 0x100000, 0x3fee0000, 1);
	KT_ASSERT_EQ(off, 24 + 28 + 24);
	whole = put_entry(buf, off, 20, 0xfffc0000, 0x40000, 2);
	KT_ASSERT_EQ(multiboot_parse_mmap(buf, off + 12, out, 8, &bad), 3);
	KT_ASSERT_EQ(bad, 1);
	MB_EQ(0, 0, 0x9fc00, 1);
	MB_EQ(1, 0x9fc00, 0x400, 2);
	MB_EQ(2, 0x100000, 0x3fee0000, 1);
	KT_ASSERT_EQ(multiboot_parse_mmap(buf, off, out, 8, &bad), 3);
	KT_ASSERT_EQ(bad, 0);
	KT_ASSERT_EQ(multiboot_parse_mmap(buf, off + 2, out, 8, &bad), 3);
	KT_ASSERT_EQ(bad, 1);
	KT_ASSERT_EQ(multiboot_parse_mmap(buf, whole, out, 8, &bad), 4);
	KT_ASSERT_EQ(bad, 0);
	MB_EQ(3, 0xfffc0000, 0x40000, 2);
	KT_ASSERT_EQ(multiboot_parse_mmap(buf, whole, out, 2, &bad), 2);
	KT_ASSERT_EQ(bad, 0);
	/* The size-24 entry needs all 28 bytes, not just its 24 bytes of fields. */
	KT_ASSERT_EQ(multiboot_parse_mmap(buf, 24 + 24, out, 8, &bad), 1);
	KT_ASSERT_EQ(bad, 1);
	KT_ASSERT_EQ(multiboot_parse_mmap(buf, 0, out, 8, &bad), 0);
	KT_ASSERT_EQ(bad, 0);
}

/* Size fields below 20 or beyond the buffer stop the walk; the decoded map cleans like QEMU's. */
KTEST(memmap, multiboot_malformed)
{
	static u8 buf[160];
	struct mem_region out[8];
	u32 off = 0, i;
	int bad = -1;

	for (i = 0; i < ARRAY_SIZE(qemu_1g); i++)
		off = put_entry(buf, off, i == 1 ? 24 : 20, qemu_1g[i].base, qemu_1g[i].len,
				qemu_1g[i].type);
	KT_ASSERT_EQ(multiboot_parse_mmap(buf, off, out, 8, &bad), 6);
	KT_ASSERT_EQ(bad, 0);
	CLEAN_OK(out, 6);
	KT_ASSERT_EQ(mm.n, 2);
	REGION_EQ(1, 0x100000, 0x3fee0000);
	put_entry(buf, 24, 12, 0, 0, 0); /* entry 1 claims 12 bytes */
	KT_ASSERT_EQ(multiboot_parse_mmap(buf, off, out, 8, &bad), 1);
	KT_ASSERT_EQ(bad, 1);
	put_entry(buf, 24, 20, 0x9fc00, 0x400, 2);
	memcpy(buf + 24, &(u32){ 0xffffffffu }, 4); /* and now 4 GiB */
	KT_ASSERT_EQ(multiboot_parse_mmap(buf, off, out, 8, &bad), 1);
	KT_ASSERT_EQ(bad, 1);
}

/* This boot's firmware map: present, cleanable, with RAM at 1 MiB when mem_upper says so. */
KTEST(memmap, boot_map)
{
	static struct mem_region fw[MEMMAP_MAX];
	int n, i;

	if (boot_magic != MULTIBOOT_BOOTED)
		KT_SKIP("not booted by a Multiboot loader");
	n = multiboot_memmap(fw, MEMMAP_MAX);
	KT_ASSERT_GT(n, 0);
	if (!clean(fw, n, GIB(64), KIB(4), MIB(4))) {
		ktest_fail(__FILE__, __LINE__, "boot map refused: %s", err);
		return;
	}
	ktest_diag("%d firmware entries, %d usable regions, %llu KiB usable, mem_upper %u KiB",
		   n, mm.n, rep.usable_bytes >> 10, boot_mbi.mem_upper);
	for (i = 1; i < mm.n; i++)
		KT_ASSERT_GT(mm.r[i].base, mm.r[i - 1].base + mm.r[i - 1].len);
	/* Multiboot 0.6.96 3.3: mem_upper is KiB of RAM from 1 MiB (flags bit 0). */
	if (!(boot_mbi.flags & 1) || boot_mbi.mem_upper < 1024)
		return;
	for (i = 0; i < mm.n; i++)
		if (mm.r[i].base <= MIB(1) && mm.r[i].base + mm.r[i].len >= MIB(2))
			break;
	KT_ASSERT_LT(i, mm.n);
}
