/*
 * What both reverse maps (rmap.c: anon_vma, rmap_pte_chain.c: pte_chain)
 * do to each 4 KiB slot of a cluster window they unmap.  Private to them.
 */
#ifndef MM_RMAP_SLOT_H
#define MM_RMAP_SLOT_H
#include "mm/rmap.h"
#include "mm/memory.h"
#include "kernel/audit.h"

/* Both schemes' unmap loop, per 4 KiB slot of a cluster window. */
/* Does slot i of a window hold frame i of page (present or PROT_NONE)? */
static inline bool rmap_slot_maps(pte_t e, struct page *page, u32 i)
{
	return (pte_val(e) & (_PAGE_PRESENT | _PAGE_PROTNONE)) && pte_frame(e) == page_to_frame(page) + i;
}

/* The slots of one cluster window (at w) whose translations changed: one
 * shootdown covers them all (rmap_flush_window). */
struct window_flush {
	u32 w;
	u32 slots; /* bit i: slot i */
};

/* Clears slot i of a window (wp[i], mapping frame i of page): Dirty goes to
 * PG_dirty, replacement (a swap entry, or 0) is installed, the slot noted
 * in f for the flush, the rmap statistics counted. */
static inline void rmap_clear_slot(pte_t *wp, u32 i, struct page *page, u64 replacement,
				   struct window_flush *f)
{
	pte_t old = ptep_get_and_clear(&wp[i]);

	if (pte_dirty(old))
		SetPageFlag(page, PG_dirty);
	if (replacement)
		set_pte(&wp[i], __pte(replacement));
	f->slots |= 1u << i;
	rmap_stats.ptes_unmapped++;
}

/* Invalidates f's slots in mm with one range shootdown (first to last
 * slot; SDM 4.10.4.1: an INVLPG of an address whose entry did not change
 * is harmless) -- before the cluster's reference may go.  unmapped: the
 * slots lost page's frames, audited gone (else only their A bit went). */
static inline void rmap_flush_window(struct mm_struct *mm, const struct window_flush *f,
				     struct page *page, bool unmapped)
{
	if (!f->slots)
		return;
	u32 lo = (u32)__builtin_ctz(f->slots), hi = 31 - (u32)__builtin_clz(f->slots);
	flush_user_range(mm, f->w + lo * MMUPAGE_SIZE, f->w + (hi + 1) * MMUPAGE_SIZE);
	for (u32 i = lo; unmapped && i <= hi; i++)
		if (f->slots & (1u << i))
			audit_gone(AUDIT_TRY_TO_UNMAP, f->w + i * MMUPAGE_SIZE, page_to_frame(page) + i);
}

#endif
