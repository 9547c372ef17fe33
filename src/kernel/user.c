/*
 * User tasks: starting ring-3 programs, and killing the ones that fault.
 *
 * The user image (src/user/, built into a flat binary and embedded in the
 * kernel's .rodata by src/user/embed.asm, 16 KiB aligned so its frames are
 * whole clusters in every variant) is mapped read-only and executable at
 * USER_IMAGE_BASE into every user address space: the frames are the
 * kernel's own, never counted or freed (VM_IMAGE).  Its header and table of
 * programs are described in kernel/syscall.h.
 *
 * Starting a program: a fresh mm gets the image and a stack VMA, and a task
 * is created (task_create) with a ring-3 trap frame at the top of its
 * kernel stack -- eip = crt0, eax = the program's entry, ebx = its
 * argument, esp = USER_STACK_TOP.  Its first switch ends in trap_return,
 * whose iret enters ring 3.  fork (syscall.c) does the same with a copy of
 * the parent's frame.
 *
 * Killing: an exception from ring 3 that the kernel cannot resolve (a page
 * fault with no VMA or the wrong rights, a kernel address, #GP, #UD, #DE,
 * ...) marks the task: the report goes out at once, kill_reason is set,
 * and on the way back to ring 3 (user_return_work, called by the
 * scheduler's return path with nothing held) the task exits with
 * EXIT_KILLED(vector).  Exiting there rather than inside the fault handler
 * means no lock, kmap slot or preemption count of the fault path is live.
 *
 * Locking: the kernel lock (kernel/task.h) from the entry into the kernel to
 * the return to ring 3.  The allocators are not preemption-safe, so mm calls
 * are made with preemption disabled.
 */
#include "kernel/user.h"
#include "kernel/panic.h"
#include "kernel/preempt.h"
#include "kernel/printk.h"
#include "kernel/task.h"
#include "arch/fault.h"
#include "arch/traps.h"
#include "arch/usermode.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/memory.h"
#include "mm/mm.h"

static struct user_test_counts test_counts;

static const struct user_image_header *image_header(void)
{
	return (const struct user_image_header *)user_image_start;
}

static const struct user_prog *image_progs(void)
{
	return (const struct user_prog *)(image_header() + 1);
}

/* The fault hook of fault.c: a page fault from ring 3 the mm could not resolve. */
static void user_fault(struct trap_frame *tf, u32 cr2, const char *what)
{
	user_kill(tf, cr2, what);
}

void user_init(void)
{
	const struct user_image_header *h = image_header();
	u32 avail = (u32)(user_image_end - user_image_start);

	if ((u32)user_image_start & (PAGE_SIZE - 1))
		panic("user image at %p: not cluster aligned", user_image_start);
	if (h->magic != USER_IMAGE_MAGIC || h->size > avail ||
	    sizeof(*h) + h->nprogs * sizeof(struct user_prog) > h->size ||
	    h->start - USER_IMAGE_BASE >= h->size)
		panic("user image: bad header (magic %08x, %u programs, size %u of %u)", h->magic,
		      h->nprogs, h->size, avail);
	for (u32 i = 0; i < h->nprogs; i++) {
		const struct user_prog *p = &image_progs()[i];
		if (strnlen(p->name, USER_PROG_NAME_MAX) == USER_PROG_NAME_MAX ||
		    p->entry - USER_IMAGE_BASE >= h->size)
			panic("user image: program %u is malformed", i);
	}
	user_fault_handler = user_fault;
	pr_info("user: image %u bytes at phys %08x, %u programs\n", h->size,
		(u32)virt_to_phys(user_image_start), h->nprogs);
}

const struct user_prog *user_prog_find(const char *name)
{
	const struct user_image_header *h = image_header();

	for (u32 i = 0; i < h->nprogs; i++)
		if (!strcmp(image_progs()[i].name, name))
			return &image_progs()[i];
	return NULL;
}

