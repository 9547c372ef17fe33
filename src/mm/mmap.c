/*
 * Address spaces and their VMAs (see mm.h): creating, duplicating at fork,
 * tearing down, and the mmap / munmap / mprotect calls.  The page-table
 * work is in memory.c.
 *
 * The VMA list is sorted and non-overlapping; a call that covers part of a
 * VMA first splits it at the range's edges, so every operation then works on
 * whole VMAs.
 *
 * Locking: mm->page_table_lock (mm_lock_mm, level MM_LOCK_MM: the outermost
 * mm lock, interrupts off) around every change of the VMA list, the page
 * tables and rss -- mmap, munmap, mprotect, fork (the parent's lock, then
 * the child's as a nested lock nobody else can wait for), exit (mmput), the
 * fault path (memory.c).  Reclaim (balance_memory) runs before the lock is
 * taken: its reverse-map walks only try mm locks, so one held here would
 * make it skip this address space.
 *
 * Ring-3 mmap, munmap and mprotect come here without the kernel lock
 * (anon_vma builds, kernel/syscall.c) and take it themselves, outermost,
 * before the mm lock (mm_call_lock): for an unmap over swap entries and for
 * a MAP_SHARED mmap (populate reclaims); after it, to free the anon_vmas
 * they emptied (rmap.c).  What else they reach locks itself: the VMA and
 * anon_vma slab caches, anon_vma lists (their lock; fork links under the
 * kernel lock and its parent's mm lock, a lockless munmap of another mm may
 * unlink from the same list at once), page->count and mapcount (atomic),
 * the page allocator, PTE-table pools, LRU lists, TLB shootdowns (a CPU
 * spinning on a lock answers them), the audit points (kernel/audit.c) and
 * printk.  Only the mm's own task changes its VMA list, so a VMA stays
 * while populate lets the mm lock go.
 */
#include "mm/mm.h"
#include "mm/memory.h"
#include "mm/slab.h"
#include "kernel/panic.h"
#include "lib/string.h"
#include "arch/io.h"
#include "arch/smp.h"
#include "arch/spinlock.h"
#include "arch/tlbflush.h"
#include "kernel/audit.h"
#include "mm/mm_locks.h"
#include "mm/rmap.h"
#include "mm/vmscan.h"
#include "kernel/task.h"

#define TASK_UNMAPPED_BASE 0x40000000u /* where mmap(NULL, ...) starts looking */

static struct kmem_cache *mm_cache, *vma_cache;
struct mm_struct init_mm; /* the kernel-only address space: swapper_pg_dir */
struct mm_struct *current_mm_of_cpu[8];

void mm_init(void)
{
	mm_cache = kmem_cache_create("mm_struct", sizeof(struct mm_struct), 4);
	vma_cache = kmem_cache_create("vm_area_struct", sizeof(struct vm_area_struct), 4);
	rmap_init();
	init_mm.pgd = swapper_pg_dir;
	INIT_LIST_HEAD(&init_mm.mmap);
	init_mm.users = 1;
	current_mm_of_cpu[smp_processor_id()] = &init_mm;
}

struct mm_struct *mm_alloc(void)
{
	struct mm_struct *mm = kmem_cache_alloc(mm_cache, GFP_KERNEL | __GFP_ZERO);

	if (!mm)
		return NULL;
	mm->pgd = pgd_alloc_user();
	if (!mm->pgd) {
		kmem_cache_free(mm_cache, mm);
		return NULL;
	}
	INIT_LIST_HEAD(&mm->mmap);
	mm->users = 1;
	mm->page_table_lock = (spinlock_t)SPINLOCK_INIT;
	return mm;
}

u32 mm_lock_mm(struct mm_struct *mm)
{
	return mm_lock(&mm->page_table_lock, MM_LOCK_MM);
}

void mm_unlock_mm(struct mm_struct *mm, u32 flags)
{
	mm_unlock(&mm->page_table_lock, MM_LOCK_MM, flags);
}

