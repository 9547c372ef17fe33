/*
 * A software model of 32-bit and PAE paging (Intel SDM vol. 3A, chapter 4),
 * for the conformance suite (selftest/conformance.c): given the paging
 * state, the tables in memory and an access, it says whether the CPU faults,
 * with which error code, where the access lands and which Accessed and
 * Dirty bits the walk sets.  A one-page TLB model adds the caching rules of
 * SDM 4.10, and the PDPTE registers of PAE paging (SDM 4.4.1).
 *
 * The model is pure: it reads paging-structure entries through a callback
 * and writes nothing, so it can predict before the CPU runs.  Where the SDM
 * leaves freedom it follows Bochs 2.7, the project's reference (the rule's
 * comment says so).  Known divergences of an emulator are opt-in quirks
 * (PMQ_*), each with the reason it exists; a model run reports which quirks
 * changed its answer, so the suite can list them as expected divergences.
 *
 * For testing the suite itself, one rule can be broken on purpose
 * (enum pm_bug, kernel option model-bug=): the comparison with the CPU must
 * then fail.
 */
#ifndef SELFTEST_PAGING_MODEL_H
#define SELFTEST_PAGING_MODEL_H
#include "lib/types.h"

/* Entry bits the model looks at (SDM 4.3 tables 4-4..4-6, 4.4 tables 4-8..4-11). */
#define PM_P (1ull << 0)
#define PM_RW (1ull << 1)
#define PM_US (1ull << 2)
#define PM_A (1ull << 5)
#define PM_D (1ull << 6)
#define PM_PS (1ull << 7)
#define PM_G (1ull << 8)
#define PM_XD (1ull << 63)

/* Page-fault error code bits (SDM 4.7, figure 4-12). */
#define PM_PFEC_P (1u << 0)
#define PM_PFEC_W (1u << 1)
#define PM_PFEC_U (1u << 2)
#define PM_PFEC_RSVD (1u << 3)
#define PM_PFEC_ID (1u << 4)

/*
 * Divergences of an emulator from the SDM/Bochs, followed only when asked.
 * QEMU 7.2 (TCG, target/i386/tcg/sysemu/excp_helper.c and its TLB) has no
 * PDPTE registers (and writes an Accessed bit into the PDPTE it reads) and
 * no global TLB entries, sets the PDE's Accessed bit before it looks at the
 * PTE, and leaves P out of reserved-bit faults.  See pm_quirk_reason().
 */
enum pm_quirk {
	PMQ_NO_PDPTE_REGS = 1u << 0,      /* PDPTEs read from memory at each walk */
	PMQ_CR3_FLUSHES_GLOBAL = 1u << 1, /* MOV to CR3 drops global entries too */
	PMQ_PDE_A_BEFORE_PTE = 1u << 2,   /* PDE.A set even if the walk then faults */
	PMQ_RSVD_WITHOUT_P = 1u << 3,     /* reserved-bit faults report P = 0 */
	PMQ_PDPTE_ACCESSED = 1u << 4,     /* a walk sets bit 5 of the PDPTE in memory */
	PMQ_COUNT = 5,
};
#define PMQ_QEMU (PMQ_NO_PDPTE_REGS | PMQ_CR3_FLUSHES_GLOBAL | PMQ_PDE_A_BEFORE_PTE | \
		  PMQ_RSVD_WITHOUT_P | PMQ_PDPTE_ACCESSED)

/* A rule the model breaks on purpose (model-bug=, see kernel/cmdline.h). */
enum pm_bug {
	PM_BUG_NONE,
	PM_BUG_WP,     /* CR0.WP ignored: supervisor writes to read-only pages succeed */
	PM_BUG_USER,   /* U/S taken from the leaf entry only */
	PM_BUG_DIRTY,  /* D set on reads too */
	PM_BUG_RSVD,   /* reserved bits never fault */
	PM_BUG_GLOBAL, /* MOV to CR3 drops global TLB entries */
};

