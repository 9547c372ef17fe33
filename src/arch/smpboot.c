/* Application-processor start-up (see smpboot.h). */
#include "arch/smpboot.h"
#include "arch/apic.h"
#include "arch/cpu.h"
#include "arch/io.h"
#include "arch/layout.h"
#include "arch/fixmap.h"
#include "arch/paging.h"
#include "arch/timer.h"
#include "arch/traps.h"
#include "kernel/printk.h"
#include "kernel/task.h"
#include "lib/string.h"
#include "arch/spinlock.h"
#include "arch/tlbflush.h"
#include "mm/highmem.h"
#include "mm/page_alloc.h"

#define TRAMPOLINE_BASE 0x8000u /* below 1 MiB, never managed (mm/page.h) */

struct trampoline_params {
	u32 cr3, cr4, nx, stack, entry;
};

extern const u8 trampoline_start[], trampoline_end[], trampoline_params[];

struct smp_info smp_info;
volatile u32 *smp_apic_id_reg;
u8 apicid_to_cpu[256];
volatile u32 cpu_online_mask = 1; /* the boot CPU */
static volatile int booting_cpu;
static void *ap_stack[NR_CPUS];
static volatile bool smp_go; /* smp_init is done: the APs may run tasks */

/* The MP floating pointer "_MP_" on a 16-byte boundary, with a zero checksum
 * (MP spec 4.1), in [start, start + len) of physical memory. */
static const u8 *mp_search(u32 start, u32 len)
{
	for (u32 pa = start; pa + 16 <= start + len; pa += 16) {
		const u8 *p = phys_to_virt(pa);
		if (memcmp(p, "_MP_", 4))
			continue;
		u8 sum = 0;
		for (u32 i = 0; i < 16u * p[8]; i++)
			sum += p[i];
		if (!sum)
			return p;
	}
	return NULL;
}

/* Where the MP spec says to look: the EBDA's first KiB, the last KiB of
 * base memory, the BIOS ROM at 0xF0000 (MP spec 4). */
static const u8 *mp_find(void)
{
	u32 ebda = (u32)*(volatile u16 *)phys_to_virt(0x40e) << 4;
	const u8 *p = ebda ? mp_search(ebda, 1024) : NULL;
	if (!p)
		p = mp_search(639 * 1024, 1024);
	if (!p)
		p = mp_search(0xf0000, 0x10000);
	return p;
}

/* Reads the processor entries (type 0, 20 bytes; flags bit 0 = enabled) of
 * the MP configuration table "PCMP" (MP spec 4.2, 4.3.1). */
static void mp_parse(void)
{
	const u8 *fp = mp_find();
	u32 table = fp ? *(const u32 *)(fp + 4) : 0;

	if (!fp || !table || table >= paging_info.lowmem_end) {
		smp_info.source = fp ? "no usable MP configuration table" : "no MP table";
		return;
	}
	const u8 *t = phys_to_virt(table);
	if (memcmp(t, "PCMP", 4)) {
		smp_info.source = "bad MP configuration table signature";
		return;
	}
	u16 count = *(const u16 *)(t + 34);
	const u8 *e = t + 44;
	smp_info.source = "MP table";
	for (u16 i = 0; i < count; i++) {
		if (e[0] != 0) { /* bus, I/O APIC, interrupt entries: 8 bytes */
			e += 8;
			continue;
		}
		if ((e[3] & 1) && smp_info.listed < NR_CPUS) {
			u32 n = smp_info.listed++;
			smp_info.apic_id[n] = e[1];
			if (e[3] & 2) { /* the boot processor is CPU 0 */
				smp_info.apic_id[n] = smp_info.apic_id[0];
				smp_info.apic_id[0] = e[1];
			}
		}
		e += 20;
	}
}

/* Copies len bytes of physical memory (anywhere below 4 GiB: ACPI tables
 * often sit at the top of RAM, above lowmem) through a kmap_atomic slot. */
static void phys_read(u32 pa, void *buf, u32 len)
{
	u8 *out = buf;

	while (len) {
		u32 off = pa & (MMUPAGE_SIZE - 1), n = MIN(len, MMUPAGE_SIZE - off);
		u8 *va = kmap_atomic_frame(pa >> MMUPAGE_SHIFT, KM_USER0);
		memcpy(out, va + off, n);
		kunmap_atomic(va, KM_USER0);
		out += n;
		pa += n;
		len -= n;
	}
}