void switch_mm(struct mm_struct *prev, struct mm_struct *next)
{
	int cpu = smp_processor_id();

	struct mm_struct *loaded = current_mm_of_cpu[cpu];

	(void)prev; /* what is really loaded is what counts */
	if (!next)
		next = &init_mm;
	if (loaded == next)
		return;
	/* Locked: shootdown initiators on other CPUs read the masks. */
	if (loaded)
		atomic_andnot(&loaded->cpu_mask, 1u << cpu);
	atomic_or(&next->cpu_mask, 1u << cpu);
	current_mm_of_cpu[cpu] = next;
	/* Loads the new tables; non-global entries are flushed (SDM 4.10.4.1);
	 * under PAE the four PDPTEs are loaded here too (SDM 4.4.1). */
	write_cr3(pgd_cr3(next->pgd));
	audit_cr3(AUDIT_CR3_LOAD, pgd_cr3(next->pgd));
}

struct vm_area_struct *find_vma(struct mm_struct *mm, u32 addr)
{
	struct list_head *l;

	list_for_each(l, &mm->mmap) {
		struct vm_area_struct *v = list_entry(l, struct vm_area_struct, vm_list);
		if (addr < v->vm_start)
			return NULL;
		if (addr < v->vm_end)
			return v;
	}
	return NULL;
}

/* Inserts vma in address order. */
static void vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct list_head *l;

	list_for_each(l, &mm->mmap)
		if (list_entry(l, struct vm_area_struct, vm_list)->vm_start > vma->vm_start)
			break;
	list_add_tail(&vma->vm_list, l);
	vma->vm_mm = mm;
	mm->map_count++;
}

static void vma_unlink_free(struct mm_struct *mm, struct vm_area_struct *vma)
{
	list_del(&vma->vm_list);
	mm->map_count--;
	kmem_cache_free(vma_cache, vma);
}

static struct vm_area_struct *vma_new(u32 start, u32 end, u32 flags, u32 pgoff)
{
	struct vm_area_struct *v = kmem_cache_alloc(vma_cache, GFP_KERNEL | __GFP_ZERO);

	if (v) {
		v->vm_start = start;
		v->vm_end = end;
		v->vm_flags = flags;
		v->vm_pgoff = pgoff;
		INIT_LIST_HEAD(&v->anon_vma_node);
	}
	return v;
}

/* Splits vma at addr (inside it): vma keeps [start, addr), a new VMA gets the rest. */
static int vma_split(struct mm_struct *mm, struct vm_area_struct *vma, u32 addr)
{
	struct vm_area_struct *tail = vma_new(addr, vma->vm_end, vma->vm_flags,
					      vma->vm_pgoff + ((addr - vma->vm_start) >> MMUPAGE_SHIFT));
	if (!tail)
		return -ENOMEM;
	vma->vm_end = addr;
	vma_link(mm, tail);
	vma_dup(tail, vma);
	return 0;
}

/* Splits the VMAs that straddle start or end, so [start, end) covers whole VMAs. */
static int split_range(struct mm_struct *mm, u32 start, u32 end)
{
	struct vm_area_struct *v = find_vma(mm, start);
	int err = 0;

	if (v && v->vm_start < start)
		err = vma_split(mm, v, start);
	v = find_vma(mm, end);
	if (!err && v && v->vm_start < end)
		err = vma_split(mm, v, end);
	return err;
}

static bool range_ok(u32 addr, u32 len)
{
	return !(addr & ~MMUPAGE_MASK) && len && addr >= USER_BASE && addr + len > addr &&
	       addr + len <= TASK_SIZE;
}

static u32 prot_to_flags(u32 prot)
{
	return ((prot & PROT_READ) ? VM_READ : 0) | ((prot & PROT_WRITE) ? VM_WRITE : 0) |
	       ((prot & PROT_EXEC) ? VM_EXEC : 0);
}

/* A free gap of len bytes at or above TASK_UNMAPPED_BASE, or 0. */
static u32 find_free_area(struct mm_struct *mm, u32 len)
{
	u32 addr = TASK_UNMAPPED_BASE;
	struct list_head *l;

	list_for_each(l, &mm->mmap) {
		struct vm_area_struct *v = list_entry(l, struct vm_area_struct, vm_list);
		if (v->vm_end <= addr)
			continue;
		if (v->vm_start >= addr + len)
			break;
		addr = ALIGN_UP(v->vm_end, PAGE_SIZE);
	}
	return (u64)addr + len <= USER_STACK_TOP - USER_STACK_SIZE ? addr : 0;
}

