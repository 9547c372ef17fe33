/* The global descriptor table: flat 4 GiB code and data for ring 0 and 3. */
#include "arch/traps.h"
#include "arch/layout.h"

struct gdt_ptr {
	u16 limit;
	u32 base;
} __packed;

/*
 * Descriptor for base 0, limit 4 GiB (G=1, limit 0xFFFFF), 32-bit (D/B=1);
 * access byte: P | DPL | S | type (SDM vol. 3 3.4.5, figure 3-8).
 */
#define FLAT_SEG(access) (0x00cf000000000000ull | ((u64)(access) << 40) | 0xffffull)

static u64 gdt[6] __aligned(8) = {
	0,
	FLAT_SEG(0x9a), /* 0x08 kernel code: present, DPL 0, execute/read */
	FLAT_SEG(0x92), /* 0x10 kernel data: present, DPL 0, read/write */
	FLAT_SEG(0xfa), /* 0x1b user code: DPL 3 */
	FLAT_SEG(0xf2), /* 0x23 user data: DPL 3 */
	0,              /* 0x28 TSS, filled when tasks exist */
};

void gdt_init(void)
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
}
