/*
 * Suite slab: caches of fixed-size objects and kmalloc.
 *
 * Page counts are checked with nr_free_pages() after drain_all_pages():
 * a cache holds exactly its stats.pages pages, and gives them back when it
 * shrinks.  Numbers of objects per slab depend on PAGE_SIZE (4 or 16 KiB),
 * so the tests compute them from it.
 */
#include "selftest/ktest.h"
#include "arch/layout.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/slab.h"

#define MAX_OBJS (3 * PAGE_SIZE / 4 + 1)
static void *objs[MAX_OBJS];

static u32 free_pages_now(void)
{
	drain_all_pages();
	return nr_free_pages();
}

/* Every counter of c's statistics at once. */
#define STATS_EQ(c, inuse, total, full, partial, empty, pages_, allocs_, frees_, grows_, shrinks_) \
	do {                                                                                    \
		const struct kmem_cache_stats *_s = &(c)->stats;                                \
		KT_ASSERT_EQ(_s->objs_in_use, inuse);                                           \
		KT_ASSERT_EQ(_s->objs_total, total);                                            \
		KT_ASSERT_EQ(_s->slabs_full, full);                                             \
		KT_ASSERT_EQ(_s->slabs_partial, partial);                                       \
		KT_ASSERT_EQ(_s->slabs_empty, empty);                                           \
		KT_ASSERT_EQ(_s->pages, pages_);                                                \
		KT_ASSERT_EQ(_s->allocs, allocs_);                                              \
		KT_ASSERT_EQ(_s->frees, frees_);                                                \
		KT_ASSERT_EQ(_s->grows, grows_);                                                \
		KT_ASSERT_EQ(_s->shrinks, shrinks_);                                            \
		KT_ASSERT_EQ(_s->fails, 0);                                                     \
	} while (0)

/* The life of a cache: one object lives in a slab page that names the cache. */
KTEST(slab, create_alloc_free_destroy)
{
	struct kmem_cache *c = kmem_cache_create("test-48", 48, 0);

	KT_ASSERT(c != NULL);
	KT_ASSERT_EQ(c->size, 48);
	KT_ASSERT_EQ(c->objs_per_slab, PAGE_SIZE / 48);
	u32 base = free_pages_now();
	u8 *a = kmem_cache_alloc(c, GFP_KERNEL);
	KT_ASSERT(a != NULL);
	KT_ASSERT((uintptr_t)a >= PAGE_OFFSET);
	struct page *pg = virt_to_page(a);
	KT_ASSERT(PageFlag(pg, PG_slab));
	KT_ASSERT(!PageHighMem(pg));
	KT_ASSERT(pg->mapping == c);
	KT_ASSERT_EQ(pg->private, 1);
	KT_ASSERT_EQ(free_pages_now(), base - 1);
	memset(a, 0x11, 48);
	kmem_cache_free(c, a);
	KT_ASSERT_EQ(pg->private, 0);
	STATS_EQ(c, 0, PAGE_SIZE / 48, 0, 0, 1, 1, 1, 1, 1, 0);
	kmem_cache_destroy(c);
	KT_ASSERT(!PageFlag(pg, PG_slab));
	KT_ASSERT_EQ(free_pages_now(), base);
}

/* The slabs align_and_no_overlap has seen, and which of their slots it got. */
#define MAX_SLABS 8
static struct page *slab_seen[MAX_SLABS];
static bool slot_used[MAX_SLABS][PAGE_SIZE / 4];
static u32 nr_seen;

/* Records obj of c as taken; false if its slot was handed out already. */
static bool take_slot(const struct kmem_cache *c, const void *obj)
{
	struct page *pg = virt_to_page(obj);
	u32 i = 0, slot = ((uintptr_t)obj & ~PAGE_MASK) / c->size;

	while (i < nr_seen && slab_seen[i] != pg)
		i++;
	if (i == nr_seen) {
		if (nr_seen == MAX_SLABS)
			return false;
		slab_seen[nr_seen++] = pg;
		memset(slot_used[i], 0, sizeof(slot_used[i]));
	}
	if (slot_used[i][slot])
		return false;
	slot_used[i][slot] = true;
	return true;
}