/* The next VMA at or after addr, or NULL. */
static struct vm_area_struct *vma_at_or_after(struct mm_struct *mm, u32 addr)
{
	struct list_head *l;

	list_for_each(l, &mm->mmap) {
		struct vm_area_struct *v = list_entry(l, struct vm_area_struct, vm_list);
		if (v->vm_end > addr)
			return v;
	}
	return NULL;
}

/*
 * Shared anonymous memory has no object behind it that a later fault could
 * find: its clusters are allocated at mmap time, so that every address space
 * that inherits the VMA at fork maps the same ones.
 */
static int populate(struct mm_struct *mm, struct vm_area_struct *v, u32 *lock_flags)
{
	u32 flags = v->vm_flags;
	int err = 0;

	/* PROT_NONE too: the clusters must exist before a fork can share them. */
	v->vm_flags |= VM_READ;
	for (u32 w = v->vm_start & PAGE_MASK; w < v->vm_end && !err; w += PAGE_SIZE) {
		/* Reclaim runs without the mm lock (its walks would skip this mm);
		 * v stays: a MAP_SHARED mmap holds the kernel lock (do_mmap), and
		 * only the mm's one task changes its VMA list anyway. */
		mm_unlock_mm(mm, *lock_flags);
		balance_memory();
		*lock_flags = mm_lock_mm(mm);
		err = handle_mm_fault_locked(mm, MAX(w, v->vm_start), false, false);
	}
	v->vm_flags = flags;
	if (!(flags & (VM_READ | VM_WRITE | VM_EXEC)))
		change_protection(mm, v, v->vm_start, v->vm_end);
	return err;
}

/*
 * A cluster window maps one cluster (memory.c), so shared and private memory
 * must not meet inside one: a new mapping [start, end) may not share a
 * window with a VMA outside it when either of them is shared.  (pgcl1: a
 * window is one frame, nothing ever conflicts.)
 */
static bool window_conflict(struct mm_struct *mm, u32 start, u32 end, bool shared)
{
	u32 ws = start & PAGE_MASK;
	u64 we = ALIGN_UP((u64)end, (u64)PAGE_SIZE);
	struct list_head *l;

	list_for_each(l, &mm->mmap) {
		struct vm_area_struct *v = list_entry(l, struct vm_area_struct, vm_list);
		/* Does part of v stay in the windows once [start, end) is replaced? */
		bool left = ws < start && v->vm_start < start && v->vm_end > ws;
		bool right = end < we && v->vm_end > end && v->vm_start < we;
		if ((left || right) && (shared || (v->vm_flags & VM_SHARED)))
			return true;
	}
	return false;
}

/* do_munmap with mm->page_table_lock held. */
static int munmap_locked(struct mm_struct *mm, u32 addr, u32 len)
{
	len = ALIGN_UP(len, MMUPAGE_SIZE);
	if (!range_ok(addr, len))
		return -EINVAL;
	u32 end = addr + len;
	int err = split_range(mm, addr, end);
	if (err)
		return err;
	struct vm_area_struct *v;
	while ((v = vma_at_or_after(mm, addr)) && v->vm_start < end) {
		zap_vma_range(mm, v, v->vm_start, v->vm_end);
		vma_release(v);
		vma_unlink_free(mm, v);
	}
	return 0;
}

/*
 * A memory call's locks.  With the kernel lock (kernel threads, tests, the
 * pte_chain build, every other system call) the mm lock is all.  Without it
 * (a ring-3 mmap, munmap or mprotect, kernel/syscall.c), the kernel lock is
 * taken first -- it is the outermost lock, so the mm lock is let go and
 * taken again -- when the call would unmap [start, end) and that range holds
 * a swap entry: freeing the window's hold on the slot meets reclaim's slot
 * counting and the swap cache, which rely on the kernel lock (vmscan.c).
 * Nothing can put a swap entry into the range while the mm lock is held
 * (try_to_unmap needs it), so the look and the unmap agree.  Otherwise the
 * call's section is counted (mm_call_enter: faults_quiet_* and statistics).
 */
