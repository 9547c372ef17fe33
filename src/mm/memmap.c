/*
 * Cleaning the firmware memory map.
 *
 * The firmware's list (e820, handed over by the Multiboot loader) may be
 * unsorted, may repeat or overlap itself, may hold zero-length entries and
 * entries whose end wraps past 2^64, and says nothing about ia32mm's own
 * limits.  memmap_clean() turns it into what the memory manager can trust:
 * sorted, disjoint, merged usable ranges, trimmed to whole clusters and cut
 * at the highest physical address the kernel manages.
 *
 * The method is a sweep over entry boundaries.  Every entry start and end is
 * a boundary; between two consecutive boundaries no entry begins or ends, so
 * one probe tells which entries cover that whole piece:
 *
 *   entries:   |--usable------------------|  |--usable--|
 *                      |-reserved-|
 *   pieces:    [ u    )[  u+r     )[  u   )  [    u     )
 *   result:    [ keep )            [ keep )  [   keep   )
 *
 * A piece is kept when some usable entry covers it and no other entry does
 * (anything not usable wins).  Consecutive kept pieces are joined, and each
 * finished range is cut and trimmed as it is emitted.  Finding the next
 * boundary and probing are O(n) each, so cleaning is O(n^2) with no sorting,
 * no allocation and a few words of stack; n is at most ~170 (4 KiB of 24-byte
 * Multiboot entries).
 *
 * Addresses are u64 with exclusive ends, so an end of 2^64 cannot be written:
 * entries are clipped to end at 0xffffffffffffffff, and that last byte is
 * never RAM (every max_addr ia32mm uses is far below it anyway).
 */
#include "mm/memmap.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"

#define ADDR_END_MAX (~0ULL)

/* What covers one piece of the sweep. */
#define COVER_USABLE 1
#define COVER_OTHER 2

struct clean_state {
	const struct memmap_limits *lim;
	struct memmap *out;
	struct memmap_report *rep;
	bool full;      /* a range did not fit in out */
};

/* Returns the exclusive end of r, clipped to ADDR_END_MAX when base + len wraps. */
static u64 entry_end(const struct mem_region *r)
{
	u64 end = r->base + r->len;

	return end < r->base ? ADDR_END_MAX : end;
}

/* Returns true if r covers at least one byte after clipping. */
static bool entry_live(const struct mem_region *r)
{
	return r->len && entry_end(r) > r->base;
}

/* Returns the number of pairs of live entries that share at least one byte. */
static int count_overlaps(const struct mem_region *in, int n)
{
	int i, j, pairs = 0;

	for (i = 0; i < n; i++) {
		if (!entry_live(&in[i]))
			continue;
		for (j = i + 1; j < n; j++) {
			if (!entry_live(&in[j]))
				continue;
			if (MAX(in[i].base, in[j].base) < MIN(entry_end(&in[i]), entry_end(&in[j])))
				pairs++;
		}
	}
	return pairs;
}

/* Returns true and the smallest boundary above pos in *next, or false if none is left. */
static bool next_boundary(const struct mem_region *in, int n, u64 pos, u64 *next)
{
	u64 best = ADDR_END_MAX;
	bool found = false;
	int i;

	for (i = 0; i < n; i++) {
		u64 b[2] = { in[i].base, entry_end(&in[i]) };
		int k;

		if (!entry_live(&in[i]))
			continue;
		for (k = 0; k < 2; k++) {
			if (b[k] > pos && b[k] <= best) {
				best = b[k];
				found = true;
			}
		}
	}
	*next = best;
	return found;
}

/* Returns COVER_USABLE and/or COVER_OTHER for the entries that contain address pos. */
static int coverage(const struct mem_region *in, int n, u64 pos)
{
	int i, mask = 0;

	for (i = 0; i < n; i++) {
		if (!entry_live(&in[i]) || pos < in[i].base || pos >= entry_end(&in[i]))
			continue;
		/* Multiboot 0.6.96 3.3: type 1 is available RAM, every other value is reserved. */
		mask |= in[i].type == MEM_USABLE ? COVER_USABLE : COVER_OTHER;
	}
	return mask;
}

