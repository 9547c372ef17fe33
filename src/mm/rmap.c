/*
 * anon_vma reverse mapping (see rmap.h); RMAP=pte_chain builds rmap_pte_chain.c instead.
 *
 * Locking: anon_vma->lock (level MM_LOCK_ANON, mm/mm_locks.h) around its VMA
 * list and count and around setting page->mapping to it.  Joining and
 * leaving happen under the VMA's mm->page_table_lock too (mm lock, then
 * anon_vma lock).  try_to_unmap and page_referenced go the other way -- the
 * anon_vma lock, then each VMA's mm -- so they only TRY the mm lock: a busy
 * address space is skipped and counted (rmap_stats.mm_busy), its mapping
 * stays, and reclaim meets the page again on a later pass.
 *
 * Lifetime: an anon_vma is freed when its last VMA leaves, but reclaim may
 * hold a cluster whose page->mapping still points at it (isolated, with a
 * reference of its own) and look it up in page_referenced/try_to_unmap.
 * Every such lookup runs under the kernel lock with preemption off
 * (reclaim, the tests), so the kernel lock is the grace period: an
 * anon_vma emptied by a call without it (a lockless munmap, kernel/
 * syscall.c) goes on a list instead, and the call frees the list under the
 * kernel lock once its mm lock is let go (anon_vma_free_deferred).
 */
#include "mm/rmap.h"
#include "mm/rmap_slot.h"
#include "mm/slab.h"
#include "mm/highpte.h"
#include "mm/memory.h"
#include "mm/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/audit.h"
#include "mm/mm_locks.h"
#include "arch/smp.h"
#include "kernel/task.h"

#if !CONFIG_RMAP_PTE_CHAIN

static struct kmem_cache *anon_vma_cache;
struct rmap_stats rmap_stats;

void rmap_init(void)
{
	anon_vma_cache = kmem_cache_create("anon_vma", sizeof(struct anon_vma), 4);
}

u32 rmap_metadata_bytes(void)
{
	return rmap_stats.anon_vmas * anon_vma_cache->size;
}

static u32 anon_vma_lock(struct anon_vma *av)
{
	return mm_lock(&av->lock, MM_LOCK_ANON);
}

static void anon_vma_unlock(struct anon_vma *av, u32 flags)
{
	mm_unlock(&av->lock, MM_LOCK_ANON, flags);
}

/* Emptied anon_vmas waiting for the kernel lock (deferred_lock: a leaf). */
static struct anon_vma *deferred;
static spinlock_t deferred_lock = SPINLOCK_INIT;

static void anon_vma_free(struct anon_vma *av)
{
	kmem_cache_free(anon_vma_cache, av);
	atomic_add_return((volatile s32 *)&rmap_stats.anon_vmas, -1);
}

/*
 * Debug builds: av's list is whole -- every node's neighbours point back at
 * it, its VMAs name av, and there are nr_vmas of them (anon_vma lock held).
 * What a link or unlink without the lock (make BREAK=anon-vma-lock) leaves.
 */
static void anon_vma_check(struct anon_vma *av, const char *when)
{
	u32 n = 0;

	if (!CONFIG_DEBUG)
		return;
	for (struct list_head *l = av->head.next; l != &av->head; l = l->next) {
		struct vm_area_struct *v = list_entry(l, struct vm_area_struct, anon_vma_node);
		if (l->next->prev != l || l->prev->next != l || v->anon_vma != av || ++n > av->nr_vmas)
			panic("anon_vma %p: list broken %s (node %p, %u of %u VMAs)", av, when, l, n,
			      av->nr_vmas);
	}
	if (n != av->nr_vmas)
		panic("anon_vma %p: %u VMAs listed, %u counted (%s)", av, n, av->nr_vmas, when);
}

/* Link and unlink: make BREAK=anon-vma-lock leaves the lock out (only the
 * interrupt flag stays), for smp_stress.mm_calls_on_one_anon_vma to catch. */
static u32 anon_vma_lock_list(struct anon_vma *av)
{
	if (CONFIG_BREAK_ANON_VMA_LOCK)
		return local_irq_save();
	return anon_vma_lock(av);
}

static void anon_vma_unlock_list(struct anon_vma *av, u32 flags)
{
	if (CONFIG_BREAK_ANON_VMA_LOCK)
		local_irq_restore(flags);
	else
		anon_vma_unlock(av, flags);
}

void anon_vma_link(struct vm_area_struct *vma)
{
	struct anon_vma *av = vma->anon_vma;

	if (!av)
		return;
	u32 flags = anon_vma_lock_list(av);
	anon_vma_check(av, "before a link");
	list_add_tail(&vma->anon_vma_node, &av->head);
	av->nr_vmas++;
	anon_vma_unlock_list(av, flags);
}

