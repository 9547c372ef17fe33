/*
 * The C half of the access probe (see conformance_arch.h): the private IDT
 * and the entry points of the ring-3 code.
 */
#include "arch/conformance_arch.h"
#include "arch/layout.h"
#include "arch/smp.h"
#include "arch/traps.h"
#include "lib/string.h"

/* An interrupt gate (SDM vol. 3 6.11, figure 6-2). */
struct cf_gate {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __packed;

struct cf_idtr_val {
	u16 limit;
	u32 base;
} __packed;

extern struct cf_idtr_val cf_idtr; /* conformance_probe.asm */
extern const u8 cf_user_read[], cf_user_write[], cf_user_fetch[];
void cf_trap_ud(void);
void cf_trap_gp(void);
void cf_trap_pf(void);
void cf_trap_int80(void);

static struct cf_gate cf_idt[256] __aligned(8);
/* The TSS whose ESP0 the probe borrows: the running CPU's.  The conformance
 * suite runs in task 0, which stays on CPU 0 (kernel/sched.c). */
struct tss *cf_tss;

_Static_assert(__builtin_offsetof(struct cf_probe, user_eip) == 16, "conformance_probe.asm P_USER_EIP");
_Static_assert(__builtin_offsetof(struct cf_probe, result) == 36, "conformance_probe.asm P_RESULT");

/* A present 32-bit interrupt gate (type 0xE) of privilege dpl. */
static void set_gate(int v, void (*fn)(void), u8 dpl)
{
	u32 off = (u32)fn;

	cf_idt[v].off_lo = off & 0xffff;
	cf_idt[v].off_hi = off >> 16;
	cf_idt[v].sel = KERNEL_CS;
	cf_idt[v].zero = 0;
	cf_idt[v].type = 0x8e | (dpl << 5);
}

void cf_idt_build(void)
{
	struct cf_idtr_val kernel;

	__asm__ __volatile__("sidt %0" : "=m"(kernel));
	/* NMI, #DF (its task gate), #MC and the rest stay the kernel's. */
	memcpy(cf_idt, (const void *)kernel.base, MIN(sizeof(cf_idt), (size_t)kernel.limit + 1));
	set_gate(6, cf_trap_ud, 0);
	set_gate(13, cf_trap_gp, 0);
	set_gate(14, cf_trap_pf, 0);
	set_gate(0x80, cf_trap_int80, 3); /* raised by ring-3 code: DPL 3 */
	cf_idtr.limit = sizeof(cf_idt) - 1;
	cf_idtr.base = (u32)cf_idt;
	cf_tss = cpu_tss[smp_processor_id()];
}

u32 cf_user_entry(enum cf_op op)
{
	switch (op) {
	case CF_WRITE:
		return cf_user_write - cf_user_code;
	case CF_FETCH:
		return cf_user_fetch - cf_user_code;
	default:
		return cf_user_read - cf_user_code;
	}
}
