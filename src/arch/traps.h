/* Interrupts and exceptions: the IDT, the trap frame, and exception fixups. */
#ifndef ARCH_TRAPS_H
#define ARCH_TRAPS_H
#include "lib/types.h"

/* What entry.asm pushes, lowest address first. */
struct trap_frame {
	u32 gs, fs, es, ds;
	u32 edi, esi, ebp, esp_pushad, ebx, edx, ecx, eax; /* pushad */
	u32 vector, error;
	u32 eip, cs, eflags; /* pushed by the CPU */
	u32 user_esp, user_ss; /* only on entry from ring 3 */
};

enum {
	VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
	VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12,
	VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_MC = 18, VEC_XM = 19,
	VEC_IRQ0 = 32, /* the legacy PIC's IRQs 0-15 are remapped to 32-47 */
	VEC_SPURIOUS = 0xff,
};

/* The 32-bit task-state segment (SDM vol. 3 7.2.1, figure 7-2). */
struct tss {
	u32 prev, esp0, ss0, esp1, ss1, esp2, ss2, cr3;
	u32 eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u32 es, cs, ss, ds, fs, gs, ldt;
	u16 trap, iomap_base;
} __packed;

extern struct tss tss_main, tss_df;
/* The TSS of each CPU (tss_main for CPU 0; arch/gdt.c). */
extern struct tss *cpu_tss[];
u16 double_fault_tss_selector(void);

typedef void (*irq_handler_t)(struct trap_frame *tf);

void gdt_init(void);
void gdt_init_ap(int cpu);
void idt_init(void);
/* Loads the (shared) IDT on this CPU. */
void idt_load(void);
/* Installs the handler of a hardware interrupt vector (32-255). */
void set_irq_handler(int vector, irq_handler_t fn);
const char *trap_name(u32 vector);

/*
 * Exception fixups: an instruction that may fault (a user access, a test
 * that faults on purpose) is listed with the address to resume at.  When it
 * faults, the handler records the trap in last_fixup and resumes there.
 */
struct extable_entry {
	u32 insn, fixup;
};

struct fixup_record {
	u32 vector, error, cr2, eip;
	u32 count; /* fixups taken since boot */
};
extern struct fixup_record last_fixup;

/*
 * EXTABLE(insn_label, fixup_label): an inline-asm fragment that lists a
 * faulting instruction and its fixup, e.g.
 *   asm("1: movl (%1), %0\n2:\n" EXTABLE(1b, 2b) : ...);
 */
#define EXTABLE(insn, fixup)                  \
	".pushsection __ex_table, \"a\"\n"    \
	".balign 4\n"                         \
	".long " #insn ", " #fixup "\n"       \
	".popsection\n"

/* Loads an empty IDT: the next exception becomes a triple fault. */
void idt_load_empty(void);

#endif
