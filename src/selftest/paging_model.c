/*
 * The paging model (see paging_model.h).  Section numbers are those of the
 * Intel SDM, volume 3A, chapter 4 ("Paging").
 *
 * The walk checks in the order Bochs 2.7 does (cpu/paging.cc), which is
 * also the order in which the SDM describes a walk: each level's P bit,
 * then its reserved bits, going down; access rights only once the leaf is
 * found (4.6 combines the rights of every level).  Accessed and Dirty bits
 * are set only when the translation succeeds; the SDM leaves freedom here
 * (4.8: "whenever the processor uses a paging-structure entry as part of
 * linear-address translation"), Bochs sets nothing on a walk that faults.
 */
#include "selftest/paging_model.h"
#include "lib/string.h"

#define BIT(n) (1ull << (n))
/* Bits hi..lo set (hi >= lo), as a 64-bit mask. */
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~(BIT(lo) - 1))

/* Physical-address bits M-1:12 of a PAE entry (4.4.2, tables 4-8..4-11). */
static u64 pae_addr_mask(const struct pm_env *env)
{
	return BITS(env->maxphyaddr - 1, 12);
}

/*
 * Reserved bits of a PAE PDE or PTE (4.4.2, tables 4-9..4-11): 62:M, and
 * 63 (XD) unless EFER.NXE = 1 (4.1.3).  Bochs tests 51:40 whatever CPUID
 * says M is, plus 62:52: the suite only sets bit 51, reserved in both.
 */
static u64 pae_reserved(const struct pm_env *env)
{
	u64 r = BITS(62, env->maxphyaddr);

	if (!env->nxe)
		r |= PM_XD;
	return r;
}

/* A 2 MiB PDE adds bits 20:13 (4.4.2, table 4-9; bit 12 is PAT). */
#define PAE_LARGE_RESERVED BITS(20, 13)

/*
 * Reserved bits of a 4 MiB PDE (4.3, table 4-4): bits 21:(M'-19), where
 * M' = min(40, M) with PSE-36 and 32 without it (bits 20:13 then carry
 * nothing).  Bochs takes M' = 40 (bit 21 only); the suite sets only bit 21.
 */
static u64 pse_large_reserved(const struct pm_env *env)
{
	u32 m = env->pse36 ? MIN(40u, (u32)env->maxphyaddr) : 32;

	return BITS(21, m - 19);
}

u64 pm_pdpte_reserved(const struct pm_env *env)
{
	/* 4.4.1, table 4-8: 2:1, 8:5 and 63:M (no XD at this level). */
	return BITS(2, 1) | BITS(8, 5) | BITS(63, env->maxphyaddr);
}

/* The PDPTE bits QEMU checks when it walks (no PDPTE registers, no
 * load-time check): 63:M only, so bits 2:1 and 8:5 are ignored. */
static u64 qemu_pdpte_walk_reserved(const struct pm_env *env)
{
	return BITS(63, env->maxphyaddr);
}

static void fault(struct pm_result *res, u32 error)
{
	res->fault = PM_PF;
	res->error = error;
}

/* Records the entry at pa as used by the walk; returns its value. */
static u64 use_entry(struct pm_result *res, const struct pm_access_req *req, u64 pa)
{
	u64 v = req->read(req->ctx, pa);
	struct pm_entry_use *u = &res->used[res->nused++];

	u->pa = pa;
	u->before = u->after = v;
	return v;
}

/*
 * A fault after the PDE led to a page table.  QEMU has already set the
 * PDE's Accessed bit by then (it marks the PDE before it reads the PTE);
 * Bochs has not (it updates A/D only for a translation that succeeds).
 */
static void fault_below_pde(const struct pm_env *env, struct pm_result *res, u32 error)
{
	struct pm_entry_use *pde = &res->used[0];

	if ((env->quirks & PMQ_PDE_A_BEFORE_PTE) && !(pde->before & PM_A)) {
		pde->after |= PM_A;
		res->quirks |= PMQ_PDE_A_BEFORE_PTE;
	}
	fault(res, error);
}

/*
 * Access rights of a translation (4.6): R/W and U/S are ANDed over the
 * levels that have them, XD ORed.  Returns true if the access is allowed.
 */
