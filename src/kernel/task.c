/*
 * Tasks: creation, exit and reaping.
 *
 * A task is a struct task from the "task" slab cache plus a KSTACK_SIZE
 * kernel stack from the page allocator (lowmem: the stack is used through
 * the direct map).  Task 0 is kmain on the boot stack, with a static struct.
 *
 *   kstack + KSTACK_SIZE +------------------------+  <- TSS esp0 while it runs
 *                        | trap frame             |  ring 3 enters here; task_create
 *                        |                        |  puts the first one (kthreads: none)
 *                        | switch frame           |  <- esp of a task that never ran
 *                        | ... grows down ...     |
 *                        |                        |
 *   kstack               | canary STACK_CANARY    |  checked at every switch
 *                        +------------------------+
 *
 * Life cycle: created asleep, woken onto the run queue; runs; do_exit makes
 * it a zombie (its mm dropped, its children handed to task 0, its parent
 * woken); the parent's do_wait frees the stack and the struct.  A task
 * cannot free the stack it runs on, which is why the parent does it.
 *
 * Locking: the task list and parent/child links change under the kernel
 * lock with interrupts off; states and queues also under sched_lock (see
 * task.h).  The allocators are not preemption-safe, so calls into them are
 * made with preemption disabled.  A parent reaps a zombie only under
 * sched_lock, after the zombie's CPU has switched away from its stack.
 */
#include "kernel/task.h"
#include "kernel/panic.h"
#include "kernel/preempt.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "arch/io.h"
#include "arch/layout.h"
#include "arch/switch.h"
#include "mm/mm.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"

#define STACK_CANARY 0x57ac6e9du

/* The page order that gives a KSTACK_SIZE stack (4 KiB or 16 KiB pages). */
#define KSTACK_ORDER (PAGE_SIZE >= KSTACK_SIZE ? 0 : PAGE_SIZE * 2 >= KSTACK_SIZE ? 1 \
		      : PAGE_SIZE * 4 >= KSTACK_SIZE ? 2 : 3)
_Static_assert((PAGE_SIZE << KSTACK_ORDER) >= KSTACK_SIZE, "kernel stack order");
_Static_assert(BOOT_STACK_SIZE == KSTACK_SIZE, "task 0 runs on the boot stack");

static struct kmem_cache *task_cache;
static struct task task0;
static struct list_head all_tasks = LIST_HEAD_INIT(all_tasks);
static int task_count;
static int next_pid = 1;
int sched_new_task_cpu = -1;

static u32 kstack_top(const struct task *t)
{
	return (u32)t->kstack + KSTACK_SIZE;
}

const char *task_stack_check(const struct task *t)
{
	static char why[128];
	u32 canary = *(const u32 *)t->kstack;

	if (canary == STACK_CANARY)
		return NULL;
	snprintf(why, sizeof(why), "kernel stack of '%s' (pid %d) overflowed: canary at %08x is %08x",
		 t->name, t->pid, (u32)t->kstack, canary);
	return why;
}

/* Fields every task starts with; the caller sets the stack and the name. */
static void task_init_common(struct task *t, const char *name)
{
	strlcpy(t->name, name, sizeof(t->name));
	t->state = TASK_RUNNING;
	INIT_LIST_HEAD(&t->children);
	INIT_LIST_HEAD(&t->sibling);
	INIT_LIST_HEAD(&t->run_list);
	INIT_LIST_HEAD(&t->all_list);
	init_waitqueue(&t->child_exit);
	t->ticks = SCHED_SLICE_TICKS;
	t->lock_depth = -1;
	t->pinned_cpu = sched_new_task_cpu;
	*(u32 *)t->kstack = STACK_CANARY;
}

