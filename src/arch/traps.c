/*
 * Trap dispatch: exceptions either resume at a listed fixup (exception
 * tables) or panic with a full report; hardware interrupts go to the handler
 * installed for their vector.
 *
 * SMP: an exception or system call from ring 3 takes the kernel lock
 * (kernel/task.h) before any kernel work; the way back to ring 3 lets it go.
 * Page faults are the exception in anon_vma builds: they run under their
 * mm's page_table_lock alone (mm/memory.c takes the kernel lock itself for
 * reclaim and swap-in, arch/fault.c to kill the task); so are the system
 * calls marked lockless in kernel/syscall.c's table (mmap, munmap,
 * mprotect: mm/mmap.c takes it when they need it).  Hardware interrupts
 * take no lock.
 */
#include "arch/traps.h"
#include "arch/io.h"
#include "arch/layout.h"
#include "arch/fault.h"
#include "arch/panic_arch.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/preempt.h"
#include "kernel/syscall.h"
#include "kernel/user.h"
#include "kernel/task.h"

struct idt_gate {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __packed;

struct idt_ptr {
	u16 limit;
	u32 base;
} __packed;

extern const u32 trap_stubs[256];
extern const struct extable_entry __ex_table_start[], __ex_table_end[];

static struct idt_gate idt[256] __aligned(8);
static irq_handler_t irq_handlers[256];
struct fixup_record last_fixup;

static const char *const exc_names[20] = {
	"divide error (#DE)", "debug (#DB)", "NMI", "breakpoint (#BP)",
	"overflow (#OF)", "bound range (#BR)", "invalid opcode (#UD)",
	"device not available (#NM)", "double fault (#DF)", "coprocessor overrun",
	"invalid TSS (#TS)", "segment not present (#NP)", "stack fault (#SS)",
	"general protection (#GP)", "page fault (#PF)", "reserved 15",
	"x87 error (#MF)", "alignment check (#AC)", "machine check (#MC)",
	"SIMD error (#XM)",
};

const char *trap_name(u32 vector)
{
	if (vector < ARRAY_SIZE(exc_names))
		return exc_names[vector];
	return vector < 32 ? "reserved exception" : "interrupt";
}

/*
 * Interrupt gates (type 0xE: IF cleared on entry, SDM vol. 3 6.11); DPL 0,
 * except int 0x80 which ring 3 may raise (DPL 3) once system calls exist.
 */
static void set_gate(int v, u32 handler, u8 dpl)
{
	idt[v].off_lo = handler & 0xffff;
	idt[v].off_hi = handler >> 16;
	idt[v].sel = KERNEL_CS;
	idt[v].zero = 0;
	idt[v].type = 0x8e | (dpl << 5);
}

void idt_load(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (u32)idt };
	__asm__ __volatile__("lidt %0" : : "m"(p));
}

void idt_init(void)
{

	for (int v = 0; v < 256; v++)
		set_gate(v, trap_stubs[v], v == 0x80 ? 3 : 0);
	/* #DF through a task gate (type 5, SDM vol. 3 6.11): a fresh stack. */
	idt[VEC_DF].off_lo = idt[VEC_DF].off_hi = 0;
	idt[VEC_DF].sel = double_fault_tss_selector();
	idt[VEC_DF].type = 0x85;
	idt_load();
}

void idt_load_empty(void)
{
	struct idt_ptr p = { 0, 0 };
	__asm__ __volatile__("lidt %0" : : "m"(p));
}

void set_irq_handler(int vector, irq_handler_t fn)
{
	irq_handlers[vector] = fn;
}

/* The fixup for a faulting kernel EIP, or 0 if the fault was not expected. */
u32 extable_fixup(u32 eip)
{
	for (const struct extable_entry *e = __ex_table_start; e < __ex_table_end; e++)
		if (e->insn == eip)
			return e->fixup;
	return 0;
}

static void exception(struct trap_frame *tf)
{
	u32 cr2 = tf->vector == VEC_PF ? read_cr2() : 0;

	bool lockless_fault = tf->vector == VEC_PF && !CONFIG_RMAP_PTE_CHAIN;
	if ((tf->cs & 3) && !lockless_fault)
		lock_kernel(); /* CR2 read first: the spin may let a nested fault in */
	if (tf->vector == VEC_PF) {
		/* Resolving a fault allocates; the allocators are not preemption-safe. */
		preempt_disable();
		bool resolved = do_page_fault(tf, cr2);
		preempt_enable();
		if (resolved)
			return;
	}
	/* From ring 3 an exception ends the task, not the kernel (kernel/user.c);
	 * NMIs and machine checks are the hardware's, whoever was running. */
	if ((tf->cs & 3) && tf->vector != VEC_NMI && tf->vector != VEC_MC) {
		if (!kernel_lock_held())
			lock_kernel();
		user_kill(tf, cr2, NULL);
		return;
	}
	u32 fixup = (tf->cs & 3) == 0 ? extable_fixup(tf->eip) : 0;

	if (fixup) {
		last_fixup.vector = tf->vector;
		last_fixup.error = tf->error;
		last_fixup.cr2 = cr2;
		last_fixup.eip = tf->eip;
		last_fixup.count++;
		tf->eip = fixup;
		return;
	}
	panic_trap(tf, cr2);
}

void trap_dispatch(struct trap_frame *tf)
{
	if (tf->vector < 32) {
		exception(tf);
		return;
	}
	if (tf->vector == SYSCALL_VECTOR) {
		if ((tf->cs & 3) && syscall_takes_kernel_lock(tf->eax))
			lock_kernel(); /* let go on the way back to ring 3 (sched_return_check) */
		syscall_dispatch(tf);
		return;
	}
	if (irq_handlers[tf->vector]) {
		irq_handlers[tf->vector](tf);
		return;
	}
	pr_warn("unexpected interrupt, vector %u\n", tf->vector);
}