struct mm_call {
	u32 flags;       /* of mm_lock_mm */
	bool took_big;   /* took the kernel lock itself */
	bool counted;    /* a lockless section (mm_call_enter) */
	u32 token;
};

static void mm_call_lock(struct mm_struct *mm, struct mm_call *c, bool unmaps, u32 start, u32 len)
{
	c->took_big = c->counted = false;
	c->flags = mm_lock_mm(mm);
	if (kernel_lock_held())
		return;
	u32 end = start + ALIGN_UP(len, MMUPAGE_SIZE);
	if (unmaps && range_ok(start, end - start) && range_holds_swap(mm, start, end)) {
		mm_unlock_mm(mm, c->flags);
		lock_kernel();
		atomic_inc(&mm_call_stats.took_for_swap);
		c->took_big = true;
		c->flags = mm_lock_mm(mm);
		return;
	}
	c->counted = true;
	c->token = mm_call_enter();
}

static void mm_call_unlock(struct mm_struct *mm, struct mm_call *c)
{
	if (c->counted)
		mm_call_leave(c->token);
	mm_unlock_mm(mm, c->flags);
	if (c->counted)
		mm_call_done();
	if (c->took_big)
		unlock_kernel();
	anon_vma_free_deferred(); /* the anon_vmas this call emptied (rmap.c) */
}

int do_munmap(struct mm_struct *mm, u32 addr, u32 len)
{
	struct mm_call c;

	mm_call_lock(mm, &c, true, addr, len);
	int err = munmap_locked(mm, addr, len);
	mm_call_unlock(mm, &c);
	return err;
}

