/*
 * CPUID: which processor this is and which paging features it has.
 *
 * Reading (cpuid_read_raw) is the only part that touches the hardware; it
 * fills a struct cpuid_raw with the handful of leaves ia32mm needs.  Decoding
 * (cpuid_decode) is a pure function of those leaves, so the selftests can feed
 * it the published values of CPUs we will never boot on.  Every bit below is
 * from Intel SDM vol. 2A, "CPUID - CPU Identification".
 */
#include "arch/cpu.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"

struct cpu_info boot_cpu;

/* SDM vol. 2A CPUID: software that can toggle EFLAGS.ID (bit 21) has CPUID. */
#define EFLAGS_ID (1u << 21)

/* SDM vol. 2A CPUID: extended leaves are numbered from 0x80000000 up. */
#define CPUID_EXT_BASE 0x80000000u
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EXT_ADDR_SIZES 0x80000008u

/* Leaf 1 EDX feature bits (SDM vol. 2A, CPUID, table "Feature Information"). */
#define X86_FPU (1u << 0)
#define X86_PSE (1u << 3)
#define X86_TSC (1u << 4)
#define X86_MSR (1u << 5)
#define X86_PAE (1u << 6)
#define X86_CX8 (1u << 8)
#define X86_APIC (1u << 9)
#define X86_PGE (1u << 13)
#define X86_PAT (1u << 16)
#define X86_PSE36 (1u << 17)
/* Leaf 0x80000001 EDX: bit 20 Execute Disable, bit 29 Intel 64 / long mode. */
#define X86_EXT_NX (1u << 20)
#define X86_EXT_LM (1u << 29)

/* Returns true when EFLAGS.ID can be flipped, i.e. the CPUID instruction exists. */
static bool cpu_has_cpuid(void)
{
	u32 saved, changed;

	/* Flip ID, read EFLAGS back, then restore the caller's EFLAGS. */
	__asm__ __volatile__("pushfl\n\t"
			     "pushfl\n\t"
			     "popl %0\n\t"
			     "movl %0, %1\n\t"
			     "xorl %2, %1\n\t"
			     "pushl %1\n\t"
			     "popfl\n\t"
			     "pushfl\n\t"
			     "popl %1\n\t"
			     "popfl"
			     : "=&r"(saved), "=&r"(changed)
			     : "i"(EFLAGS_ID)
			     : "cc");
	return ((saved ^ changed) & EFLAGS_ID) != 0;
}

/* Returns the four registers of CPUID leaf `leaf` (sub-leaf 0) in *r. */
static void cpuid(u32 leaf, struct cpuid_regs *r)
{
	__asm__ __volatile__("cpuid"
			     : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx)
			     : "a"(leaf), "c"(0));
}

/*
 * Returns true if ext0.eax is a real maximum extended leaf.  SDM vol. 2A
 * CPUID: a CPU without extended leaves answers 0x80000000 with the data of
 * its highest basic leaf, so only a value inside the extended range counts.
 */
static bool ext_max_valid(u32 eax)
{
	return eax >= CPUID_EXT_FEATURES && eax <= 0x8000ffffu;
}

/*
 * Fills *raw with the leaves ia32mm decodes; every leaf the CPU lacks (and
 * everything, on a CPU without CPUID) is left all zeros.
 */
void cpuid_read_raw(struct cpuid_raw *raw)
{
	memset(raw, 0, sizeof(*raw));
	raw->has_cpuid = cpu_has_cpuid();
	if (!raw->has_cpuid)
		return;
	/* SDM vol. 2A CPUID: leaf 0 EAX is the highest basic leaf. */
	cpuid(0, &raw->leaf0);
	if (raw->leaf0.eax >= 1)
		cpuid(1, &raw->leaf1);
	cpuid(CPUID_EXT_BASE, &raw->ext0);
	if (!ext_max_valid(raw->ext0.eax)) {
		memset(&raw->ext0, 0, sizeof(raw->ext0));
		return;
	}
	if (raw->ext0.eax >= CPUID_EXT_FEATURES)
		cpuid(CPUID_EXT_FEATURES, &raw->ext1);
	if (raw->ext0.eax >= CPUID_EXT_ADDR_SIZES)
		cpuid(CPUID_EXT_ADDR_SIZES, &raw->ext8);
}

/* Copies the 12-byte vendor string (leaf 0 EBX, EDX, ECX in that order) into vendor. */
static void decode_vendor(const struct cpuid_regs *leaf0, char vendor[13])
{
	/* SDM vol. 2A CPUID leaf 0: "GenuineIntel" is EBX "Genu", EDX "ineI", ECX "ntel". */
	memcpy(vendor + 0, &leaf0->ebx, 4);
	memcpy(vendor + 4, &leaf0->edx, 4);
	memcpy(vendor + 8, &leaf0->ecx, 4);
	vendor[12] = 0;
}

