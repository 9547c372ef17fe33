/* Page-table frames carved out of clusters (see ptpool.h).
 *
 * Locking: pt_lock (level MM_LOCK_PTPOOL, mm/mm_locks.h; interrupts off)
 * around the partial lists, a cluster's frame bitmap and pt_stats: faults
 * of different address spaces allocate tables on several CPUs at once. */
#include "mm/ptpool.h"
#include "mm/page_alloc.h"
#include "mm/highmem.h"
#include "kernel/panic.h"
#include "lib/string.h"
#include "mm/mm_locks.h"

struct pt_stats pt_stats;
static spinlock_t pt_lock = SPINLOCK_INIT;

/* Clusters with at least one free table frame, per pool. */
static struct list_head partial[PT_NR_POOLS] = {
	LIST_HEAD_INIT(partial[0]),
	LIST_HEAD_INIT(partial[1]),
};

#define ALL_FRAMES ((1u << PAGE_MMUCOUNT) - 1)

static gfp_t pool_gfp(enum pt_pool pool)
{
	/* highpte: user PTE pages from HighMem; everything else stays in lowmem. */
	return pool == PT_USER_PTE && CONFIG_HIGHPTE ? GFP_HIGHUSER : GFP_KERNEL;
}

static void zero_frame(u64 frame)
{
	void *va = kmap_atomic_frame(frame, KM_USER0);
	memset(va, 0, MMUPAGE_SIZE);
	kunmap_atomic(va, KM_USER0);
}

/* A cluster of pool with a free frame that owner may use, or NULL. */
static struct page *partial_for(enum pt_pool pool, void *owner)
{
	struct list_head *l;

	list_for_each(l, &partial[pool]) {
		struct page *p = list_entry(l, struct page, lru);
		if (p->mapping == owner)
			return p;
	}
	return NULL;
}

u64 pt_alloc(enum pt_pool pool)
{
	return pt_alloc_owned(pool, NULL);
}

static u64 pt_alloc_locked(enum pt_pool pool, void *owner)
{
	struct page *p = partial_for(pool, owner);

	if (!p) {
		p = alloc_page(pool_gfp(pool) | __GFP_NOWARN);
		if (!p)
			return 0;
		SetPageFlag(p, PG_pgtable);
		p->private = 0;
		p->index = pool;
		p->mapping = owner;
		list_add(&p->lru, &partial[pool]);
		pt_stats.clusters++;
	}
	u32 i = 0;
	while (p->private & (1u << i))
		i++;
	p->private |= 1u << i;
	if (p->private == ALL_FRAMES)
		list_del_init(&p->lru);
	u64 frame = page_to_frame(p) + i;
	zero_frame(frame);
	pt_stats.in_use[pool]++;
	if (PageHighMem(p))
		pt_stats.highmem_frames++;
	return frame;
}

u64 pt_alloc_owned(enum pt_pool pool, void *owner)
{
	if (!CONFIG_RMAP_PTE_CHAIN)
		owner = NULL;
	u32 flags = mm_lock(&pt_lock, MM_LOCK_PTPOOL);
	u64 frame = pt_alloc_locked(pool, owner);
	mm_unlock(&pt_lock, MM_LOCK_PTPOOL, flags);
	return frame;
}

static void pt_free_locked(u64 frame)
{
	struct page *p = frame_to_page(frame);
	u32 bit = 1u << (frame & (PAGE_MMUCOUNT - 1));
	enum pt_pool pool = p->index;

	if (!PageFlag(p, PG_pgtable) || !(p->private & bit))
		panic("pt_free(frame %llx): not a page-table frame in use", frame);
	if (p->private == ALL_FRAMES)
		list_add(&p->lru, &partial[pool]);
	p->private &= ~bit;
	pt_stats.in_use[pool]--;
	if (PageHighMem(p))
		pt_stats.highmem_frames--;
	if (!p->private) {
		list_del(&p->lru);
		ClearPageFlag(p, PG_pgtable);
		p->index = 0;
		p->mapping = NULL;
		pt_stats.clusters--;
		__free_page(p);
	}
}

void pt_free(u64 frame)
{
	u32 flags = mm_lock(&pt_lock, MM_LOCK_PTPOOL);
	pt_free_locked(frame);
	mm_unlock(&pt_lock, MM_LOCK_PTPOOL, flags);
}
