/*
 * Suite "sched": tasks, the scheduler and wait queues, from task 0.
 *
 * The tests start kernel threads and watch them through shared variables
 * (volatile: other tasks write them) and the scheduler's counters; task 0
 * always collects every thread it started with do_wait before it checks, so
 * a failing test leaves no task behind for the next one.
 *
 * Preemption is shown by experiment: a thread spins for a number of ticks
 * with interrupts on and never yields, while a second thread counts its own
 * turns.  In preempt variants the tick takes the CPU from the spinner, so
 * the count moves during the spin; in nopreempt variants it cannot, so it
 * stays put until the spinner is done.
 */
#include "selftest/ktest.h"
#include "selftest/bench.h"
#include "kernel/preempt.h"
#include "kernel/task.h"
#include "lib/string.h"
#include "arch/cpu.h"
#include "arch/io.h"
#include "arch/layout.h"
#include "arch/switch.h"
#include "arch/timer.h"
#include "arch/traps.h"
#include "mm/mm.h"
#include "mm/page_alloc.h"

/* Spins with interrupts as they are until n ticks have passed. */
static void spin_ticks(u32 n)
{
	u32 start = jiffies;

	while (jiffies - start < n)
		barrier();
}

/* Collects n children of task 0; returns how many do_wait found. */
static int reap(int n)
{
	int got = 0;

	while (got < n && do_wait(NULL) > 0)
		got++;
	return got;
}

/* ---- kernel threads and exit codes ---- */

static int times7(void *arg)
{
	return (int)(u32)arg * 7 + 1;
}

KTEST(sched, kthread_exit_codes)
{
	int base = nr_tasks(), pids[3], seen = 0;

	for (int i = 0; i < 3; i++) {
		struct task *t = kthread_create("times7", times7, (void *)(u32)(i + 1));
		KT_ASSERT(t != NULL);
		pids[i] = t->pid;
		KT_EXPECT(find_task(pids[i]) == t);
		KT_EXPECT(t->parent == current);
	}
	KT_EXPECT_EQ(nr_tasks(), base + 3);
	for (int n = 0; n < 3; n++) {
		int code = -1, pid = do_wait(&code);
		for (int i = 0; i < 3; i++)
			if (pid == pids[i]) {
				KT_EXPECT_EQ(code, (i + 1) * 7 + 1);
				seen |= 1 << i;
			}
	}
	KT_EXPECT_EQ(seen, 7);
	KT_EXPECT_EQ(do_wait(NULL), -ECHILD);
	KT_EXPECT_EQ(nr_tasks(), base);
	KT_EXPECT(find_task(pids[0]) == NULL);
}

/* What a thread sees of itself, recorded for the test to check. */
static struct {
	struct task *self;
	u32 esp, esp0, eflags;
	int preempt;
} whoami;

static int whoami_fn(void *arg)
{
	u32 here;

	whoami.self = current;
	whoami.esp = (u32)&here;
	whoami.esp0 = cpu_tss[smp_processor_id()]->esp0; /* the TSS of the CPU it runs on */
	whoami.eflags = read_eflags();
	whoami.preempt = preempt_count();
	return 0;
}

KTEST(sched, kthread_runs_on_its_own_stack)
{
	memset(&whoami, 0, sizeof(whoami));
	struct task *t = kthread_create("whoami", whoami_fn, NULL);
	KT_ASSERT(t != NULL);
	u32 lo = (u32)t->kstack, hi = lo + KSTACK_SIZE;
	KT_EXPECT_EQ(reap(1), 1);
	KT_EXPECT(whoami.self == t);
	KT_EXPECT(whoami.esp > lo && whoami.esp < hi);
	KT_EXPECT_EQ(whoami.esp0, hi); /* ring 3 would enter at the top of its stack */
	KT_EXPECT(whoami.eflags & EFLAGS_IF);
	KT_EXPECT_EQ(whoami.preempt, 0);
	KT_EXPECT_EQ(tss_main.esp0, (u32)boot_stack_top); /* task 0's again */
}

/* A task created from a kernel-mode trap frame: the path of fork's child. */
static volatile int frame_fn_pid;
static volatile u32 frame_fn_eflags;

