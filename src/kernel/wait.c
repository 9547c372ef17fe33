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
 *
 * SMP: the queues are under sched_lock (kernel/sched.c), taken with
 * interrupts off; wait_event checks its condition under it, so a waker on
 * another CPU (which takes it in wake_up) cannot come in between.
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
	u32 flags = sched_lock_irqsave();
	sleep_on_locked(wq);
	sched_unlock_irqrestore(flags);
}

void wake_up_locked(struct wait_queue *wq)
{
	while (!list_empty(&wq->tasks)) {
		struct task *t = list_first_entry(&wq->tasks, struct task, run_list);
		if (t->state != TASK_SLEEPING)
			panic("wake_up: '%s' (pid %d) is on a wait queue but not asleep",
			      t->name, t->pid);
		wake_up_process_locked(t);
	}
}

/* Wakes all sleepers: each rechecks its own condition (wait_event loops). */
void wake_up(struct wait_queue *wq)
{
	u32 flags = sched_lock_irqsave();
	wake_up_locked(wq);
	sched_unlock_irqrestore(flags);
}
