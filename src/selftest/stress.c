/*
 * Suite "stress": a seeded random workload of ring-3 tasks, with the mm's
 * invariants checked while it runs and after every round.
 *
 * The experiment.  The workload runs in rounds.  A round starts ROOTS
 * families at once: each is one task of the program stress_task
 * (src/user/stress.c, which describes the operations) with a seed and a
 * budget of ROOT_BUDGET steps, and grows by forking (a child takes half of
 * its parent's budget), so a round has a few dozen tasks mapping,
 * unmapping, protecting, touching, forking and exiting at once.  Task 0
 * reaps every task that comes back to it (roots and orphans) and adds the
 * steps each reports in its exit status; rounds go on until the steps
 * reach the target (stress=N on the command line, STEPS_DEFAULT otherwise).
 *
 * Invariants, and who checks them:
 *   every ring-3 read     the value the task last wrote there, zeros in a
 *                         fresh mapping; after fork, what the parent had;
 *                         a write in a shared page is seen by the other
 *                         side; an access after mprotect/munmap kills; a
 *                         private page just written is exclusive (count 1,
 *                         mapcount 0) -- stress_task, through TEST_PTE
 *   the auditor           a kernel thread that, every AUDIT_SWITCHES context
 *                         switches while the round runs, walks the page
 *                         tables of every quiescent task: each PTE inside a
 *                         VMA and with its rights, slot i of a window holding
 *                         frame i of one cluster, rss = windows mapping an
 *                         anonymous cluster, pte_pages = present PMDs
 *                         (pte_pages_highmem = those in HighMem, all of them
 *                         with highpte), the VMA list sorted and counted;
 *                         across all of them, every cluster mapped by
 *                         mapcount + 1 address spaces and holding count =
 *                         mapcount + 1, and none that a private VMA maps
 *                         writable shared at all
 *   every round's end     exit codes (all STATUS_OK, none killed: the
 *                         probes' victims are reaped by their parents), and
 *                         free pages + slab pages, slab objects, page-table
 *                         frames and clusters, anon_vmas and tasks back at
 *                         their baseline exactly
 *   debug builds          no kmap_atomic slot live at a context switch or a
 *                         return to ring 3 (kernel/sched.c panics)
 *
 * Quiescent: with one CPU and no preemption, a task that is not running
 * stopped at an explicit switch point, outside any mm call, so every other
 * task's address space is consistent while the auditor looks.  In the
 * preempt variants a task may be preempted inside a page fault (the fault
 * path runs with preemption enabled), so only tasks asleep in wait() are
 * audited, and the cross-task counts are checked as bounds unless every
 * live task was audited.
 *
 * Repeatability: the seed (seed=N, else SEED_DEFAULT) is printed first.
 * Every task's operations follow from it; the interleaving of tasks
 * follows the timer, so a rerun repeats the operations, not the schedule.
 */
#include "selftest/ktest.h"
#include "arch/io.h"
#include "arch/timer.h"
#include "kernel/cmdline.h"
#include "kernel/preempt.h"
#include "kernel/printk.h"
#include "kernel/task.h"
#include "kernel/user.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/highpte.h"
#include "mm/mm.h"
#include "mm/memory.h"
#include "mm/page_alloc.h"
#include "mm/ptpool.h"
#include "mm/rmap.h"
#include "mm/slab.h"

#define SEED_DEFAULT 0x1a32c0deu
#define STEPS_DEFAULT 1000u
#define ROOTS 4u
#define ROOT_BUDGET 250u      /* at most 1023: ten bits of the argument */
#define AUDIT_SWITCHES 16u    /* context switches between two audits */
#define STATUS_OK 0x10000     /* stress_task's exit status: STATUS_OK + steps (as there) */
#define MAX_VIOLATIONS 8      /* reported by the auditor before it gives up */

/* ---- the auditor ---- */

/* One cluster the audit found mapped, and by how many address spaces. */
struct seen {
	struct page *page;
	u16 mappers;
	u16 exclusive; /* some private VMA maps it writable */
};

