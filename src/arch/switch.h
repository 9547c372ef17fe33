/*
 * The x86 half of the scheduler: the stack switch, the first frames of a
 * new task, the TSS stack pointer, and interrupt-flag save/restore.
 *
 * A task that is switched out has this on top of its kernel stack, lowest
 * address first, and task->esp points at it (switch.asm pushes it):
 *
 *   esp -> EFLAGS      (IF as it was inside schedule(): normally clear)
 *          EDI
 *          ESI         new kernel thread: its argument
 *          EBX         new kernel thread: its function
 *          EBP         new task: 0, so backtraces stop here
 *          return EIP  into schedule(); new task: kthread_start or ret_from_fork
 *
 * These are the registers the i386 System V ABI makes callee-saved (EBX, ESI,
 * EDI, EBP; ESP is the switch itself).  EAX, ECX, EDX are the caller's to
 * lose.  EFLAGS is saved because a task may be switched out with interrupts
 * off and another switched in that must get them back on.
 */
#ifndef ARCH_SWITCH_H
#define ARCH_SWITCH_H
#include "lib/types.h"
#include "arch/layout.h"
#include "arch/traps.h"
#include "arch/smp.h"

#define EFLAGS_IF (1u << 9)       /* interrupt enable (SDM vol. 1 3.4.3) */
#define EFLAGS_RESERVED (1u << 1) /* bit 1 always reads as 1 */

/* What switch_to pushes and pops (see the diagram above). */
struct switch_frame {
	u32 eflags, edi, esi, ebx, ebp, eip;
};

/*
 * Saves the callee-saved registers and EFLAGS on the current stack, stores
 * the stack pointer in *prev_esp, loads next_esp and pops the same from
 * there.  Returns when someone switches back to *prev_esp.
 */
void switch_to(u32 *prev_esp, u32 next_esp);

/* Where a new task's first switch returns to (switch.asm): */
void kthread_start(void); /* sti, then EBX(ESI) and do_exit(its return value) */
void ret_from_fork(void); /* trap_return: iret through the frame above it */
void kthread_exit(void);  /* do_exit(EAX): a return address for kernel frames */

/* The stack ring 3 enters the kernel on: the top of the running task's
 * kernel stack (SDM vol. 3 7.2.1, ESP0/SS0 of the TSS). */
static inline void load_esp0(u32 esp0)
{
	struct tss *t = cpu_tss[smp_processor_id()]; /* each CPU has its own TSS */
	t->esp0 = esp0;
	t->ss0 = KERNEL_DS;
}

/* Interrupts off; returns EFLAGS as it was, for local_irq_restore. */
static inline u32 local_irq_save(void)
{
	u32 flags;
	__asm__ __volatile__("pushfl; popl %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

/* Interrupts back on if flags (from local_irq_save) had them on. */
static inline void local_irq_restore(u32 flags)
{
	if (flags & EFLAGS_IF)
		__asm__ __volatile__("sti" ::: "memory");
}

static inline bool irqs_enabled(void)
{
	u32 flags;
	__asm__ __volatile__("pushfl; popl %0" : "=r"(flags));
	return flags & EFLAGS_IF;
}

#endif
