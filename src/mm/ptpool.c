/* Page-table frames carved out of clusters (see ptpool.h). */
#include "mm/ptpool.h"
#include "mm/page_alloc.h"
#include "mm/highmem.h"
#include "kernel/panic.h"
#include "lib/string.h"

struct pt_stats pt_stats;

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

u64 pt_alloc(enum pt_pool pool)
{
	struct page *p;

	if (list_empty(&partial[pool])) {
		p = alloc_page(pool_gfp(pool) | __GFP_NOWARN);
		if (!p)
			return 0;
		SetPageFlag(p, PG_pgtable);
		p->private = 0;
		p->index = pool;
		list_add(&p->lru, &partial[pool]);
		pt_stats.clusters++;
	}
	p = list_first_entry(&partial[pool], struct page, lru);
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

void pt_free(u64 frame)
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
		pt_stats.clusters--;
		__free_page(p);
	}
}