#define SEEN_BYTES 65536u
#define SEEN_SLOTS (SEEN_BYTES / sizeof(struct seen))
#define SEEN_ORDER (PAGE_SIZE >= SEEN_BYTES ? 0 : PAGE_SIZE * 4 >= SEEN_BYTES ? 2 : 4)
_Static_assert((PAGE_SIZE << SEEN_ORDER) >= SEEN_BYTES, "the audit's table");

static struct {
	struct seen *seen;        /* SEEN_SLOTS, open addressing on the page pointer */
	u32 used;
	bool overflow;            /* too many clusters: the cross-task counts were skipped */
	int first_pid;            /* the round's first task */
	u32 forks;                /* sched_stats.forks when the round began */
	volatile bool stop;
	int violations;
	u32 audits, mms, skipped; /* totals over the run */
	u32 overflows;            /* audits whose clusters did not fit the table */
} audit;

static void violation(const char *fmt, ...) __printf(1, 2);
static void violation(const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (++audit.violations > MAX_VIOLATIONS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ktest_fail(__FILE__, __LINE__, "audit: %s", msg);
}

/* Counts one more address space mapping page. */
static void note_cluster(struct page *page, bool exclusive)
{
	u32 h = ((u32)page / sizeof(struct page)) * 2654435761u;

	if (audit.used >= SEEN_SLOTS * 3 / 4) {
		audit.overflow = true;
		return;
	}
	for (u32 i = h % SEEN_SLOTS;; i = (i + 1) % SEEN_SLOTS) {
		struct seen *s = &audit.seen[i];
		if (!s->page) {
			*s = (struct seen){ page, 0, 0 };
			audit.used++;
		}
		if (s->page == page) {
			s->mappers++;
			s->exclusive |= exclusive;
			return;
		}
	}
}

/* The VMA list: sorted, disjoint, 4 KiB aligned, inside user space, counted. */
static void audit_vmas(const struct task *t)
{
	struct mm_struct *mm = t->mm;
	u32 n = 0, prev_end = USER_BASE;
	struct list_head *l;

	list_for_each(l, &mm->mmap) {
		const struct vm_area_struct *v = list_entry(l, struct vm_area_struct, vm_list);
		if (v->vm_start < prev_end || v->vm_start >= v->vm_end || v->vm_end > TASK_SIZE ||
		    ((v->vm_start | v->vm_end) & ~MMUPAGE_MASK) || v->vm_mm != mm)
			violation("pid %d: VMA %08x-%08x out of order or misaligned (previous ends %08x)",
				  t->pid, v->vm_start, v->vm_end, prev_end);
		prev_end = v->vm_end;
		n++;
	}
	if (n != mm->map_count)
		violation("pid %d: %u VMAs on the list, map_count %u", t->pid, n, mm->map_count);
}

/*
 * One window of t's address space at w (wp: its PTEs, mapped): every mapped
 * slot inside a VMA, with its rights, holding its frame of one cluster.
 * Returns 1 if it maps an anonymous cluster (one unit of rss), else 0.
 */
static u32 audit_window(const struct task *t, u32 w, pte_t *wp)
{
	struct page *page = NULL;
	bool exclusive = false;

	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		pte_t e = ptep_get(&wp[i]);
		u32 a = w + i * MMUPAGE_SIZE;
		if (!(pte_val(e) & (_PAGE_PRESENT | _PAGE_PROTNONE)))
			continue;
		const struct vm_area_struct *v = find_vma(t->mm, a);
		u64 f = pte_frame(e);
		if (!v) {
			violation("pid %d: %08x mapped (PTE %llx) outside any VMA", t->pid, a, pte_val(e));
			continue;
		}
		bool none = !(v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC));
		if (f % PAGE_MMUCOUNT != i || (page && frame_to_page(f) != page))
			violation("pid %d: slot %u of window %08x holds frame %llx, not frame %u of "
				  "the window's cluster", t->pid, i, w, f, i);
		if (none == !!(pte_val(e) & _PAGE_PRESENT) ||
		    (pte_write(e) && !(v->vm_flags & VM_WRITE)) || !(pte_val(e) & _PAGE_USER))
			violation("pid %d: PTE %llx at %08x does not follow its VMA's rights (flags %x)",
				  t->pid, pte_val(e), a, v->vm_flags);
		page = frame_to_page(f);
		exclusive |= pte_write(e) && !(v->vm_flags & VM_SHARED);
	}
	if (!page || PageFlag(page, PG_reserved)) /* the user image: kernel frames, not counted */
		return 0;
	if (!PageFlag(page, PG_anon))
		violation("pid %d: window %08x maps pfn %u, which is not anonymous", t->pid, w,
			  page_to_pfn(page));
	note_cluster(page, exclusive);
	return 1;
}

