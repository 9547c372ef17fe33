/*
 * Address spaces: an mm_struct is a user address space (page tables plus a
 * sorted list of VMAs); a VMA is a range of it with one set of rights.
 *
 * User space is [USER_BASE, TASK_SIZE): the low 3 GiB.  Addresses and
 * lengths handed in by user space are in 4 KiB (MMUPAGE) units: a VMA may
 * start or end inside a cluster (pgcl4), which is why a fault maps only the
 * frames of a cluster that fall inside the VMA.
 *
 * Page tables: the top levels (page directory; under PAE the PDPT and its
 * three user page directories) live in lowmem; PTE pages come from HighMem
 * in the highpte variants and are reached only through pte_offset_map /
 * pte_unmap (kmap_atomic slots KM_PTE0 and KM_PTE1).  Kernel page tables are
 * shared: every mm points at the same kernel PMDs.
 *
 * Counting (pgcl4 too): page->count holds one reference per mm that maps
 * the cluster (plus any kernel references), and page->mapcount + 1 is the
 * number of mms mapping it; both change once per cluster per mm, however
 * many of the cluster's 4 KiB PTEs are present (a cluster is mapped at one
 * cluster-aligned virtual window per mm).
 *
 * Locking: mm->page_table_lock (mm_lock_mm) guards an address space's VMA
 * list, page tables, rss and pte_pages: the fault path (memory.c), mmap,
 * munmap, mprotect, fork (parent, then the new child nested) and exit
 * (mmput) take it.  anon_vma->lock guards an anon_vma's VMA list and the
 * page->mapping of its pages (rmap.c).  page->mapcount changes atomically
 * (several mms share a cluster after fork, each under its own lock).
 * Reverse-map walks (try_to_unmap, page_referenced) hold the anon_vma lock
 * and only TRY each mm's lock, skipping (and counting) a busy one.  Ring-3
 * page faults run without the kernel lock (anon_vma builds; arch/traps.c)
 * and take it only for reclaim, swap-in or the pte_chain reverse map; so
 * do ring-3 mmap, munmap and mprotect (kernel/syscall.c), which take it
 * (mmap.c) for an unmap over swap entries (reclaim's slot counting), a
 * MAP_SHARED mmap (populate reclaims) and to free an anon_vma they emptied
 * (rmap.c: reclaim's lookups through page->mapping).  fork, exit, the
 * other system calls and reclaim still hold it (kernel/task.h).  Ring 3 of the mm may run on other CPUs meanwhile,
 * which is why a PTE change that removes or narrows a translation is
 * followed by a TLB shootdown to mm->cpu_mask (arch/tlbflush.h) before
 * what it pointed at is reused; it is sent with the mm lock held, and a CPU
 * spinning on any of these locks answers it (arch/spinlock.h).  The layers
 * below lock themselves and may be called on every CPU at once: the page
 * allocator, the page-table pools, the slab caches and kmalloc, the swap
 * slot map and swap cache, the LRU lists, pkmap (highmem.c) and printk.
 *
 * Lock order (outermost first; mm/mm_locks.h checks it per CPU in debug
 * builds and panics naming both locks):
 *     kernel lock
 *       -> an mm's page_table_lock (mmap.c; fork: the child's nested)
 *       -> an anon_vma's lock   (rmap.c; try_to_unmap then TRIES mm locks)
 *       -> swap_lock        (swap.c: slot map, swap cache, swap_stats)
 *       -> lru_lock         (vmscan.c: active/inactive lists)
 *       -> a slab cache's lock (slab.c; one at a time)
 *       -> pt_lock          (ptpool.c: page-table frame pools, pt_stats)
 *       -> a hot list's lock (page_alloc.c: pcp, per zone and CPU)
 *       -> a zone's lock    (page_alloc.c: buddy lists, free_pages)
 * All of them are ticket spinlocks held with interrupts off, which also
 * keeps the holder from being preempted or migrated (mm/mm_locks.h; up
 * variants: the interrupt flag only); none is held across a sleep or I/O.  pkmap's lock, printk's lock, sched_lock and the TLB
 * shootdown lock are leaves outside this order (nothing above is taken under
 * them).
 */
