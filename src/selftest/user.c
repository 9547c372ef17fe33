/*
 * Suite "user": ring-3 programs (src/user/) started from task 0.
 *
 * Each test starts one or more programs of the user image as children of
 * task 0 and collects every task it caused with do_wait -- forked
 * grandchildren whose parents died are handed to task 0 too -- so that no
 * task outlives its test.  A program checks what it can see from ring 3
 * (contents, its own PTEs and page counts through the test system call)
 * and reports each assertion to the kernel: a failed one fails the test
 * that runs at that moment, with the program's file:line.  The kernel side
 * then checks the exit codes (128 + vector for a killed task), that the
 * programs reported no failure and at least one pass, and what only the
 * kernel can see: the kill reports, the free counts.
 */
#include "selftest/ktest.h"
#include "selftest/urun.h"
#include "kernel/preempt.h"
#include "kernel/printk.h"
#include "kernel/task.h"
#include "kernel/user.h"
#include "lib/string.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "mm/page_alloc.h"
#include "mm/ptpool.h"
#include "mm/slab.h"

#define PF EXIT_KILLED(14)

KTEST(user, image_table)
{
	static const char *const progs[] = { "touch_pages", "fork_tree", "cow_frames",
					     "munmap_partial", "mprotect_split", "wild_write",
					     "bad_syscalls", "map_1gib" };

	for (u32 i = 0; i < ARRAY_SIZE(progs); i++) {
		const struct user_prog *p = user_prog_find(progs[i]);
		KT_ASSERT(p != NULL);
		KT_EXPECT(p->entry >= USER_IMAGE_BASE);
		KT_EXPECT(p->entry < USER_IMAGE_BASE + (u32)(user_image_end - user_image_start));
	}
	KT_EXPECT(user_prog_find("no_such_program") == NULL);
	int tasks = nr_tasks();
	KT_EXPECT(user_task_create("no_such_program", 0) == NULL);
	KT_EXPECT_EQ(nr_tasks(), tasks);
}

KTEST(user, touch_pages)
{
	static const u32 counts[] = { 1, 3, 64, 1024 };

	user_test_reset();
	for (u32 i = 0; i < ARRAY_SIZE(counts); i++)
		KT_EXPECT_EQ(urun_run("touch_pages", counts[i]), 0);
	KT_ASSERT(urun_checks_ok());
}

/* A binary fork tree three levels below its root: 15 tasks. */
KTEST(user, fork_tree_cow)
{
	u32 forks = sched_stats.forks;

	user_test_reset();
	KT_ASSERT_EQ(urun_run("fork_tree", 3), 0);
	KT_EXPECT_EQ(sched_stats.forks - forks, 15);
	KT_ASSERT(urun_checks_ok());
}

KTEST(user, cow_frames)
{
	user_test_reset();
	KT_ASSERT_EQ(urun_run("cow_frames", 0), 0);
	KT_ASSERT(urun_checks_ok());
}

KTEST(user, munmap_partial)
{
	user_test_reset();
	KT_ASSERT_EQ(urun_run("munmap_partial", 0), 0);
	KT_ASSERT(urun_checks_ok());
}

/* Anonymous memory mapped where some was unmapped reads zero, even when
 * other slots of its cluster are still mapped (pgcl4). */
KTEST(user, remap_reads_zero)
{
	user_test_reset();
	KT_ASSERT_EQ(urun_run("remap_zero", 0), 0);
	KT_ASSERT(urun_checks_ok());
}

KTEST(user, mprotect_split)
{
	user_test_reset();
	KT_ASSERT_EQ(urun_run("mprotect_split", 0), 0);
	KT_ASSERT(urun_checks_ok());
}

KTEST(user, shared_anon)
{
	user_test_reset();
	KT_ASSERT_EQ(urun_run("shared_anon", 0), 0);
	KT_ASSERT(urun_checks_ok());
}

/* MAP_SHARED pages that nobody touched before the fork are shared too. */
KTEST(user, shared_anon_untouched)
{
	user_test_reset();
	KT_ASSERT_EQ(urun_run("shared_anon", 1), 0);
	KT_ASSERT(urun_checks_ok());
}

/* A task spinning in ring 3 loses the CPU to the timer, in every variant. */
KTEST(user, timer_preempts_ring3)
{
	u32 switches = sched_stats.switches;

	user_test_reset();
	KT_ASSERT_EQ(urun_run("spin_preempted", 0), 0);
	ktest_diag("%u context switches", sched_stats.switches - switches);
	KT_ASSERT(urun_checks_ok());
}

