/*
 * The scheduler: round robin over one run queue, switched by schedule().
 *
 * What it protects, and how (one CPU):
 *   - the run queue, every task's state and run_list, and current: changed
 *     only with interrupts off, because interrupt handlers wake tasks up
 *     (wake_up) and the tick marks them for rescheduling (sched_tick);
 *   - the switch itself: schedule() raises the preemption count for its
 *     whole run, so an interrupt that arrives while task 0 idles inside it
 *     (sti; hlt) does not schedule again from the interrupt exit.  The
 *     count is per CPU, not per task: at every switch it is exactly 1 (the
 *     scheduler's own), and whichever task resumes drops it -- in its own
 *     schedule(), or in schedule_tail for a task that never ran.
 *
 * The run queue holds the runnable tasks that are not running; the running
 * task (current) is on no list.  Task 0 (kmain) is a task like the others
 * while it is runnable, and also the fallback: when the task that gives up
 * the CPU is not runnable and the queue is empty, the CPU goes to task 0
 * even if it sleeps, and task 0 halts inside schedule() (sti; hlt; cli)
 * until an interrupt makes something runnable.  If task 0 sleeps, nothing
 * is runnable and no timer hook could wake anything for
 * SCHED_DEADLOCK_TICKS, every task is asleep for good: panic.
 *
 * Where switches happen:
 *   - explicitly: schedule(), yield(), sleeping, do_exit, cond_resched;
 *   - on the way out of an interrupt or exception (sched_return_check):
 *     back to user mode whenever the time slice is over; back to kernel code
 *     only in preempt variants, and only if preempt_count() == 0 and the
 *     interrupted code had interrupts on (SDM vol. 3 6.8.1: IF is in the
 *     saved EFLAGS of the frame).
 *
 * Address spaces: a task with its own mm gets it loaded (switch_mm); a
 * kernel thread (mm == NULL) borrows the previous task's active_mm and
 * CR3 is left alone ("lazy TLB": kernel mappings are the same in every
 * address space).  active_mm == NULL means the kernel's own page tables.
 */
#include "kernel/task.h"
#include "kernel/panic.h"
#include "kernel/preempt.h"
#include "kernel/printk.h"
#include "arch/io.h"
#include "arch/switch.h"
#include "arch/timer.h"
#include "mm/highmem.h"
#include "mm/mm.h"
#include "kernel/audit.h"
#include "mm/memory.h"

int __preempt_count[NR_CPUS];

/* Task 0 asleep, nothing runnable, no timer hook, for this long: deadlock. */
#define SCHED_DEADLOCK_TICKS (10 * HZ)

struct task *current_task[8];
struct task *idle_task;
struct sched_stats sched_stats;
static struct list_head runqueue = LIST_HEAD_INIT(runqueue);

/* Drops the scheduler's own preemption count without looking for a switch. */
static inline void preempt_enable_no_resched(void)
{
	barrier();
	__preempt_count[smp_processor_id()]--;
}

/* Puts a runnable task at the back of the run queue; interrupts are off. */
static void sched_enqueue(struct task *t)
{
	if (CONFIG_DEBUG && !list_empty(&t->run_list))
		panic("sched_enqueue: '%s' (pid %d) is already on a queue", t->name, t->pid);
	list_add_tail(&t->run_list, &runqueue);
}

/*
 * The task to run after prev: prev goes to the back of the queue if it is
 * still runnable, and the front of the queue is taken.  With an empty queue
 * the answer is task 0, runnable or not (see idle_wait).  Task 0 may already
 * be queued: an interrupt woke it while it idled in schedule().
 */
static struct task *pick_next(struct task *prev)
{
	if (prev->state == TASK_RUNNING && list_empty(&prev->run_list))
		sched_enqueue(prev);
	if (list_empty(&runqueue))
		return idle_task;
	struct task *next = list_first_entry(&runqueue, struct task, run_list);
	list_del_init(&next->run_list);
	return next;
}

static const char *state_name(enum task_state s)
{
	switch (s) {
	case TASK_RUNNING:
		return "runnable";
	case TASK_SLEEPING:
		return "sleeping";
	case TASK_ZOMBIE:
		return "zombie";
	}
	return "?";
}

static void __noreturn deadlock(u32 since)
{
	sched_show_tasks();
	panic("deadlock: every task is asleep (task 0 '%s' too; nothing runnable for %u ticks "
	      "and no timer hook set)", idle_task->name, jiffies - since);
}

/*
 * Task 0 has nothing to run and does not run itself: halt until an
 * interrupt.  sti takes effect after the next instruction (SDM vol. 2B,
 * STI), so an interrupt that arrives after the run queue was found empty
 * still ends the hlt; cli then closes the window again before the queue is
 * looked at.  since: the tick at which the CPU went idle.
 */
static void idle_wait(u32 since)
{
	if (jiffies - since >= SCHED_DEADLOCK_TICKS && !timer_hook)
		deadlock(since);
	sched_stats.idle_halts++;
	__asm__ __volatile__("sti; hlt; cli" ::: "memory");
}

/*
 * Lazy TLB: next runs in prev's address space unless it has its own.
 * active_mm of a kernel thread is only meaningful while it runs: it is
 * taken from prev at every switch, never kept from the last time.
 */
