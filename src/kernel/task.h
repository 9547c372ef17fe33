/*
 * Tasks and the scheduler.
 *
 * A task is a kernel stack plus a saved stack pointer, and for a user task an
 * address space (mm).  Kernel threads have no mm of their own: they borrow
 * the previous task's (active_mm) without switching CR3 ("lazy TLB").
 * kmain becomes task 0 (the boot task, on the boot stack) when the scheduler
 * starts; it also serves as the idle task.
 *
 * Scheduling is round robin.  The timer tick marks the running task for
 * rescheduling after its time slice; in preempt variants an interrupt that
 * returns to kernel code with preempt_count() == 0 switches then, in
 * nopreempt variants switches happen only at explicit points (schedule(),
 * sleeping, yield, and on the way back to user mode).
 *
 * Locking: one CPU; the run queue is touched with interrupts off.
 */
#ifndef KERNEL_TASK_H
#define KERNEL_TASK_H
#include "lib/list.h"
#include "lib/types.h"
#include "arch/smp.h"

struct mm_struct;
struct trap_frame;

enum task_state {
	TASK_RUNNING,  /* on the run queue or running */
	TASK_SLEEPING, /* on a wait queue */
	TASK_ZOMBIE,   /* exited, waiting for its parent's wait() */
};

/* A queue of sleeping tasks. */
struct wait_queue {
	struct list_head tasks;
};
#define WAIT_QUEUE_INIT(name) { LIST_HEAD_INIT((name).tasks) }

#define KSTACK_SIZE 16384u

struct task {
	int pid;
	char name[16];
	enum task_state state;
	u32 esp;                      /* saved kernel stack pointer while switched out */
	void *kstack;                 /* lowest address of the kernel stack */
	struct mm_struct *mm;         /* own address space; NULL for kernel threads */
	struct mm_struct *active_mm;  /* the address space loaded while it runs */
	struct task *parent;
	struct list_head children;    /* its children, through sibling */
	struct list_head sibling;
	struct list_head run_list;    /* the run queue or a wait queue */
	struct wait_queue child_exit; /* the task sleeps here in wait() */
	int exit_code;
	u32 ticks;                    /* ticks left in its time slice */
	bool need_resched;
	/* User tasks: what the kill report and the tests need. */
	u32 user_entry, user_stack;
	char kill_reason[96];         /* why the kernel killed it, "" if it exited */
};

extern struct task *current_task[8];
#define current (current_task[smp_processor_id()])

void sched_init(void);        /* makes the caller (kmain) task 0 */
/* A kernel thread running fn(arg); it exits with fn's return value. */
struct task *kthread_create(const char *name, int (*fn)(void *), void *arg);
/* Gives the CPU to the next runnable task, if any. */
void schedule(void);
void yield(void);
/* Called by the timer tick. */
void sched_tick(void);
/* Called on the way out of every interrupt and system call, with the frame. */
void sched_return_check(struct trap_frame *tf);

/* Sleeps on wq until cond holds (checked with interrupts off). */
#define wait_event(wq, cond)                                   \
	do {                                                   \
		while (!(cond))                                \
			sleep_on(&(wq));                       \
	} while (0)
void sleep_on(struct wait_queue *wq);
void wake_up(struct wait_queue *wq);
void init_waitqueue(struct wait_queue *wq);

/* Ends the current task; its parent's wait() collects exit_code. */
void __noreturn do_exit(int code);
/* Waits for a child to exit; returns its pid and stores its exit code, or -ECHILD. */
int do_wait(int *code);
struct task *find_task(int pid);
/* Number of tasks that exist (for leak checks). */
int nr_tasks(void);

#endif
