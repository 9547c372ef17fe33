/*
 * One memory access, observed: the paging conformance suite
 * (selftest/conformance.c) asks for a read, a write or an instruction fetch
 * at a linear address, from ring 0 or ring 3, and gets back either "done"
 * (with the value read) or the exception it raised, with the error code and
 * CR2 -- never a kernel fault report, a killed task or a panic.
 *
 * How (conformance_probe.asm): cf_probe_run saves the callee-saved registers
 * and the segment registers, loads a private IDT (cf_idt_build: a copy of
 * the kernel's, whose #UD, #GP, #PF and int 0x80 gates point at the probe's
 * own stubs) and performs the access:
 *   ring 0: directly, from kernel text (a fetch jumps to the address);
 *   ring 3: an iret to a tiny code page the caller mapped user-executable
 *           (a copy of cf_user_code), with EBX = address and ECX = value,
 *           interrupts off.  The ring-3 code does the one access and
 *           `int 0x80`.  TSS.ESP0 points at the probe's own stack meanwhile.
 * A successful access ends with `int 0x80` (for a fetch, the target holds
 * that instruction: CD 80) or, in ring 0, by falling through.  Either way,
 * and on any of the caught exceptions, the stub records what happened and
 * returns to cf_probe_run's caller on the stack it was called on, as a
 * longjmp would: no iret, so the trap frame (ring 3 or ring 0) is simply
 * abandoned.  The kernel's IDT and TSS.ESP0 are back before it returns.
 *
 * Why not the kernel's exception-table fixups: a fault from ring 3 goes to
 * the user-task code (the task would be killed), and a fixup can only resume
 * at a kernel address in the same ring.  One mechanism for both rings keeps
 * the supervisor and user probes identical.
 *
 * The caller keeps interrupts off (the private IDT has no idea of the
 * scheduler) and runs on a stack that stays mapped.
 */
#ifndef ARCH_CONFORMANCE_ARCH_H
#define ARCH_CONFORMANCE_ARCH_H
#include "lib/types.h"

enum cf_op {
	CF_READ,     /* 32-bit load from addr; result = the value */
	CF_WRITE,    /* 32-bit store of value at addr */
	CF_FETCH,    /* jump to addr, which must hold `int 0x80` (CD 80) */
	CF_LOAD_CR3, /* MOV to CR3 of addr (ring 0 only) */
};

#define CF_NO_TRAP 0xffffffffu

/* Field offsets are used by conformance_probe.asm: keep the order. */
struct cf_probe {
	u32 op;       /* enum cf_op */
	u32 user;     /* 1: from ring 3 */
	u32 addr;
	u32 value;    /* CF_WRITE */
	u32 user_eip; /* ring 3: where in the mapped user code (cf_user_entry) */
	/* results */
	u32 vector;   /* CF_NO_TRAP, or the exception (6, 13, 14) */
	u32 error;    /* the exception's error code */
	u32 cr2;      /* #PF: CR2 */
	u32 eip;      /* the faulting EIP */
	u32 result;   /* CF_READ: the value read */
};

/* Performs p->op as described above and fills the results. */
void cf_probe_run(struct cf_probe *p);

/* Builds the private IDT (once; the kernel's gates must be final). */
void cf_idt_build(void);

/* The ring-3 code to copy into a user-executable page, position-independent. */
extern const u8 cf_user_code[], cf_user_code_end[];
/* Offset in that code of the entry for op (CF_READ, CF_WRITE, CF_FETCH). */
u32 cf_user_entry(enum cf_op op);

#endif
