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
 * Locking (SMP): the run queue, every task's state and run_list, and the
 * wait queues are under sched_lock (a ticket spinlock, interrupts off),
 * held across the switch itself.  The memory manager's lower layers lock
 * themselves (mm/mm.h has the locks and their order): the page allocator,
 * the slab caches and kmalloc, the swap slot map and swap cache, the LRU
 * lists, pkmap, printk -- code that lets the kernel lock go may call them.
 * Address spaces have mm->page_table_lock and anon_vmas their lock, so a
 * ring-3 page fault runs without the kernel lock (anon_vma builds:
 * arch/traps.c) -- except that it takes it (mm/memory.c handle_mm_fault,
 * arch/fault.c) for reclaim (balance_memory), for swap-in (a swap entry in
 * the faulting window), in RMAP=pte_chain builds (the chains have no lock of
 * their own), and to kill the task after a fault it cannot resolve.  The
 * memory calls mmap, munmap and mprotect of ring-3 tasks run without it too
 * (anon_vma builds: kernel/syscall.c's table), taking it for an unmap over
 * swap entries, a MAP_SHARED mmap and to free an emptied anon_vma
 * (mm/mmap.c).  Still under the kernel lock (lock_kernel): the task tree,
 * every other system call (fork, exit, wait, write, test and the rest: the
 * syscall entry takes it), reclaim and its reverse-map walks and pageout's
 * slot counting,
 * swap I/O (the ATA channel, the HighMem area's bounce frame), other
 * exceptions from ring 3.  A task holds it whenever it runs such kernel
 * code (kernel threads always, unless
 * they let it go as the smp and smp_alloc tests do; user tasks from their
 * entry into the kernel until their return to ring 3), schedule() lets it go
 * while the task is switched out and takes it back when it resumes.  So that
 * code keeps the one-CPU rules it was written for (interrupts off or
 * preemption disabled exclude every other task), while ring-3 code,
 * interrupt handlers, the scheduler and the lower mm layers run on every CPU
 * at once.  In up variants both compile away (interrupts off, preemption
 * count only).
 *
 * Added with the scheduler (kernel/sched.c, task.c, wait.c): each task's
 * kernel stack has a canary word at its lowest address, checked at every
 * switch; task 0 is the idle fallback (it halts inside schedule() when
 * nothing runs, and a sleep that nothing can end panics after 10 s);
 * active_mm == NULL means the kernel's own page tables (init_mm).
 */
#ifndef KERNEL_TASK_H
#define KERNEL_TASK_H
#include "lib/list.h"
#include "lib/types.h"
#include "arch/smp.h"
#include "arch/switch.h" /* local_irq_save/restore for wait_event */

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
	/* Scheduler bookkeeping (added with the scheduler). */
	struct list_head all_list;    /* on the list of every task (find_task, nr_tasks) */
	u32 switches_in;              /* times it was switched to */
	struct wait_queue *sleeping_on; /* while TASK_SLEEPING (the deadlock report) */
	/* SMP. */
	int lock_depth;               /* kernel lock: -1 not wanted, >= 0 held while it runs */
	int cpu;                      /* the CPU it runs on, or ran on last */
	int pinned_cpu;               /* -1: any CPU; task 0 stays on CPU 0 */
	u32 cpus_ran;                 /* CPUs it has run on, one bit each */
};

extern struct task *current_task[8];
#define current (current_task[smp_processor_id()])

void sched_init(void);        /* makes the caller (kmain) task 0 */
/* A kernel thread running fn(arg); it exits with fn's return value. */
struct task *kthread_create(const char *name, int (*fn)(void *), void *arg);
/* The same, pinned to one CPU (-1: any); for tests of one-CPU scheduling
 * rules (round robin order, preemption by this CPU's tick). */
struct task *kthread_create_on(const char *name, int (*fn)(void *), void *arg, int cpu);
/* The CPU new tasks (kernel threads, ring-3 tasks, their forks) are pinned
 * to; -1 (the default): none.  For tests whose tasks must take turns on one
 * CPU. */
extern int sched_new_task_cpu;
/* Gives the CPU to the next runnable task, if any. */
void schedule(void);
void yield(void);
/* Called by the timer tick. */
void sched_tick(void);
/* Called on the way out of every interrupt and system call, with the frame. */
void sched_return_check(struct trap_frame *tf);
/* Called by sched_return_check before every return to ring 3, interrupts off
 * (added with the scheduler; a weak empty default exists). */
void user_return_work(struct trap_frame *tf);

/*
 * Sleeps on wq until cond holds.  cond is checked with interrupts off and
 * the task goes on the queue before they come back on, so a wake_up (from
 * an interrupt handler too) between the check and the sleep is not lost.
 */
#define wait_event(wq, cond)                                   \
	do {                                                   \
		u32 __we_flags = sched_lock_irqsave();         \
		while (!(cond))                                \
			sleep_on_locked(&(wq));                \
		sched_unlock_irqrestore(__we_flags);           \
	} while (0)
/* SMP: cond is checked under sched_lock, which wake_up takes too, so a
 * waker on another CPU cannot slip between the check and the sleep. */
u32 sched_lock_irqsave(void);
void sched_unlock_irqrestore(u32 flags);
/* sleep_on with sched_lock held (and interrupts off); returns with it held. */
void sleep_on_locked(struct wait_queue *wq);
/* wake_up and wake_up_process with sched_lock held. */
void wake_up_locked(struct wait_queue *wq);
void wake_up_process_locked(struct task *t);
/* The kernel lock (see "Locking" above); nests per task. */
void lock_kernel(void);
void unlock_kernel(void);
/* Does the running task hold the kernel lock?  (Always true in up variants and before tasks.) */
bool kernel_lock_held(void);
/* Does another task (on another CPU) hold it now?  A snapshot, for statistics. */
bool kernel_lock_elsewhere(void);
/* An application processor's first task: its idle loop on the stack it
 * started on (arch/smpboot.c), with the scheduler ready. */
void __noreturn sched_ap_idle(int cpu, void *stack);
/* The VEC_RESCHED handler (installed by arch/smpboot.c). */
void sched_resched_ipi(struct trap_frame *tf);
/* The idle task of each CPU (task 0 on CPU 0). */
extern struct task *cpu_idle_task[NR_CPUS];
/* Sleeps until a wake_up of wq; interrupts on return are as they were.
 * Check the condition with interrupts off and keep them off until sleep_on,
 * or a wake-up may come in between and be lost (wait_event does this). */
void sleep_on(struct wait_queue *wq);
/* Makes every task sleeping on wq runnable (interrupt handlers may call it). */
void wake_up(struct wait_queue *wq);
void init_waitqueue(struct wait_queue *wq);
/* Makes t runnable if it sleeps (added with the scheduler). */
void wake_up_process(struct task *t);

/* Ends the current task; its parent's wait() collects exit_code. */
void __noreturn do_exit(int code);
/* Waits for a child to exit; returns its pid and stores its exit code, or -ECHILD. */
int do_wait(int *code);
struct task *find_task(int pid);
/* Number of tasks that exist (for leak checks). */
int nr_tasks(void);

/*
 * Added with the scheduler.
 *
 * task_create: a task whose first run returns from a copy of the trap frame
 * tf (placed at the top of its new kernel stack, where ring 3 will enter):
 * fork's child (a copy of the parent's frame with eax = 0) and the first
 * entry into ring 3 (cs = user code, eip = entry, user_esp = stack).  mm
 * becomes the task's own address space (the caller's reference passes to
 * the task; do_exit drops it); NULL for a kernel-mode frame.  The task is
 * the current task's child and runnable.  NULL when memory runs out.
 */
struct task *task_create(const char *name, struct mm_struct *mm, const struct trap_frame *tf);
/* Yields if the time slice is over and preemption is not disabled: for long
 * kernel loops in nopreempt variants. */
void cond_resched(void);
/* The out-of-line end of a preempt_enable() that dropped the count to 0 in a
 * preempt variant: switches if need_resched and interrupts are on. */
void preempt_check_resched(void);
/* Why t's kernel stack is not intact (its canary overwritten), or NULL. */
const char *task_stack_check(const struct task *t);
/* Gives the task cache's empty slabs back (exact free counts in leak checks). */
void task_cache_shrink(void);
/* Prints one line per task (pid, name, state, what it sleeps on). */
void sched_show_tasks(void);
/* Task 0: kmain, also the idle task. */
extern struct task *idle_task;

/* Time slice, in timer ticks (HZ = 100). */
#define SCHED_SLICE_TICKS 5

/* Counters since boot, for tests and benchmarks. */
struct sched_stats {
	u32 switches;          /* context switches (switch_to calls) */
	u32 lazy_tlb;          /* ... to a kernel thread: active_mm kept, switch_mm not called */
	u32 cr3_loads_avoided; /* ... of those, while a user mm was loaded: a CR3 load saved */
	u32 switch_mm_calls;   /* ... to a task with its own mm: switch_mm called */
	u32 preemptions;       /* switches forced on the way out of an interrupt */
	u32 yields;            /* yield() calls */
	u32 sleeps, wakeups;   /* sleep_on calls; tasks made runnable (new ones too) */
	u32 idle_halts;        /* hlt executed by task 0 with nothing runnable */
	u32 forks;             /* tasks created (kthread_create, task_create) */
	u32 reaped;            /* zombies freed by do_wait */
	u32 switches_on[NR_CPUS]; /* context switches to a non-idle task, per CPU */
	u32 migrations;        /* a task resumed on another CPU than before */
	u32 resched_ipis;      /* reschedule IPIs sent to idle CPUs */
	u32 apic_ticks[NR_CPUS]; /* local APIC timer ticks taken, per AP */
};
extern struct sched_stats sched_stats;

#endif
