/*
 * The TLB audit's hardware side (x86 under Bochs): one audit point is a
 * Bochs magic breakpoint (the 16-bit `xchg bx, bx`, bytes 66 87 DB, with
 * `magic_break: enabled=1`) with the request in the registers; the debugger
 * harness (ci/audit.py) compares the CPU's TLB with the page tables, writes
 * its answer into this CPU's answer block in memory, and continues.
 *
 * Registers at the breakpoint (ci/audit.py decodes the same layout):
 *   EAX = ARCH_AUDIT_MAGIC
 *   EBX = point kind (bits 7:0) | check (bits 11:8) | flags (15:12) | sequence (31:16)
 *   ECX = linear address (the first page of a range)
 *   EDX = expected 4 KiB frame number, or the expected CR3
 *   ESI = CPU number (bits 7:0) | pages in the range (bits 31:16)
 *   EDI = physical address of the CPU's answer block (struct arch_audit_answer)
 * Elsewhere (QEMU, a real PC) the instruction is an ordinary xchg that
 * changes nothing, so the answer stays ARCH_AUDIT_UNANSWERED.
 */
#ifndef ARCH_AUDIT_H
#define ARCH_AUDIT_H
#include "lib/types.h"

#define ARCH_AUDIT_MAGIC 0xAD17C0DEu

/* The answer block; the harness writes each word with setpmem. */
struct arch_audit_answer {
	u32 verdict; /* enum audit_verdict (kernel/audit.h) */
	u32 seen;    /* the frame the TLB held where the check failed, or ~0 */
	u32 cpu;     /* the CPU where it failed */
	u32 laddr;   /* the page where it failed */
};

struct arch_audit_request {
	u32 word;   /* EBX */
	u32 laddr;  /* ECX */
	u32 expect; /* EDX */
	u32 where;  /* ESI */
};

/* Stops at the magic breakpoint with req in the registers; returns what the
 * harness answered (verdict 0 if nobody did). */
struct arch_audit_answer arch_audit_break(const struct arch_audit_request *req);

#endif