static bool access_allowed(const struct pm_env *env, const struct pm_access_req *req, u64 pde, u64 leaf,
			   bool large)
{
	bool writable = (pde & PM_RW) && (large || (leaf & PM_RW));
	bool user_page = (pde & PM_US) && (large || (leaf & PM_US));
	bool xd = env->pae && env->nxe && ((pde & PM_XD) || (!large && (leaf & PM_XD)));

	if (env->bug == PM_BUG_USER)
		user_page = leaf & PM_US;
	if (req->user) {
		/* 4.6.1: user-mode accesses need U/S = 1 at every level; writes
		 * need R/W = 1 at every level, whatever CR0.WP says. */
		if (!user_page)
			return false;
		if (req->access == PM_WRITE && !writable)
			return false;
	} else if (req->access == PM_WRITE && !writable) {
		/* 4.6.1: supervisor writes to a read-only translation fault only
		 * with CR0.WP = 1. */
		if (env->wp && env->bug != PM_BUG_WP)
			return false;
	}
	/* 4.6.1: with EFER.NXE = 1, no fetch from an XD translation, in any
	 * mode (and no SMEP on these CPUs: supervisor fetches from user pages
	 * are allowed). */
	if (req->access == PM_FETCH && xd)
		return false;
	return true;
}

/*
 * A present PDPTE: from the PDPTE registers (4.4.1: loaded by MOV to CR3,
 * never read at walk time), or under PMQ_NO_PDPTE_REGS from memory.
 * Returns false after setting the fault.
 */
static bool pae_pdpte(const struct pm_env *env, const struct pm_access_req *req, struct pm_result *res,
		      u32 err, u64 *pdpte)
{
	u32 idx = req->addr >> 30;
	u64 reg = req->pdpte_regs ? req->pdpte_regs[idx] : 0;

	*pdpte = reg;
	if (env->quirks & PMQ_NO_PDPTE_REGS) {
		u64 pa = (req->cr3 & ~0x1fu) + 8 * idx;
		/* An Accessed bit QEMU wrote itself is no difference. */
		u64 same = env->quirks & PMQ_PDPTE_ACCESSED ? ~PM_A : ~0ull;
		*pdpte = req->read(req->ctx, pa);
		if (!req->pdpte_regs || (*pdpte & same) != (reg & same))
			res->quirks |= PMQ_NO_PDPTE_REGS;
		if ((*pdpte & PM_P) && (*pdpte & qemu_pdpte_walk_reserved(env)) && env->bug != PM_BUG_RSVD) {
			fault(res, err | PM_PFEC_RSVD |
					   (env->quirks & PMQ_RSVD_WITHOUT_P ? 0 : PM_PFEC_P));
			return false;
		}
		if ((*pdpte & PM_P) && !(*pdpte & PM_A) && (env->quirks & PMQ_PDPTE_ACCESSED)) {
			res->pdpte_written = true;
			res->pdpte.pa = pa;
			res->pdpte.before = *pdpte;
			res->pdpte.after = *pdpte | PM_A;
			res->quirks |= PMQ_PDPTE_ACCESSED;
		}
	}
	if (!(*pdpte & PM_P)) {
		fault(res, err); /* 4.4.1, 4.7: not present */
		return false;
	}
	return true;
}

