/*
 * User page tables: demand faults, copy-on-write, fork's copy, unmapping.
 *
 * Clusters and windows.  A cluster (one struct page, PAGE_MMUCOUNT frames)
 * is mapped in an address space at a "window": the PAGE_SIZE-aligned
 * virtual range whose 4 KiB slots hold its frames in order, slot i <-> frame
 * i.  A window maps at most one cluster, and a window's PTEs always sit in
 * one PTE table.  Which of the window's PTEs are present depends on the
 * VMAs (a VMA may cover part of a window), but the cluster is counted once
 * per address space: page->count and page->mapcount change when the first
 * PTE of a window appears and when its last one goes.
 *
 * Every user PTE is reached through pte_offset_map/pte_unmap (highpte.h).
 * The user image (VM_IMAGE) maps kernel frames: never counted, never freed.
 *
 * Locking: mm->page_table_lock (mm.h; interrupts off) is held around all of
 * this: the fault path takes it in handle_mm_fault after reclaim, the
 * callers in mmap.c around munmap, mprotect, fork and exit -- with or
 * without the kernel lock (faults and ring-3 mmap/munmap/mprotect run
 * without it; mmap.c takes it before an unmap over swap entries, the one
 * thing here that frees swap slots reclaim counts).  A page's mapping is set
 * under its anon_vma's lock (rmap.c); page->count and page->mapcount change
 * atomically (several address spaces share a cluster after fork, each under
 * its own lock).  TLB flushes reach every CPU in mm->cpu_mask
 * (arch/tlbflush.c) with the lock held: a CPU spinning on it answers them.
 */
#include "mm/mm.h"
#include "mm/memory.h"
#include "mm/highpte.h"
#include "mm/page_alloc.h"
#include "mm/ptpool.h"
#include "mm/swap.h"
#include "mm/vmscan.h"
#include "kernel/panic.h"
#include "lib/string.h"
#include "arch/smp.h"
#include "arch/tlbflush.h"
#include "kernel/audit.h"
#include "kernel/task.h"
#include "mm/rmap.h"

#define WINDOW_MASK (~(PAGE_SIZE - 1))
#define WINDOW_SLOTS PAGE_MMUCOUNT

static inline bool pte_mapped(pte_t p)
{
	return pte_val(p) & (_PAGE_PRESENT | _PAGE_PROTNONE);
}