static int frame_fn(void)
{
	frame_fn_pid = current->pid;
	frame_fn_eflags = read_eflags();
	return 4321; /* returns into kthread_exit: do_exit(4321) */
}

KTEST(sched, task_from_trap_frame)
{
	struct trap_frame tf;
	int code = 0;

	memset(&tf, 0, sizeof(tf));
	tf.eip = (u32)frame_fn;
	tf.cs = KERNEL_CS;
	tf.ds = tf.es = KERNEL_DS;
	tf.eflags = EFLAGS_IF | EFLAGS_RESERVED;
	tf.user_esp = (u32)kthread_exit; /* a ring-0 iret leaves ESP here: the return address */
	frame_fn_pid = -1;
	struct task *t = task_create("frame", NULL, &tf);
	KT_ASSERT(t != NULL);
	int pid = t->pid;
	KT_EXPECT_EQ(do_wait(&code), pid);
	KT_EXPECT_EQ(code, 4321);
	KT_EXPECT_EQ(frame_fn_pid, pid);
	KT_EXPECT(frame_fn_eflags & EFLAGS_IF);
}

/* ---- round robin ---- */

static char rr_log[32];
static int rr_len;

static void rr_append(char c)
{
	u32 flags = local_irq_save();
	if (rr_len < (int)sizeof(rr_log) - 1)
		rr_log[rr_len++] = c;
	local_irq_restore(flags);
}

static int rr_thread(void *arg)
{
	for (int i = 0; i < 4; i++) {
		rr_append((char)(u32)arg);
		yield();
	}
	return 0;
}

/* Task 0, A and B take turns in creation order, each yielding after one letter. */
KTEST(sched, round_robin_yield)
{
	memset(rr_log, 0, sizeof(rr_log));
	rr_len = 0;
	u32 y0 = sched_stats.yields;
	KT_ASSERT(kthread_create_on("rr-A", rr_thread, (void *)'A', 0) != NULL);
	if (!kthread_create_on("rr-B", rr_thread, (void *)'B', 0)) {
		reap(1);
		KT_ASSERT(!"kthread_create B");
	}
	for (int i = 0; i < 4; i++) {
		rr_append('0');
		yield();
	}
	KT_EXPECT_EQ(reap(2), 2);
	ktest_diag("order: %s", rr_log);
	KT_EXPECT_EQ(strcmp(rr_log, "0AB0AB0AB0AB"), 0);
	KT_EXPECT_EQ(sched_stats.yields - y0, 12);
}

/* ---- wait queues ---- */

static struct wait_queue wq_test = WAIT_QUEUE_INIT(wq_test);
static volatile bool wq_flag;
static volatile int wq_wakeups;

/* Sleeps until wq_flag, counting how often it was woken. */
static int counting_sleeper(void *arg)
{
	u32 flags = local_irq_save();
	while (!wq_flag) {
		sleep_on(&wq_test);
		wq_wakeups++;
	}
	local_irq_restore(flags);
	return 5;
}

KTEST(sched, wait_queue_sleep_and_wake)
{
	int code = 0;

	wq_flag = false;
	wq_wakeups = 0;
	/* Pinned to CPU 0 (this test's CPU): the checks after each yield() need
	 * the sleeper to have run; an idle CPU taking it after wake_up raced them. */
	struct task *s = kthread_create_on("sleeper", counting_sleeper, NULL, 0);
	KT_ASSERT(s != NULL);
	int pid = s->pid;
	yield(); /* the sleeper runs, finds no flag, sleeps */
	KT_EXPECT_EQ(s->state, TASK_SLEEPING);
	KT_EXPECT(s->sleeping_on == &wq_test);
	KT_EXPECT_EQ(wq_wakeups, 0);
	wake_up(&wq_test); /* no flag: it must go back to sleep */
	KT_EXPECT_EQ(s->state, TASK_RUNNING);
	yield();
	KT_EXPECT_EQ(wq_wakeups, 1);
	KT_EXPECT_EQ(s->state, TASK_SLEEPING);
	yield(); /* nobody woke it: it stays asleep */
	KT_EXPECT_EQ(wq_wakeups, 1);
	wq_flag = true;
	wake_up(&wq_test);
	KT_EXPECT_EQ(do_wait(&code), pid);
	KT_EXPECT_EQ(code, 5);
	KT_EXPECT_EQ(wq_wakeups, 2);
	KT_EXPECT(list_empty(&wq_test.tasks));
	wake_up(&wq_test); /* an empty queue: nothing happens */
}

