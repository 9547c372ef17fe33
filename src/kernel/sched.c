/*
 * The scheduler: round robin over one run queue, switched by schedule().
 *
 * What it protects, and how (as on one CPU; for SMP see below):
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
 * kernel thread (mm == NULL) borrows the mm this CPU has loaded and CR3 is
 * left alone ("lazy TLB": kernel mappings are the same in every address
 * space).  active_mm == NULL means the kernel's own page tables.  A
 * shootdown for a borrowed mm makes the CPU leave it (arch/tlbflush.c).
 *
 * SMP: one run queue for every CPU (tasks migrate freely), under sched_lock,
 * which schedule() holds from the pick across switch_to: the task that
 * resumes (or schedule_tail, for a new one) lets it go, so no other CPU can
 * pick prev before its registers are saved.  Task 0 (kmain) stays on CPU 0
 * and remains CPU 0's fallback as described above; every other CPU has an
 * idle task of its own (sched_ap_idle) that halts until its local APIC
 * timer tick or a reschedule IPI (sent by a wake-up when some CPU idles).
 * The kernel lock (task.h) is let go at every switch and taken back, with
 * interrupts on while it spins, by the task that resumes.
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
#include "arch/apic.h"
#include "arch/smpboot.h"
#include "arch/spinlock.h"
#include "arch/tlbflush.h"
#include "lib/printf.h"
#include "kernel/audit.h"
#include "mm/memory.h"

int __preempt_count[NR_CPUS];

/* Task 0 asleep, nothing runnable, no timer hook, for this long: deadlock. */
#define SCHED_DEADLOCK_TICKS (10 * HZ)

struct task *current_task[8];
struct task *idle_task;
struct task *cpu_idle_task[NR_CPUS];
struct sched_stats sched_stats;
static struct list_head runqueue = LIST_HEAD_INIT(runqueue);
static spinlock_t sched_lock = SPINLOCK_INIT;
static spinlock_t kernel_lock = SPINLOCK_INIT;
static struct task *volatile kernel_lock_owner;
static volatile u32 cpu_idle_mask; /* CPUs halted in their idle loop */

u32 sched_lock_irqsave(void)
{
	u32 flags = local_irq_save();
	raw_spin_lock(&sched_lock);
	return flags;
}

void sched_unlock_irqrestore(u32 flags)
{
	raw_spin_unlock(&sched_lock);
	local_irq_restore(flags);
}

/* Spins for the kernel lock with interrupts on (an interrupt, a shootdown or
 * the tick, must not wait behind us), then restores IF as it was. */
static void kernel_lock_take(struct task *t)
{
	u32 flags = read_eflags();

	if (raw_spin_trylock(&kernel_lock)) {
		kernel_lock_owner = t;
		return;
	}
	/* No preemption while holding a ticket: a task switched in here would
	 * spin behind a ticket that cannot be served. */
	__preempt_count[smp_processor_id()]++;
	sti();
	raw_spin_lock(&kernel_lock);
	kernel_lock_owner = t;
	if (!(flags & EFLAGS_IF))
		cli();
	barrier();
	__preempt_count[smp_processor_id()]--;
}

void lock_kernel(void)
{
	struct task *t = current;

	if (!CONFIG_SMP || !t)
		return;
	if (t->lock_depth < 0) {
		kernel_lock_take(t);
		t->lock_depth = 0;
	} else {
		t->lock_depth++;
	}
}

bool kernel_lock_elsewhere(void)
{
	struct task *o = kernel_lock_owner;

	return CONFIG_SMP && o && o != current;
}

bool kernel_lock_held(void)
{
	struct task *t = current;

	return !CONFIG_SMP || !t || t->lock_depth >= 0;
}

void unlock_kernel(void)
{
	struct task *t = current;

	if (!CONFIG_SMP || !t)
		return;
	if (CONFIG_DEBUG && (t->lock_depth < 0 || kernel_lock_owner != t))
		panic("unlock_kernel by '%s' (pid %d): not held (depth %d)", t->name, t->pid,
		      t->lock_depth);
	if (--t->lock_depth < 0) {
		kernel_lock_owner = NULL;
		raw_spin_unlock(&kernel_lock);
	}
}

/* At a switch: prev lets the kernel lock go (sched_lock held). */
static void kernel_lock_release(struct task *prev)
{
	if (CONFIG_SMP && kernel_lock_owner == prev) {
		kernel_lock_owner = NULL;
		raw_spin_unlock(&kernel_lock);
	}
}

/* After a switch, sched_lock dropped: the resumed task takes it back. */
static void kernel_lock_reacquire(void)
{
	struct task *t = current;

	if (CONFIG_SMP && t->lock_depth >= 0 && kernel_lock_owner != t)
		kernel_lock_take(t);
}