#ifndef MM_MM_H
#define MM_MM_H
#include "lib/list.h"
#include "arch/spinlock.h"
#include "mm/page.h"
#include "user/uapi.h"

#define USER_BASE 0x00001000u  /* page 0 stays unmapped: NULL faults */
#define TASK_SIZE 0xc0000000u  /* user space ends where the kernel starts */
/* USER_IMAGE_BASE (the test programs, read-only and executable), the user
 * stack, PROT_*, MAP_* and the error numbers are the user ABI: user/uapi.h. */

/* vm_flags */
#define VM_READ 0x01u
#define VM_WRITE 0x02u
#define VM_EXEC 0x04u
#define VM_SHARED 0x08u   /* MAP_SHARED: fork shares the pages, no copy-on-write */
#define VM_IMAGE 0x10u    /* the user image: kernel-owned frames, never freed */
#define VM_STACK 0x20u

struct anon_vma;

struct vm_area_struct {
	u32 vm_start, vm_end;          /* [start, end), 4 KiB aligned */
	u32 vm_flags;
	u32 vm_pgoff;                  /* linear offset of vm_start, in 4 KiB frames */
	struct mm_struct *vm_mm;
	struct list_head vm_list;      /* the mm's VMAs, sorted by address */
	struct anon_vma *anon_vma;     /* reverse mapping (the rmap work) */
	struct list_head anon_vma_node;
};

struct mm_struct {
	pgd_t *pgd;                    /* lowmem: page directory or PDPT */
	struct list_head mmap;         /* VMAs, sorted */
	u32 map_count;                 /* number of VMAs */
	int users;                     /* tasks using it */
	u32 rss;                       /* clusters mapped (count once per cluster) */
	u32 pte_pages;                 /* page-table (PTE) frames allocated */
	u32 pte_pages_highmem;         /* ... of which in HighMem */
	spinlock_t page_table_lock;    /* VMA list, page tables, rss, pte_pages (mm_lock_mm) */
	volatile u32 cpu_mask;         /* CPUs that may cache its translations */
};


void mm_init(void);                       /* caches for mm_struct and VMAs */
struct mm_struct *mm_alloc(void);         /* empty user space, kernel shared; NULL if out of memory */
struct mm_struct *dup_mm(struct mm_struct *old); /* fork: VMAs copied, private pages copy-on-write */
void mmput(struct mm_struct *mm);         /* drops a user; the last one frees everything */
/* Makes mm the address space of this CPU (loads CR3 when it changes). */
void switch_mm(struct mm_struct *prev, struct mm_struct *next);

/* Maps the user image (kernel frames [phys, phys+len)) read-only and executable at addr. */
int map_user_image(struct mm_struct *mm, u32 addr, u32 phys, u32 len);
/* Anonymous memory; returns the address or a negative error. */
s32 do_mmap(struct mm_struct *mm, u32 addr, u32 len, u32 prot, u32 flags);
int do_munmap(struct mm_struct *mm, u32 addr, u32 len);
int do_mprotect(struct mm_struct *mm, u32 addr, u32 len, u32 prot);
struct vm_area_struct *find_vma(struct mm_struct *mm, u32 addr); /* the VMA containing addr, or NULL */

/*
 * A page fault at addr in mm: write (W/R bit), from user mode (U/S bit),
 * protection violation (P bit) as in the error code (SDM vol. 3 4.7).
 * Returns 0 when the fault was resolved, -EFAULT when the access is illegal
 * (no VMA, or rights the VMA lacks), -ENOMEM when memory ran out.
 */
int handle_mm_fault(struct mm_struct *mm, u32 addr, bool write, bool exec);

/* Where a fault went wrong, for the kill report. */
const char *fault_reason(struct mm_struct *mm, u32 addr, bool write, bool exec);

/* The present PTE's frame mapping addr in mm, or 0 (tests and audits). */
u64 user_pte_frame(struct mm_struct *mm, u32 addr, bool *writable);

extern struct mm_struct *current_mm_of_cpu[8];

/* mm->page_table_lock (level MM_LOCK_MM, interrupts off): returns the flags to restore. */
u32 mm_lock_mm(struct mm_struct *mm);
void mm_unlock_mm(struct mm_struct *mm, u32 flags);

#endif