/* Thread to thread: one waits with wait_event, the other sets the flag and wakes it. */
static struct wait_queue ping_wq = WAIT_QUEUE_INIT(ping_wq);
static volatile int ping_value;
static struct task *volatile ping_waiter;

static int ping_wait_fn(void *arg)
{
	wait_event(ping_wq, ping_value != 0);
	return ping_value;
}

static int ping_wake_fn(void *arg)
{
	while (ping_waiter->state != TASK_SLEEPING)
		yield(); /* make sure the wake-up really wakes a sleeper */
	ping_value = 99;
	wake_up(&ping_wq);
	return 0;
}

KTEST(sched, wait_event_between_threads)
{
	int code, codes = 0;

	ping_value = 0;
	u32 sleeps0 = sched_stats.sleeps;
	ping_waiter = kthread_create("waiter", ping_wait_fn, NULL);
	KT_ASSERT(ping_waiter != NULL);
	int wpid = ping_waiter->pid;
	if (!kthread_create("waker", ping_wake_fn, NULL)) {
		ping_value = -1;
		wake_up(&ping_wq);
		reap(1);
		KT_ASSERT(!"kthread_create waker");
	}
	for (int i = 0; i < 2; i++)
		if (do_wait(&code) == wpid)
			codes = code;
	KT_EXPECT_EQ(codes, 99);
	/* task 0 in do_wait, the waiter in wait_event at least */
	KT_EXPECT_GE(sched_stats.sleeps - sleeps0, 2);
}

/* An interrupt handler wakes task 0, which sleeps with nothing else to run. */
static struct wait_queue irq_wq = WAIT_QUEUE_INIT(irq_wq);
static volatile bool irq_flag;
static volatile u32 irq_wake_at;

static void tick_waker(void)
{
	if (!irq_flag && (s32)(jiffies - irq_wake_at) >= 0) {
		irq_flag = true;
		wake_up(&irq_wq);
	}
}

KTEST(sched, idle_halts_until_an_interrupt_wakes)
{
	u32 halts0 = sched_stats.idle_halts, start = jiffies;

	irq_flag = false;
	irq_wake_at = start + 5;
	timer_hook = tick_waker;
	wait_event(irq_wq, irq_flag);
	timer_hook = NULL;
	u32 halts = sched_stats.idle_halts - halts0;
	ktest_diag("%u ticks asleep, %u halts", jiffies - start, halts);
	KT_EXPECT(irq_flag);
	KT_EXPECT_GE(jiffies - start, 5);
	KT_EXPECT_GE(halts, 1); /* it halted ... */
	KT_EXPECT_LE(halts, 20); /* ... and did not spin: about one halt per interrupt */
}

/* ---- preemption ---- */

static volatile u32 other_runs;
static volatile bool spin_done;
static volatile u32 seen_while_spinning, seen_while_disabled, seen_while_enabled;
static volatile bool spinner_had_irqs, refused_resched;

/* Counts its own turns until the spinner is done (at least one turn). */
static int counter_fn(void *arg)
{
	do {
		other_runs++;
		yield();
	} while (!spin_done);
	return 0;
}

/* Spins n ticks with interrupts on and never yields. */
static int spinner_fn(void *arg)
{
	spinner_had_irqs = irqs_enabled();
	u32 before = other_runs;
	spin_ticks((u32)arg);
	seen_while_spinning = other_runs - before;
	spin_done = true;
	return 0;
}

/* Runs spinner and counter (spinner first) and collects them. */
static bool run_pair(int (*spin)(void *), void *arg)
{
	other_runs = 0;
	spin_done = false;
	if (!kthread_create_on("spinner", spin, arg, 0))
		return false;
	if (!kthread_create_on("counter", counter_fn, NULL, 0)) {
		spin_done = true;
		reap(1);
		return false;
	}
	return reap(2) == 2;
}