/* The PTE bits a VMA's pages get (PROT_NONE: not present, frame kept). */
u64 vma_pte_prot(const struct vm_area_struct *vma)
{
	u64 prot = _PAGE_USER | _PAGE_NX;

	if (!(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
		return prot | _PAGE_PROTNONE;
	prot |= _PAGE_PRESENT;
	if (vma->vm_flags & VM_WRITE)
		prot |= _PAGE_RW;
	if (vma->vm_flags & VM_EXEC)
		prot &= ~_PAGE_NX; /* XD clear: fetches allowed (SDM 4.6) */
	return prot;
}

/* Invalidates [start, end) wherever mm's translations may be cached (SDM
 * 4.10.4.1, 4.10.5): one shootdown for the whole range. */
void flush_user_range(struct mm_struct *mm, u32 start, u32 end)
{
	/* A deliberate bug for the stress suite to catch (make BREAK=tlb-flush):
	 * stale translations survive munmap, mprotect and copy-on-write. */
	if (CONFIG_BREAK_TLB_FLUSH)
		return;
	flush_tlb_range(mm, start, end); /* every CPU in mm->cpu_mask (arch/tlbflush.c) */
}

void flush_user_page(struct mm_struct *mm, u32 addr)
{
	flush_user_range(mm, addr, addr + MMUPAGE_SIZE);
}

/* After page tables were freed: paging-structure caches too (SDM 4.10.3). */
static void flush_user_all(struct mm_struct *mm)
{
	flush_tlb_mm(mm);
}

/* The cluster a window maps, from any of its mapped PTEs, or NULL. */
static struct page *window_page(pte_t *wpte)
{
	for (u32 i = 0; i < WINDOW_SLOTS; i++)
		if (pte_mapped(wpte[i]))
			return frame_to_page(pte_frame(wpte[i]) - i);
	return NULL;
}

/* The swap entry some slot of a window holds (all such slots hold the same
 * one: the cluster the window mapped), or 0. */
static u32 window_swap_entry(pte_t *wpte)
{
	for (u32 i = 0; i < WINDOW_SLOTS; i++)
		if (is_swap_pte(wpte[i]))
			return (u32)pte_val(wpte[i]);
	return 0;
}

/* Why the last fault of mm in window addr failed other than for memory (swap I/O). */
static struct {
	struct mm_struct *mm;
	u32 addr;
	const char *why;
} fault_error;

/* The PTE table under addr's PDE, allocated if missing; NULL if out of memory. */
static pmd_t *pmd_alloc_table(struct mm_struct *mm, u32 addr)
{
	pmd_t *pmd = user_pmd(mm->pgd, addr);

	if (!pmd_present(*pmd)) {
		u64 frame = pt_alloc_owned(PT_USER_PTE, mm);
		if (!frame)
			return NULL;
		set_pmd(pmd, mk_pmd_user_table(frame));
		mm->pte_pages++;
		if (frame_to_page(frame)->flags & (1u << PG_highmem))
			mm->pte_pages_highmem++;
	}
	return pmd;
}

/* One more address space maps this cluster, at window w (whose PTE table
 * exists); -ENOMEM when the reverse map could not record it (pte_chain). */
static int cluster_map(struct mm_struct *mm, struct page *page, u32 w)
{
	int err = page_add_rmap(page, mm, w);

	if (err)
		return err;
	get_page(page);
	atomic_add_return(&page->mapcount, 1); /* other mms change it under their own locks */
	mm->rss++;
	return 0;
}

/* One address space less maps this cluster; the last reference frees it. */
static void cluster_unmap(struct mm_struct *mm, struct page *page, u32 w)
{
	page_remove_rmap(page, mm, w);
	atomic_add_return(&page->mapcount, -1);
	mm->rss--;
	put_page(page);
}

/* Zeroes one 4 KiB frame (it may hold what an unmapped slot left there). */
static void clear_frame(u64 frame)
{
	void *va = kmap_atomic_frame(frame, KM_USER0);
	memset(va, 0, MMUPAGE_SIZE);
	kunmap_atomic(va, KM_USER0);
}

static void copy_cluster(struct page *dst, struct page *src);
static void window_remap(struct mm_struct *mm, u32 w, pte_t *wp, struct page *page);

/*
 * May a fault in vma put a new slot into cluster page, which window w
 * already holds?  Only an anonymous cluster of the same anon_vma that no
 * other address space maps (shared memory excepted): anything else (another
 * VMA's memory, the user image's frames, a cluster shared copy-on-write
 * after fork) must not grow into vma.
 */
static bool window_reusable(struct vm_area_struct *vma, struct page *page)
{
	return PageFlag(page, PG_anon) && !PageFlag(page, PG_reserved) &&
	       !PageFlag(page, PG_swapcache) && /* shared with windows that hold its swap entry */
	       (page->mapcount == 0 || (vma->vm_flags & VM_SHARED)) &&
	       page_rmap_reaches(page, vma);
}

/* A new anonymous cluster for window w of vma, referenced by mm. */
static struct page *new_anon_cluster(struct mm_struct *mm, struct vm_area_struct *vma, u32 w,
				     gfp_t zero)
{
	struct page *page = alloc_page(GFP_HIGHUSER | zero | __GFP_NOWARN);

	if (!page)
		return NULL;
	SetPageFlag(page, PG_anon);
	page_add_anon_rmap(page, vma, w);
	page->count = 0; /* cluster_map takes the address space's reference */
	cluster_map(mm, page, w); /* the first mapping: the reverse map needs no memory */
	if (!(vma->vm_flags & VM_SHARED))
		lru_cache_add(page); /* private memory may be reclaimed */
	return page;
}

/*
 * A fault on a window that holds a swap entry (mm/swap.h): the whole
 * cluster comes back -- from the swap cache, or read from its slot -- and
 * every slot of the window that holds the entry maps it again, with the
 * rights of the VMA the slot lies in; the window's hold on the slot goes.
 * The cluster is writable only if this address space is now its only user
 * (it then left the swap cache); otherwise it stays shared read-only and
 * a write copies it.  A cluster read from its slot gets the reverse-map
 * data of the VMA that holds the window's first entry (that VMA's
 * anon_vma is the one try_to_unmap walked).
 */
static int do_swap_page(struct mm_struct *mm, u32 addr, pte_t *pte)
{
	u32 w = addr & WINDOW_MASK, first = 0;
	pte_t *wp = pte - ((addr - w) >> MMUPAGE_SHIFT);
	swp_entry_t e = { window_swap_entry(wp) };
	struct page *mapped = window_page(wp);
	int err = 0;

	while ((u32)pte_val(wp[first]) != e.val)
		first++;
	struct vm_area_struct *owner = find_vma(mm, w + first * MMUPAGE_SIZE);
	struct page *page = swapin_page(e, &err);
	if (!page) {
		if (err == -EIO) {
			fault_error.mm = mm;
			fault_error.addr = w;
			fault_error.why = "swap read failed: the cluster is lost";
		}
		return err;
	}
	if (!page->mapping && owner)
		page_add_anon_rmap(page, owner, w);
	if (mapped && mapped != page)
		panic("do_swap_page: window %08x maps pfn %u and holds swap entry %08x of pfn %u", w,
		      page_to_pfn(mapped), e.val, page_to_pfn(page));
	if (!mapped && cluster_map(mm, page, w)) {
		put_page(page);
		return -ENOMEM;
	}
	swap_free(e);
	bool only_user = !PageFlag(page, PG_swapcache) && page->mapcount == 0;
	for (u32 i = first; i < WINDOW_SLOTS; i++) {
		u32 a = w + i * MMUPAGE_SIZE;
		if ((u32)pte_val(wp[i]) != e.val)
			continue;
		struct vm_area_struct *v = find_vma(mm, a);
		u64 prot = v ? vma_pte_prot(v) : (_PAGE_PRESENT | _PAGE_USER | _PAGE_NX);
		if (!only_user)
			prot &= ~_PAGE_RW;
		set_pte(&wp[i], mk_pte_frame(page_to_frame(page) + i, prot));
	}
	put_page(page); /* swapin_page's reference: the address space has its own */
	return 0;
}

/*
 * A fault on an unmapped address of an anonymous VMA.  The window's slots
 * inside the VMA are mapped: to a new zeroed cluster (HighMem allowed) if
 * the window is empty, else to the cluster it holds when that may grow into
 * this VMA (the new slots zeroed), else to a private copy of it (the
 * mapped slots copied, the new ones zero), as copy-on-write would.
 */
static int do_anonymous_page(struct mm_struct *mm, struct vm_area_struct *vma, u32 addr,
			     pte_t *pte)
{
	u32 w = addr & WINDOW_MASK;
	pte_t *wp = pte - ((addr - w) >> MMUPAGE_SHIFT);
	struct page *page = window_page(wp);
	u64 prot = vma_pte_prot(vma);
	bool fresh = !page;

	if (anon_vma_prepare(vma))
		return -ENOMEM;
	if (window_swap_entry(wp)) {
		/* The window's cluster is out on swap: it comes back first. */
		u32 i = 0;
		while (!is_swap_pte(wp[i]))
			i++;
		int err = do_swap_page(mm, w + i * MMUPAGE_SIZE, wp + i);
		if (err)
			return err;
		page = window_page(wp);
		fresh = false;
	}
	if (!page) {
		page = new_anon_cluster(mm, vma, w, __GFP_ZERO);
		if (!page)
			return -ENOMEM;
	} else if (!window_reusable(vma, page)) {
		struct page *copy = new_anon_cluster(mm, vma, w, __GFP_ZERO);
		if (!copy)
			return -ENOMEM;
		copy_cluster(copy, page);
		window_remap(mm, w, wp, copy);
		if (!PageFlag(page, PG_reserved))
			cluster_unmap(mm, page, w);
		page = copy;
	}
	for (u32 i = 0; i < WINDOW_SLOTS; i++) {
		u32 a = w + i * MMUPAGE_SIZE;
		if (a < vma->vm_start || a >= vma->vm_end || pte_mapped(wp[i]))
			continue;
		if (!fresh)
			clear_frame(page_to_frame(page) + i);
		set_pte(&wp[i], mk_pte_frame(page_to_frame(page) + i, prot));
	}
	return 0;
}

/* Copies a cluster frame by frame through two kmap_atomic slots. */
static void copy_cluster(struct page *dst, struct page *src)
{
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		void *d = kmap_atomic_frame(page_to_frame(dst) + i, KM_USER0);
		void *s = kmap_atomic_frame(page_to_frame(src) + i, KM_USER1);
		memcpy(d, s, MMUPAGE_SIZE);
		kunmap_atomic(s, KM_USER1);
		kunmap_atomic(d, KM_USER0);
	}
}

/* Points every mapped slot of window w (PTEs wp) at cluster page, with the
 * rights of the VMA each slot lies in. */
static void window_remap(struct mm_struct *mm, u32 w, pte_t *wp, struct page *page)
{
	for (u32 i = 0; i < WINDOW_SLOTS; i++) {
		u32 a = w + i * MMUPAGE_SIZE;
		if (!pte_mapped(wp[i]))
			continue;
		struct vm_area_struct *v = find_vma(mm, a);
		u64 prot = v ? vma_pte_prot(v) : (_PAGE_PRESENT | _PAGE_USER | _PAGE_NX);
		set_pte(&wp[i], mk_pte_frame(page_to_frame(page) + i, prot));
	}
	flush_user_range(mm, w, w + WINDOW_SLOTS * MMUPAGE_SIZE);
	for (u32 i = 0; i < WINDOW_SLOTS; i++)
		if (pte_mapped(wp[i]))
			audit_maps(AUDIT_COW, w + i * MMUPAGE_SIZE, page_to_frame(page) + i);
}

/*
 * A write to a present read-only PTE in a writable VMA: copy-on-write.  The
 * last address space mapping the cluster takes it over; otherwise the
 * window gets a private copy.
 */
static int do_wp_page(struct mm_struct *mm, struct vm_area_struct *vma, u32 addr, pte_t *pte)
{
	u32 w = addr & WINDOW_MASK;
	pte_t *wp = pte - ((addr - w) >> MMUPAGE_SHIFT);
	struct page *old = window_page(wp);

	if (PageFlag(old, PG_reserved))
		return -EFAULT;
	/* Shared memory is never copied: every sharer writes the same cluster. */
	if ((vma->vm_flags & VM_SHARED) || (old->mapcount == 0 && old->count == 1)) {
		window_remap(mm, w, wp, old); /* the last sharer reuses the page */
		return 0;
	}
	struct page *copy = alloc_page(GFP_HIGHUSER | __GFP_NOWARN);
	if (!copy)
		return -ENOMEM;
	copy_cluster(copy, old);
	SetPageFlag(copy, PG_anon);
	page_copy_anon_rmap(copy, old); /* anon_vma: the same one, at the same offset */
	copy->count = 0;
	cluster_map(mm, copy, w); /* the first mapping: the reverse map needs no memory */
	lru_cache_add(copy);
	window_remap(mm, w, wp, copy);
	cluster_unmap(mm, old, w);
	return 0;
}

/* The user image maps kernel frames: vm_pgoff is the first frame. */
static int do_image_page(struct vm_area_struct *vma, u32 addr, pte_t *pte)
{
	u64 frame = vma->vm_pgoff + ((addr - vma->vm_start) >> MMUPAGE_SHIFT);
	set_pte(pte, mk_pte_frame(frame, vma_pte_prot(vma)));
	return 0;
}

static bool vma_allows(const struct vm_area_struct *vma, bool write, bool exec)
{
	if (write && !(vma->vm_flags & VM_WRITE))
		return false;
	if (exec && !(vma->vm_flags & VM_EXEC))
		return false;
	return vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC);
}