void sched_init(void)
{
	struct task *t = &task0;
	u32 esp = (u32)__builtin_frame_address(0);

	if (esp < (u32)boot_stack || esp >= (u32)boot_stack_top)
		panic("sched_init: not on the boot stack (frame at %08x)", esp);
	task_cache = kmem_cache_create("task", sizeof(struct task), 16);
	if (!task_cache)
		panic("sched_init: no memory for the task cache");
	t->pid = 0;
	t->kstack = boot_stack;
	task_init_common(t, "kmain");
	list_add_tail(&t->all_list, &all_tasks);
	task_count = 1;
	idle_task = t;
	cpu_idle_task[0] = t;
	t->pinned_cpu = 0; /* CPU 0's fallback (kernel/sched.c) */
	current_task[smp_processor_id()] = t;
	load_esp0(kstack_top(t));
	lock_kernel(); /* task 0 runs kernel code from here on */
}

/* A task with a fresh stack, not yet on any list; NULL if memory ran out. */
static struct task *alloc_task(const char *name)
{
	preempt_disable();
	struct task *t = kmem_cache_alloc(task_cache, GFP_KERNEL | __GFP_ZERO);
	if (t) {
		t->kstack = get_free_pages(GFP_KERNEL, KSTACK_ORDER);
		if (!t->kstack) {
			kmem_cache_free(task_cache, t);
			t = NULL;
		}
	}
	preempt_enable();
	if (t)
		task_init_common(t, name);
	return t;
}

static void free_task(struct task *t)
{
	preempt_disable();
	free_pages(t->kstack, KSTACK_ORDER);
	kmem_cache_free(task_cache, t);
	preempt_enable();
}

/* Gives t a pid and a parent (current), and makes it runnable. */
static void task_start(struct task *t)
{
	u32 flags = local_irq_save();

	t->pid = next_pid++;
	t->parent = current;
	list_add_tail(&t->sibling, &current->children);
	list_add_tail(&t->all_list, &all_tasks);
	task_count++;
	sched_stats.forks++;
	t->state = TASK_SLEEPING; /* new tasks are woken like sleepers */
	wake_up_process(t);
	local_irq_restore(flags);
}

struct task *kthread_create(const char *name, int (*fn)(void *), void *arg)
{
	return kthread_create_on(name, fn, arg, -1);
}

struct task *kthread_create_on(const char *name, int (*fn)(void *), void *arg, int cpu)
{
	struct task *t = alloc_task(name);

	if (!t)
		return NULL;
	t->pinned_cpu = cpu;
	struct switch_frame *f = (struct switch_frame *)kstack_top(t) - 1;
	f->eflags = EFLAGS_RESERVED; /* interrupts off until kthread_start's sti */
	f->ebx = (u32)fn;
	f->esi = (u32)arg;
	f->edi = f->ebp = 0;
	f->eip = (u32)kthread_start;
	t->esp = (u32)f;
	t->lock_depth = 0; /* schedule_tail takes the kernel lock */
	task_start(t);
	return t;
}

struct task *task_create(const char *name, struct mm_struct *mm, const struct trap_frame *tf)
{
	struct task *t = alloc_task(name);

	if (!t)
		return NULL;
	struct trap_frame *frame = (struct trap_frame *)kstack_top(t) - 1;
	*frame = *tf;
	struct switch_frame *f = (struct switch_frame *)frame - 1;
	f->eflags = EFLAGS_RESERVED; /* the iret restores the frame's own EFLAGS */
	f->ebx = f->esi = f->edi = f->ebp = 0;
	f->eip = (u32)ret_from_fork;
	t->esp = (u32)f;
	t->mm = mm;
	if (!(tf->cs & 3))
		t->lock_depth = 0; /* a kernel-mode frame: kernel code first */
	if (tf->cs & 3) {
		t->user_entry = tf->eip;
		t->user_stack = tf->user_esp;
	}
	task_start(t);
	return t;
}

/* Hands t's children to task 0; wakes task 0 if a zombie is among them. */
static void reparent_children(struct task *t)
{
	bool zombie = false;

	while (!list_empty(&t->children)) {
		struct task *c = list_first_entry(&t->children, struct task, sibling);
		list_del_init(&c->sibling);
		c->parent = idle_task;
		list_add_tail(&c->sibling, &idle_task->children);
		zombie |= c->state == TASK_ZOMBIE;
	}
	if (zombie)
		wake_up(&idle_task->child_exit);
}

