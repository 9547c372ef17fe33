/*
 * Suite "variant": the variant's options as the running kernel sees them
 * (each feature's own suite tests the feature: mm for highpte, sched for
 * preemption, smp for the processors, cluster for clustering).
 */
#include "selftest/ktest.h"
#include "arch/cpu.h"
#include "arch/io.h"
#include "lib/string.h"

KTEST(variant, name_matches_options)
{
	const char *v = CONFIG_VARIANT;

	KT_ASSERT_EQ(!strncmp(v, "64g", 3), CONFIG_X86_PAE);
	KT_ASSERT_EQ(!strncmp(v, "nohighmem", 9), !CONFIG_HIGHMEM);
	KT_ASSERT_EQ(strstr(v, "-highpte-") != NULL, CONFIG_HIGHPTE);
	KT_ASSERT_EQ(strstr(v, "-smp-") != NULL, CONFIG_SMP);
	KT_ASSERT_EQ(strstr(v, "-preempt-") != NULL, CONFIG_PREEMPT);
	KT_ASSERT_EQ(strstr(v, "-pgcl4") != NULL, CONFIG_PAGE_MMUSHIFT == 2);
}

/* The paging mode the CPU runs in (CR4.PAE, SDM vol. 3 4.1.1). */
KTEST(variant, paging_mode)
{
	bool pae_on = read_cr4() & (1u << 5);

	KT_ASSERT(read_cr0() & (1u << 31)); /* CR0.PG */
	KT_ASSERT_EQ(pae_on, CONFIG_X86_PAE);
}
