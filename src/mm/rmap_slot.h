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

/* Clears the slot *p (mapping page at addr in mm): Dirty goes to PG_dirty,
 * replacement (a swap entry, or 0) is installed, the translation flushed
 * and audited gone, the rmap statistics counted. */
static inline void rmap_clear_slot(struct mm_struct *mm, pte_t *p, struct page *page, u32 addr,
				   u64 replacement)
{
	pte_t old = ptep_get_and_clear(p);

	if (pte_dirty(old))
		SetPageFlag(page, PG_dirty);
	if (replacement)
		set_pte(p, __pte(replacement));
	flush_user_page(mm, addr);
	audit_gone(AUDIT_TRY_TO_UNMAP, addr, pte_frame(old));
	rmap_stats.ptes_unmapped++;
}

#endif