/*
 * Objects over several slabs: aligned as asked, each inside one page at a
 * slot boundary (offset a multiple of the stride), no slot handed out twice,
 * and a byte pattern per object that survives all the others being written.
 */
KTEST(slab, align_and_no_overlap)
{
	static const struct { u32 size, align, stride; } shapes[] = {
		{ 1, 0, 4 }, { 24, 8, 24 }, { 40, 64, 64 }, { 100, 32, 128 }, { 1000, 0, 1000 },
		{ KMALLOC_MAX + 1, 16, KMALLOC_MAX + 16 },
	};

	for (u32 s = 0; s < ARRAY_SIZE(shapes); s++) {
		struct kmem_cache *c;
		c = kmem_cache_create("test-shape", shapes[s].size, shapes[s].align);
		KT_ASSERT(c != NULL);
		KT_ASSERT_EQ(c->size, shapes[s].stride);
		u32 per = PAGE_SIZE / c->size, n = 3 * per + 1;
		nr_seen = 0;
		for (u32 i = 0; i < n; i++) {
			objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
			KT_ASSERT(objs[i] != NULL);
			uintptr_t va = (uintptr_t)objs[i];
			KT_ASSERT_EQ(va % c->align, 0);
			KT_ASSERT_LE((va & ~PAGE_MASK) + c->size, PAGE_SIZE);
			KT_ASSERT_EQ((va & ~PAGE_MASK) % c->size, 0);
			KT_ASSERT(take_slot(c, objs[i]));
			memset(objs[i], (u8)i, shapes[s].size);
		}
		KT_ASSERT_EQ(c->stats.pages, (n + per - 1) / per);
		for (u32 i = 0; i < n; i++)
			for (u32 b = 0; b < shapes[s].size; b++)
				KT_ASSERT_EQ(((u8 *)objs[i])[b], (u8)i);
		KT_ASSERT_EQ(nr_seen, c->stats.pages);
		for (u32 i = 0; i < n; i++)
			kmem_cache_free(c, objs[i]);
		kmem_cache_destroy(c);
	}
}

/*
 * A known sequence with 200-byte objects (n per slab): 2n + 3 allocations
 * fill two slabs and start a third; freeing the first slab's objects leaves
 * it empty (kept); emptying the third gives it back (one empty slab is
 * kept at most); emptying the second too; shrink gives back the last.
 */
KTEST(slab, stats_exact)
{
	struct kmem_cache *c = kmem_cache_create("test-stats", 200, 0);

	KT_ASSERT(c != NULL);
	u32 n = c->objs_per_slab;
	KT_ASSERT_EQ(n, PAGE_SIZE / 200);
	KT_ASSERT_LE(2 * n + 3, MAX_OBJS);
	for (u32 i = 0; i < 2 * n + 3; i++) {
		objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
		KT_ASSERT(objs[i] != NULL);
	}
	STATS_EQ(c, 2 * n + 3, 3 * n, 2, 1, 0, 3, 2 * n + 3, 0, 3, 0);
	for (u32 i = 0; i < n; i++)
		kmem_cache_free(c, objs[i]);
	STATS_EQ(c, n + 3, 3 * n, 1, 1, 1, 3, 2 * n + 3, n, 3, 0);
	for (u32 i = 2 * n; i < 2 * n + 3; i++)
		kmem_cache_free(c, objs[i]);
	STATS_EQ(c, n, 2 * n, 1, 0, 1, 2, 2 * n + 3, n + 3, 3, 1);
	for (u32 i = n; i < 2 * n; i++)
		kmem_cache_free(c, objs[i]);
	STATS_EQ(c, 0, n, 0, 0, 1, 1, 2 * n + 3, 2 * n + 3, 3, 2);


	kmem_cache_shrink(c);
	STATS_EQ(c, 0, 0, 0, 0, 0, 0, 2 * n + 3, 2 * n + 3, 3, 3);
	kmem_cache_destroy(c);
}

