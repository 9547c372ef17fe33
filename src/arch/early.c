/* Early x86 set-up (see boot_arch.h). */
#include "arch/boot_arch.h"
#include "arch/io.h"
#include "arch/layout.h"

extern u32 boot_pgdir[1024], boot_pt[];
extern char boot_stack_guard[];

void arch_early_init(void)
{
	/* The identity PDEs are 0..3 (boot.asm); a CR3 load flushes the non-global
	 * TLB entries they left (SDM vol. 3 4.10.4.1). */
	for (int i = 0; i < (int)(EARLY_MAP_END >> 22); i++)
		boot_pgdir[i] = 0;
	/* The page under the boot stack becomes not-present: an overflow faults
	 * (and, faulting again on the push of the #PF frame, double-faults). */
	boot_pt[virt_to_phys(boot_stack_guard) >> 12] = 0;
	write_cr3(read_cr3());
}