KTEST(sched, tick_preempts_only_in_preempt_variants)
{
	u32 p0 = sched_stats.preemptions;

	KT_ASSERT(run_pair(spinner_fn, (void *)30));
	u32 preemptions = sched_stats.preemptions - p0;
	ktest_diag("counter ran %u times during a 30-tick spin; %u preemptions; %u runs in all",
		   seen_while_spinning, preemptions, other_runs);
	KT_EXPECT(spinner_had_irqs);
	if (CONFIG_PREEMPT) {
		/* one slice is 5 ticks: the spinner lost the CPU about 6 times */
		KT_EXPECT_GE(seen_while_spinning, 2);
		KT_EXPECT_GE(preemptions, 2);
	} else {
		KT_EXPECT_EQ(seen_while_spinning, 0);
		KT_EXPECT_EQ(preemptions, 0);
	}
	KT_EXPECT_GE(other_runs, 1); /* the counter did run, after the spinner if not before */
}

static int disabled_spinner_fn(void *arg)
{
	preempt_disable();
	u32 before = other_runs;
	spin_ticks(20);
	seen_while_disabled = other_runs - before;
	refused_resched = current->need_resched; /* the tick asked, the count said no */
	preempt_enable();
	before = other_runs;
	spin_ticks(20);
	seen_while_enabled = other_runs - before;
	spin_done = true;
	return 0;
}

KTEST(sched, preempt_disable_holds_off_the_tick)
{
	if (!CONFIG_PREEMPT)
		KT_SKIP("nopreempt variant: nothing preempts kernel code anyway");
	KT_ASSERT(run_pair(disabled_spinner_fn, NULL));
	ktest_diag("counter ran %u times with preemption disabled, %u times after", seen_while_disabled,
		   seen_while_enabled);
	KT_EXPECT_EQ(seen_while_disabled, 0);
	KT_EXPECT(refused_resched);
	KT_EXPECT_GE(seen_while_enabled, 1);
}

/* cond_resched gives the CPU away once the slice is over, in every variant. */
static int cond_resched_spinner_fn(void *arg)
{
	u32 before = other_runs, start = jiffies;

	while (jiffies - start < 20)
		cond_resched();
	seen_while_spinning = other_runs - before;
	spin_done = true;
	return 0;
}

KTEST(sched, cond_resched_yields_after_the_slice)
{
	KT_ASSERT(run_pair(cond_resched_spinner_fn, NULL));
	ktest_diag("counter ran %u times during a 20-tick cond_resched loop", seen_while_spinning);
	KT_EXPECT_GE(seen_while_spinning, 2);
}

/* ---- exit, reparenting, leaks ---- */

static struct wait_queue orphan_wq = WAIT_QUEUE_INIT(orphan_wq);
static volatile bool orphan_release;
static struct task *volatile orphan, *volatile early_zombie;

static int orphan_fn(void *arg)
{
	wait_event(orphan_wq, orphan_release);
	return 77;
}

static int zombie_fn(void *arg)
{
	return 88;
}

/* Starts a sleeping child and a child that exits, then exits without waiting. */
static int parent_fn(void *arg)
{
	orphan = kthread_create("orphan", orphan_fn, NULL);
	early_zombie = kthread_create("zombie", zombie_fn, NULL);
	if (!orphan || !early_zombie)
		return -1;
	while (early_zombie->state != TASK_ZOMBIE)
		yield();
	return 66;
}

KTEST(sched, exit_hands_children_to_task0)
{
	int code, sum = 0, n = 0, base = nr_tasks();

	orphan = early_zombie = NULL;
	orphan_release = false;
	KT_ASSERT(kthread_create("parent", parent_fn, NULL) != NULL);
	/* The parent and its zombie child come back, in some order. */
	for (int i = 0; i < 2; i++)
		if (do_wait(&code) > 0)
			sum += code, n++;
	/* SMP: the orphan may still be on its way to sleep on another CPU. */
	for (int i = 0; i < 1000 && orphan && orphan->state != TASK_SLEEPING; i++)
		yield();
	bool adopted = orphan && orphan->parent == idle_task && orphan->state == TASK_SLEEPING;
	orphan_release = true;
	wake_up(&orphan_wq);
	while (do_wait(&code) > 0)
		sum += code, n++;
	KT_EXPECT(adopted);
	KT_EXPECT_EQ(n, 3);
	KT_EXPECT_EQ(sum, 66 + 88 + 77);
	KT_EXPECT_EQ(nr_tasks(), base);
}

