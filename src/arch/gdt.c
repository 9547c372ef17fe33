/*
 * The global descriptor table: flat 4 GiB code and data for ring 0 and 3,
 * the main TSS, and the TSS of the double-fault task.
 *
 * A double fault is handled by a task gate (SDM vol. 3 6.15, interrupt 8):
 * the CPU switches to a known-good stack even when the kernel stack is what
 * overflowed, so a stack overflow gives a panic report, not a triple fault.
 */
#include "arch/traps.h"
#include "arch/io.h"
#include "arch/layout.h"
#include "arch/panic_arch.h"
#include "arch/smp.h"

struct gdt_ptr {
	u16 limit;
	u32 base;
} __packed;

/*
 * Descriptor for base 0, limit 4 GiB (G=1, limit 0xFFFFF), 32-bit (D/B=1);
 * access byte: P | DPL | S | type (SDM vol. 3 3.4.5, figure 3-8).
 */
#define FLAT_SEG(access) (0x00cf000000000000ull | ((u64)(access) << 40) | 0xffffull)

#define GDT_TSS_MAIN 0x28
#define GDT_TSS_DF 0x30
#define GDT_TSS_AP(cpu) (0x38 + 8 * ((cpu) - 1)) /* CPUs 1.. each have their own TSS */
#define DF_STACK_SIZE 8192

static u64 gdt[7 + NR_CPUS - 1] __aligned(8) = {
	0,
	FLAT_SEG(0x9a), /* 0x08 kernel code: present, DPL 0, execute/read */
	FLAT_SEG(0x92), /* 0x10 kernel data: present, DPL 0, read/write */
	FLAT_SEG(0xfa), /* 0x1b user code: DPL 3 */
	FLAT_SEG(0xf2), /* 0x23 user data: DPL 3 */
	0,              /* 0x28 main TSS: the state saved by a double fault */
	0,              /* 0x30 double-fault TSS */
};

struct tss tss_main, tss_df;
static struct tss tss_ap[NR_CPUS];
struct tss *cpu_tss[NR_CPUS] = { &tss_main };
static u8 df_stack[DF_STACK_SIZE] __aligned(16);

/* An available 32-bit TSS descriptor (type 9, SDM vol. 3 7.2.2). */
static u64 tss_desc(struct tss *t)
{
	u64 base = (u32)t, limit = sizeof(*t) - 1;
	return (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
	       (((limit >> 16) & 0xf) << 48) | ((base >> 24) << 56);
}

/* The double-fault task starts at double_fault_task on its own stack. */
static void tss_init(void)
{
	tss_df.eip = (u32)double_fault_task;
	tss_df.esp = tss_df.esp0 = (u32)df_stack + DF_STACK_SIZE;
	tss_df.cs = KERNEL_CS;
	tss_df.ss = tss_df.ss0 = tss_df.ds = tss_df.es = KERNEL_DS;
	tss_df.cr3 = read_cr3();
	tss_df.eflags = 0x2; /* interrupts off */
	tss_main.iomap_base = tss_df.iomap_base = sizeof(struct tss);
	gdt[GDT_TSS_MAIN / 8] = tss_desc(&tss_main);
	gdt[GDT_TSS_DF / 8] = tss_desc(&tss_df);
}

/* Loads the GDT, reloads every segment register, and loads task register tss. */
static void gdt_load(u16 tss)
{
	struct gdt_ptr p = { sizeof(gdt) - 1, (u32)gdt };

	__asm__ __volatile__("lgdt %0\n\t"
			     "ljmp %1, $1f\n"
			     "1:\n\t"
			     "mov %2, %%ax\n\t"
			     "mov %%ax, %%ds\n\t"
			     "mov %%ax, %%es\n\t"
			     "mov %%ax, %%ss\n\t"
			     "xor %%ax, %%ax\n\t"
			     "mov %%ax, %%fs\n\t"
			     "mov %%ax, %%gs\n\t"
			     :
			     : "m"(p), "i"(KERNEL_CS), "i"(KERNEL_DS)
			     : "eax", "memory");
	__asm__ __volatile__("ltr %w0" : : "r"(tss)); /* marks it busy (SDM vol. 3 7.2.4) */
}

void gdt_init(void)
{
	tss_init();
	gdt_load(GDT_TSS_MAIN);
}

/* An application processor: the shared GDT with a TSS of its own (a busy
 * TSS cannot be loaded twice). */
void gdt_init_ap(int cpu)
{
	tss_ap[cpu].ss0 = KERNEL_DS;
	tss_ap[cpu].iomap_base = sizeof(struct tss);
	cpu_tss[cpu] = &tss_ap[cpu];
	gdt[GDT_TSS_AP(cpu) / 8] = tss_desc(&tss_ap[cpu]);
	gdt_load(GDT_TSS_AP(cpu));
}

u16 double_fault_tss_selector(void)
{
	return GDT_TSS_DF;
}