const char *fault_reason(struct mm_struct *mm, u32 addr, bool write, bool exec)
{
	struct vm_area_struct *vma = mm ? find_vma(mm, addr) : NULL;

	if (addr >= TASK_SIZE)
		return "kernel address";
	if (!vma)
		return "no VMA";
	if (!vma_allows(vma, write, exec))
		return write ? "VMA not writable" : exec ? "VMA not executable" : "VMA not readable";
	if (write && (vma->vm_flags & VM_IMAGE))
		return "the user image is read-only";
	if (fault_error.why && fault_error.mm == mm && fault_error.addr == (addr & WINDOW_MASK)) {
		const char *why = fault_error.why;
		fault_error.why = NULL;
		return why;
	}
	return oom_reason(addr);
}

struct fault_stats fault_stats;
struct mm_call_stats mm_call_stats;
/* Faults and memory calls between their mm lock and unlock, on every CPU;
 * and how many such sections began since boot. */
static volatile u32 faults_in_flight, sections_begun;

/* Lockless sections begun and left, faults and memory calls together. */
static u32 lockless_begun(void)
{
	return *(volatile u32 *)&fault_stats.unlocked + *(volatile u32 *)&mm_call_stats.unlocked;
}

static u32 lockless_left(void)
{
	return *(volatile u32 *)&fault_stats.unlocked_done +
	       *(volatile u32 *)&mm_call_stats.unlocked_done;
}

