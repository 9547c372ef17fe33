/*
 * Suite cpuid: cpuid_decode on the leaves of real processors, and the boot
 * CPU as cpu_detect saw it.
 *
 * The synthetic leaves are the values those processors publish (Intel and
 * AMD revision guides, CPUID dumps): leaf 1 EAX (signature), EBX (APIC ID in
 * bits 31:24), EDX (features), leaf 0x80000001 EDX and 0x80000008 EAX.
 * Where a CPU lacks a leaf, the leaf holds what such a CPU really answers
 * (the data of its highest basic leaf) or plain garbage, which the decoder
 * must ignore.  Feature flags are compared as one bitmask so that a failure
 * prints every flag at once.
 */
#include "arch/cpu.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "selftest/ktest.h"

enum {
	F_FPU = 1 << 0, F_PSE = 1 << 1, F_TSC = 1 << 2, F_MSR = 1 << 3,
	F_PAE = 1 << 4, F_CX8 = 1 << 5, F_APIC = 1 << 6, F_PGE = 1 << 7,
	F_PAT = 1 << 8, F_PSE36 = 1 << 9, F_NX = 1 << 10, F_LM = 1 << 11,
};

/* Returns the F_* mask of the features ci reports. */
static u32 feature_mask(const struct cpu_info *ci)
{
	return (ci->fpu ? F_FPU : 0) | (ci->pse ? F_PSE : 0) | (ci->tsc ? F_TSC : 0) |
	       (ci->msr ? F_MSR : 0) | (ci->pae ? F_PAE : 0) | (ci->cx8 ? F_CX8 : 0) |
	       (ci->apic ? F_APIC : 0) | (ci->pge ? F_PGE : 0) | (ci->pat ? F_PAT : 0) |
	       (ci->pse36 ? F_PSE36 : 0) | (ci->nx ? F_NX : 0) | (ci->lm ? F_LM : 0);
}

/*
 * Returns a raw CPUID image: vendor and max basic leaf in leaf 0, signature,
 * EBX and EDX in leaf 1, max extended leaf in ext0.  Other leaves are zero.
 */
static struct cpuid_raw make_raw(const char *vendor, u32 max_leaf, u32 sig, u32 ebx,
				 u32 edx, u32 max_ext)
{
	struct cpuid_raw r;

	memset(&r, 0, sizeof(r));
	r.has_cpuid = true;
	r.leaf0.eax = max_leaf;
	/* SDM vol. 2A CPUID leaf 0: the vendor string is EBX, EDX, ECX. */
	memcpy(&r.leaf0.ebx, vendor + 0, 4);
	memcpy(&r.leaf0.edx, vendor + 4, 4);
	memcpy(&r.leaf0.ecx, vendor + 8, 4);
	r.leaf1.eax = sig;
	r.leaf1.ebx = ebx;
	r.leaf1.edx = edx;
	r.ext0.eax = max_ext;
	return r;
}

/* Pentium P54C (family 5 model 2 stepping C): no PAE, no PGE, no extended leaves. */
KTEST(cpuid, pentium_p54c)
{
	struct cpuid_raw r = make_raw("GenuineIntel", 1, 0x0000052C, 0, 0x000001BF, 0);
	struct cpu_info ci;

	/* A P5 answers leaf 0x80000000 with its highest basic leaf (leaf 1). */
	r.ext0 = r.leaf1;
	r.ext1.edx = 0xffffffff;
	cpuid_decode(&r, &ci);
	KT_ASSERT_STREQ(ci.vendor, "GenuineIntel");
	KT_ASSERT_EQ(ci.family, 5);
	KT_ASSERT_EQ(ci.model, 2);
	KT_ASSERT_EQ(ci.stepping, 12);
	KT_ASSERT_EQ(ci.max_leaf, 1);
	KT_ASSERT_EQ(ci.max_ext_leaf, 0);
	KT_ASSERT_EQ(feature_mask(&ci), F_FPU | F_PSE | F_TSC | F_MSR | F_CX8);
	KT_ASSERT_EQ(ci.phys_bits, 32);
	KT_ASSERT_EQ(ci.apic_id, 0);
}

/* Pentium 4 Willamette (family F model 1 stepping 2): PAE and PSE-36 but no NX, no 0x80000008. */
KTEST(cpuid, pentium4_willamette)
{
	struct cpuid_raw r = make_raw("GenuineIntel", 2, 0x00000F12, 0x00010808, 0x3FEBFBFF,
				      0x80000004);
	struct cpu_info ci;

	r.ext8.eax = 0x3028; /* beyond the max extended leaf: must be ignored */
	cpuid_decode(&r, &ci);
	KT_ASSERT_EQ(ci.family, 15);
	KT_ASSERT_EQ(ci.model, 1);
	KT_ASSERT_EQ(ci.stepping, 2);
	KT_ASSERT_EQ(ci.max_ext_leaf, 0x80000004);
	KT_ASSERT_EQ(feature_mask(&ci), F_FPU | F_PSE | F_TSC | F_MSR | F_PAE | F_CX8 |
						F_APIC | F_PGE | F_PAT | F_PSE36);
	KT_ASSERT_EQ(ci.phys_bits, 36);
	KT_ASSERT_EQ(ci.apic_id, 0);
}