/* Sets out's family, model and stepping from leaf 1 EAX, folding in the extended fields. */
static void decode_signature(u32 eax, struct cpu_info *out)
{
	u32 base_family = (eax >> 8) & 0xf;   /* EAX[11:8] */
	u32 base_model = (eax >> 4) & 0xf;    /* EAX[7:4] */
	u32 ext_family = (eax >> 20) & 0xff;  /* EAX[27:20] */
	u32 ext_model = (eax >> 16) & 0xf;    /* EAX[19:16] */

	out->stepping = eax & 0xf;            /* EAX[3:0] */
	/* SDM vol. 2A CPUID: Family_ID + Extended_Family_ID only when Family_ID is 0FH. */
	out->family = base_family;
	if (base_family == 0xf)
		out->family += ext_family;
	/* SDM vol. 2A CPUID: (Extended_Model_ID << 4) + Model_ID when Family_ID is 06H or 0FH. */
	out->model = base_model;
	if (base_family == 0x6 || base_family == 0xf)
		out->model += ext_model << 4;
}

/* Sets out's feature flags from leaf 1 EDX and leaf 0x80000001 EDX. */
static void decode_features(u32 edx, u32 ext_edx, struct cpu_info *out)
{
	out->fpu = edx & X86_FPU;
	out->pse = edx & X86_PSE;
	out->tsc = edx & X86_TSC;
	out->msr = edx & X86_MSR;
	out->pae = edx & X86_PAE;
	out->cx8 = edx & X86_CX8;
	out->apic = edx & X86_APIC;
	out->pge = edx & X86_PGE;
	out->pat = edx & X86_PAT;
	out->pse36 = edx & X86_PSE36;
	out->nx = ext_edx & X86_EXT_NX;
	out->lm = ext_edx & X86_EXT_LM;
}

/*
 * Decodes *raw into *out (pure: no hardware access).  Leaves beyond the
 * maximum that leaf 0 / leaf 0x80000000 report are ignored whatever they hold.
 */
void cpuid_decode(const struct cpuid_raw *raw, struct cpu_info *out)
{
	u32 ext_edx = 0;

	memset(out, 0, sizeof(*out));
	out->phys_bits = 32;
	if (!raw->has_cpuid)
		return;
	decode_vendor(&raw->leaf0, out->vendor);
	out->max_leaf = raw->leaf0.eax;
	if (ext_max_valid(raw->ext0.eax))
		out->max_ext_leaf = raw->ext0.eax;
	if (out->max_ext_leaf >= CPUID_EXT_FEATURES)
		ext_edx = raw->ext1.edx;
	if (out->max_leaf >= 1) {
		decode_signature(raw->leaf1.eax, out);
		/* SDM vol. 2A CPUID leaf 1: EBX[31:24] is the initial APIC ID. */
		out->apic_id = raw->leaf1.ebx >> 24;
		decode_features(raw->leaf1.edx, ext_edx, out);
	} else {
		decode_features(0, ext_edx, out);
	}
	/*
	 * SDM vol. 3A 4.1.4: MAXPHYADDR is leaf 0x80000008 EAX[7:0] when that
	 * leaf exists, otherwise 36 if leaf 1 reports PAE and 32 if not.
	 */
	if (out->max_ext_leaf >= CPUID_EXT_ADDR_SIZES && (raw->ext8.eax & 0xff))
		out->phys_bits = raw->ext8.eax & 0xff;
	else if (out->pae)
		out->phys_bits = 36;
}

/* Reads and decodes the CPU we are running on into boot_cpu. */
void cpu_detect(void)
{
	struct cpuid_raw raw;

	cpuid_read_raw(&raw);
	cpuid_decode(&raw, &boot_cpu);
}

/* Appends " name" or " -name" to buf at *len, depending on have. */
static void feature_word(char *buf, size_t size, size_t *len, const char *name, bool have)
{
	int n = snprintf(buf + *len, size - *len, " %s%s", have ? "" : "-", name);

	if (n > 0)
		*len += MIN((size_t)n, size - 1 - *len);
}

/*
 * Prints two lines: vendor, family/model/stepping and MAXPHYADDR, then the
 * feature words ia32mm cares about ("-nx" when a feature is missing).
 */
void cpu_print_info(const struct cpu_info *ci)
{
	char buf[128];
	size_t len;

	if (!ci->vendor[0]) {
		pr_info("cpu: no CPUID instruction (EFLAGS.ID is fixed), phys bits %u\n",
			ci->phys_bits);
		return;
	}
	pr_info("cpu: %s family %u model %u stepping %u, phys bits %u\n", ci->vendor,
		ci->family, ci->model, ci->stepping, ci->phys_bits);
	len = (size_t)snprintf(buf, sizeof(buf), "cpu: features");
	feature_word(buf, sizeof(buf), &len, "fpu", ci->fpu);
	feature_word(buf, sizeof(buf), &len, "pse", ci->pse);
	feature_word(buf, sizeof(buf), &len, "tsc", ci->tsc);
	feature_word(buf, sizeof(buf), &len, "msr", ci->msr);
	feature_word(buf, sizeof(buf), &len, "pae", ci->pae);
	feature_word(buf, sizeof(buf), &len, "cx8", ci->cx8);
	feature_word(buf, sizeof(buf), &len, "apic", ci->apic);
	feature_word(buf, sizeof(buf), &len, "pge", ci->pge);
	feature_word(buf, sizeof(buf), &len, "pat", ci->pat);
	feature_word(buf, sizeof(buf), &len, "pse36", ci->pse36);
	feature_word(buf, sizeof(buf), &len, "nx", ci->nx);
	feature_word(buf, sizeof(buf), &len, "lm", ci->lm);
	pr_info("%s\n", buf);
}