/* The ACPI RSDP "RSD PTR " on a 16-byte boundary (ACPI 6.x, 5.2.5.1). */
static u32 rsdp_find(void)
{
	u32 ebda = (u32)*(volatile u16 *)phys_to_virt(0x40e) << 4;
	u32 ranges[2][2] = { { ebda, 1024 }, { 0xe0000, 0x20000 } };

	for (int r = 0; r < 2; r++)
		for (u32 pa = ranges[r][0]; ranges[r][0] && pa < ranges[r][0] + ranges[r][1]; pa += 16)
			if (!memcmp(phys_to_virt(pa), "RSD PTR ", 8))
				return pa;
	return 0;
}

/*
 * The processors of the ACPI MADT ("APIC"): entries of type 0 (processor
 * local APIC: ACPI id, APIC id, flags bit 0 = enabled), ACPI 6.x 5.2.12.
 * Returns false when there is no RSDP, RSDT or MADT.
 */
static bool madt_parse(void)
{
	static u8 buf[4096];
	u32 rsdp = rsdp_find(), rsdt;

	if (!rsdp)
		return false;
	rsdt = *(const u32 *)((const u8 *)phys_to_virt(rsdp) + 16);
	phys_read(rsdt, buf, 36);
	if (memcmp(buf, "RSDT", 4))
		return false;
	u32 n = (MIN(*(u32 *)(buf + 4), (u32)sizeof(buf)) - 36) / 4, tables[64];
	phys_read(rsdt + 36, tables, MIN(n, 64u) * 4);
	for (u32 i = 0; i < MIN(n, 64u); i++) {
		phys_read(tables[i], buf, 8);
		if (memcmp(buf, "APIC", 4))
			continue;
		u32 len = MIN(*(u32 *)(buf + 4), (u32)sizeof(buf));
		phys_read(tables[i], buf, len);
		smp_info.source = "ACPI MADT";
		for (u32 off = 44; off + 2 <= len && buf[off + 1]; off += buf[off + 1])
			if (buf[off] == 0 && (buf[off + 4] & 1) && smp_info.listed < NR_CPUS)
				smp_info.apic_id[smp_info.listed++] = buf[off + 3];
		return true;
	}
	return false;
}

static void ipi_test_handler(struct trap_frame *tf)
{
	smp_info.ipi_count[smp_processor_id()]++;
	apic_eoi();
}

static void apic_spurious(struct trap_frame *tf)
{
	/* A spurious APIC interrupt needs no EOI (SDM vol. 3 10.9). */
}

/* An AP's first C code, on the stack smp_init gave it. */
static void __noreturn ap_entry(void)
{
	int cpu = booting_cpu;

	gdt_init_ap(cpu);
	idt_load();
	apic_enable_this_cpu();
	smp_info.online++;
	atomic_or(&cpu_online_mask, 1u << cpu);
	while (!smp_go)
		__asm__ __volatile__("sti; hlt; cli" ::: "memory");
	apic_timer_start();
	sched_ap_idle(cpu, ap_stack[cpu]);
}

static void stop_handler(struct trap_frame *tf)
{
	for (;;)
		__asm__ __volatile__("cli; hlt" ::: "memory");
}

void smp_stop_others(void)
{
	static volatile u32 stopping;

	if (!CONFIG_SMP || cpu_online_mask <= 1 || !smp_apic_id_reg)
		return;
	if (atomic_xadd(&stopping, 1))
		return;
	for (int cpu = 0; cpu < NR_CPUS; cpu++)
		if (cpu != smp_processor_id() && (cpu_online_mask & (1u << cpu)))
			apic_send_ipi(smp_info.apic_id[cpu], VEC_STOP);
}

/* An AP's scheduler tick (the boot CPU's is the PIT, arch/timer.c). */
static void apic_timer_tick(struct trap_frame *tf)
{
	sched_stats.apic_ticks[smp_processor_id()]++;
	sched_tick();
	apic_eoi();
}

/* Waits about ms milliseconds of guest time (timer ticks), at least one tick. */
static void delay_ticks(u32 ms)
{
	u32 start = jiffies;
	while (jiffies - start < ms / (1000 / HZ) + 1)
		hlt();
}

