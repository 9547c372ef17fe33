/*
 * The physical memory map: the firmware's list (e820, via Multiboot) as
 * loaded, and the cleaned map the memory manager trusts.
 */
#ifndef MM_MEMMAP_H
#define MM_MEMMAP_H
#include "lib/types.h"

enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI = 3,
	MEM_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	u64 base, len;
	u32 type;
};

#define MEMMAP_MAX 128

struct memmap {
	int n;
	struct mem_region r[MEMMAP_MAX];
};

struct memmap_limits {
	u64 max_addr; /* usable RAM at or above this is dropped (64 GiB) */
	u32 align;    /* usable regions are trimmed to this (the cluster size) */
	u64 min_ram;  /* less usable RAM than this is refused */
};

/* What cleaning changed, for the boot log and the selftests. */
struct memmap_report {
	int entries_in, ignored_empty, overlaps, merged;
	u64 trimmed_bytes;   /* lost to alignment */
	u64 dropped_bytes;   /* usable RAM above max_addr */
	u64 usable_bytes;    /* total usable after cleaning */
};

/*
 * Cleans n firmware entries into out: only usable regions remain, sorted,
 * non-overlapping and merged; where usable and non-usable ranges overlap the
 * non-usable one wins; usable ranges are trimmed to lim->align and cut at
 * lim->max_addr.  Returns false, with a one-line message in err, when the map
 * is unusable (no usable RAM, less than lim->min_ram, too many entries).
 */
bool memmap_clean(const struct mem_region *in, int n, struct memmap *out,
		  const struct memmap_limits *lim, struct memmap_report *rep,
		  char *err, size_t errlen);
/* The cleaned map of this boot (kmain). */
extern struct memmap boot_memmap;

/* Prints a map, one region a line, with a title. */
void memmap_print(const char *title, const struct mem_region *r, int n);
/* Prints the report's non-zero findings as warnings. */
void memmap_report_print(const struct memmap_report *rep);

#endif
