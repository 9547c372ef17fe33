/* The local APIC (see apic.h). */
#include "arch/apic.h"
#include "arch/cpu.h"
#include "arch/fixmap.h"
#include "arch/io.h"
#include "arch/paging.h"
#include "arch/timer.h"

#define MSR_APIC_BASE 0x1bu /* IA32_APIC_BASE (SDM vol. 3 10.4.4) */

bool apic_present;
static volatile u32 *apic_regs;

u32 apic_read(u32 reg)
{
	return apic_regs[reg / 4];
}

void apic_write(u32 reg, u32 v)
{
	apic_regs[reg / 4] = v;
}

u32 apic_id(void)
{
	return apic_read(APIC_ID) >> 24; /* bits 31:24 (SDM vol. 3 10.4.6) */
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

/* Software-enable through the spurious-vector register (SDM vol. 3 10.4.3). */
void apic_enable_this_cpu(void)
{
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, 0x100 | VEC_APIC_SPURIOUS);
}

bool apic_init(void)
{
	if (!boot_cpu.apic || !boot_cpu.msr)
		return false;
	u64 base = rdmsr(MSR_APIC_BASE);
	/* Bit 11: the APIC is globally enabled; bits 35:12 its physical base. */
	if (!(base & (1u << 11)))
		return false;
	/* The registers are memory-mapped I/O: uncached (PCD|PWT, SDM vol. 3 10.4.1). */
	set_fixmap_pte(FIX_APIC_BASE, (base & 0xffffff000ull) >> 12,
		       PAGE_KERNEL | _PAGE_PCD | _PAGE_PWT);
	invlpg(fix_to_virt(FIX_APIC_BASE));
	apic_regs = (volatile u32 *)fix_to_virt(FIX_APIC_BASE);
	apic_present = true;
	apic_enable_this_cpu();
	return true;
}

bool apic_send_ipi(u32 apicid, u32 icr_low)
{
	apic_write(APIC_ICR_HIGH, apicid << 24);
	apic_write(APIC_ICR_LOW, icr_low);
	/* Bit 12: delivery status, 1 while the IPI is pending (SDM vol. 3 10.6.1). */
	for (u32 spin = 0; spin < 1000000; spin++)
		if (!(apic_read(APIC_ICR_LOW) & (1u << 12)))
			return true;
	return false;
}

u32 apic_timer_count_per_tick;

/*
 * The local APIC timer counts down from the initial count at the bus clock
 * divided by the divide configuration (SDM vol. 3 10.5.4).  Its rate is not
 * architectural, so it is measured: a one-shot count from 0xffffffff over
 * CAL_TICKS PIT ticks (jiffies, the 8254 at HZ).
 */
#define CAL_TICKS 5
void apic_timer_calibrate(void)
{
	apic_write(APIC_TIMER_DIV, 0x3);                 /* divide by 16 (10.5.4, figure 10-10) */
	apic_write(APIC_LVT_TIMER, (1u << 16) | VEC_APIC_TIMER); /* masked, one-shot */
	u32 j = jiffies;
	while (jiffies == j)
		hlt();
	apic_write(APIC_TIMER_INIT, 0xffffffffu);
	j = jiffies;
	while (jiffies - j < CAL_TICKS)
		hlt();
	u32 left = apic_read(APIC_TIMER_CUR);
	apic_write(APIC_TIMER_INIT, 0);                  /* stops it */
	apic_timer_count_per_tick = (0xffffffffu - left) / CAL_TICKS;
	if (!apic_timer_count_per_tick)
		apic_timer_count_per_tick = 1;
}

void apic_timer_start(void)
{
	apic_write(APIC_TIMER_DIV, 0x3);
	/* LVT timer: bit 17 periodic, bit 16 clear (unmasked), the vector (10.5.1). */
	apic_write(APIC_LVT_TIMER, (1u << 17) | VEC_APIC_TIMER);
	apic_write(APIC_TIMER_INIT, apic_timer_count_per_tick);
}