void anon_vma_unlink(struct vm_area_struct *vma)
{
	struct anon_vma *av = vma->anon_vma;

	if (!av)
		return;
	u32 flags = anon_vma_lock_list(av);
	anon_vma_check(av, "before an unlink");
	list_del_init(&vma->anon_vma_node);
	vma->anon_vma = NULL;
	bool last = --av->nr_vmas == 0;
	anon_vma_unlock_list(av, flags);
	if (!last)
		return;
	/* No VMA left, so no walker can reach it through a list any more; only
	 * reclaim's lookups through page->mapping (kernel lock) may still. */
	if (kernel_lock_held()) {
		anon_vma_free(av);
		return;
	}
	u32 f = spin_lock_irqsave(&deferred_lock);
	av->next_deferred = deferred;
	deferred = av;
	spin_unlock_irqrestore(&deferred_lock, f);
}

void anon_vma_free_deferred(void)
{
	if (!*(struct anon_vma *volatile *)&deferred)
		return;
	lock_kernel(); /* no reclaim lookup is under way now (see Lifetime above) */
	u32 f = spin_lock_irqsave(&deferred_lock);
	struct anon_vma *av = deferred;
	deferred = NULL;
	spin_unlock_irqrestore(&deferred_lock, f);
	while (av) {
		struct anon_vma *next = av->next_deferred;
		anon_vma_free(av);
		atomic_inc(&rmap_stats.anon_vmas_deferred);
		av = next;
	}
	unlock_kernel();
}

/* A neighbour whose anon_vma vma may share: adjacent, same rights, and the
 * same linear offsets (anonymous memory: vm_pgoff is the address). */
static struct anon_vma *mergeable_neighbour(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	struct list_head *n[2] = { vma->vm_list.prev, vma->vm_list.next };

	for (int i = 0; i < 2; i++) {
		if (n[i] == &mm->mmap)
			continue;
		struct vm_area_struct *v = list_entry(n[i], struct vm_area_struct, vm_list);
		bool adjacent = v->vm_end == vma->vm_start || vma->vm_end == v->vm_start;
		s32 pgoff_delta = (s32)(v->vm_pgoff - vma->vm_pgoff);
		s32 addr_delta = (s32)(v->vm_start - vma->vm_start) / (s32)MMUPAGE_SIZE;
		if (adjacent && v->anon_vma && v->vm_flags == vma->vm_flags && pgoff_delta == addr_delta)
			return v->anon_vma;
	}
	return NULL;
}

int anon_vma_prepare(struct vm_area_struct *vma)
{
	if (vma->anon_vma)
		return 0;
	struct anon_vma *av = mergeable_neighbour(vma);
	if (!av) {
		av = kmem_cache_alloc(anon_vma_cache, GFP_KERNEL);
		if (!av)
			return -ENOMEM;
		av->lock = (spinlock_t)SPINLOCK_INIT;
		INIT_LIST_HEAD(&av->head);
		av->nr_vmas = 0;
		atomic_inc(&rmap_stats.anon_vmas);
	}
	vma->anon_vma = av;
	anon_vma_link(vma);
	return 0;
}

void page_add_anon_rmap(struct page *page, struct vm_area_struct *vma, u32 w)
{
	struct anon_vma *av = vma->anon_vma;
	if (!av) { /* a VMA that never faulted on its own: no list to guard */
		page->index = vma->vm_pgoff + ((w - vma->vm_start) >> MMUPAGE_SHIFT);
		page->mapping = (void *)PAGE_MAPPING_ANON;
		return;
	}
	u32 flags = anon_vma_lock(av);
	page->index = vma->vm_pgoff + ((w - vma->vm_start) >> MMUPAGE_SHIFT);
	page->mapping = (void *)((u32)av | PAGE_MAPPING_ANON);
	anon_vma_unlock(av, flags);
}

/* vma's mm->page_table_lock without waiting (anon_vma lock held, interrupts
 * off on cpu); false, counted, when another CPU holds it. */
static bool rmap_trylock_mm(struct mm_struct *mm, int cpu)
{
	if (mm_trylock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu))
		return true;
	rmap_stats.mm_busy++; /* under the anon_vma lock: one walker at a time per anon_vma */
	return false;
}

u32 anon_vma_count(const struct anon_vma *av)
{
	return av->nr_vmas;
}

/*
 * The window of page in vma, mapped through pte_offset_map: its first slot,
 * or NULL when vma cannot hold it or has no PTE table there.  *w gets the
 * window's address.
 */
static pte_t *map_window(struct page *page, struct vm_area_struct *vma, u32 *w)
{
	*w = vma_address(page, vma);
	if (*w + PAGE_SIZE <= vma->vm_start || *w >= vma->vm_end)
		return NULL;
	pmd_t *pmd = user_pmd(vma->vm_mm->pgd, *w);
	if (!pmd_present(*pmd))
		return NULL;
	return pte_offset_map(pmd, *w);
}

