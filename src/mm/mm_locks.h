/*
 * The memory manager's spinlocks, taken in one order (mm/mm.h's "Locking"
 * paragraph is the rule; this header enforces it in debug builds).
 *
 * Each lock has a level; a CPU may take a lock only while every mm lock it
 * already holds has a lower level.  Debug builds keep a per-CPU bitmask of
 * the levels held (the CPU cannot change under a held spinlock: taking one
 * disables preemption) and panic on a lock taken out of order, naming both.
 * Release builds keep no mask: mm_lock is spin_lock_irqsave.
 */
#ifndef MM_MM_LOCKS_H
#define MM_MM_LOCKS_H
#include "arch/spinlock.h"
#include "arch/smp.h"

enum mm_lock_level {
	MM_LOCK_SWAP,  /* swap_lock: the slot map and the swap cache (swap.c) */
	MM_LOCK_LRU,   /* lru_lock: the active/inactive lists, vmscan stats (vmscan.c) */
	MM_LOCK_SLAB,  /* one per kmem_cache: its slab lists and counters (slab.c) */
	MM_LOCK_PCP,   /* one per (zone, CPU): the hot list of single pages */
	MM_LOCK_ZONE,  /* one per zone: buddy lists, free_pages (page_alloc.c) */
	MM_LOCK_NR,
};

/* Debug builds: the levels each CPU holds, one bit per level. */
extern u32 mm_locks_held[NR_CPUS];
void mm_lock_order_panic(enum mm_lock_level want, u32 held);

static inline u32 mm_lock(spinlock_t *l, enum mm_lock_level level)
{
	u32 flags = spin_lock_irqsave(l);
	if (CONFIG_DEBUG) {
		u32 *held = &mm_locks_held[smp_processor_id()];
		if (*held >> level)
			mm_lock_order_panic(level, *held);
		*held |= 1u << level;
	}
	return flags;
}

static inline void mm_unlock(spinlock_t *l, enum mm_lock_level level, u32 flags)
{
	if (CONFIG_DEBUG)
		mm_locks_held[smp_processor_id()] &= ~(1u << level);
	spin_unlock_irqrestore(l, flags);
}

#endif
