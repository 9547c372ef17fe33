/*
 * Suite "smp_alloc": the page allocator, the slab caches (kmalloc) and the
 * swap slot map serve every CPU at once, without the kernel lock.
 *
 * One kernel thread pinned to each online CPU lets the kernel lock go and,
 * round after round, takes a random batch of objects -- single pages (HighMem
 * ones stamped through kmap_atomic), blocks of 2-8 pages, kmalloc objects of
 * 16 bytes to two pages, swap slots bound to a page of its own through the
 * swap cache, pages put on the LRU lists (put_page takes them off) -- stamps each (owner and sequence number, in its first and
 * last word), checks every stamp after the whole batch is out, and again
 * just before freeing each.  An object handed to two CPUs at once shows as
 * a stamp of the other owner; a swap slot handed out twice as a cache entry
 * that is not the thread's page.  Afterwards (kernel lock held, every hot
 * list drained): free pages, kmalloc objects, swap slots in use and the LRU
 * lists' lengths are back to their values before, and each zone's buddy lists agree with its counts.
 *
 * stress=N sets the rounds per CPU (default 100: about half a second under
 * Bochs with 4 CPUs, in every smp run of make check); seed=N the random choices.
 * make BREAK=zone-lock builds the allocator without its zone lock: this
 * suite must then fail (ci/check.py step q: under Bochs with 4 CPUs and under
 * QEMU -smp 4 with a thread per vCPU).
 */
#include "selftest/ktest.h"
#include "arch/smpboot.h"
#include "arch/spinlock.h"
#include "kernel/cmdline.h"
#include "kernel/task.h"
#include "lib/printf.h"
#include "mm/highmem.h"
#include "mm/mm_locks.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "mm/swap.h"
#include "mm/vmscan.h"

#define BATCH 24
#define DEFAULT_ROUNDS 100

enum obj_kind { OBJ_PAGE_HIGH, OBJ_PAGE, OBJ_BLOCK, OBJ_KMALLOC, OBJ_SWAP, OBJ_LRU, OBJ_KINDS };

struct obj {
	enum obj_kind kind;
	struct page *page; /* pages, blocks, the swap slot's page */
	u32 *va;           /* lowmem objects: first word */
	u32 words;         /* stamped words: first and words - 1 */
	unsigned order;
	swp_entry_t entry;
	u32 stamp;
};

static volatile u32 rounds, seed0, started, bad, checked;
static spinlock_t first_lock = SPINLOCK_INIT;
static char first_bad[160];

static u32 next_rand(u32 *r)
{
	*r ^= *r << 13; /* xorshift32 */
	*r ^= *r >> 17;
	*r ^= *r << 5;
	return *r;
}

static void report(const struct obj *o, const char *what, u32 seen)
{
	atomic_inc(&bad);
	spin_lock(&first_lock);
	if (!first_bad[0])
		snprintf(first_bad, sizeof(first_bad),
			 "CPU %d: %s of kind %d (pfn %u) reads 0x%08x, stamped 0x%08x", smp_processor_id(),
			 what, o->kind, o->page ? page_to_pfn(o->page) : 0, seen, o->stamp);
	spin_unlock(&first_lock);
}

/* Writes (write) or checks the stamp in the first and last word of o. */
static void stamp(struct obj *o, bool write)
{
	u32 *w[2];
	bool high = o->kind == OBJ_PAGE_HIGH || o->kind == OBJ_LRU; /* maybe HighMem */
	u32 *va = high ? kmap_atomic(o->page, KM_USER0) : o->va;

	w[0] = va;
	w[1] = va + o->words - 1;
	for (int i = 0; i < 2; i++) {
		if (write)
			*w[i] = o->stamp ^ i;
		else if (*w[i] != (o->stamp ^ i))
			report(o, i ? "last word" : "first word", *w[i]);
	}
	if (high)
		kunmap_atomic(va, KM_USER0);
	if (!write && o->kind == OBJ_SWAP) {
		struct page *cached = lookup_swap_cache(o->entry);
		if (cached != o->page || o->page->private != o->entry.val)
			report(o, "swap slot's cache entry", cached ? page_to_pfn(cached) : 0);
	}
	if (!write)
		atomic_inc(&checked);
}