/* The one-line-per-cache report names the cache with its counters. */
KTEST(slab, print_stats)
{
	static char out[8192];
	char want[128];
	struct kmem_cache *c = kmem_cache_create("test-print", 64, 0);

	KT_ASSERT(c != NULL);
	void *a = kmem_cache_alloc(c, GFP_KERNEL), *b = kmem_cache_alloc(c, GFP_KERNEL);
	kmem_cache_free(c, a);
	printk_capture_start(out, sizeof(out));
	kmem_cache_print_stats();
	printk_capture_stop();
	snprintf(want, sizeof(want),
		 "slab: %-14s size %4u objs 1/%u slabs full 0 partial 1 empty 0 pages 1 ",
		 "test-print", 64, PAGE_SIZE / 64);
	char *l = strstr(out, "slab: test-print ");
	KT_ASSERT(l != NULL);
	KT_ASSERT_EQ(strncmp(l, want, strlen(want)), 0);
	KT_ASSERT(strstr(l, "allocs 2 frees 1 grows 1 shrinks 0 fails 0\n") != NULL);
	KT_ASSERT(strstr(out, "slab: kmalloc-16 ") != NULL);
	kmem_cache_free(c, b);
	kmem_cache_destroy(c);
}

/* Empty slabs go back to the page allocator: the free count returns to its start. */
KTEST(slab, shrink_returns_pages)
{
	struct kmem_cache *c = kmem_cache_create("test-shrink", 64, 0);

	KT_ASSERT(c != NULL);
	u32 per = c->objs_per_slab, n = 5 * per;
	KT_ASSERT_LE(n, MAX_OBJS);
	u32 base = free_pages_now();
	for (u32 i = 0; i < n; i++) {
		objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
		KT_ASSERT(objs[i] != NULL);
	}
	KT_ASSERT_EQ(free_pages_now(), base - 5);
	for (u32 i = 0; i < n; i++)
		kmem_cache_free(c, objs[i]);
	KT_ASSERT_EQ(c->stats.pages, 1);
	KT_ASSERT_EQ(free_pages_now(), base - 1); /* one empty slab kept */
	kmem_cache_shrink(c);
	KT_ASSERT_EQ(c->stats.pages, 0);
	KT_ASSERT_EQ(free_pages_now(), base);
	kmem_cache_destroy(c);
}

/* kmalloc picks the smallest power of two that fits; objects are aligned to it. */
KTEST(slab, kmalloc_classes)
{
	for (u32 size = 0; size <= KMALLOC_MAX; size += size < 64 ? 1 : 61) {
		u32 want = KMALLOC_MIN;
		while (want < size)
			want <<= 1;
		struct kmem_cache *c = kmalloc_cache(size);
		KT_ASSERT(c != NULL);
		KT_ASSERT_EQ(c->size, want);
		u32 used = c->stats.objs_in_use;
		u8 *p = kmalloc(size, GFP_KERNEL | __GFP_ZERO);
		KT_ASSERT(p != NULL);
		KT_ASSERT_EQ((uintptr_t)p % want, 0);
		KT_ASSERT(virt_to_page(p)->mapping == c);
		KT_ASSERT_EQ(c->stats.objs_in_use, used + 1);
		for (u32 b = 0; b < want; b++)
			KT_ASSERT_EQ(p[b], 0);
		memset(p, 0xee, want);
		kfree(p);
		KT_ASSERT_EQ(c->stats.objs_in_use, used);
	}
	KT_ASSERT(kmalloc_cache(KMALLOC_MAX + 1) == NULL);
	kfree(NULL);
}