/* May t run on cpu? */
static inline bool task_allowed(const struct task *t, int cpu)
{
	return t->pinned_cpu < 0 || t->pinned_cpu == cpu;
}

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
static struct task *pick_next(struct task *prev, int cpu)
{
	struct list_head *l;

	if (prev->state == TASK_RUNNING && list_empty(&prev->run_list) &&
	    (prev == idle_task || prev != cpu_idle_task[cpu]))
		sched_enqueue(prev);
	list_for_each(l, &runqueue) {
		struct task *next = list_entry(l, struct task, run_list);
		if (task_allowed(next, cpu)) {
			list_del_init(&next->run_list);
			return next;
		}
	}
	return cpu_idle_task[cpu];
}

/* Is there a task on the queue that cpu may run? (sched_lock held) */
static bool work_for(int cpu)
{
	struct list_head *l;

	list_for_each(l, &runqueue)
		if (task_allowed(list_entry(l, struct task, run_list), cpu))
			return true;
	return false;
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

/* Is some other CPU running a task (not its idle loop)? Then something may
 * still wake task 0. */
static bool cpu_busy_elsewhere(void)
{
	for (int cpu = 1; cpu < NR_CPUS; cpu++)
		if (cpu_idle_task[cpu] && current_task[cpu] != cpu_idle_task[cpu])
			return true;
	return false;
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
	if (jiffies - since >= SCHED_DEADLOCK_TICKS && !timer_hook && !cpu_busy_elsewhere())
		deadlock(since);
	sched_stats.idle_halts++;
	atomic_or(&cpu_idle_mask, 1u);
	raw_spin_unlock(&sched_lock); /* wake-ups from other CPUs need it */
	__asm__ __volatile__("sti; hlt; cli" ::: "memory");
	raw_spin_lock(&sched_lock);
	atomic_andnot(&cpu_idle_mask, 1u);
}

/*
 * Lazy TLB: next runs in prev's address space unless it has its own.
 * active_mm of a kernel thread is only meaningful while it runs: it is
 * taken from prev at every switch, never kept from the last time.
 */
static void switch_address_space(struct task *prev, struct task *next)
{
	struct mm_struct *loaded = current_mm_of_cpu[smp_processor_id()];

	if (loaded == &init_mm)
		loaded = NULL;
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
	int cpu = smp_processor_id();
	switch_address_space(prev, next);
	load_esp0((u32)next->kstack + KSTACK_SIZE);
	next->ticks = SCHED_SLICE_TICKS;
	next->need_resched = false;
	next->switches_in++;
	sched_stats.switches++;
	if (next != cpu_idle_task[cpu]) {
		sched_stats.switches_on[cpu]++;
		if (next->cpus_ran && next->cpu != cpu)
			sched_stats.migrations++;
		next->cpus_ran |= 1u << cpu;
	}
	next->cpu = cpu;
	current_task[cpu] = next;
	switch_to(&prev->esp, next->esp);
}

/*
 * The switch loop; sched_lock held, interrupts off, the scheduler's
 * preemption count raised.  Returns in prev with all of that still so.
 */
static void __schedule(struct task *prev)
{
	bool idling = false;
	u32 idle_since = 0;

	prev->need_resched = false;
	kernel_lock_release(prev); /* even if prev stays: task 0 may idle here */
	for (;;) {
		int cpu = smp_processor_id();
		struct task *next = pick_next(prev, cpu);
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
}

void schedule(void)
{
	struct task *prev = current;

	if (unlikely(preempt_count() != 0))
		panic("schedule() by '%s' (pid %d) in an atomic section: preempt count %d "
		      "(a kmap_atomic slot or preempt_disable held across a sleep?)",
		      prev->name, prev->pid, preempt_count());
	u32 flags = local_irq_save();
	preempt_disable();
	raw_spin_lock(&sched_lock);
	__schedule(prev);
	raw_spin_unlock(&sched_lock);
	preempt_enable_no_resched();
	local_irq_restore(flags);
	kernel_lock_reacquire();
}

void sleep_on_locked(struct wait_queue *wq)
{
	struct task *t = current;

	if (unlikely(preempt_count() != 0))
		panic("sleep_on by '%s' (pid %d) in an atomic section: preempt count %d",
		      t->name, t->pid, preempt_count());
	t->state = TASK_SLEEPING;
	t->sleeping_on = wq;
	list_add_tail(&t->run_list, &wq->tasks);
	sched_stats.sleeps++;
	preempt_disable();
	__schedule(t);
	preempt_enable_no_resched();
	if (CONFIG_SMP && t->lock_depth >= 0 && kernel_lock_owner != t) {
		raw_spin_unlock(&sched_lock); /* never spin for the kernel lock under it */
		kernel_lock_reacquire(); /* comes back with interrupts off */
		raw_spin_lock(&sched_lock);
	}
}

/* Wakes an idle CPU (other than this one; the next after the last one woken)
 * that may run t, if any (SDM vol. 3 10.6.1:
 * a fixed IPI to one APIC ID); its idle loop then looks at the queue. */
static void kick_idle_cpu(const struct task *t)
{
	u32 idle = cpu_idle_mask & cpu_online_mask & ~(1u << smp_processor_id());

	if (t->pinned_cpu >= 0)
		idle &= 1u << t->pinned_cpu; /* only its CPU may take it */
	if (!CONFIG_SMP || !idle)
		return;
	static int rotor; /* spreads the wake-ups over the idle CPUs */
	for (int i = 1; i <= NR_CPUS; i++) {
		int cpu = (rotor + i) % NR_CPUS;
		if (idle & (1u << cpu)) {
			rotor = cpu;
			sched_stats.resched_ipis++;
			apic_send_ipi(smp_info.apic_id[cpu], VEC_RESCHED);
			return;
		}
	}
}

/*
 * A sleeping task (or a new one, which starts out asleep) becomes runnable,
 * at the back of the queue: round robin, no preference for the woken.
 */
void wake_up_process_locked(struct task *t)
{
	if (t->state == TASK_SLEEPING) {
		list_del_init(&t->run_list); /* off its wait queue, if any */
		t->sleeping_on = NULL;
		t->state = TASK_RUNNING;
		sched_enqueue(t);
		sched_stats.wakeups++;
		kick_idle_cpu(t);
	}
}

void wake_up_process(struct task *t)
{
	u32 flags = sched_lock_irqsave();
	wake_up_process_locked(t);
	sched_unlock_irqrestore(flags);
}

/* The first thing a new task does (switch.asm): end the switch that started
 * it (sched_lock, then the scheduler's preemption count), then take the
 * kernel lock if it runs kernel code. */
void schedule_tail(void)
{
	raw_spin_unlock(&sched_lock);
	preempt_enable_no_resched();
	kernel_lock_reacquire();
}

void sched_resched_ipi(struct trap_frame *tf)
{
	apic_eoi(); /* the idle loop that was halted looks at the queue itself */
}

/* An AP's idle loop: runs whatever the queue has, else halts until the
 * next interrupt (its APIC timer tick, a reschedule or flush IPI). */
void __noreturn sched_ap_idle(int cpu, void *stack)
{
	static struct task idle[NR_CPUS];
	struct task *t = &idle[cpu];

	t->pid = 0;
	t->kstack = stack;
	snprintf(t->name, sizeof(t->name), "idle/%d", cpu);
	t->state = TASK_RUNNING;
	INIT_LIST_HEAD(&t->children);
	INIT_LIST_HEAD(&t->sibling);
	INIT_LIST_HEAD(&t->run_list);
	INIT_LIST_HEAD(&t->all_list);
	t->lock_depth = -1;
	t->pinned_cpu = cpu;
	t->cpu = cpu;
	*(u32 *)stack = 0x57ac6e9du; /* task.c's STACK_CANARY */
	current_mm_of_cpu[cpu] = &init_mm;
	init_mm.cpu_mask |= 1u << cpu;
	cpu_idle_task[cpu] = t;
	current_task[cpu] = t;
	load_esp0((u32)stack + KSTACK_SIZE);
	for (;;) {
		cli();
		raw_spin_lock(&sched_lock);
		bool work = work_for(cpu);
		if (!work)
			atomic_or(&cpu_idle_mask, 1u << cpu);
		raw_spin_unlock(&sched_lock);
		if (work) {
			schedule();
			continue;
		}
		/* sti takes effect after hlt starts (SDM vol. 2B STI): a wake-up IPI
		 * sent after the check above ends the hlt. */
		__asm__ __volatile__("sti; hlt; cli" ::: "memory");
		atomic_andnot(&cpu_idle_mask, 1u << cpu);
	}
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
	if (t == cpu_idle_task[smp_processor_id()] && t != idle_task)
		t->need_resched = false; /* the idle loop looks at the queue itself */
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
		if (!CONFIG_SMP || t->lock_depth >= 0) {
			user_return_work(tf);
		} else if (t->kill_reason[0]) {
			lock_kernel(); /* an interrupt from ring 3 holds no lock yet */
			user_return_work(tf);
		}
		if (CONFIG_DEBUG) {
			if (preempt_count() != 0)
				panic("return to user mode by '%s' (pid %d) with preempt count %d",
				      t->name, t->pid, preempt_count());
			kmap_atomic_check_idle("return to user mode");
		}
		if (CONFIG_SMP && t->lock_depth >= 0) {
			if (CONFIG_DEBUG && t->lock_depth != 0)
				panic("return to user mode by '%s' (pid %d) with the kernel lock "
				      "nested %d deep", t->name, t->pid, t->lock_depth);
			unlock_kernel();
		}
		return;
	}
	if (CONFIG_PREEMPT && t->need_resched && preempt_count() == 0 && (tf->eflags & EFLAGS_IF)) {
		sched_stats.preemptions++;
		schedule();
	}
}