static bool take(struct obj *o, u32 *r)
{
	o->page = NULL;
	o->va = NULL;
	o->order = 0;
	o->entry.val = 0;
	switch (o->kind) {
	case OBJ_PAGE_HIGH:
	case OBJ_PAGE:
	case OBJ_BLOCK:
	case OBJ_SWAP:
	case OBJ_LRU: {
		bool high = o->kind == OBJ_PAGE_HIGH || o->kind == OBJ_LRU;
		o->order = o->kind == OBJ_BLOCK ? 1 + next_rand(r) % 3 : 0;
		o->page = alloc_pages((high ? GFP_HIGHUSER : GFP_KERNEL) | __GFP_NOWARN, o->order);
		if (!o->page)
			return false;
		o->va = lowmem_page_address(o->page);
		/* kmap_atomic maps a cluster's first 4 KiB frame (mm/highmem.h) */
		o->words = (high ? MMUPAGE_SIZE : PAGE_SIZE << o->order) / 4;
		if (o->kind == OBJ_LRU)
			lru_cache_add(o->page); /* not anonymous: reclaim would put it back */
		if (o->kind == OBJ_SWAP) {
			o->entry = get_swap_slot();
			if (!o->entry.val) {
				__free_pages(o->page, 0);
				return false;
			}
			add_to_swap_cache(o->page, o->entry);
		}
		return true;
	}
	case OBJ_KMALLOC: {
		u32 size = 16u << (next_rand(r) % 9); /* 16 bytes .. 4 KiB */
		if (next_rand(r) % 8 == 0)
			size = PAGE_SIZE + 4; /* above the caches: whole pages */
		o->va = kmalloc(size, GFP_KERNEL | __GFP_NOWARN);
		o->words = size / 4;
		return o->va != NULL;
	}
	default:
		return false;
	}
}

static void give_back(struct obj *o)
{
	stamp(o, false);
	switch (o->kind) {
	case OBJ_SWAP:
		delete_from_swap_cache(o->page); /* frees the slot, drops the cache's reference */
		__free_pages(o->page, 0);
		break;
	case OBJ_KMALLOC:
		kfree(o->va);
		break;
	case OBJ_LRU:
		put_page(o->page); /* the last reference: off the list, then freed */
		break;
	default:
		__free_pages(o->page, o->order);
	}
}

static int hammer_fn(void *arg)
{
	u32 id = (u32)arg, r = seed0 ^ (0x9e3779b9u * (id + 1)), seq = 0;
	struct obj objs[BATCH];
	bool swap = swap_active() != NULL;

	unlock_kernel(); /* from here on, nothing serializes this thread with the others */
	atomic_inc(&started);
	while (started < smp_info.online)
		cpu_relax();
	for (u32 round = 0; round < rounds; round++) {
		u32 n = 1 + next_rand(&r) % BATCH, got = 0;
		for (u32 i = 0; i < n; i++) {
			struct obj *o = &objs[got];
			o->kind = next_rand(&r) % OBJ_KINDS;
			if (o->kind == OBJ_SWAP && !swap)
				o->kind = OBJ_PAGE;
			if (!take(o, &r))
				continue;
			o->stamp = ((id + 1) << 24) | (seq++ & 0xffffff);
			stamp(o, true);
			got++;
		}
		for (u32 i = 0; i < got; i++)
			stamp(&objs[i], false);
		for (u32 i = 0; i < got; i++)
			give_back(&objs[i]);
	}
	lock_kernel();
	return 0;
}

