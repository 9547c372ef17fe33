/* Page faults (see fault.c). */
#ifndef ARCH_FAULT_H
#define ARCH_FAULT_H
#include "arch/traps.h"

/* true if the fault was resolved (or the task was dealt with): resume. */
bool do_page_fault(struct trap_frame *tf, u32 cr2);
/* The fixup address for a faulting kernel EIP, or 0. */
u32 extable_fixup(u32 eip);
extern void (*user_fault_handler)(struct trap_frame *tf, u32 cr2, const char *what);

#endif