u32 faults_quiet_begin(void)
{
	for (;;) {
		u32 ticket = lockless_begun();
		if (ticket == lockless_left())
			return ticket;
		smp_poll_ipi_work(); /* a fault in flight may wait for this CPU's shootdown answer */
		cpu_relax();
	}
}

/* x86 keeps loads in order (SDM vol. 3 8.2.2), and a fault or memory call
 * counts itself with a locked increment before it writes anything: a read
 * that saw one of its writes is followed by a read of the count that sees
 * it too. */
bool faults_quiet_since(u32 ticket)
{
	barrier();
	return lockless_begun() == ticket;
}

/* A memory call's section: returns a token for mm_call_leave, which counts
 * the call as concurrent if another CPU's fault or call was inside such a
 * section when it began, began one meanwhile, or is inside one at its end. */
u32 mm_call_enter(void)
{
	atomic_inc(&mm_call_stats.unlocked);
	if (kernel_lock_elsewhere())
		atomic_inc(&mm_call_stats.beside_kernel_lock);
	u32 begun = (u32)atomic_add_return((volatile s32 *)&sections_begun, 1);
	bool inside = atomic_add_return((volatile s32 *)&faults_in_flight, 1) > 1;
	return inside ? 0 : begun; /* 0: overlapped already (begun is never 0 here but on wrap) */
}

