/*
 * TLB shootdown: invalidating translations on every CPU that may cache them.
 *
 * Each CPU has its own TLB (SDM vol. 3 4.10.2), and nothing in hardware
 * keeps them coherent with the page tables: a change that removes or
 * narrows a translation (clearing P, changing the frame, removing R/W)
 * takes effect on another CPU only when that CPU invalidates the entry
 * (SDM vol. 3 4.10.5, "propagation of paging-structure changes to multiple
 * processors").  The initiator changes the PTEs, then:
 *   - flushes its own TLB if the mm is loaded here;
 *   - sends a fixed IPI (VEC_TLB_FLUSH) to every other online CPU in
 *     mm->cpu_mask (the CPUs that loaded the mm's CR3 and have not left it);
 *   - waits, interrupts off, until every one of them has acknowledged by
 *     clearing its bit in the request's pending mask after its INVLPGs.
 * Only then may the caller free or reuse what the old translation pointed
 * at.  One request is in flight at a time (tlb_lock); a CPU that spins on
 * any spinlock answers requests for itself meanwhile (arch/spinlock.h), so a
 * lock holder waiting for acknowledgments cannot deadlock with it.
 *
 * Lazy TLB: a CPU running a kernel thread keeps the last user mm loaded
 * (kernel/sched.c).  When a flush for that mm reaches it, it does not flush:
 * it leaves the mm (loads the kernel's page tables, which flushes every
 * non-global entry, and clears its bit in mm->cpu_mask), so later flushes of
 * that mm skip it.  tlb_lazy_policy_flush (benchmarks only) makes lazy CPUs
 * flush and stay instead, to count what leaving saves.
 *
 * Kernel mappings (pkmap's global PTEs, fixmap slots shared by all CPUs)
 * change for everyone: flush_tlb_kernel_* reach every online CPU.
 *
 * make BREAK=shootdown builds a deliberately broken kernel: no IPIs for
 * user page, range and mm flushes (only the local invalidation), for the
 * SMP stress suite to catch.  Releasing an mm at exit (tlb_mm_release) still
 * makes other CPUs leave it, so the broken build fails on stale data, not
 * on page tables freed under a CPU.
 */
#ifndef ARCH_TLBFLUSH_H
#define ARCH_TLBFLUSH_H
#include "lib/types.h"
#include "arch/smp.h"

struct mm_struct;

void flush_tlb_page(struct mm_struct *mm, u32 addr);
void flush_tlb_range(struct mm_struct *mm, u32 start, u32 end);
void flush_tlb_mm(struct mm_struct *mm);
/* The mm's last user is gone: every other CPU that has it loaded leaves it. */
void tlb_mm_release(struct mm_struct *mm);
/* Kernel mappings: every online CPU (global entries too). */
void flush_tlb_kernel_all(void);
void flush_tlb_kernel_page(u32 addr);
/* Installs the IPI handler (smp_init). */
void tlbflush_init(void);

/* Counters since boot, for tests and benchmarks. */
struct tlb_stats {
	u32 shootdowns;      /* requests that went to at least one other CPU */
	u32 ipis;            /* flush IPIs sent */
	u32 lazy_leaves;     /* lazy CPUs that left an mm instead of flushing */
	u32 skipped_local;   /* requests that needed no other CPU */
	u32 received[NR_CPUS]; /* requests answered, per CPU */
};
extern struct tlb_stats tlb_stats;
extern bool tlb_lazy_policy_flush;
/* Online CPUs, one bit each (arch/smpboot.c). */
extern volatile u32 cpu_online_mask;

#endif