/* The paging state a translation depends on. */
struct pm_env {
	bool pae;      /* CR4.PAE: PAE paging (SDM 4.4), else 32-bit paging (4.3) */
	bool wp;       /* CR0.WP (SDM 4.6) */
	bool pse;      /* CR4.PSE: 4 MiB pages in 32-bit paging (4.3) */
	bool pge;      /* CR4.PGE: global translations (4.10.2.4) */
	bool nxe;      /* EFER.NXE: the XD bit under PAE (4.1.3, 4.6); no effect in 32-bit paging */
	bool pse36;    /* CPUID PSE-36: 4 MiB pages reach above 4 GiB (4.3) */
	u8 maxphyaddr; /* M (4.1.4) */
	u32 quirks;    /* enum pm_quirk */
	enum pm_bug bug;
};

enum pm_access { PM_READ, PM_WRITE, PM_FETCH };

/* Reads the paging-structure entry at physical address pa: 4 bytes in
 * 32-bit paging, 8 under PAE. */
typedef u64 (*pm_read_fn)(void *ctx, u64 pa);

struct pm_access_req {
	u32 cr3;
	const u64 *pdpte_regs; /* PAE: the four PDPTE registers (SDM 4.4.1) */
	pm_read_fn read;
	void *ctx;
	u32 addr;              /* linear address */
	enum pm_access access;
	bool user;             /* CPL 3 */
};

enum pm_fault { PM_OK, PM_PF, PM_GP };

/* One paging-structure entry the walk used, before and after its A/D updates. */
struct pm_entry_use {
	u64 pa, before, after;
};

struct pm_result {
	enum pm_fault fault;
	u32 error;          /* #PF: the error code (CR2 is the access's address) */
	u64 phys;           /* no fault: the physical address reached */
	bool large, global; /* no fault: a large page; a global translation */
	int nused;          /* entries used, from the top: PDE, then PTE */
	struct pm_entry_use used[2];
	bool pdpte_written; /* PMQ_PDPTE_ACCESSED: the PDPTE in memory changes */
	struct pm_entry_use pdpte;
	u32 quirks;         /* the quirks that changed this answer */
};

/* One linear address translated with the tables in memory (SDM 4.3-4.8). */
void pm_translate(const struct pm_env *env, const struct pm_access_req *req, struct pm_result *res);

/* Reserved bits of a present PDPTE: a MOV to CR3 that would load such an
 * entry raises #GP(0) (SDM 4.4.1, table 4-8). */
u64 pm_pdpte_reserved(const struct pm_env *env);

/*
 * The TLB entry of one linear page, and the PDPTE registers: what MOV to
 * CR3, INVLPG and toggling CR4.PGE do to them (SDM 4.10.4.1), and how a read
 * uses them (4.10.2).  Reads only: in Bochs an entry filled by a read does
 * not grant writes (the write walks again to set D), so writes and fetches
 * are left to pm_translate.
 */
struct pm_tlb {
	bool valid, global;
	u32 page;          /* linear address of the cached 4 KiB page */
	u64 frame;         /* the physical address it maps to */
	u64 pdpte_regs[4]; /* PAE: as loaded by the last MOV to CR3 */
	u32 cr3;
};

/* MOV to CR3: false (#GP, nothing changed) if a present PDPTE has reserved bits. */
bool pm_tlb_load_cr3(struct pm_tlb *tlb, const struct pm_env *env, u32 cr3, pm_read_fn read, void *ctx,
		     u32 *quirks);
void pm_tlb_invlpg(struct pm_tlb *tlb, u32 addr);
/* CR4.PGE cleared and set again: every translation goes. */
void pm_tlb_flush_all(struct pm_tlb *tlb);
/* A supervisor read through the TLB: a hit uses the cached translation and
 * writes nothing; a miss walks (pm_translate, with the tlb's CR3 and PDPTE
 * registers) and caches a successful result. */
void pm_tlb_read(struct pm_tlb *tlb, const struct pm_env *env, struct pm_access_req *req,
		 struct pm_result *res);

const char *pm_quirk_reason(enum pm_quirk q);
const char *pm_quirk_name(enum pm_quirk q);

#endif