static int quick_fn(void *arg)
{
	return (int)(u32)arg;
}

/* 200 threads, 20 at a time: tasks and free pages return exactly to where they were. */
KTEST(sched, short_lived_threads_leak_nothing)
{
	int base = nr_tasks();
	u32 min_free = ~0u;

	task_cache_shrink();
	drain_all_pages();
	u32 free0 = nr_free_pages();
	for (int round = 0; round < 10; round++) {
		int started = 0, sum = 0, want = 0, code;
		for (int i = 0; i < 20; i++)
			if (kthread_create("quick", quick_fn, (void *)(u32)(round * 20 + i)))
				started++, want += round * 20 + i;
		KT_EXPECT_EQ(started, 20);
		KT_EXPECT_EQ(nr_tasks(), base + started);
		drain_all_pages();
		min_free = MIN(min_free, nr_free_pages());
		while (do_wait(&code) > 0)
			sum += code;
		KT_EXPECT_EQ(sum, want);
	}
	KT_EXPECT_EQ(nr_tasks(), base);
	task_cache_shrink();
	drain_all_pages();
	/* 20 live stacks must show (the count is not blind)... */
	KT_EXPECT_LE(min_free + 20 * (KSTACK_SIZE / PAGE_SIZE ? KSTACK_SIZE / PAGE_SIZE : 1), free0);
	/* ... and none may be left over. */
	KT_EXPECT_EQ(nr_free_pages(), free0);
}

/* The canary under a stack is checked (at every switch: here by hand). */
KTEST(sched, stack_canary_names_the_task)
{
	struct task *t = kthread_create_on("canary", quick_fn, NULL, 0);
	KT_ASSERT(t != NULL);
	preempt_disable(); /* t must not run while its canary is broken */
	KT_EXPECT(task_stack_check(t) == NULL);
	*(volatile u32 *)t->kstack ^= 0x1;
	const char *why = task_stack_check(t);
	*(volatile u32 *)t->kstack ^= 0x1;
	preempt_enable();
	KT_EXPECT(why != NULL);
	if (why) {
		ktest_diag("%s", why);
		KT_EXPECT(strstr(why, "'canary'") != NULL);
	}
	KT_EXPECT(task_stack_check(t) == NULL);
	KT_EXPECT_EQ(reap(1), 1);
	KT_EXPECT(task_stack_check(idle_task) == NULL);
}

/* ---- lazy TLB ---- */

static struct mm_struct *volatile lazy_seen_mm;
static volatile u32 lazy_seen_cr3;

static int lazy_fn(void *arg)
{
	lazy_seen_mm = current->active_mm;
	lazy_seen_cr3 = read_cr3();
	return 0;
}

/* Loads mm as task 0's (borrowed) address space; returns the previous one. */
static struct mm_struct *task0_use_mm(struct mm_struct *mm)
{
	struct mm_struct *old = current->active_mm;

	preempt_disable();
	switch_mm(old, mm);
	current->active_mm = mm;
	preempt_enable();
	return old;
}

/*
 * With a user address space loaded, a kernel thread runs in it: it borrows
 * task 0's active_mm, and neither switch (there and back) loads CR3.
 */
KTEST(sched, lazy_tlb_kernel_thread_borrows_mm)
{
	u32 cr3_kernel = read_cr3();
	struct mm_struct *mm = mm_alloc();
	KT_ASSERT(mm != NULL);
	struct mm_struct *old = task0_use_mm(mm);
	u32 cr3_user = read_cr3();
	struct sched_stats s0 = sched_stats;
	lazy_seen_mm = NULL;
	struct task *t = kthread_create_on("lazy", lazy_fn, NULL, 0);
	int reaped = t ? reap(1) : 0;
	struct sched_stats s1 = sched_stats;
	bool still = current->active_mm == mm && read_cr3() == cr3_user;
	task0_use_mm(old);
	mmput(mm);

	KT_ASSERT(t != NULL);
	KT_EXPECT_EQ(reaped, 1);
	KT_EXPECT_NE(cr3_user, cr3_kernel);
	KT_EXPECT(lazy_seen_mm == mm);
	KT_EXPECT_EQ(lazy_seen_cr3, cr3_user);
	KT_EXPECT(still);
	KT_EXPECT_GE(s1.switches - s0.switches, 2);
	KT_EXPECT_EQ(s1.lazy_tlb - s0.lazy_tlb, s1.switches - s0.switches);
	KT_EXPECT_EQ(s1.cr3_loads_avoided - s0.cr3_loads_avoided, s1.switches - s0.switches);
	KT_EXPECT_EQ(s1.switch_mm_calls - s0.switch_mm_calls, 0);
	KT_EXPECT_EQ(read_cr3(), cr3_kernel);
}