void mm_call_leave(u32 token)
{
	bool others = atomic_add_return((volatile s32 *)&faults_in_flight, -1) > 0;
	if (others || !token || *(volatile u32 *)&sections_begun != token)
		atomic_inc(&mm_call_stats.concurrent);
}

void mm_call_done(void)
{
	atomic_inc(&mm_call_stats.unlocked_done);
}

static int fault_attempt(struct mm_struct *mm, u32 addr, bool write, bool exec, bool with_lock);

/* Does the fault at addr meet a swap entry in its window (mm lock held)? */
static bool fault_meets_swap(struct mm_struct *mm, u32 addr)
{
	pmd_t *pmd = user_pmd(mm->pgd, addr);
	if (!pmd_present(*pmd))
		return false;
	pte_t *pte = pte_offset_map(pmd, addr);
	u32 w = addr & WINDOW_MASK;
	bool swap = window_swap_entry(pte - ((addr - w) >> MMUPAGE_SHIFT)) != 0;
	pte_unmap(pte);
	return swap;
}

/*
 * Faults from ring 3 come here without the kernel lock (arch/traps.c) in
 * anon_vma builds; mm->page_table_lock covers the address space.  What
 * still needs the kernel lock -- reclaim (its reverse-map walks and
 * pageout's slot counting), swap-in (the swap device and its cache), the
 * pte_chain reverse map -- makes the fault take it first (it is the
 * outermost lock, so the mm lock is let go and taken again).  A lockless
 * fault that found no memory tries once more under the kernel lock, with
 * reclaim: faults on other CPUs may have taken the pages it counted on.
 */
int handle_mm_fault(struct mm_struct *mm, u32 addr, bool write, bool exec)
{
	bool had_lock = kernel_lock_held();
	int ret = fault_attempt(mm, addr, write, exec, false);

	if (ret == -ENOMEM && !had_lock) {
		atomic_inc(&fault_stats.retried);
		ret = fault_attempt(mm, addr, write, exec, true);
	}
	return ret;
}

/* One try at a fault; with_lock: under the kernel lock (and reclaim) whatever the memory. */
static int fault_attempt(struct mm_struct *mm, u32 addr, bool write, bool exec, bool with_lock)
{
	u32 flags = mm_lock_mm(mm);
	struct vm_area_struct *vma = find_vma(mm, addr);
	bool legal = vma && vma_allows(vma, write, exec), took_big = false;
	mm_unlock_mm(mm, flags);
	if (!legal)
		return -EFAULT;
	if (!kernel_lock_held() && (with_lock || CONFIG_RMAP_PTE_CHAIN || reclaim_wanted())) {
		lock_kernel();
		took_big = true;
	}
	/* The second try waits for lockless faults in flight to let their mm
	 * locks go: reclaim only tries those locks and would skip their mms. */
	if (with_lock)
		faults_quiet_begin();
	if (kernel_lock_held())
		balance_memory(); /* reclaim, while nothing is mapped or half done (and no mm lock held) */
	flags = mm_lock_mm(mm);
	if (!kernel_lock_held() && fault_meets_swap(mm, addr)) {
		mm_unlock_mm(mm, flags);
		lock_kernel();
		took_big = true;
		flags = mm_lock_mm(mm);
	}
	/* Measured concurrency: another CPU was between these two points too. */
	atomic_inc(&sections_begun);
	if (atomic_add_return((volatile s32 *)&faults_in_flight, 1) > 1)
		atomic_inc(&fault_stats.concurrent);
	bool unlocked = !kernel_lock_held();
	if (unlocked) {
		atomic_inc(&fault_stats.unlocked);
		if (kernel_lock_elsewhere())
			atomic_inc(&fault_stats.beside_kernel_lock);
	}
	int ret = handle_mm_fault_locked(mm, addr, write, exec);
	atomic_add_return((volatile s32 *)&faults_in_flight, -1);
	mm_unlock_mm(mm, flags);
	if (unlocked)
		atomic_inc(&fault_stats.unlocked_done);
	if (took_big)
		unlock_kernel();
	return ret;
}