/* Above KMALLOC_MAX: a block of whole pages, of the smallest order that fits. */
KTEST(slab, kmalloc_large)
{
	static const struct { u32 size, order; } cases[] = {
		{ KMALLOC_MAX + 1, 0 }, { PAGE_SIZE, 0 }, { PAGE_SIZE + 1, 1 },
		{ 5 * PAGE_SIZE, 3 }, { PAGE_SIZE << 6, 6 },
	};

	for (u32 i = 0; i < ARRAY_SIZE(cases); i++) {
		u32 base = free_pages_now();
		u8 *p = kmalloc(cases[i].size, GFP_KERNEL | __GFP_ZERO);
		KT_ASSERT(p != NULL);
		KT_ASSERT_EQ((uintptr_t)p & ~PAGE_MASK, 0);
		struct page *pg = virt_to_page(p);
		KT_ASSERT(!PageFlag(pg, PG_slab));
		KT_ASSERT(!PageHighMem(pg));
		KT_ASSERT_EQ(free_pages_now(), base - (1u << cases[i].order));
		KT_ASSERT_EQ(p[0], 0);
		KT_ASSERT_EQ(p[cases[i].size - 1], 0);
		p[cases[i].size - 1] = 1;
		kfree(p);
		KT_ASSERT_EQ(free_pages_now(), base);
	}
	KT_ASSERT(kmalloc(PAGE_SIZE << MAX_ORDER, GFP_KERNEL | __GFP_NOWARN) == NULL);
}

/* Debug builds: a freed object is poisoned and handed out again first (LIFO). */
KTEST(slab, poison_and_lifo)
{
	struct kmem_cache *c = kmem_cache_create("test-poison", 40, 0);

	KT_ASSERT(c != NULL);
	u8 *a = kmem_cache_alloc(c, GFP_KERNEL), *b = kmem_cache_alloc(c, GFP_KERNEL);
	KT_ASSERT(a && b);
	memset(a, 0, 40);
	kmem_cache_free(c, a);
	if (CONFIG_DEBUG)
		for (u32 i = sizeof(u32); i < 40; i++)
			KT_ASSERT_EQ(a[i], SLAB_POISON);
	u8 *again = kmem_cache_alloc(c, GFP_KERNEL | __GFP_ZERO);
	KT_ASSERT(again == a);
	for (u32 i = 0; i < 40; i++)
		KT_ASSERT_EQ(again[i], 0);
	kmem_cache_free(c, a);
	kmem_cache_free(c, b);
	kmem_cache_destroy(c);
}

/* kmem_cache_free_check names each wrong free without panicking. */
KTEST(slab, free_check)
{
	static u32 not_slab;
	struct kmem_cache *c = kmem_cache_create("test-check", 32, 0);
	struct kmem_cache *d = kmem_cache_create("test-other", 32, 0);
	const char *why;

	KT_ASSERT(c && d);
	u8 *a = kmem_cache_alloc(c, GFP_KERNEL), *b = kmem_cache_alloc(c, GFP_KERNEL);
	KT_ASSERT(a && b);
	KT_ASSERT(kmem_cache_free_check(c, a) == NULL);
	why = kmem_cache_free_check(c, a + 4);
	KT_ASSERT(why && strstr(why, "not the start of an object"));
	why = kmem_cache_free_check(d, a);
	KT_ASSERT(why && strstr(why, "belongs to cache test-check"));
	why = kmem_cache_free_check(c, &not_slab);
	KT_ASSERT(why && strstr(why, "not in a slab page"));
	why = kmem_cache_free_check(c, (void *)0x1000);
	KT_ASSERT(why && strstr(why, "not a lowmem address"));
	why = kmem_cache_free_check(c, NULL);
	KT_ASSERT(why != NULL);
	kmem_cache_free(c, a);
	why = kmem_cache_free_check(c, a);
	KT_ASSERT(why && strstr(why, "double free"));
	KT_ASSERT(kmem_cache_free_check(c, b) == NULL);
	kmem_cache_free(c, b);
	why = kmem_cache_free_check(c, b); /* the slab is empty now */
	KT_ASSERT(why && strstr(why, "double free"));
	kmem_cache_destroy(c);
	kmem_cache_destroy(d);
}