/* ---- benchmarks ---- */

static volatile u64 pp_cycles;
static volatile u32 pp_switches;

/* Yields n times; the first of the pair measures its own loop. */
static int pingpong_fn(void *arg)
{
	u32 n = (u32)arg & 0xffff;
	bool measure = (u32)arg >> 16;
	u32 s0 = sched_stats.switches;
	u64 t0 = rdtsc();

	for (u32 i = 0; i < n; i++)
		yield();
	if (measure) {
		pp_cycles = rdtsc() - t0;
		pp_switches = sched_stats.switches - s0;
	}
	return 0;
}

/* Two threads yielding to each other n times each, both on CPU 0 (in smp
 * variants each would otherwise yield alone on its own CPU); false if they
 * could not start. */
static bool pingpong(u32 n)
{
	pp_switches = 0;
	if (!kthread_create_on("ping", pingpong_fn, (void *)(n | 1u << 16), 0))
		return false;
	if (!kthread_create_on("pong", pingpong_fn, (void *)n, 0)) {
		reap(1);
		return false;
	}
	return reap(2) == 2;
}

KBENCH(sched_switch)
{
	const u32 n = 2000;

	if (!boot_cpu.tsc) {
		bench_report("\"error\": \"no TSC\"");
		return;
	}
	pingpong(100); /* warm up */
	if (!pingpong(n) || !pp_switches) {
		bench_report("\"error\": \"threads did not start\"");
		return;
	}
	u64 t0 = rdtsc();
	for (u32 i = 0; i < n; i++)
		yield(); /* nobody else runnable: schedule() without a switch */
	u64 alone = (rdtsc() - t0) / n;
	bench_report("\"method\": \"yield ping-pong of two kernel threads\", \"switches\": %u, "
		     "\"cycles_per_switch\": %llu, \"cycles_per_yield_without_switch\": %llu, "
		     "\"debug\": %d",
		     pp_switches, pp_cycles / pp_switches, alone, CONFIG_DEBUG);
}

KBENCH(sched_lazy_tlb)
{
	const u32 n = 2000;

	if (!boot_cpu.tsc) {
		bench_report("\"error\": \"no TSC\"");
		return;
	}
	struct mm_struct *mm = mm_alloc();
	if (!mm) {
		bench_report("\"error\": \"mm_alloc failed\"");
		return;
	}
	struct mm_struct *old = task0_use_mm(mm);
	struct sched_stats s0 = sched_stats;
	bool ok = pingpong(n);
	struct sched_stats s1 = sched_stats;
	task0_use_mm(old);
	mmput(mm);
	if (!ok) {
		bench_report("\"error\": \"threads did not start\"");
		return;
	}
	bench_report("\"method\": \"yield ping-pong of two kernel threads over a user mm\", "
		     "\"switches\": %u, \"cr3_loads_avoided\": %u, \"switch_mm_calls\": %u, "
		     "\"cycles_per_switch\": %llu, \"boot_total_cr3_loads_avoided\": %u, "
		     "\"boot_total_switch_mm_calls\": %u, \"debug\": %d",
		     s1.switches - s0.switches, s1.cr3_loads_avoided - s0.cr3_loads_avoided,
		     s1.switch_mm_calls - s0.switch_mm_calls, pp_cycles / (pp_switches ? pp_switches : 1),
		     s1.cr3_loads_avoided, s1.switch_mm_calls, CONFIG_DEBUG);
}
