/*
 * The page-fault handler (#PF, vector 14).  CR2 holds the linear address,
 * the error code says why (SDM vol. 3 4.7): P (bit 0) protection rather
 * than not-present, W/R (bit 1) a write, U/S (bit 2) from ring 3, I/D
 * (bit 4) an instruction fetch (with NX).
 *
 * A fault on a user address from user mode, or from a listed kernel
 * instruction (copy_to_user...), goes to the address space; what it cannot
 * resolve kills the task (user mode) or takes the fixup (kernel).  Any other
 * kernel fault is a bug: panic.
 */
#include "arch/fault.h"
#include "arch/io.h"
#include "arch/panic_arch.h"
#include "arch/smp.h"
#include "mm/mm.h"
#include "kernel/printk.h"
#include "kernel/task.h"

/* Set by the task code: ends the current user task after a fatal fault. */
void (*user_fault_handler)(struct trap_frame *tf, u32 cr2, const char *what);

bool do_page_fault(struct trap_frame *tf, u32 cr2)
{
	bool user = tf->cs & 3, write = tf->error & 2, exec = tf->error & 16;
	struct mm_struct *mm = current_mm_of_cpu[smp_processor_id()];
	bool listed = !user && extable_fixup(tf->eip);

	if (cr2 >= TASK_SIZE || !(user || listed) || !mm)
		return false; /* the caller's fixup or panic path */
	/* Faults may take time (copy, zeroing): let interrupts in as before. */
	if (tf->eflags & (1u << 9))
		sti();
	int err = handle_mm_fault(mm, cr2, write, exec);
	cli();
	if (!err)
		return true;
	if (user) {
		if (!user_fault_handler)
			return false;
		/* Killing the task (and reading its VMAs for the report) is kernel-lock work. */
		if (!kernel_lock_held())
			lock_kernel();
		user_fault_handler(tf, cr2, fault_reason(mm, cr2, write, exec));
		return true;
	}
	return false; /* a listed kernel access: the fixup ends it */
}
