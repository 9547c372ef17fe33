/* TLB shootdown (see tlbflush.h). */
#include "arch/tlbflush.h"
#include "arch/apic.h"
#include "arch/io.h"
#include "arch/pgtable.h"
#include "arch/smpboot.h"
#include "arch/spinlock.h"
#include "arch/traps.h"
#include "kernel/task.h"
#include "mm/mm.h"
#include "mm/page.h"

struct tlb_stats tlb_stats;
bool tlb_lazy_policy_flush;

/* Above this many pages a range flush reloads CR3 instead of INVLPG each. */
#define FLUSH_RANGE_MAX_PAGES 32u

static spinlock_t tlb_lock = SPINLOCK_INIT;
static struct {
	struct mm_struct *mm; /* NULL: kernel mappings */
	u32 start, end;       /* end == 0: everything */
	volatile u32 pending; /* CPUs that have not acknowledged yet */
} req;

static void invalidate(u32 start, u32 end, bool global)
{
	if (end && (end - start) / MMUPAGE_SIZE <= FLUSH_RANGE_MAX_PAGES) {
		for (u32 a = start; a < end; a += MMUPAGE_SIZE)
			invlpg(a); /* also global entries (SDM vol. 3 4.10.4.1) */
	} else if (global) {
		flush_tlb_all_local();
	} else {
		flush_tlb_local();
	}
}

/* This CPU's part of a flush of mm (NULL: kernel mappings).  remote: asked by
 * another CPU, which may make a lazy CPU leave the mm. */
static void flush_here(struct mm_struct *mm, u32 start, u32 end, bool remote)
{
	int cpu = smp_processor_id();

	if (!mm) {
		invalidate(start, end, true);
		return;
	}
	if (current_mm_of_cpu[cpu] != mm)
		return;
	struct task *t = current;
	if (remote && t && t->mm != mm && !tlb_lazy_policy_flush) {
		/* Lazy: a kernel thread borrowed mm.  Loading the kernel's tables
		 * drops every non-global user entry (SDM vol. 3 4.10.4.1). */
		switch_mm(mm, NULL);
		t->active_mm = NULL;
		tlb_stats.lazy_leaves++;
		return;
	}
	invalidate(start, end, false);
}

void smp_poll_ipi_work(void)
{
	int cpu = smp_processor_id();
	u32 bit = 1u << cpu;

	if (!(req.pending & bit))
		return;
	flush_here(req.mm, req.start, req.end, true);
	tlb_stats.received[cpu]++;
	atomic_andnot(&req.pending, bit); /* the acknowledgment, after the INVLPGs */
}

static void tlb_ipi(struct trap_frame *tf)
{
	smp_poll_ipi_work();
	apic_eoi();
}

/* Sends the request to the other CPUs of mask that are online (and, for a
 * user mm, still in its cpu_mask) and waits for all of them. */
static void flush_others(u32 mask, struct mm_struct *mm, u32 start, u32 end)
{
	if (!CONFIG_SMP || cpu_online_mask <= 1)
		return;
	u32 flags = local_irq_save();
	raw_spin_lock(&tlb_lock); /* a locked XADD: PTE stores are visible before the mask is read */
	int self = smp_processor_id();
	if (mm)
		mask &= mm->cpu_mask;
	mask &= cpu_online_mask & ~(1u << self);
	if (!mask) {
		tlb_stats.skipped_local++;
	} else {
		req.mm = mm;
		req.start = start;
		req.end = end;
		req.pending = mask;
		tlb_stats.shootdowns++;
		for (int cpu = 0; cpu < NR_CPUS; cpu++)
			if (mask & (1u << cpu)) {
				tlb_stats.ipis++;
				/* Fixed delivery, edge, physical destination (SDM vol. 3 10.6.1). */
				apic_send_ipi(smp_info.apic_id[cpu], VEC_TLB_FLUSH);
			}
		while (req.pending)
			cpu_relax();
	}
	raw_spin_unlock(&tlb_lock);
	local_irq_restore(flags);
}

static void flush_user(struct mm_struct *mm, u32 start, u32 end)
{
	flush_here(mm, start, end, false);
	/* The deliberate bug of make BREAK=shootdown: other CPUs keep stale entries. */
	if (!CONFIG_BREAK_SHOOTDOWN)
		flush_others(~0u, mm, start, end);
}

void flush_tlb_page(struct mm_struct *mm, u32 addr)
{
	flush_user(mm, addr, addr + MMUPAGE_SIZE);
}

void flush_tlb_range(struct mm_struct *mm, u32 start, u32 end)
{
	flush_user(mm, start, end);
}

void flush_tlb_mm(struct mm_struct *mm)
{
	flush_user(mm, 0, 0);
}

void tlb_mm_release(struct mm_struct *mm)
{
	flush_others(~0u, mm, 0, 0);
}

void flush_tlb_kernel_all(void)
{
	flush_here(NULL, 0, 0, false);
	flush_others(~0u, NULL, 0, 0);
}

void flush_tlb_kernel_page(u32 addr)
{
	flush_here(NULL, addr, addr + MMUPAGE_SIZE, false);
	flush_others(~0u, NULL, addr, addr + MMUPAGE_SIZE);
}

void tlbflush_init(void)
{
	set_irq_handler(VEC_TLB_FLUSH, tlb_ipi);
}