int try_to_unmap(struct page *page, u64 replacement)
{
	struct anon_vma *av = page_anon_vma(page);
	struct list_head *l;

	if (!av)
		return -EINVAL;
	u32 flags = anon_vma_lock(av);
	int cpu = smp_processor_id();
	list_for_each(l, &av->head) {
		struct vm_area_struct *vma = list_entry(l, struct vm_area_struct, anon_vma_node);
		struct mm_struct *mm = vma->vm_mm;
		u32 w;
		rmap_stats.vmas_walked++;
		if (!rmap_trylock_mm(mm, cpu))
			continue;
		pte_t *wp = map_window(page, vma, &w);
		if (!wp) {
			mm_unlock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu);
			continue;
		}
		/* The window's slots in every VMA of this anon_vma go at once (a
		 * window may straddle two VMAs after mprotect or munmap): the mm
		 * lock is held for this visit only, and the other VMA's visit may
		 * find the mm busy.  Slots in a VMA of another anon_vma stay
		 * (left): the reverse map cannot reach them, the cluster stays. */
		struct window_flush f = { w, 0 };
		bool left = false, held = false;
		for (u32 i = 0; i < PAGE_MMUCOUNT && replacement; i++)
			held |= pte_val(wp[i]) == replacement; /* an earlier pass put it there */
		for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
			u32 a = w + i * MMUPAGE_SIZE;
			if (!rmap_slot_maps(wp[i], page, i))
				continue;
			if (a < vma->vm_start || a >= vma->vm_end) {
				struct vm_area_struct *other = find_vma(mm, a);
				if (!other || other->anon_vma != av) {
					left = true;
					continue;
				}
			}
			rmap_clear_slot(wp, i, page, replacement, &f);
		}
		pte_unmap(wp);
		rmap_flush_window(mm, &f, page, true);
		if (f.slots && !held && replacement)
			rmap_stats.windows_given++; /* the window now holds the entry: one count */
		if (f.slots && !left) {
			/* The address space's one mapping of the cluster: its reference goes. */
			atomic_add_return(&page->mapcount, -1);
			mm->rss--;
			rmap_stats.windows_unmapped++;
			put_page(page);
		}
		mm_unlock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu);
	}
	anon_vma_unlock(av, flags);
	return page->mapcount < 0 ? 0 : -EBUSY;
}

int rmap_windows_holding(struct page *page, u64 entry)
{
	struct anon_vma *av = page_anon_vma(page);
	struct list_head *l;
	int n = 0;

	u32 flags = anon_vma_lock(av);
	int cpu = smp_processor_id();
	list_for_each(l, &av->head) {
		struct vm_area_struct *vma = list_entry(l, struct vm_area_struct, anon_vma_node);
		struct mm_struct *mm = vma->vm_mm;
		u32 w, i = 0;
		/* Its VMAs and page tables change only under its lock (an munmap or
		 * mprotect without the kernel lock splits, shrinks and frees them). */
		if (!mm_trylock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu)) {
			n = -1;
			break;
		}
		pte_t *wp = map_window(page, vma, &w);
		if (wp) {
			while (i < PAGE_MMUCOUNT && pte_val(wp[i]) != entry)
				i++;
			pte_unmap(wp);
			u32 a = w + i * MMUPAGE_SIZE;
			if (i < PAGE_MMUCOUNT && a >= vma->vm_start && a < vma->vm_end)
				n++;
		}
		mm_unlock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu);
	}
	anon_vma_unlock(av, flags);
	return n;
}

int page_referenced(struct page *page)
{
	struct anon_vma *av = page_anon_vma(page);
	struct list_head *l;
	int referenced = 0;

	if (!av)
		return 0;
	u32 flags = anon_vma_lock(av);
	int cpu = smp_processor_id();
	list_for_each(l, &av->head) {
		struct vm_area_struct *vma = list_entry(l, struct vm_area_struct, anon_vma_node);
		struct mm_struct *mm = vma->vm_mm;
		u32 w;
		rmap_stats.vmas_walked++;
		if (!rmap_trylock_mm(mm, cpu))
			continue;
		pte_t *wp = map_window(page, vma, &w);
		if (!wp) {
			mm_unlock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu);
			continue;
		}
		struct window_flush f = { w, 0 };
		for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
			u32 a = w + i * MMUPAGE_SIZE;
			if (a < vma->vm_start || a >= vma->vm_end || !rmap_slot_maps(wp[i], page, i) ||
			    !pte_young(wp[i]))
				continue;
			ptep_clear_young(&wp[i]); /* atomic: keeps a D bit set meanwhile */
			f.slots |= 1u << i;
			referenced++;
		}
		pte_unmap(wp);
		/* A cached translation would let accesses go unrecorded (SDM 4.8). */
		rmap_flush_window(mm, &f, page, false);
		mm_unlock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu);
	}
	anon_vma_unlock(av, flags);
	return referenced;
}
#endif