int handle_mm_fault_locked(struct mm_struct *mm, u32 addr, bool write, bool exec)
{
	struct vm_area_struct *vma = find_vma(mm, addr);
	int ret = 0;

	if (!vma || !vma_allows(vma, write, exec))
		return -EFAULT;
	pmd_t *pmd = pmd_alloc_table(mm, addr);
	if (!pmd)
		return -ENOMEM;
	pte_t *pte = pte_offset_map(pmd, addr);
	pte_t e = ptep_get(pte);
	if (vma->vm_flags & VM_IMAGE)
		ret = pte_present(e) ? -EFAULT : do_image_page(vma, addr, pte);
	else if (is_swap_pte(e))
		ret = do_swap_page(mm, addr, pte);
	else if (!pte_mapped(e))
		ret = do_anonymous_page(mm, vma, addr, pte);
	else if (write && !pte_write(e))
		ret = do_wp_page(mm, vma, addr, pte);
	else
		flush_user_page(mm, addr); /* rights were raised without a flush (SDM 4.10.4.3) */
	/* A deliberate bug for the stress suite to catch (make BREAK=pte-unmap): with
	 * highpte, KM_PTE0 stays mapped, which the debug checks catch at the next
	 * context switch, return to user or mapping of KM_PTE0. */
	if (!CONFIG_BREAK_PTE_UNMAP)
		pte_unmap(pte);
	return ret;
}

/* Frees the PTE table under pmd if none of its entries is in use. */
static void free_table_if_empty(struct mm_struct *mm, pmd_t *pmd, u32 table_base)
{
	pte_t *pt = pte_offset_map(pmd, table_base);
	for (u32 i = 0; i < PTRS_PER_PTE; i++)
		if (!pte_none(pt[i])) {
			pte_unmap(pt);
			return;
		}
	pte_unmap(pt);
	u64 frame = pmd_table_paddr(*pmd) >> MMUPAGE_SHIFT;
	pmd_clear(pmd);
	flush_user_all(mm);
	if (frame_to_page(frame)->flags & (1u << PG_highmem))
		mm->pte_pages_highmem--;
	mm->pte_pages--;
	pt_free(frame);
}

/*
 * An unmap batch: the PTEs of a range are cleared first, the translations
 * shot down once for the whole range, and only then are the clusters let go
 * (and the audit told): a frame is never freed while some CPU may still
 * translate to it (SDM vol. 3 4.10.5), and a munmap of N pages costs one
 * shootdown instead of N.  The batch holds a reference on each cluster
 * whose last slot it cleared until after the flush.
 */
#define ZAP_BATCH_PAGES 16u
#define ZAP_BATCH_SLOTS (ZAP_BATCH_PAGES * WINDOW_SLOTS)

struct zap_batch {
	struct mm_struct *mm;
	u32 start, end;                         /* what was cleared since the last flush */
	u32 nr_pages, nr_slots;
	struct page *pages[ZAP_BATCH_PAGES];
	struct { u32 addr, frame; } slots[ZAP_BATCH_SLOTS]; /* for the audit (frames < 2^32) */
};

/* The shootdown, then the audit points, then the references go. */
static void zap_batch_flush(struct zap_batch *b)
{
	if (b->nr_slots)
		flush_user_range(b->mm, b->start, b->end);
	for (u32 i = 0; i < b->nr_slots; i++)
		audit_gone(AUDIT_MUNMAP, b->slots[i].addr, b->slots[i].frame);
	for (u32 i = 0; i < b->nr_pages; i++)
		put_page(b->pages[i]);
	b->nr_slots = b->nr_pages = 0;
}

/* Before clearing a window's slots: room for all of them and its cluster. */
static void zap_batch_room(struct zap_batch *b)
{
	if (b->nr_pages == ZAP_BATCH_PAGES || b->nr_slots + WINDOW_SLOTS > ZAP_BATCH_SLOTS)
		zap_batch_flush(b);
}