static void switch_address_space(struct task *prev, struct task *next)
{
	struct mm_struct *loaded = prev->active_mm;

	if (!next->mm) {
		next->active_mm = loaded;
		sched_stats.lazy_tlb++;
		if (loaded)
			sched_stats.cr3_loads_avoided++;
		audit_cr3(AUDIT_LAZY_ENTER, pgd_cr3((loaded ? loaded : &init_mm)->pgd));
		return;
	}
	next->active_mm = next->mm;
	sched_stats.switch_mm_calls++;
	switch_mm(loaded, next->mm);
	if (!prev->mm)
		audit_cr3(AUDIT_LAZY_LEAVE, pgd_cr3(next->mm->pgd));
}

/* Switches from prev (current) to next; returns when prev runs again. */
static void context_switch(struct task *prev, struct task *next)
{
	const char *why = task_stack_check(prev);

	if (!why)
		why = task_stack_check(next);
	if (why)
		panic("context switch '%s' -> '%s': %s", prev->name, next->name, why);
	if (CONFIG_DEBUG) {
		if (preempt_count() != 1)
			panic("context switch '%s' -> '%s': preempt count %d, expected 1 "
			      "(the scheduler's own)", prev->name, next->name, preempt_count());
		kmap_atomic_check_idle("context switch");
	}
	switch_address_space(prev, next);
	load_esp0((u32)next->kstack + KSTACK_SIZE);
	next->ticks = SCHED_SLICE_TICKS;
	next->need_resched = false;
	next->switches_in++;
	sched_stats.switches++;
	current_task[smp_processor_id()] = next;
	switch_to(&prev->esp, next->esp);
}

void schedule(void)
{
	struct task *prev = current;
	bool idling = false;
	u32 idle_since = 0;

	if (unlikely(preempt_count() != 0))
		panic("schedule() by '%s' (pid %d) in an atomic section: preempt count %d "
		      "(a kmap_atomic slot or preempt_disable held across a sleep?)",
		      prev->name, prev->pid, preempt_count());
	u32 flags = local_irq_save();
	preempt_disable();
	prev->need_resched = false;
	for (;;) {
		struct task *next = pick_next(prev);
		if (next != prev) {
			idling = false;
			context_switch(prev, next);
			/* prev again.  Only task 0, the fallback, may come back asleep. */
			if (prev->state == TASK_RUNNING)
				break;
			if (prev != idle_task)
				panic("schedule: '%s' resumed while %s", prev->name,
				      state_name(prev->state));
			continue;
		}
		if (prev->state == TASK_RUNNING)
			break;
		/* Task 0, asleep, and nothing else to run. */
		if (!idling) {
			idling = true;
			idle_since = jiffies;
		}
		idle_wait(idle_since);
	}
	preempt_enable_no_resched();
	local_irq_restore(flags);
}

/*
 * A sleeping task (or a new one, which starts out asleep) becomes runnable,
 * at the back of the queue: round robin, no preference for the woken.
 */
void wake_up_process(struct task *t)
{
	u32 flags = local_irq_save();

	if (t->state == TASK_SLEEPING) {
		list_del_init(&t->run_list); /* off its wait queue, if any */
		t->sleeping_on = NULL;
		t->state = TASK_RUNNING;
		sched_enqueue(t);
		sched_stats.wakeups++;
	}
	local_irq_restore(flags);
}

/* The first thing a new task does (switch.asm): end the switch that started it. */
void schedule_tail(void)
{
	preempt_enable_no_resched();
}

void yield(void)
{
	sched_stats.yields++;
	schedule();
}

void cond_resched(void)
{
	struct task *t = current;

	if (t && t->need_resched && preempt_count() == 0)
		schedule();
}

void preempt_check_resched(void)
{
	struct task *t = current;

	if (CONFIG_PREEMPT && t && t->need_resched && preempt_count() == 0 && irqs_enabled()) {
		sched_stats.preemptions++;
		schedule();
	}
}

/* Interrupt context: the running task's slice shrinks by one tick. */
void sched_tick(void)
{
	struct task *t = current;

	if (!t)
		return;
	if (t->ticks)
		t->ticks--;
	if (t->ticks == 0) {
		t->ticks = SCHED_SLICE_TICKS;
		if (!list_empty(&runqueue))
			t->need_resched = true;
	}
}

/*
 * Work on every return to ring 3 (a task marked for killing...): defined
 * where user tasks are implemented (kernel/user.c); this empty weak
 * definition keeps the scheduler linkable without them.
 */
__attribute__((weak)) void user_return_work(struct trap_frame *tf)
{
}

void sched_return_check(struct trap_frame *tf)
{
	struct task *t = current;

	if (!t)
		return;
	if (tf->cs & 3) {
		if (t->need_resched)
			schedule();
		user_return_work(tf);
		if (CONFIG_DEBUG) {
			if (preempt_count() != 0)
				panic("return to user mode by '%s' (pid %d) with preempt count %d",
				      t->name, t->pid, preempt_count());
			kmap_atomic_check_idle("return to user mode");
		}
		return;
	}
	if (CONFIG_PREEMPT && t->need_resched && preempt_count() == 0 && (tf->eflags & EFLAGS_IF)) {
		sched_stats.preemptions++;
		schedule();
	}
}