KTEST(user, bad_syscalls)
{
	user_test_reset();
	KT_ASSERT_EQ(urun_run("bad_syscalls", 0), 0);
	KT_ASSERT(urun_checks_ok());
}

/* One rule-breaker of each kind: its exit code, and its report line. */
struct kill_case {
	const char *prog;
	u32 arg;
	int code;           /* expected exit code */
	const char *report; /* expected in the "killed:" line */
};

#define KERNEL_TEXT 0xc0100000u
#define NO_VMA 0x20000000u

/*
 * Every kind of illegal access at once, beside a well-behaved worker: each
 * offender dies with its own report and exit code; the worker, the other
 * tasks and the kernel carry on.  Without NX (2-level paging, or a CPU
 * without it) code in writable memory runs, and nx_exec exits normally.
 */
KTEST(user, kills_only_the_task)
{
	static char log[4096];
	bool nx = (__supported_pte_mask & _PAGE_NX) != 0;
	const struct kill_case k[] = {
		{ "wild_write", KERNEL_TEXT, PF, "at 0xc0100000 (write, user): kernel address" },
		{ "wild_read", 0xfffff000, PF, "at 0xfffff000 (read, user): kernel address" },
		{ "wild_read", NO_VMA, PF, "page fault at 0x20000000 (read, user): no VMA" },
		{ "wild_write", 0, PF, "page fault at 0x00000000 (write, user): no VMA" },
		{ "wild_exec", KERNEL_TEXT, PF, "page fault at 0xc0100000 (" },
		{ "wild_exec", NO_VMA, PF, "page fault at 0x20000000 (" },
		{ "write_image", 0, PF, "(write, user): VMA not writable (VMA 08000000-" },
		{ "nx_exec", 0, nx ? PF : 0, nx ? "(exec, user): VMA not executable" : NULL },
		{ "div_zero", 0, EXIT_KILLED(0), "divide error (#DE) at eip 0x080" },
		{ "bad_opcode", 0, EXIT_KILLED(6), "invalid opcode (#UD) at eip 0x080" },
		{ "privileged", 0, EXIT_KILLED(13), "general protection (#GP) at eip 0x080" },
		{ "bad_int", 0, EXIT_KILLED(13), "general protection (#GP), error code 0x182" },
		{ "stack_overflow", 0, PF, "(write, user): no VMA" },
	};
	int pid[ARRAY_SIZE(k)], code[ARRAY_SIZE(k)], tasks = nr_tasks();
	int status, got, worker_code = -1;

	user_test_reset();
	int worker = urun_start("worker", 300);
	KT_ASSERT(worker > 0);
	printk_capture_start(log, sizeof(log));
	for (u32 i = 0; i < ARRAY_SIZE(k); i++) {
		pid[i] = urun_start(k[i].prog, k[i].arg);
		code[i] = -1;
	}
	while ((got = do_wait(&status)) > 0) {
		if (got == worker)
			worker_code = status;
		for (u32 i = 0; i < ARRAY_SIZE(k); i++)
			if (got == pid[i])
				code[i] = status;
	}
	printk_capture_stop();
	for (char *line = log, *end; *line; line = end) {
		end = strchr(line, '\n');
		end = end ? end + 1 : line + strlen(line);
		ktest_diag("%.*s", (int)(end - line - (end[-1] == '\n')), line);
	}
	for (u32 i = 0; i < ARRAY_SIZE(k); i++) {
		if (code[i] != k[i].code)
			ktest_fail(__FILE__, __LINE__, "%s(0x%x) exited with %d, not %d", k[i].prog,
				   k[i].arg, code[i], k[i].code);
		if (k[i].report && !strstr(log, k[i].report))
			ktest_fail(__FILE__, __LINE__, "no report \"%s\" for %s(0x%x)", k[i].report,
				   k[i].prog, k[i].arg);
	}
	KT_EXPECT_EQ(worker_code, 0);
	KT_EXPECT_EQ(nr_tasks(), tasks);
	KT_ASSERT(urun_checks_ok());
}

/*
 * Anonymous memory inside the window of the image's last cluster (pgcl4):
 * it must be memory of its own, and the image's kernel frames must come
 * out of it untouched -- their contents, and their page descriptor, which
 * the task's exit must not count down.
 */