/* t's page tables against its counters; its clusters go into the table. */
static void audit_mm(const struct task *t)
{
	struct mm_struct *mm = t->mm;
	u32 rss = 0, tables = 0, high = 0;
	/* Its faults run without the kernel lock (mm/memory.c): hold its mm lock. */
	u32 flags = mm_lock_mm(mm);

	audit_vmas(t);
	for (u64 a = 0; a < TASK_SIZE; a += PMD_SIZE) {
		pmd_t *pmd = user_pmd(mm->pgd, (u32)a);
		if (!pmd_present(*pmd))
			continue;
		tables++;
		high += PageHighMem(frame_to_page(pmd_table_paddr(*pmd) >> MMUPAGE_SHIFT));
		pte_t *pt = pte_offset_map(pmd, (u32)a);
		for (u32 i = 0; i < PTRS_PER_PTE; i += PAGE_MMUCOUNT)
			rss += audit_window(t, (u32)a + i * MMUPAGE_SIZE, pt + i);
		pte_unmap(pt);
	}
	if (rss != mm->rss || tables != mm->pte_pages || high != mm->pte_pages_highmem)
		violation("pid %d: %u clusters, %u PTE tables (%u HighMem) mapped; the mm counts "
			  "%u, %u (%u)", t->pid, rss, tables, high, mm->rss, mm->pte_pages,
			  mm->pte_pages_highmem);
	if (CONFIG_HIGHPTE && zones[ZONE_HIGHMEM].managed_pages && high != tables)
		violation("pid %d: highpte, but %u of %u PTE tables are in lowmem", t->pid,
			  tables - high, tables);
	mm_unlock_mm(mm, flags);
	audit.mms++;
}

/* May t's address space be read now (see the header)? */
static bool quiescent(const struct task *t)
{
	return t != current && t->state != TASK_ZOMBIE &&
	       (!CONFIG_PREEMPT || t->state == TASK_SLEEPING);
}

/*
 * Audits every live task of the round; then the clusters across them:
 * exact counts when every task was audited, bounds otherwise.
 */
static void audit_all(void)
{
	bool all = true;
	/* Faults run without the kernel lock on other CPUs: a copy-on-write
	 * fault between two tasks' audits changes the cross-task counts, so
	 * they are compared only if no such fault ran meanwhile (else the
	 * audit counts among those without the cross-task counts). */
	u32 faults = fault_stats.unlocked;
	bool quiet = faults == fault_stats.unlocked_done;

	preempt_disable();
	memset(audit.seen, 0, SEEN_BYTES);
	audit.used = 0;
	audit.overflow = false;
	/* Pids are handed out in order, one per task created (forks counts them). */
	int last_pid = audit.first_pid + (int)(sched_stats.forks - audit.forks) - 1;

	for (int pid = audit.first_pid; pid <= last_pid; pid++) {
		struct task *t = find_task(pid);
		if (!t || !t->mm)
			continue;
		if (!quiescent(t)) {
			all = false;
			audit.skipped++;
			continue;
		}
		audit_mm(t);
	}
	if (!quiet || fault_stats.unlocked != faults)
		audit.overflow = true;
	audit.overflows += audit.overflow;
	for (u32 i = 0; i < SEEN_SLOTS && !audit.overflow; i++) {
		const struct seen *s = &audit.seen[i];
		const struct page *p = s->page;
		if (!p)
			continue;
		if (s->exclusive && p->mapcount != 0)
			violation("pfn %u: writable in a private VMA, but mapped by %d address spaces",
				  page_to_pfn(p), p->mapcount + 1);
		if (all ? s->mappers != p->mapcount + 1 || p->count != p->mapcount + 1
			: s->mappers > p->mapcount + 1)
			violation("pfn %u: mapped by %u address spaces%s; count %d, mapcount %d",
				  page_to_pfn(p), s->mappers, all ? "" : " (of those audited)", p->count,
				  p->mapcount);
	}
	audit.audits++;
	preempt_enable();
}

