/*
 * The memory manager's spinlocks, taken in one order (mm/mm.h's "Locking"
 * paragraph is the rule; this header enforces it in debug builds).
 *
 * Each lock has a level; a CPU may take a lock only while every mm lock it
 * already holds has a lower level.  Debug builds keep a per-CPU bitmask of
 * the levels held (the CPU cannot change under a held spinlock: taking one
 * disables preemption) and panic on a lock taken out of order, naming both.
 * Release builds keep no mask.
 *
 * Interrupts stay off while any of these locks is held, so the holder can
 * be neither preempted (the tick cannot come; preempt_check_resched does
 * nothing with interrupts off) nor moved to another CPU: unlike
 * spin_lock_irqsave, the mm locks keep no preemption count, and read the
 * CPU number (an APIC register read in smp variants) once.  The _irqs_off
 * forms are for callers that turned interrupts off already.  In up variants
 * a lock is the interrupt flag (and the debug mask) only.
 */
#ifndef MM_MM_LOCKS_H
#define MM_MM_LOCKS_H
#include "arch/spinlock.h"
#include "arch/smp.h"

enum mm_lock_level {
	MM_LOCK_MM,    /* mm->page_table_lock: an address space's VMAs, page tables, rss (mmap.c, memory.c) */
	MM_LOCK_ANON,  /* anon_vma->lock: its VMA list, the mapping of its pages (rmap.c) */
	MM_LOCK_SWAP,  /* swap_lock: the slot map and the swap cache (swap.c) */
	MM_LOCK_LRU,   /* lru_lock: the active/inactive lists, vmscan stats (vmscan.c) */
	MM_LOCK_SLAB,  /* one per kmem_cache: its slab lists and counters (slab.c) */
	MM_LOCK_PTPOOL, /* pt_lock: the page-table frame pools (ptpool.c) */
	MM_LOCK_PCP,   /* one per (zone, CPU): the hot list of single pages */
	MM_LOCK_ZONE,  /* one per zone: buddy lists, free_pages (page_alloc.c) */
	MM_LOCK_NR,
};

/* Debug builds: the levels each CPU holds, one bit per level. */
extern u32 mm_locks_held[NR_CPUS];
void mm_lock_order_panic(enum mm_lock_level want, u32 held);

/* Interrupts are off on cpu (this CPU). */
static inline void mm_lock_irqs_off(spinlock_t *l, enum mm_lock_level level, int cpu)
{
	if (CONFIG_DEBUG) {
		u32 *held = &mm_locks_held[cpu];
		if (*held >> level)
			mm_lock_order_panic(level, *held);
		*held |= 1u << level;
	}
	raw_spin_lock(l);
}

static inline void mm_unlock_irqs_off(spinlock_t *l, enum mm_lock_level level, int cpu)
{
	raw_spin_unlock(l);
	if (CONFIG_DEBUG)
		mm_locks_held[cpu] &= ~(1u << level);
}

/*
 * A lock taken against the order, without waiting: reverse-map walks hold an
 * anon_vma lock and try each mm's page_table_lock (the fault path takes them
 * the other way round).  A trylock cannot deadlock, so no order check; the
 * level is recorded so that what is taken under it is checked.
 */
static inline bool mm_trylock_irqs_off(spinlock_t *l, enum mm_lock_level level, int cpu)
{
	if (!raw_spin_trylock(l))
		return false;
	if (CONFIG_DEBUG)
		mm_locks_held[cpu] |= 1u << level;
	return true;
}

/*
 * A second lock of a level this CPU holds, taken without waiting because
 * nobody else can hold it: fork's child mm, reachable by others only
 * through the reverse map's trylocks.  Panics if it is busy (debug: also if
 * the level is not held or a higher one is).  Released with
 * mm_unlock_nested_irqs_off, which leaves the level's bit to the outer lock.
 */
static inline void mm_lock_nested_irqs_off(spinlock_t *l, enum mm_lock_level level, int cpu)
{
	if (CONFIG_DEBUG && mm_locks_held[cpu] >> level != 1u)
		mm_lock_order_panic(level, mm_locks_held[cpu]);
	if (!raw_spin_trylock(l))
		raw_spin_lock(l); /* a reverse-map walk's trylock holds it for a moment */
}

static inline void mm_unlock_nested_irqs_off(spinlock_t *l)
{
	raw_spin_unlock(l);
}

static inline u32 mm_lock(spinlock_t *l, enum mm_lock_level level)
{
	u32 flags = local_irq_save();
	mm_lock_irqs_off(l, level, smp_processor_id());
	return flags;
}

static inline void mm_unlock(spinlock_t *l, enum mm_lock_level level, u32 flags)
{
	mm_unlock_irqs_off(l, level, smp_processor_id());
	local_irq_restore(flags);
}

#endif