/*
 * Emits the usable range [s, e): the part at or above lim->max_addr is
 * dropped, the rest is shrunk to whole lim->align blocks, and what remains is
 * appended to out.  Returns false (and sets st->full) when out has no room.
 */
static bool emit_range(struct clean_state *st, u64 s, u64 e)
{
	u64 mask = (u64)st->lim->align - 1, lo, hi;

	if (e > st->lim->max_addr) {
		st->rep->dropped_bytes += e - MAX(s, st->lim->max_addr);
		e = MAX(s, st->lim->max_addr);
	}
	if (s == e)
		return true;
	lo = s + mask < s ? e : (s + mask) & ~mask; /* rounding up may wrap */
	hi = e & ~mask;
	if (lo >= hi) {
		st->rep->trimmed_bytes += e - s;
		return true;
	}
	st->rep->trimmed_bytes += (lo - s) + (e - hi);
	if (st->out->n == MEMMAP_MAX) {
		st->full = true;
		return false;
	}
	st->out->r[st->out->n++] = (struct mem_region){ lo, hi - lo, MEM_USABLE };
	st->rep->usable_bytes += hi - lo;
	return true;
}

/*
 * Sweeps the boundaries of in[], emitting every maximal run of pieces that
 * are usable and nothing else.  Returns the number of maximal runs of pieces
 * covered by usable entries at all (before non-usable ones are taken out),
 * which tells memmap_clean how many usable entries were merged.
 */
static int sweep(const struct mem_region *in, int n, struct clean_state *st)
{
	u64 pos = 0, next, run_s = 0, run_e = 0;
	bool in_run = false, prev_usable = false;
	int mask, unions = 0;

	while (!st->full && next_boundary(in, n, pos, &next)) {
		mask = coverage(in, n, pos);
		if ((mask & COVER_USABLE) && !prev_usable)
			unions++;
		prev_usable = mask & COVER_USABLE;
		if (mask == COVER_USABLE && in_run && run_e == pos) {
			run_e = next;
		} else if (mask == COVER_USABLE) {
			if (in_run)
				emit_range(st, run_s, run_e);
			in_run = true;
			run_s = pos;
			run_e = next;
		}
		pos = next;
	}
	if (in_run && !st->full)
		emit_range(st, run_s, run_e);
	return unions;
}

/* Formats bytes as "N GiB", "N MiB", "N KiB" or "N bytes", the largest unit that is exact. */
static const char *format_size(char *buf, size_t size, u64 bytes)
{
	if (bytes && !(bytes & (GIB(1) - 1)))
		snprintf(buf, size, "%llu GiB", bytes >> 30);
	else if (bytes && !(bytes & (MIB(1) - 1)))
		snprintf(buf, size, "%llu MiB", bytes >> 20);
	else if (bytes && !(bytes & (KIB(1) - 1)))
		snprintf(buf, size, "%llu KiB", bytes >> 10);
	else
		snprintf(buf, size, "%llu bytes", bytes);
	return buf;
}

/* Writes the reason the cleaned map is refused into err; returns false if it is, true if fine. */
static bool check_result(const struct memmap_limits *lim, const struct memmap_report *rep,
			 bool full, char *err, size_t errlen)
{
	char need[32];

	if (full) {
		snprintf(err, errlen, "the memory map needs more than %d usable regions",
			 MEMMAP_MAX);
		return false;
	}
	if (!rep->usable_bytes) {
		snprintf(err, errlen, "no usable RAM in the memory map");
		return false;
	}
	if (rep->usable_bytes < lim->min_ram) {
		snprintf(err, errlen, "only %llu KiB of usable RAM; ia32mm needs at least %s",
			 rep->usable_bytes >> 10, format_size(need, sizeof(need), lim->min_ram));
		return false;
	}
	return true;
}