KTEST(user, anon_next_to_image)
{
	const u8 *img = user_image_start;
	u32 span = ALIGN_UP((u32)(user_image_end - img), PAGE_SIZE), sum = 0;
	struct page *last = virt_to_page(img + span - 1);
	s32 count = last->count, mapcount = last->mapcount;

	for (u32 i = 0; i < span; i++)
		sum = sum * 31 + img[i];
	user_test_reset();
	for (u32 munmap_first = 0; munmap_first < 2; munmap_first++)
		KT_EXPECT_EQ(urun_run("image_tail", munmap_first), 0);
	u32 after = 0;
	for (u32 i = 0; i < span; i++)
		after = after * 31 + img[i];
	KT_EXPECT_EQ(after, sum);
	KT_EXPECT_EQ(last->count, count);
	KT_EXPECT_EQ(last->mapcount, mapcount);
	KT_ASSERT(urun_checks_ok());
}

/* ---- nothing leaks ---- */

/* What must come back exactly once every task is reaped. */
struct baseline {
	u32 free_pages;
	u32 slab_objs, slab_pages;
	u32 pt_in_use[PT_NR_POOLS];
	u32 pt_clusters;
	int tasks;
};

static void snapshot(struct baseline *b)
{
	task_cache_shrink();
	preempt_disable();
	drain_all_pages();
	b->free_pages = nr_free_pages();
	preempt_enable();
	kmem_cache_totals(&b->slab_objs, &b->slab_pages);
	for (int i = 0; i < PT_NR_POOLS; i++)
		b->pt_in_use[i] = pt_stats.in_use[i];
	b->pt_clusters = pt_stats.clusters;
	b->tasks = nr_tasks();
}

static bool same_as(const struct baseline *b)
{
	struct baseline now;

	snapshot(&now);
	bool same = !memcmp(&now, b, sizeof(now));
	const struct baseline *v[2] = { b, &now };

	for (int i = 0; i < 2 && !same; i++)
		ktest_diag("%s: %u free pages, %u slab objects in %u pages, %u PTE tables, "
			   "%u lowmem tables, %u table clusters, %d tasks", i ? "now" : "baseline",
			   v[i]->free_pages, v[i]->slab_objs, v[i]->slab_pages,
			   v[i]->pt_in_use[PT_USER_PTE], v[i]->pt_in_use[PT_LOWMEM],
			   v[i]->pt_clusters, v[i]->tasks);
	return same;
}

/* A bit of everything: faults, fork trees, splits, shared memory, kills. */
static void workload(void)
{
	KT_EXPECT_EQ(urun_run("touch_pages", 300), 0);
	KT_EXPECT_EQ(urun_run("fork_tree", 2), 0);
	KT_EXPECT_EQ(urun_run("cow_frames", 0), 0);
	KT_EXPECT_EQ(urun_run("munmap_partial", 0), 0);
	KT_EXPECT_EQ(urun_run("mprotect_split", 0), 0);
	KT_EXPECT_EQ(urun_run("shared_anon", 0), 0);
	KT_EXPECT_EQ(urun_run("wild_write", 0xc0100000), PF);
	KT_EXPECT_EQ(urun_run("stack_overflow", 0), PF);
	KT_EXPECT_EQ(urun_run("bad_opcode", 0), EXIT_KILLED(6));
}

KTEST(user, exit_frees_everything)
{
	struct baseline base;

	user_test_reset();
	workload(); /* warm-up: the slab caches reach their working size */
	snapshot(&base);
	ktest_diag("baseline: %u free pages, %u slab objects in %u pages, %d tasks",
		   base.free_pages, base.slab_objs, base.slab_pages, base.tasks);
	workload();
	KT_EXPECT(same_as(&base));
	KT_ASSERT(urun_checks_ok());
}

/* ---- highpte ---- */

/* The task's PTE tables are in HighMem with highpte, in lowmem otherwise. */
KTEST(user, pte_tables_highmem_iff_highpte)
{
	if (CONFIG_HIGHPTE && !zones[ZONE_HIGHMEM].managed_pages)
		KT_SKIP("no HighMem in this run (boot with more than 896 MiB)");
	user_test_reset();
	KT_ASSERT_EQ(urun_run("highpte_tables", 0), 0);
	KT_ASSERT(urun_checks_ok());
}

KTEST(user, map_1gib_ptes_cost_no_lowmem)
{
	if (!zones[ZONE_HIGHMEM].managed_pages)
		KT_SKIP("no HighMem in this run (boot with more than 896 MiB)");
	user_test_reset();
	KT_ASSERT_EQ(urun_run("map_1gib", 0), 0);
	KT_ASSERT(urun_checks_ok());
}