/* Core 2 Duo E8400 (family 6 model 0x17 stepping A, extended model 1): NX, LM, 36 bits. */
KTEST(cpuid, core2_wolfdale)
{
	struct cpuid_raw r = make_raw("GenuineIntel", 0xD, 0x0001067A, 0x01020800, 0xBFEBFBFF,
				      0x80000008);
	struct cpu_info ci;

	r.ext1.edx = 0x20100800;
	r.ext8.eax = 0x00003024;
	cpuid_decode(&r, &ci);
	KT_ASSERT_STREQ(ci.vendor, "GenuineIntel");
	KT_ASSERT_EQ(ci.family, 6);
	KT_ASSERT_EQ(ci.model, 23);
	KT_ASSERT_EQ(ci.stepping, 10);
	KT_ASSERT_EQ(feature_mask(&ci), F_FPU | F_PSE | F_TSC | F_MSR | F_PAE | F_CX8 |
						F_APIC | F_PGE | F_PAT | F_PSE36 | F_NX | F_LM);
	KT_ASSERT_EQ(ci.phys_bits, 36);
	KT_ASSERT_EQ(ci.apic_id, 1);
}

/* AMD Phenom (family 0x10 = base F + extended 1, model 2 stepping 3): 48 physical bits. */
KTEST(cpuid, amd_family10h)
{
	struct cpuid_raw r = make_raw("AuthenticAMD", 5, 0x00100F23, 0x03040800, 0x178BFBFF,
				      0x8000001B);
	struct cpu_info ci;

	r.ext1.edx = 0xEFD3FBFF;
	r.ext8.eax = 0x00003030;
	cpuid_decode(&r, &ci);
	KT_ASSERT_STREQ(ci.vendor, "AuthenticAMD");
	KT_ASSERT_EQ(ci.family, 0x10);
	KT_ASSERT_EQ(ci.model, 2);
	KT_ASSERT_EQ(ci.stepping, 3);
	KT_ASSERT_EQ(feature_mask(&ci), F_FPU | F_PSE | F_TSC | F_MSR | F_PAE | F_CX8 |
						F_APIC | F_PGE | F_PAT | F_PSE36 | F_NX | F_LM);
	KT_ASSERT_EQ(ci.phys_bits, 48);
	KT_ASSERT_EQ(ci.apic_id, 3);
}

/* AMD Athlon 64 X2 (family F, extended model 6: model 0x6B): 40 physical bits. */
KTEST(cpuid, amd_k8_extended_model)
{
	struct cpuid_raw r = make_raw("AuthenticAMD", 1, 0x00060FB1, 0x01020800, 0x178BFBFF,
				      0x80000018);
	struct cpu_info ci;

	r.ext1.edx = 0xEBD3FBFF;
	r.ext8.eax = 0x00003028;
	cpuid_decode(&r, &ci);
	KT_ASSERT_EQ(ci.family, 15);
	KT_ASSERT_EQ(ci.model, 0x6B);
	KT_ASSERT_EQ(ci.stepping, 1);
	KT_ASSERT(ci.nx && ci.lm);
	KT_ASSERT_EQ(ci.phys_bits, 40);
	KT_ASSERT_EQ(ci.apic_id, 1);
}

/*
 * Pentium III Katmai (family 6 model 7): no extended leaves, so 0x80000000
 * returns leaf 2 data; PAE gives 36 physical bits.
 */
KTEST(cpuid, no_extended_leaves)
{
	struct cpuid_raw r = make_raw("GenuineIntel", 3, 0x00000672, 0, 0x0383FBFF, 0x03020101);
	struct cpu_info ci;

	r.ext1.edx = 0xffffffff;
	r.ext8.eax = 0x000000ff;
	cpuid_decode(&r, &ci);
	KT_ASSERT_EQ(ci.family, 6);
	KT_ASSERT_EQ(ci.model, 7);
	KT_ASSERT_EQ(ci.stepping, 2);
	KT_ASSERT_EQ(ci.max_ext_leaf, 0);
	KT_ASSERT_EQ(feature_mask(&ci), F_FPU | F_PSE | F_TSC | F_MSR | F_PAE | F_CX8 |
						F_APIC | F_PGE | F_PAT | F_PSE36);
	KT_ASSERT_EQ(ci.phys_bits, 36);
	/* 0x80000000 itself as the maximum means "no leaf above it" as well. */
	r.ext0.eax = 0x80000000;
	cpuid_decode(&r, &ci);
	KT_ASSERT(!ci.nx && !ci.lm);
	KT_ASSERT_EQ(ci.phys_bits, 36);
}