/*
 * Cleans n firmware entries into out (see memmap.h; in and out must not
 * overlap).  rep, when not NULL, receives the counts even on failure.
 * Returns false with a one-line message in err when the map is unusable.
 */
bool memmap_clean(const struct mem_region *in, int n, struct memmap *out,
		  const struct memmap_limits *lim, struct memmap_report *rep,
		  char *err, size_t errlen)
{
	struct memmap_report local;
	struct clean_state st = { lim, out, rep ? rep : &local, false };
	int i, usable_live = 0;
	char dummy[1];

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = 0;
	n = MAX(n, 0);
	out->n = 0;
	memset(st.rep, 0, sizeof(*st.rep));
	st.rep->entries_in = n;
	if (!lim->align || (lim->align & (lim->align - 1))) {
		snprintf(err, errlen, "cluster alignment %u is not a power of two", lim->align);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!in[i].len)
			st.rep->ignored_empty++;
		else if (in[i].type == MEM_USABLE && entry_live(&in[i]))
			usable_live++;
	}
	st.rep->overlaps = count_overlaps(in, n);
	st.rep->merged = usable_live - sweep(in, n, &st);
	return check_result(lim, st.rep, st.full, err, errlen);
}

/* Returns the name memmap_print shows for a region type. */
static const char *type_name(u32 type, char *buf, size_t size)
{
	switch (type) {
	case MEM_USABLE:
		return "usable";
	case MEM_RESERVED:
		return "reserved";
	case MEM_ACPI:
		return "ACPI data";
	case MEM_NVS:
		return "ACPI NVS";
	case MEM_BAD:
		return "bad RAM";
	}
	snprintf(buf, size, "type %u", type);
	return buf;
}

/* Prints "memmap: <title>" and one line per region: inclusive range, type, size. */
void memmap_print(const char *title, const struct mem_region *r, int n)
{
	char tbuf[16];
	int i;

	pr_info("memmap: %s\n", title);
	for (i = 0; i < n; i++) {
		u64 last = r[i].len ? entry_end(&r[i]) - 1 : r[i].base;
		const char *tn = type_name(r[i].type, tbuf, sizeof(tbuf));

		if (r[i].len & (KIB(1) - 1))
			pr_info("  [0x%016llx-0x%016llx] %s (%llu bytes)\n", r[i].base, last, tn,
				r[i].len);
		else
			pr_info("  [0x%016llx-0x%016llx] %s (%llu KiB)\n", r[i].base, last, tn,
				r[i].len >> 10);
	}
}

/*
 * Prints what cleaning changed: a warning per non-zero finding that may hide
 * a firmware problem or lose RAM, then the merge count and the usable total.
 */
void memmap_report_print(const struct memmap_report *rep)
{
	char buf[32];

	if (rep->ignored_empty)
		pr_warn("memmap: zero-length entries ignored: %d\n", rep->ignored_empty);
	if (rep->overlaps)
		pr_warn("memmap: overlapping entry pairs resolved (non-usable ranges win): %d\n",
			rep->overlaps);
	if (rep->trimmed_bytes)
		pr_warn("memmap: %s of usable RAM lost trimming to cluster boundaries\n",
			format_size(buf, sizeof(buf), rep->trimmed_bytes));
	if (rep->dropped_bytes)
		pr_warn("memmap: dropped %s of RAM above the highest address ia32mm manages\n",
			format_size(buf, sizeof(buf), rep->dropped_bytes));
	if (rep->merged)
		pr_info("memmap: usable entries merged into a neighbour: %d\n", rep->merged);
	pr_info("memmap: %llu KiB (%llu MiB) of usable RAM\n", rep->usable_bytes >> 10,
		rep->usable_bytes >> 20);
}