/*
 * Drops the task's own address space.  The CPU leaves it first (kernel page
 * tables), with preemption off so that no switch sees the task half way:
 * from then on it is a kernel thread on the kernel's tables.
 */
static void exit_mm(struct task *t)
{
	struct mm_struct *mm = t->mm;

	if (!mm)
		return;
	preempt_disable();
	t->mm = NULL;
	switch_mm(mm, NULL);
	t->active_mm = NULL;
	mmput(mm); /* the allocators are not preemption-safe */
	preempt_enable();
}

void do_exit(int code)
{
	struct task *t = current;

	if (t == idle_task)
		panic("do_exit(%d) by task 0 '%s': the idle task cannot exit", code, t->name);
	if (preempt_count() != 0)
		panic("do_exit(%d) by '%s' (pid %d) in an atomic section: preempt count %d", code,
		      t->name, t->pid, preempt_count());
	sti(); /* process context, even when called from a fault handler */
	exit_mm(t);
	cli();
	reparent_children(t);
	t->exit_code = code;
	t->state = TASK_ZOMBIE;
	wake_up(&t->parent->child_exit);
	schedule();
	panic("do_exit: zombie '%s' (pid %d) ran again", t->name, t->pid);
}

/* A zombie child of t, or NULL; interrupts are off. */
static struct task *find_zombie_child(struct task *t)
{
	struct list_head *l;

	list_for_each(l, &t->children) {
		struct task *c = list_entry(l, struct task, sibling);
		if (c->state == TASK_ZOMBIE)
			return c;
	}
	return NULL;
}

int do_wait(int *code)
{
	struct task *t = current, *z;
	/* sched_lock: a zombie seen under it has finished its last switch (the
	 * zombie's CPU holds the lock across switch_to), so its stack is free. */
	u32 flags = sched_lock_irqsave();

	while (!(z = find_zombie_child(t))) {
		if (list_empty(&t->children)) {
			sched_unlock_irqrestore(flags);
			return -ECHILD;
		}
		sleep_on_locked(&t->child_exit);
	}
	list_del_init(&z->sibling);
	list_del_init(&z->all_list);
	task_count--;
	sched_stats.reaped++;
	sched_unlock_irqrestore(flags);

	int pid = z->pid;
	if (code)
		*code = z->exit_code;
	const char *why = task_stack_check(z);
	if (why)
		panic("do_wait: %s", why);
	free_task(z);
	return pid;
}

struct task *find_task(int pid)
{
	struct task *found = NULL;
	struct list_head *l;
	u32 flags = local_irq_save();

	list_for_each(l, &all_tasks) {
		struct task *t = list_entry(l, struct task, all_list);
		if (t->pid == pid) {
			found = t;
			break;
		}
	}
	local_irq_restore(flags);
	return found;
}

int nr_tasks(void)
{
	return task_count;
}

void task_cache_shrink(void)
{
	preempt_disable();
	kmem_cache_shrink(task_cache);
	preempt_enable();
}

void sched_show_tasks(void)
{
	struct list_head *l;

	list_for_each(l, &all_tasks) {
		struct task *t = list_entry(l, struct task, all_list);
		const char *st = t->state == TASK_RUNNING ? "runnable"
				 : t->state == TASK_SLEEPING ? "sleeping" : "zombie";
		printk("  pid %d '%s' %s%s", t->pid, t->name, st, t == current ? " (current)" : "");
		if (t->state == TASK_SLEEPING && t->sleeping_on == &t->child_exit)
			printk(", in do_wait for its children\n");
		else if (t->state == TASK_SLEEPING)
			printk(", on wait queue %08x\n", (u32)t->sleeping_on);
		else
			printk("\n");
	}
}
