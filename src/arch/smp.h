/*
 * Which CPU is this.  CPUs are numbered 0 (the boot CPU) to NR_CPUS - 1 in
 * the order they started; the number is found from the local APIC ID once
 * the APIC is mapped (SMP variants), and is 0 before that and always in UP
 * variants.
 */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H
#include "lib/types.h"

#define NR_CPUS 8

extern volatile u32 *smp_apic_id_reg; /* the local APIC ID register, once mapped */
extern u8 apicid_to_cpu[256];

static inline int smp_processor_id(void)
{
	if (!CONFIG_SMP || !smp_apic_id_reg)
		return 0;
	return apicid_to_cpu[*smp_apic_id_reg >> 24]; /* APIC ID: bits 31:24 (SDM vol. 3 10.4.6) */
}

#endif