static s32 mmap_locked(struct mm_struct *mm, u32 addr, u32 len, u32 prot, u32 flags,
		       u32 *lock_flags)
{
	u32 vmf;

	if (!(flags & MAP_ANONYMOUS) || !(flags & (MAP_SHARED | MAP_PRIVATE)) ||
	    (flags & MAP_SHARED && flags & MAP_PRIVATE) || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	len = ALIGN_UP(len, MMUPAGE_SIZE);
	if (!len || len > TASK_SIZE)
		return -EINVAL;
	if (flags & MAP_FIXED) {
		if (!range_ok(addr, len))
			return -EINVAL;
		if (window_conflict(mm, addr, addr + len, flags & MAP_SHARED))
			return -EINVAL;
		int err = munmap_locked(mm, addr, len);
		if (err)
			return err;
	} else {
		if (flags & MAP_SHARED)
			len = ALIGN_UP(len, PAGE_SIZE); /* whole windows (see window_conflict) */
		addr = find_free_area(mm, len);
		if (!addr)
			return -ENOMEM;
	}
	vmf = prot_to_flags(prot) | ((flags & MAP_SHARED) ? VM_SHARED : 0);
	struct vm_area_struct *v = vma_new(addr, addr + len, vmf, addr >> MMUPAGE_SHIFT);
	if (!v)
		return -ENOMEM;
	vma_link(mm, v);
	if ((vmf & VM_SHARED) && populate(mm, v, lock_flags)) {
		munmap_locked(mm, addr, len);
		return -ENOMEM;
	}
	return (s32)addr;
}

s32 do_mmap(struct mm_struct *mm, u32 addr, u32 len, u32 prot, u32 flags)
{
	struct mm_call c;
	/* A shared mapping is populated at once, and populate reclaims (the
	 * kernel lock's work): such a call takes the kernel lock for the whole. */
	bool big = (flags & MAP_SHARED) && !kernel_lock_held();

	if (big) {
		lock_kernel();
		atomic_inc(&mm_call_stats.took_for_shared);
	}
	mm_call_lock(mm, &c, flags & MAP_FIXED, addr, len);
	s32 ret = mmap_locked(mm, addr, len, prot, flags, &c.flags);
	mm_call_unlock(mm, &c);
	if (big)
		unlock_kernel();
	return ret;
}

static int mprotect_locked(struct mm_struct *mm, u32 addr, u32 len, u32 prot)
{
	len = ALIGN_UP(len, MMUPAGE_SIZE);
	if (!range_ok(addr, len) || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	u32 end = addr + len;
	/* The whole range must be mapped (as POSIX asks: ENOMEM otherwise). */
	for (u32 a = addr; a < end;) {
		struct vm_area_struct *v = find_vma(mm, a);
		if (!v)
			return -ENOMEM;
		if (v->vm_flags & VM_IMAGE)
			return -EPERM;
		a = v->vm_end;
	}
	int err = split_range(mm, addr, end);
	if (err)
		return err;
	for (struct vm_area_struct *v = vma_at_or_after(mm, addr); v && v->vm_start < end;
	     v = vma_at_or_after(mm, v->vm_end)) {
		v->vm_flags = (v->vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | prot_to_flags(prot);
		change_protection(mm, v, v->vm_start, v->vm_end);
	}
	return 0;
}

int do_mprotect(struct mm_struct *mm, u32 addr, u32 len, u32 prot)
{
	struct mm_call c;

	mm_call_lock(mm, &c, false, addr, len);
	int err = mprotect_locked(mm, addr, len, prot);
	mm_call_unlock(mm, &c);
	return err;
}

int map_user_image(struct mm_struct *mm, u32 addr, u32 phys, u32 len)
{
	struct vm_area_struct *v = vma_new(addr, addr + ALIGN_UP(len, MMUPAGE_SIZE),
					   VM_READ | VM_EXEC | VM_IMAGE, phys >> MMUPAGE_SHIFT);
	if (!v)
		return -ENOMEM;
	u32 flags = mm_lock_mm(mm);
	vma_link(mm, v);
	mm_unlock_mm(mm, flags);
	return 0;
}

int map_user_stack(struct mm_struct *mm)
{
	struct vm_area_struct *v = vma_new(USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_TOP,
					   VM_READ | VM_WRITE | VM_STACK,
					   (USER_STACK_TOP - USER_STACK_SIZE) >> MMUPAGE_SHIFT);
	if (!v)
		return -ENOMEM;
	u32 flags = mm_lock_mm(mm);
	vma_link(mm, v);
	mm_unlock_mm(mm, flags);
	return 0;
}

struct mm_struct *dup_mm(struct mm_struct *old)
{
	struct mm_struct *mm = mm_alloc();
	struct list_head *l;

	if (!mm)
		return NULL;
	/* The parent's lock, then the child's: new, so only the reverse map's
	 * trylocks (once its VMAs join anon_vmas) can meet it. */
	u32 flags = mm_lock_mm(old);
	int cpu = smp_processor_id();
	mm_lock_nested_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu);
	bool ok = true;
	list_for_each(l, &old->mmap) {
		struct vm_area_struct *v = list_entry(l, struct vm_area_struct, vm_list);
		struct vm_area_struct *c = vma_new(v->vm_start, v->vm_end, v->vm_flags, v->vm_pgoff);
		if (!c) {
			ok = false;
			break;
		}
		vma_link(mm, c);
		if (vma_dup(c, v) || copy_vma_range(mm, old, v)) {
			ok = false;
			break;
		}
	}
	mm_unlock_nested_irqs_off(&mm->page_table_lock);
	mm_unlock_mm(old, flags);
	if (ok)
		return mm;
	mmput(mm);
	return NULL;
}

void mmput(struct mm_struct *mm)
{
	int cpu = smp_processor_id();

	if (!mm || atomic_add_return((volatile s32 *)&mm->users, -1) > 0)
		return;
	/* Tables are about to go: this CPU must not be running on them. */
	if (current_mm_of_cpu[cpu] == mm)
		switch_mm(mm, &init_mm);
	tlb_mm_release(mm); /* lazy CPUs that still have it loaded leave it */
	/* The last user: only reverse-map walks (trylocks) can still reach it. */
	u32 flags = mm_lock_mm(mm);
	while (!list_empty(&mm->mmap)) {
		struct vm_area_struct *v = list_first_entry(&mm->mmap, struct vm_area_struct, vm_list);
		zap_vma_range(mm, v, v->vm_start, v->vm_end);
		vma_release(v);
		vma_unlink_free(mm, v);
	}
	free_user_tables(mm);
	mm_unlock_mm(mm, flags);
	if (mm->rss || mm->pte_pages)
		panic("mmput: %u clusters and %u PTE tables still accounted", mm->rss, mm->pte_pages);
	pgd_free_user(mm->pgd);
	kmem_cache_free(mm_cache, mm);
}