/* A slot was cleared. */
static void zap_batch_slot(struct zap_batch *b, u32 addr, u64 frame)
{
	if (!b->nr_slots)
		b->start = addr;
	b->end = addr + MMUPAGE_SIZE;
	b->slots[b->nr_slots].addr = addr;
	b->slots[b->nr_slots].frame = (u32)frame;
	b->nr_slots++;
}

/*
 * Unmaps [start, end) of vma in one PTE table (pt, mapped): clears the
 * PTEs, and drops a cluster when the last slot of its window goes -- its
 * last reference only after the batch's shootdown.
 */
static void zap_table(struct mm_struct *mm, struct vm_area_struct *vma, pte_t *pt, u32 start,
		      u32 end)
{
	struct zap_batch b = { .mm = mm };

	for (u32 w = start & WINDOW_MASK; w < end; w += PAGE_SIZE) {
		pte_t *wp = pt + pte_index(w);
		struct page *page = window_page(wp);
		u32 swp = window_swap_entry(wp);
		zap_batch_room(&b);
		for (u32 i = 0; i < WINDOW_SLOTS; i++) {
			u32 a = w + i * MMUPAGE_SIZE;
			if (a < start || a >= end)
				continue;
			if (is_swap_pte(wp[i]))
				pte_clear(&wp[i]); /* never present: nothing cached to flush */
			if (!pte_mapped(wp[i]))
				continue;
			pte_t old = ptep_get_and_clear(&wp[i]);
			zap_batch_slot(&b, a, pte_frame(old));
		}
		/* The user image's frames are the kernel's: never counted. */
		if (page && !PageFlag(page, PG_reserved) && !window_page(wp)) {
			get_page(page); /* until the shootdown: another CPU may still read it */
			cluster_unmap(mm, page, w);
			b.pages[b.nr_pages++] = page;
		}
		/* The window's last swap entry went: so does its hold on the slot. */
		if (swp && !window_swap_entry(wp))
			swap_free((swp_entry_t){ swp });
	}
	zap_batch_flush(&b);
}

/*
 * Calls fn for each present PTE table under [start, end), with the table
 * mapped (pt: its first entry) and [a, stop) the part of the range it
 * covers; frees the table afterwards if it emptied (free_empty).  Stops and
 * returns true as soon as fn does.
 */
typedef bool (*table_fn)(struct mm_struct *mm, pte_t *pt, u32 a, u32 stop, void *arg);

static bool walk_tables(struct mm_struct *mm, u32 start, u32 end, table_fn fn, void *arg,
			bool free_empty)
{
	for (u64 a = start; a < end;) {
		u32 table = (u32)a & PMD_MASK;
		u32 stop = (u32)MIN((u64)table + PMD_SIZE, (u64)end);
		pmd_t *pmd = user_pmd(mm->pgd, (u32)a);
		if (pmd_present(*pmd)) {
			pte_t *pt = pte_offset_map(pmd, table);
			bool done = fn(mm, pt, (u32)a, stop, arg);
			pte_unmap(pt);
			if (free_empty)
				free_table_if_empty(mm, pmd, table);
			if (done)
				return true;
		}
		a = stop;
	}
	return false;
}

static bool zap_table_fn(struct mm_struct *mm, pte_t *pt, u32 a, u32 stop, void *vma)
{
	zap_table(mm, vma, pt, a, stop);
	return false;
}

void zap_vma_range(struct mm_struct *mm, struct vm_area_struct *vma, u32 start, u32 end)
{
	walk_tables(mm, start, end, zap_table_fn, vma, true);
}

static bool table_holds_swap(struct mm_struct *mm, pte_t *pt, u32 a, u32 stop, void *unused)
{
	for (; a < stop; a += MMUPAGE_SIZE)
		if (is_swap_pte(pt[pte_index(a)]))
			return true;
	return false;
}

bool range_holds_swap(struct mm_struct *mm, u32 start, u32 end)
{
	return walk_tables(mm, start, end, table_holds_swap, NULL, false);
}

/* Copies one PTE table's part of a VMA into the child, write-protecting
 * private pages on both sides; -ENOMEM if the reverse map ran out. */