/* Objects in use in the kmalloc caches, after they gave their empty slabs
 * back (so that free page counts compare exactly). */
static u32 kmalloc_in_use(void)
{
	u32 n = 0;
	for (u32 size = KMALLOC_MIN; size <= KMALLOC_MAX; size <<= 1) {
		kmem_cache_shrink(kmalloc_cache(size));
		n += kmalloc_cache(size)->stats.objs_in_use;
	}
	task_cache_shrink();
	return n;
}

/* Each zone's buddy lists against its counts: "" or what disagrees. */
static const char *buddy_lists_check(void)
{
	static char why[96];

	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &zones[zi];
		u32 flags = mm_lock(&z->lock, MM_LOCK_ZONE), pages = 0;
		why[0] = 0;
		for (unsigned o = 0; o < MAX_ORDER && !why[0]; o++) {
			u32 blocks = 0;
			struct list_head *l;
			list_for_each(l, &z->free_area[o].free_list) {
				struct page *p = list_entry(l, struct page, lru);
				if (!PageFlag(p, PG_buddy) || p->private != o || blocks > z->managed_pages) {
					snprintf(why, sizeof(why), "zone %s order %u: pfn %u is not a free "
						 "block of that order", z->name, o, page_to_pfn(p));
					break;
				}
				blocks++;
			}
			if (!why[0] && blocks != z->free_area[o].nr_free)
				snprintf(why, sizeof(why), "zone %s order %u: %u blocks listed, nr_free %u",
					 z->name, o, blocks, z->free_area[o].nr_free);
			pages += blocks << o;
		}
		if (!why[0] && pages != z->free_pages)
			snprintf(why, sizeof(why), "zone %s: %u pages listed, free_pages %u", z->name,
				 pages, z->free_pages);
		mm_unlock(&z->lock, MM_LOCK_ZONE, flags);
		if (why[0])
			return why;
	}
	return "";
}

KTEST(smp_alloc, every_cpu_allocates_at_once)
{
	if (!CONFIG_SMP || smp_info.online < 2)
		KT_SKIP(CONFIG_SMP ? "one CPU online (boot with CPUS=2 or more)" : "uniprocessor variant");
	rounds = boot_opts.stress_steps ? boot_opts.stress_steps : DEFAULT_ROUNDS;
	seed0 = boot_opts.seed_set && boot_opts.seed ? boot_opts.seed : 0x6a09e667u;
	started = bad = checked = 0;
	first_bad[0] = 0;
	ktest_diag("%u threads, %u rounds each, seed 0x%08x, swap slots %s", smp_info.online, rounds,
		   seed0, swap_active() ? "too" : swap_absent_reason());

	u32 kmalloc0 = kmalloc_in_use();
	drain_all_pages();
	u32 free0 = nr_free_pages();
	u32 slots0 = swap_active() ? swap_active()->inuse : 0, lru0 = nr_active + nr_inactive;
	for (u32 cpu = 0; cpu < smp_info.online; cpu++)
		KT_ASSERT(kthread_create_on("smp-alloc", hammer_fn, (void *)cpu, (int)cpu) != NULL);
	while (do_wait(NULL) > 0)
		;

	ktest_diag("%u objects checked, %u wrong", checked, bad);
	if (bad)
		ktest_diag("first: %s", first_bad);
	KT_EXPECT_EQ(bad, 0);
	KT_EXPECT_GE(checked, rounds * smp_info.online);
	KT_EXPECT_EQ(kmalloc_in_use(), kmalloc0);
	drain_all_pages();
	const char *why = buddy_lists_check();
	if (why[0])
		ktest_diag("buddy lists: %s", why);
	KT_EXPECT(!why[0]);
	KT_EXPECT_EQ(nr_free_pages(), free0);
	KT_EXPECT_EQ(swap_active() ? swap_active()->inuse : 0, slots0);
	KT_EXPECT_EQ(nr_active + nr_inactive, lru0);
}
