/*
 * The audit breakpoint (see arch/audit.h for the register protocol).
 */
#include "arch/audit.h"
#include "arch/layout.h"
#include "arch/smp.h"

/* One answer block per CPU: points on different CPUs never share one. */
static volatile struct arch_audit_answer answers[NR_CPUS];

struct arch_audit_answer arch_audit_break(const struct arch_audit_request *req)
{
	volatile struct arch_audit_answer *a = &answers[smp_processor_id()];
	struct arch_audit_answer got;

	a->verdict = 0;
	a->seen = ~0u;
	a->cpu = 0;
	a->laddr = 0;
	/*
	 * Bochs' magic breakpoint is the 16-bit `xchg bx, bx` (66 87 DB in
	 * 32-bit code); Bochs stops after it.  The memory clobber makes the
	 * compiler reread the block the debugger wrote.
	 */
	__asm__ __volatile__(".byte 0x66, 0x87, 0xdb"
			     :
			     : "a"(ARCH_AUDIT_MAGIC), "b"(req->word), "c"(req->laddr),
			       "d"(req->expect), "S"(req->where), "D"(virt_to_phys((void *)a))
			     : "memory");
	got.verdict = a->verdict;
	got.seen = a->seen;
	got.cpu = a->cpu;
	got.laddr = a->laddr;
	return got;
}