static int copy_table(struct mm_struct *dst, struct vm_area_struct *vma, pte_t *spt, pte_t *dpt,
		       u32 start, u32 end)
{
	bool cow = !(vma->vm_flags & (VM_SHARED | VM_IMAGE));

	for (u32 a = start; a < end; a += MMUPAGE_SIZE) {
		pte_t *s = &spt[pte_index(a)];
		pte_t e = ptep_get(s);
		if (is_swap_pte(e)) {
			/* The child's window holds the slot too (once per window). */
			if (!window_swap_entry(dpt + pte_index(a & WINDOW_MASK)))
				swap_duplicate(pte_to_swp_entry(e));
			set_pte(&dpt[pte_index(a)], e);
			continue;
		}
		if (!pte_mapped(e))
			continue;
		if (cow && pte_write(e)) {
			e = __pte(pte_val(e) & ~_PAGE_RW);
			set_pte(s, e);
		}
		pte_t *wd = dpt + pte_index(a & WINDOW_MASK);
		struct page *page = frame_to_page(pte_frame(e) - ((a & ~WINDOW_MASK) >> MMUPAGE_SHIFT));
		if (!PageFlag(page, PG_reserved) && !window_page(wd) &&
		    cluster_map(dst, page, a & WINDOW_MASK))
			return -ENOMEM;
		set_pte(&dpt[pte_index(a)], e);
	}
	return 0;
}

int copy_vma_range(struct mm_struct *dst, struct mm_struct *src, struct vm_area_struct *vma)
{
	int err = 0;

	for (u64 a = vma->vm_start; a < vma->vm_end && !err;) {
		u32 table = (u32)a & PMD_MASK;
		u32 stop = (u32)MIN((u64)table + PMD_SIZE, (u64)vma->vm_end);
		pmd_t *spmd = user_pmd(src->pgd, (u32)a);
		if (pmd_present(*spmd)) {
			pmd_t *dpmd = pmd_alloc_table(dst, (u32)a);
			if (!dpmd) {
				err = -ENOMEM;
				break;
			}
			pte_t *spt = pte_offset_map(spmd, table);
			pte_t *dpt = pte_offset_map_nested(dpmd, table);
			err = copy_table(dst, vma, spt - pte_index(table), dpt - pte_index(table), (u32)a, stop);
			pte_unmap_nested(dpt);
			pte_unmap(spt);
		}
		a = stop;
	}
	flush_user_all(src); /* the parent's PTEs lost their write bit */
	return err;
}

/* Applies vma's (new) rights to its present PTEs in [start, end), then one
 * shootdown for the pages it changed; mprotect returns only after it. */
void change_protection(struct mm_struct *mm, struct vm_area_struct *vma, u32 start, u32 end)
{
	u64 prot = vma_pte_prot(vma);
	u32 first = 0, last = 0; /* [first, last): the PTEs changed */

	for (u32 a = start; a < end; a += MMUPAGE_SIZE) {
		pmd_t *pmd = user_pmd(mm->pgd, a);
		if (!pmd_present(*pmd)) {
			a = (a & PMD_MASK) + PMD_SIZE - MMUPAGE_SIZE;
			if (a >= end - MMUPAGE_SIZE)
				break;
			continue;
		}
		pte_t *pte = pte_offset_map(pmd, a);
		pte_t e = ptep_get(pte);
		if (pte_mapped(e)) {
			struct page *page = frame_to_page(pte_frame(e));
			u64 p = prot;
			/* A shared cluster stays read-only: the write fault copies it.  So
			 * does one in the swap cache (shared with windows holding its entry). */
			if (!(vma->vm_flags & VM_IMAGE) && !(vma->vm_flags & VM_SHARED) &&
			    (page->mapcount > 0 || PageFlag(page, PG_swapcache)))
				p &= ~_PAGE_RW;
			set_pte(pte, mk_pte_frame(pte_frame(e), p));
			if (last == 0)
				first = a;
			last = a + MMUPAGE_SIZE;
		}
		pte_unmap(pte);
	}
	if (last)
		flush_user_range(mm, first, last);
}

void free_user_tables(struct mm_struct *mm)
{
	for (u64 a = 0; a < TASK_SIZE; a += PMD_SIZE) {
		pmd_t *pmd = user_pmd(mm->pgd, (u32)a);
		if (pmd_present(*pmd))
			free_table_if_empty(mm, pmd, (u32)a);
		if (pmd_present(*pmd))
			panic("free_user_tables: a PTE table at %08x still maps pages", (u32)a);
	}
}

u64 user_pte_frame(struct mm_struct *mm, u32 addr, bool *writable)
{
	pmd_t *pmd = user_pmd(mm->pgd, addr);
	u64 frame = 0;

	if (!pmd_present(*pmd))
		return 0;
	pte_t *pte = pte_offset_map(pmd, addr);
	pte_t e = ptep_get(pte);
	if (pte_present(e)) {
		frame = pte_frame(e);
		if (writable)
			*writable = pte_write(e);
	}
	pte_unmap(pte);
	return frame;
}
