/* Early x86 set-up (see boot_arch.h). */
#include "arch/boot_arch.h"
#include "arch/io.h"
#include "arch/layout.h"

extern u32 boot_pgdir[1024];

void arch_early_init(void)
{
	/* The identity PDEs are 0..3 (boot.asm); a CR3 load flushes the non-global
	 * TLB entries they left (SDM vol. 3 4.10.4.1). */
	for (int i = 0; i < (int)(EARLY_MAP_END >> 22); i++)
		boot_pgdir[i] = 0;
	write_cr3(read_cr3());
}