/* The auditor thread: audits every AUDIT_SWITCHES context switches (the
 * workload's own clock) until told to stop. */
static int auditor(void *unused)
{
	u32 last = sched_stats.switches;

	while (!audit.stop) {
		if (sched_stats.switches - last >= AUDIT_SWITCHES && audit.violations <= MAX_VIOLATIONS) {
			audit_all();
			last = sched_stats.switches;
		}
		yield();
	}
	return 0;
}

/* ---- baselines ---- */

/* What must be back exactly once every task of a round is reaped.  Slab
 * pages count with the free pages: caches keep empty slabs. */
struct baseline {
	u32 free_and_slab_pages;
	u32 slab_objs;
	u32 pt_in_use[PT_NR_POOLS];
	u32 pt_clusters;
	u32 anon_vmas;
	int tasks;
};

/* The number after key in text, or 0. */
static u32 number_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	u64 v = 0;

	if (!p)
		return 0;
	p += strlen(key);
	const char *e = p;
	while (*e >= '0' && *e <= '9')
		e++;
	return parse_u64(p, e - p, &v) ? (u32)v : 0;
}

/* Objects in use and pages held by all slab caches, from their report lines. */
static void slab_totals(u32 *objs, u32 *pages)
{
	static char buf[8192];

	printk_capture_start(buf, sizeof(buf) - 1);
	kmem_cache_print_stats();
	size_t len = printk_capture_stop();
	buf[MIN(len, sizeof(buf) - 1)] = 0;
	*objs = *pages = 0;
	for (char *line = buf, *end; *line; line = end) {
		end = strchr(line, '\n');
		end = end ? end + 1 : line + strlen(line);
		char save = *end;
		*end = 0;
		*objs += number_after(line, " objs ");
		*pages += number_after(line, " pages ");
		*end = save;
	}
}

static void snapshot(struct baseline *b)
{
	u32 slab_pages;

	memset(b, 0, sizeof(*b));
	task_cache_shrink();
	slab_totals(&b->slab_objs, &slab_pages);
	preempt_disable();
	drain_all_pages();
	b->free_and_slab_pages = nr_free_pages() + slab_pages;
	preempt_enable();
	for (int i = 0; i < PT_NR_POOLS; i++)
		b->pt_in_use[i] = pt_stats.in_use[i];
	b->pt_clusters = pt_stats.clusters;
	b->anon_vmas = rmap_stats.anon_vmas;
	b->tasks = nr_tasks();
}

static bool at_baseline(const struct baseline *b, u32 round)
{
	struct baseline now;

	snapshot(&now);
	if (!memcmp(&now, b, sizeof(now)))
		return true;
	const struct baseline *v[2] = { b, &now };
	for (int i = 0; i < 2; i++)
		ktest_diag("%s: %u free + slab pages, %u slab objects, %u PTE + %u lowmem tables in "
			   "%u clusters, %u anon_vmas, %d tasks", i ? "after round" : "baseline",
			   v[i]->free_and_slab_pages, v[i]->slab_objs, v[i]->pt_in_use[PT_USER_PTE],
			   v[i]->pt_in_use[PT_LOWMEM], v[i]->pt_clusters, v[i]->anon_vmas,
			   v[i]->tasks);
	ktest_fail(__FILE__, __LINE__, "round %u: the free counts are not back at their baseline",
		   round);
	return false;
}

/* ---- rounds ---- */

