/*
 * Suite "smp": the application processors the firmware lists came up, each
 * with its own APIC ID, and each answers an inter-processor interrupt.
 */
#include "selftest/ktest.h"
#include "arch/apic.h"
#include "arch/io.h"
#include "arch/smpboot.h"
#include "arch/timer.h"

KTEST(smp, every_listed_cpu_online)
{
	if (!CONFIG_SMP)
		KT_SKIP("uniprocessor variant");
	ktest_diag("%u CPUs listed (%s), %u online", smp_info.listed, smp_info.source, smp_info.online);
	KT_ASSERT_GE(smp_info.listed, 1);
	KT_ASSERT_EQ(smp_info.online, smp_info.listed);
	KT_ASSERT_EQ(smp_processor_id(), 0); /* the tests run on the boot CPU */
	for (u32 i = 0; i < smp_info.listed; i++)
		for (u32 j = i + 1; j < smp_info.listed; j++)
			KT_ASSERT_NE(smp_info.apic_id[i], smp_info.apic_id[j]);
}

/* A fixed IPI to each AP runs its handler there, and only there. */
KTEST(smp, ipi_reaches_every_cpu)
{
	if (!CONFIG_SMP || smp_info.online < 2)
		KT_SKIP(CONFIG_SMP ? "one CPU in this machine (boot with CPUS=2)" : "uniprocessor variant");
	for (u32 cpu = 1; cpu < smp_info.online; cpu++) {
		u32 before[NR_CPUS];
		for (u32 c = 0; c < smp_info.online; c++)
			before[c] = smp_info.ipi_count[c];
		KT_ASSERT(smp_send_test_ipi(cpu));
		u32 start = jiffies;
		while (smp_info.ipi_count[cpu] == before[cpu] && jiffies - start < 50)
			hlt();
		KT_ASSERT_EQ(smp_info.ipi_count[cpu], before[cpu] + 1);
		for (u32 c = 0; c < smp_info.online; c++)
			if (c != cpu)
				KT_ASSERT_EQ(smp_info.ipi_count[c], before[c]);
	}
}
