/* The x86 half of panic: register dumps and frame-pointer backtraces. */
#ifndef ARCH_PANIC_ARCH_H
#define ARCH_PANIC_ARCH_H
#include "arch/traps.h"

/* An exception nobody expected: report it and stop the run. */
void __noreturn panic_trap(struct trap_frame *tf, u32 cr2);
/* The double-fault task's entry: reports the state the fault interrupted. */
void __noreturn double_fault_task(void);
/* Control registers and a backtrace of the caller (software panics). */
void arch_dump_current(void);
/* Walks the EBP chain from (eip, ebp), one symbolic line per frame. */
void backtrace_print(u32 eip, u32 ebp);

#endif