static u32 mix32(u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* stress_task's argument for root r of a round: a seed (bits 31-10) and the budget. */
static u32 root_arg(u32 seed, u32 round, u32 r, u32 budget)
{
	return (mix32(seed ^ mix32(round * ROOTS + r + 1)) & ~0x3ffu) | budget;
}

struct totals {
	u32 steps, rounds, tasks, max_live;
};

/*
 * One round: ROOTS families with the given budget each, the auditor beside
 * them; reaps everything and adds up the steps.  false if it went wrong.
 */
static bool run_round(u32 seed, u32 round, u32 budget, struct totals *tot)
{
	int base = nr_tasks();
	u32 forks = sched_stats.forks;
	bool ok = true;

	audit.stop = false;
	audit.first_pid = 0;
	audit.forks = forks;
	for (u32 r = 0; r < ROOTS; r++) {
		struct task *t = user_task_create("stress_task", root_arg(seed, round, r, budget));
		if (!t) {
			ktest_fail(__FILE__, __LINE__, "round %u: cannot start stress_task", round);
			ok = false;
			break;
		}
		if (!audit.first_pid)
			audit.first_pid = t->pid;
	}
	struct task *aud = kthread_create("stress_audit", auditor, NULL);
	if (!aud) {
		ktest_fail(__FILE__, __LINE__, "round %u: cannot start the auditor", round);
		audit.stop = true;
	}
	/* Tasks that exist while anything but the auditor is left. */
	while (nr_tasks() > base + (aud ? 1 : 0)) {
		int code, pid;
		tot->max_live = MAX(tot->max_live, (u32)(nr_tasks() - base));
		pid = do_wait(&code);
		if (pid < 0)
			break;
		if (aud && pid == aud->pid) {
			ktest_fail(__FILE__, __LINE__, "round %u: the auditor ended early", round);
			aud = NULL;
		} else if ((code & ~0xffff) != STATUS_OK) {
			ktest_fail(__FILE__, __LINE__, "round %u: task %d exited with %d (%s)", round,
				   pid, code, code >= 128 ? "killed" : "a check failed");
			ok = false;
		} else {
			tot->steps += code & 0xffff;
		}
	}
	audit.stop = true;
	if (aud)
		do_wait(NULL);
	tot->tasks += sched_stats.forks - forks - 1;
	tot->rounds++;
	return ok;
}

KTEST(stress, random_workload)
{
	u32 seed = boot_opts.seed_set ? boot_opts.seed : SEED_DEFAULT;
	u32 target = boot_opts.stress_steps ? boot_opts.stress_steps : STEPS_DEFAULT;
	struct totals tot = { 0 };
	struct baseline base;

	ktest_diag("stress: seed %u, %u steps (repeat with seed=%u stress=%u)", seed, target, seed,
		   target);
	if (CONFIG_BREAK_TLB_FLUSH || CONFIG_BREAK_PTE_UNMAP)
		ktest_diag("stress: this kernel is broken on purpose (BREAK=%s): the run must fail",
			   CONFIG_BREAK);
	audit.seen = get_free_pages(GFP_KERNEL, SEEN_ORDER);
	KT_ASSERT(audit.seen != NULL);
	audit.violations = 0;
	audit.audits = audit.mms = audit.skipped = audit.overflows = 0;
	user_test_reset();
	u64 t0 = rdtsc();
	u32 j0 = jiffies;
	/* A small first round brings the slab caches to their working size. */
	bool ok = run_round(seed, 0, 16, &tot);
	snapshot(&base);
	for (u32 round = 1; ok && tot.steps < target; round++) {
		u32 budget = MIN(ROOT_BUDGET, (target - tot.steps + ROOTS - 1) / ROOTS);
		ok = run_round(seed, round, MAX(budget, 8u), &tot) && audit.violations == 0 &&
		     at_baseline(&base, round);
	}
	u32 ms = (jiffies - j0) * (1000 / HZ);
	free_pages(audit.seen, SEEN_ORDER);
	struct user_test_counts c = user_test_counts();
	ktest_diag("stress: %u steps in %u rounds, %u tasks (at most %u at once), %u audits of %u "
		   "address spaces (%u skipped: not quiescent; %u without the cross-task counts), "
		   "%u ms, %llu Mcycles", tot.steps, tot.rounds, tot.tasks, tot.max_live, audit.audits,
		   audit.mms, audit.skipped, audit.overflows, ms, (rdtsc() - t0) >> 20);
	KT_EXPECT_EQ(c.failures, 0);
	KT_EXPECT_EQ(audit.violations, 0);
	KT_EXPECT_GE(tot.steps, target);
	KT_EXPECT(ok);
}