/* A fresh address space with the image and a stack; NULL if memory ran out. */
static struct mm_struct *user_mm_create(void)
{
	preempt_disable();
	struct mm_struct *mm = mm_alloc();
	/* Whole clusters (the padding of embed.asm): no other VMA shares a window
	 * with the image unless the task unmaps part of it. */
	if (mm && (map_user_image(mm, USER_IMAGE_BASE, (u32)virt_to_phys(user_image_start),
				  ALIGN_UP(image_header()->size, PAGE_SIZE)) ||
		   map_user_stack(mm))) {
		mmput(mm);
		mm = NULL;
	}
	preempt_enable();
	return mm;
}

struct task *user_task_create(const char *prog, u32 arg)
{
	const struct user_prog *p = user_prog_find(prog);
	struct trap_frame tf;

	if (!p)
		return NULL;
	struct mm_struct *mm = user_mm_create();
	if (!mm)
		return NULL;
	user_frame_init(&tf, image_header()->start, USER_STACK_TOP);
	tf.eax = p->entry;
	tf.ebx = arg;
	struct task *t = task_create(p->name, mm, &tf);
	if (!t) {
		preempt_disable();
		mmput(mm);
		preempt_enable();
	}
	return t;
}

/* "r-x" for a VMA's rights. */
static void vma_rights(const struct vm_area_struct *v, char out[4])
{
	out[0] = v->vm_flags & VM_READ ? 'r' : '-';
	out[1] = v->vm_flags & VM_WRITE ? 'w' : '-';
	out[2] = v->vm_flags & VM_EXEC ? 'x' : '-';
	out[3] = 0;
}

/* The page-fault part of a kill report: address, access, and the VMA. */
static void describe_page_fault(char *buf, u32 size, struct mm_struct *mm,
				const struct trap_frame *tf, u32 cr2, const char *what)
{
	bool write = tf->error & 2, exec = tf->error & 16;
	const char *access = exec ? "exec" : write ? "write" : "read";
	struct vm_area_struct *v = mm && cr2 < TASK_SIZE ? find_vma(mm, cr2) : NULL;

	if (!what)
		what = fault_reason(mm, cr2, write, exec);
	int n = snprintf(buf, size, "page fault at 0x%08x (%s, user): %s", cr2, access, what);
	if (v && (u32)n < size) {
		char r[4];
		vma_rights(v, r);
		snprintf(buf + n, size - n, " (VMA %08x-%08x %s)", v->vm_start, v->vm_end, r);
	}
}

void user_kill(struct trap_frame *tf, u32 cr2, const char *what)
{
	struct task *t = current;

	if (t->kill_reason[0])
		return; /* already marked: the first reason stands */
	if (tf->vector == VEC_PF)
		describe_page_fault(t->kill_reason, sizeof(t->kill_reason), t->mm, tf, cr2, what);
	else if (tf->error)
		snprintf(t->kill_reason, sizeof(t->kill_reason),
			 "%s, error code 0x%x, at eip 0x%08x", trap_name(tf->vector), tf->error,
			 tf->eip);
	else
		snprintf(t->kill_reason, sizeof(t->kill_reason), "%s at eip 0x%08x",
			 trap_name(tf->vector), tf->eip);
	t->exit_code = EXIT_KILLED(tf->vector);
	printk("user: task %d (%s) killed: %s\n", t->pid, t->name, t->kill_reason);
}

/*
 * On every return to ring 3 (the scheduler's hook; interrupts off, nothing
 * held): a task marked by user_kill exits here instead.
 */
void user_return_work(struct trap_frame *tf)
{
	struct task *t = current;

	if (t->kill_reason[0])
		do_exit(t->exit_code);
}

void user_test_reset(void)
{
	test_counts.passes = test_counts.failures = 0;
}

struct user_test_counts user_test_counts(void)
{
	return test_counts;
}

void user_test_count(bool ok)
{
	if (ok)
		test_counts.passes++;
	else
		test_counts.failures++;
}
