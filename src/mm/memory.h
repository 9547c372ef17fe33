/* What mmap.c needs from memory.c (page tables) and from the reverse map. */
#ifndef MM_MEMORY_H
#define MM_MEMORY_H
#include "mm/mm.h"

extern struct mm_struct init_mm;

/* Faults (handle_mm_fault), counted on every CPU at once. */
struct fault_stats {
	u32 concurrent; /* found another fault inside its mm lock on another CPU */
	u32 unlocked;   /* resolved without the kernel lock (counted at the start) */
	u32 unlocked_done; /* ... and finished: unlocked - unlocked_done are in flight */
	u32 beside_kernel_lock; /* unlocked, while another CPU held the kernel lock */
	u32 retried;    /* unlocked, found no memory: tried again with the kernel lock and reclaim */
};
extern struct fault_stats fault_stats;

/* Memory calls (mmap, munmap, mprotect) of ring-3 tasks that ran without the
 * kernel lock (mm/mmap.c), counted like faults. */
struct mm_call_stats {
	u32 unlocked;      /* ran their mm-locked section without the kernel lock */
	u32 unlocked_done; /* ... and left it */
	u32 concurrent;    /* another CPU was in a fault's or memory call's section meanwhile
			    * (inside at its start or end, or began one in between) */
	u32 beside_kernel_lock; /* unlocked, while another CPU held the kernel lock */
	u32 took_for_swap;   /* called without it, took it: an unmap over swap entries */
	u32 took_for_shared; /* ... a MAP_SHARED mmap (populate may reclaim) */
};
extern struct mm_call_stats mm_call_stats;
/* A memory call's mm-locked section without the kernel lock (mm lock held):
 * counted for faults_quiet_* and the statistics. */
u32 mm_call_enter(void); /* a token for mm_call_leave */
void mm_call_leave(u32 token); /* before the mm lock is let go */
void mm_call_done(void);  /* after */
/* Does [start, end) of mm hold a swap entry?  (mm lock held.) */
bool range_holds_swap(struct mm_struct *mm, u32 start, u32 end);

/* handle_mm_fault (mm.h) without reclaim, mm->page_table_lock held. */
int handle_mm_fault_locked(struct mm_struct *mm, u32 addr, bool write, bool exec);
/*
 * A consistent look at what lockless faults and memory calls change one
 * field at a time (a copy-on-write fault or an munmap drops a cluster's
 * mapcount, then its count): faults_quiet_begin waits until no fault and no
 * memory call runs without the kernel lock and returns a ticket; what was
 * read after it holds if faults_quiet_since(ticket) is still true after the
 * reads, else read again.  For a caller that holds the kernel lock (every
 * other writer of those fields takes it) and no mm lock; it answers TLB
 * shootdowns while it waits (a fault may wait for it).  A lockless section
 * never waits for the kernel lock, so the wait ends.
 */
u32 faults_quiet_begin(void);
bool faults_quiet_since(u32 ticket);
/* Clears the PTEs of [start, end) in vma and drops the clusters they mapped. */
void zap_vma_range(struct mm_struct *mm, struct vm_area_struct *vma, u32 start, u32 end);
/* fork: copies vma's PTEs into dst, private pages write-protected on both sides. */
int copy_vma_range(struct mm_struct *dst, struct mm_struct *src, struct vm_area_struct *vma);
/* Rewrites the present PTEs of [start, end) with vma's rights. */
void change_protection(struct mm_struct *mm, struct vm_area_struct *vma, u32 start, u32 end);
/* Frees every PTE table (all must be empty) of mm. */
void free_user_tables(struct mm_struct *mm);
u64 vma_pte_prot(const struct vm_area_struct *vma);
void flush_user_page(struct mm_struct *mm, u32 addr);
/* The same for [start, end): one shootdown for the whole range. */
void flush_user_range(struct mm_struct *mm, u32 start, u32 end);
int map_user_stack(struct mm_struct *mm);

/* Reverse-map hooks: a VMA copied at fork or split off joins the original's
 * anon_vma; a VMA going away leaves it. */
#include "mm/rmap.h"
static inline int vma_dup(struct vm_area_struct *child, struct vm_area_struct *parent)
{
	child->anon_vma = parent->anon_vma;
	anon_vma_link(child);
	return 0;
}
static inline void vma_release(struct vm_area_struct *vma)
{
	anon_vma_unlink(vma);
}

#endif