/* SDM vol. 2A CPUID: extended family counts only for family F, extended model for 6 and F. */
KTEST(cpuid, signature_folding)
{
	struct cpuid_raw r = make_raw("GenuineIntel", 1, 0x0FF1F543, 0, 0, 0);
	struct cpu_info ci;

	cpuid_decode(&r, &ci); /* family 5: both extended fields ignored */
	KT_ASSERT_EQ(ci.family, 5);
	KT_ASSERT_EQ(ci.model, 4);
	KT_ASSERT_EQ(ci.stepping, 3);
	r.leaf1.eax = 0x0FF1F6A3; /* family 6: extended model only */
	cpuid_decode(&r, &ci);
	KT_ASSERT_EQ(ci.family, 6);
	KT_ASSERT_EQ(ci.model, 0x1A);
	r.leaf1.eax = 0x0FF1FFA3; /* family F: both */
	cpuid_decode(&r, &ci);
	KT_ASSERT_EQ(ci.family, 0xF + 0xFF);
	KT_ASSERT_EQ(ci.model, 0x1A);
	KT_ASSERT_EQ(ci.phys_bits, 32);
}

/*
 * A CPU whose max basic leaf is 0 (leaf 1 holds garbage), then a 486 without
 * CPUID: nothing beyond the vendor, resp. nothing at all, may be decoded.
 */
KTEST(cpuid, no_cpuid_or_leaf1)
{
	struct cpuid_raw r = make_raw("GenuineIntel", 0, 0x0000052C, 0xff000000, 0xffffffff,
				      0x80000008);
	struct cpu_info ci;

	cpuid_decode(&r, &ci); /* ext8.eax is 0: no width reported, fall back */
	KT_ASSERT_STREQ(ci.vendor, "GenuineIntel");
	KT_ASSERT_EQ(ci.family, 0);
	KT_ASSERT_EQ(ci.apic_id, 0);
	KT_ASSERT_EQ(feature_mask(&ci), 0);
	KT_ASSERT_EQ(ci.phys_bits, 32);
	r.has_cpuid = false;
	cpuid_decode(&r, &ci);
	KT_ASSERT_STREQ(ci.vendor, "");
	KT_ASSERT_EQ(ci.max_leaf, 0);
	KT_ASSERT_EQ(ci.max_ext_leaf, 0);
	KT_ASSERT_EQ(feature_mask(&ci), 0);
	KT_ASSERT_EQ(ci.phys_bits, 32);
}

/* cpu_print_info's two lines for the Core 2 above, as printk produced them. */
KTEST(cpuid, print_info)
{
	struct cpuid_raw r = make_raw("GenuineIntel", 0xD, 0x0001067A, 0, 0x0383FBFF, 0x80000004);
	struct cpu_info ci;
	char out[256];
	int saved = console_loglevel;

	r.ext1.edx = 0x00100000;
	cpuid_decode(&r, &ci);
	console_loglevel = LOG_INFO;
	printk_capture_start(out, sizeof(out));
	cpu_print_info(&ci);
	printk_capture_stop();
	console_loglevel = saved;
	KT_ASSERT_STREQ(out, "cpu: GenuineIntel family 6 model 23 stepping 10, phys bits 36\n"
			     "cpu: features fpu pse tsc msr pae cx8 apic pge pat pse36 nx -lm\n");
}

/* The boot CPU: boot_cpu matches a fresh read, and the values are plausible. */
KTEST(cpuid, boot_cpu)
{
	struct cpuid_raw r;
	struct cpu_info ci;
	int i;

	cpuid_read_raw(&r);
	cpuid_decode(&r, &ci);
	KT_ASSERT_STREQ(boot_cpu.vendor, ci.vendor);
	KT_ASSERT_EQ(memcmp(&boot_cpu, &ci, sizeof(ci)), 0);
	if (!r.has_cpuid)
		KT_SKIP("no CPUID instruction (a 486 or older)");
	ktest_diag("%s family %u model %u stepping %u, phys bits %u, max leaf 0x%x/0x%x",
		   ci.vendor, ci.family, ci.model, ci.stepping, ci.phys_bits, ci.max_leaf,
		   ci.max_ext_leaf);
	for (i = 0; i < 12; i++)
		KT_ASSERT(ci.vendor[i] >= 0x20 && ci.vendor[i] < 0x7f);
	/* CPUID came with late 486s; leaf 1 exists on every CPU that has it. */
	KT_ASSERT_GE(ci.max_leaf, 1);
	KT_ASSERT_GE(ci.family, 4);
	/* Some PAE CPUs report 32 bits in 0x80000008 (Atom N270); without the leaf, the PAE rule. */
	KT_ASSERT_GE(ci.phys_bits, 32);
	KT_ASSERT_LE(ci.phys_bits, 52);
	if (ci.max_ext_leaf < 0x80000008)
		KT_ASSERT_EQ(ci.phys_bits, ci.pae ? 36 : 32);
}