void pm_translate(const struct pm_env *env, const struct pm_access_req *req, struct pm_result *res)
{
	bool write = req->access == PM_WRITE, fetch = req->access == PM_FETCH;
	bool check_rsvd = env->bug != PM_BUG_RSVD;
	/* 4.7: W/R for writes, U/S for CPL 3, I/D for fetches with CR4.PAE = 1
	 * and EFER.NXE = 1 (no SMEP on these CPUs). */
	u32 err = (req->user ? PM_PFEC_U : 0) | (write ? PM_PFEC_W : 0) |
		  (fetch && env->pae && env->nxe ? PM_PFEC_ID : 0);
	u64 pde_pa, pde, leaf;
	bool large;

	memset(res, 0, sizeof(*res));
	if (env->pae) {
		u64 pdpte;
		if (!pae_pdpte(env, req, res, err, &pdpte))
			return;
		pde_pa = (pdpte & pae_addr_mask(env)) + 8 * ((req->addr >> 21) & 511); /* 4.4.2 */
	} else {
		pde_pa = (req->cr3 & 0xfffff000u) + 4 * (req->addr >> 22); /* 4.3 */
	}
	pde = use_entry(res, req, pde_pa);
	if (!(pde & PM_P))
		goto not_present;
	if (env->pae) {
		if (check_rsvd && (pde & pae_reserved(env)))
			goto reserved;
		/* 4.4.2: PS is honoured in PAE paging whatever CR4.PSE says. */
		large = pde & PM_PS;
		if (large && check_rsvd && (pde & PAE_LARGE_RESERVED))
			goto reserved;
	} else {
		/* 4.3: PS means a 4 MiB page only with CR4.PSE = 1; else it is
		 * ignored and the PDE points to a page table. */
		large = (pde & PM_PS) && env->pse;
		if (large && check_rsvd && (pde & pse_large_reserved(env)))
			goto reserved;
	}

	leaf = pde;
	if (!large) {
		u64 pte_pa;
		if (env->pae)
			pte_pa = (pde & pae_addr_mask(env)) + 8 * ((req->addr >> 12) & 511);
		else
			pte_pa = (pde & 0xfffff000u) + 4 * ((req->addr >> 12) & 1023);
		leaf = use_entry(res, req, pte_pa);
		if (!(leaf & PM_P))
			goto not_present;
		/* 32-bit paging has no reserved bits in a PTE (4.3, table 4-6). */
		if (env->pae && check_rsvd && (leaf & pae_reserved(env)))
			goto reserved;
	}
	if (!access_allowed(env, req, pde, leaf, large))
		goto protection;

	/* 4.8: A in every entry used, D in the leaf for a write. */
	res->used[0].after |= PM_A;
	if (!large)
		res->used[1].after |= PM_A;
	if (write || env->bug == PM_BUG_DIRTY)
		res->used[res->nused - 1].after |= PM_D;

	res->fault = PM_OK;
	res->large = large;
	/* 4.10.2.4: global only with CR4.PGE = 1 and G in the leaf entry. */
	res->global = env->pge && (leaf & PM_G);
	if (!large)
		res->phys = (leaf & (env->pae ? pae_addr_mask(env) : 0xfffff000u)) | (req->addr & 0xfff);
	else if (env->pae)
		res->phys = (leaf & pae_addr_mask(env) & ~BITS(20, 0)) | (req->addr & BITS(20, 0));
	else /* 4.3: bits 31:22, and with PSE-36 bits 20:13 give 39:32 */
		res->phys = (leaf & 0xffc00000u) | (env->pse36 ? ((leaf >> 13) & 0xff) << 32 : 0) |
			    (req->addr & BITS(21, 0));
	return;

	/* 4.7: RSVD (with P = 1) for a reserved bit, P = 1 for a protection
	 * violation, P = 0 for an entry that is not present. */
reserved:
	err |= PM_PFEC_RSVD;
	if (env->quirks & PMQ_RSVD_WITHOUT_P) {
		res->quirks |= PMQ_RSVD_WITHOUT_P;
		goto not_present;
	}
protection:
	err |= PM_PFEC_P;
not_present:
	if (res->nused == 2)
		fault_below_pde(env, res, err);
	else
		fault(res, err);
}

bool pm_tlb_load_cr3(struct pm_tlb *tlb, const struct pm_env *env, u32 cr3, pm_read_fn read, void *ctx,
		     u32 *quirks)
{
	if (env->pae) {
		u64 regs[4];
		bool bad = false;
		/* 4.4.1: MOV to CR3 loads the four PDPTEs; a present one with a
		 * reserved bit set makes the instruction fault with #GP(0). */
		for (int i = 0; i < 4; i++) {
			regs[i] = read(ctx, (cr3 & ~0x1fu) + 8 * i);
			if ((regs[i] & PM_P) && (regs[i] & pm_pdpte_reserved(env)) && env->bug != PM_BUG_RSVD)
				bad = true;
		}
		if (bad && !(env->quirks & PMQ_NO_PDPTE_REGS))
			return false;
		if (bad)
			*quirks |= PMQ_NO_PDPTE_REGS;
		memcpy(tlb->pdpte_regs, regs, sizeof(regs));
	}
	tlb->cr3 = cr3;
	/* 4.10.4.1: MOV to CR3 invalidates every TLB entry but the global ones. */
	if (tlb->valid && tlb->global) {
		if (env->bug == PM_BUG_GLOBAL) {
			tlb->valid = false;
		} else if (env->quirks & PMQ_CR3_FLUSHES_GLOBAL) {
			tlb->valid = false;
			*quirks |= PMQ_CR3_FLUSHES_GLOBAL;
		}
	} else {
		tlb->valid = false;
	}
	return true;
}

