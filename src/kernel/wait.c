/*
 * Wait queues: a list of sleeping tasks, linked through their run_list (a
 * task is on the run queue or on one wait queue, never both).
 *
 * Locking: the queue is changed with interrupts off, since interrupt
 * handlers wake sleepers.  The rule that makes sleeping safe: the sleeper
 * checks its condition with interrupts off and keeps them off until it is
 * on the queue (wait_event).  A waker sets the condition first, then calls
 * wake_up; whichever order the two run in, the sleeper either sees the
 * condition or is on the queue when the wake-up comes.  The interrupts come
 * back on only in the next task, after the switch.
 */
#include "kernel/task.h"
#include "kernel/panic.h"
#include "kernel/preempt.h"
#include "arch/switch.h"

void init_waitqueue(struct wait_queue *wq)
{
	INIT_LIST_HEAD(&wq->tasks);
}

void sleep_on(struct wait_queue *wq)
{
	struct task *t = current;

	if (unlikely(preempt_count() != 0))
		panic("sleep_on by '%s' (pid %d) in an atomic section: preempt count %d",
		      t->name, t->pid, preempt_count());
	u32 flags = local_irq_save();
	t->state = TASK_SLEEPING;
	t->sleeping_on = wq;
	list_add_tail(&t->run_list, &wq->tasks);
	sched_stats.sleeps++;
	schedule();
	local_irq_restore(flags);
}

/* Wakes all sleepers: each rechecks its own condition (wait_event loops). */
void wake_up(struct wait_queue *wq)
{
	u32 flags = local_irq_save();

	while (!list_empty(&wq->tasks)) {
		struct task *t = list_first_entry(&wq->tasks, struct task, run_list);
		if (t->state != TASK_SLEEPING)
			panic("wake_up: '%s' (pid %d) is on a wait queue but not asleep",
			      t->name, t->pid);
		wake_up_process(t);
	}
	local_irq_restore(flags);
}
