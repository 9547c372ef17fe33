/* CPUID: reading the raw leaves and decoding them (decoding is pure, so the
 * selftests can feed it synthetic leaves). */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H
#include "lib/types.h"

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

/* The leaves ia32mm decodes; a leaf the CPU lacks is all zeros. */
struct cpuid_raw {
	bool has_cpuid;          /* EFLAGS.ID toggles (SDM vol. 2A, CPUID) */
	struct cpuid_regs leaf0; /* max leaf, vendor */
	struct cpuid_regs leaf1; /* family/model/stepping, feature flags */
	struct cpuid_regs ext0;  /* 0x80000000: max extended leaf */
	struct cpuid_regs ext1;  /* 0x80000001: NX, LM */
	struct cpuid_regs ext8;  /* 0x80000008: physical address bits */
};

struct cpu_info {
	char vendor[13];
	u32 family, model, stepping; /* display family/model (extended fields folded in) */
	u32 max_leaf, max_ext_leaf;
	bool fpu, pse, tsc, msr, pae, cx8, apic, pge, pat, pse36, nx, lm;
	u8 phys_bits;  /* MAXPHYADDR: leaf 0x80000008, else 36 with PAE, 32 without */
	u8 apic_id;    /* initial APIC ID, leaf 1 EBX[31:24] */
};

extern struct cpu_info boot_cpu;

void cpuid_read_raw(struct cpuid_raw *raw);
void cpuid_decode(const struct cpuid_raw *raw, struct cpu_info *out);
/* Reads and decodes the boot CPU into boot_cpu. */
void cpu_detect(void);
/* One or two lines: vendor, family/model/stepping, the feature words. */
void cpu_print_info(const struct cpu_info *ci);

#endif