/* 4.10.4.1: INVLPG invalidates the page's entries, global or not. */
void pm_tlb_invlpg(struct pm_tlb *tlb, u32 addr)
{
	if (tlb->valid && tlb->page == (addr & ~0xfffu))
		tlb->valid = false;
}

/* 4.10.4.1: a MOV to CR4 that changes CR4.PGE invalidates all entries. */
void pm_tlb_flush_all(struct pm_tlb *tlb)
{
	tlb->valid = false;
}

void pm_tlb_read(struct pm_tlb *tlb, const struct pm_env *env, struct pm_access_req *req,
		 struct pm_result *res)
{
	req->access = PM_READ;
	req->user = false;
	if (tlb->valid && tlb->page == (req->addr & ~0xfffu)) {
		/* 4.10.2.3: a cached translation may be used although the
		 * entries in memory changed; nothing is written (4.8). */
		memset(res, 0, sizeof(*res));
		res->fault = PM_OK;
		res->global = tlb->global;
		res->phys = tlb->frame | (req->addr & 0xfff);
		return;
	}
	req->cr3 = tlb->cr3;
	req->pdpte_regs = tlb->pdpte_regs;
	pm_translate(env, req, res);
	/* 4.10.2.2: only a translation that succeeded (no fault) is cached. */
	if (res->fault == PM_OK) {
		tlb->valid = true;
		tlb->global = res->global;
		tlb->page = req->addr & ~0xfffu;
		tlb->frame = res->phys & ~0xfffull;
	}
}

const char *pm_quirk_name(enum pm_quirk q)
{
	switch (q) {
	case PMQ_NO_PDPTE_REGS:
		return "no-pdpte-registers";
	case PMQ_CR3_FLUSHES_GLOBAL:
		return "cr3-flushes-global";
	case PMQ_PDE_A_BEFORE_PTE:
		return "pde-accessed-before-pte";
	case PMQ_RSVD_WITHOUT_P:
		return "rsvd-without-p";
	case PMQ_PDPTE_ACCESSED:
		return "pdpte-accessed";
	default:
		return "?";
	}
}

const char *pm_quirk_reason(enum pm_quirk q)
{
	switch (q) {
	case PMQ_NO_PDPTE_REGS:
		return "QEMU reads the PDPTE from memory at every walk instead of loading the PDPTE "
		       "registers at MOV to CR3 (SDM 4.4.1): an edited PDPTE takes effect at once, and "
		       "reserved bits give no #GP at the load (2:1 and 8:5 are never checked)";
	case PMQ_CR3_FLUSHES_GLOBAL:
		return "QEMU flushes its whole TLB on MOV to CR3; global translations do not "
		       "survive it (SDM 4.10.4.1 lets them)";
	case PMQ_PDE_A_BEFORE_PTE:
		return "QEMU sets the PDE's Accessed bit before it reads the PTE, so a walk that "
		       "faults below the PDE leaves PDE.A set (SDM 4.8 permits it; Bochs sets A/D "
		       "only for translations that succeed)";
	case PMQ_RSVD_WITHOUT_P:
		return "QEMU 7.2 reports a reserved-bit violation with error code RSVD but P = 0; "
		       "SDM 4.7 (and Bochs) set P = 1 with RSVD";
	case PMQ_PDPTE_ACCESSED:
		return "QEMU sets bit 5 of the PDPTE it walks through, as for a 4-level PDPTE; in "
		       "PAE paging that bit is reserved (SDM 4.4.1, table 4-8) and the CPU writes no "
		       "PDPTE (4.8)";
	default:
		return "?";
	}
}