static bool start_ap(int cpu)
{
	struct trampoline_params *tp =
		(void *)((u8 *)phys_to_virt(TRAMPOLINE_BASE) + (trampoline_params - trampoline_start));
	unsigned order = 0;
	while ((PAGE_SIZE << order) < KSTACK_SIZE)
		order++;
	void *stack = get_free_pages(GFP_KERNEL, order);
	u32 apicid = smp_info.apic_id[cpu];
	u32 before = smp_info.online;

	if (!stack)
		return false;
	memcpy(phys_to_virt(TRAMPOLINE_BASE), trampoline_start, trampoline_end - trampoline_start);
	tp->cr3 = read_cr3();
	tp->cr4 = read_cr4();
	tp->nx = paging_info.nx;
	tp->stack = (u32)stack + KSTACK_SIZE;
	tp->entry = (u32)ap_entry;
	booting_cpu = cpu;
	ap_stack[cpu] = stack;
	apicid_to_cpu[apicid] = cpu;
	/* INIT (level assert), then two STARTUPs with the trampoline's page
	 * number as vector (SDM vol. 3 8.4.4.1, the universal start-up algorithm). */
	if (!apic_send_ipi(apicid, 0x00004500))
		return false;
	delay_ticks(10);
	for (int i = 0; i < 2 && smp_info.online == before; i++) {
		apic_send_ipi(apicid, 0x00004600 | (TRAMPOLINE_BASE >> 12));
		delay_ticks(1);
	}
	for (int t = 0; t < 50 && smp_info.online == before; t++)
		delay_ticks(10);
	return smp_info.online > before;
}

void smp_init(void)
{
	smp_info.online = 1;
	smp_info.listed = 1;
	smp_info.source = "uniprocessor variant";
	if (CONFIG_SMP && apic_init()) {
		smp_info.listed = 0;
		if (!madt_parse() || !smp_info.listed) {
			smp_info.listed = 0;
			mp_parse();
		}
		if (!smp_info.listed)
			smp_info.listed = 1;
		/* Whatever the tables' order, the boot CPU is CPU 0. */
		for (u32 i = 1; i < smp_info.listed; i++)
			if (smp_info.apic_id[i] == apic_id()) {
				smp_info.apic_id[i] = smp_info.apic_id[0];
				smp_info.apic_id[0] = apic_id();
			}
		set_irq_handler(VEC_IPI_TEST, ipi_test_handler);
		set_irq_handler(VEC_APIC_SPURIOUS, apic_spurious);
		set_irq_handler(VEC_APIC_TIMER, apic_timer_tick);
		set_irq_handler(VEC_RESCHED, sched_resched_ipi);
		set_irq_handler(VEC_STOP, stop_handler);
		tlbflush_init();
		apic_timer_calibrate();
		smp_info.apic_id[0] = apic_id();
		apicid_to_cpu[smp_info.apic_id[0]] = 0;
		smp_apic_id_reg = (volatile u32 *)fix_to_virt(FIX_APIC_BASE) + APIC_ID / 4;
		if (smp_info.listed > 1 && !identity_map_low(true))
			smp_info.source = "no large pages to identity-map the trampoline";
		else if (smp_info.listed > 1) {
			for (u32 cpu = 1; cpu < smp_info.listed; cpu++)
				if (!start_ap(cpu))
					pr_warn("smp: CPU %u (APIC ID %u) did not come up\n", cpu,
						smp_info.apic_id[cpu]);
			identity_map_low(false);
			flush_tlb_kernel_all(); /* the APs cached the identity map too */
			smp_go = true;
			for (u32 cpu = 1; cpu < smp_info.listed; cpu++)
				if (cpu_online_mask & (1u << cpu))
					apic_send_ipi(smp_info.apic_id[cpu], VEC_RESCHED);
		}
	} else if (CONFIG_SMP) {
		smp_info.source = boot_cpu.apic ? "the local APIC is disabled" : "this CPU has no local APIC";
	}
	printk("# cpus: listed=%u online=%u (%s)\n", smp_info.listed, smp_info.online, smp_info.source);
}

bool smp_send_test_ipi(int cpu)
{
	/* Fixed delivery, edge, to one APIC ID (SDM vol. 3 10.6.1). */
	return apic_send_ipi(smp_info.apic_id[cpu], VEC_IPI_TEST);
}
