/*
 * The instruction-level TLB audit (boot option `audit`; README, "TLB audit").
 *
 * Memory-management code calls an audit hook right after it changed a
 * translation and invalidated it, before the new state is relied on.  A
 * hook does nothing -- one predictable branch on audit_armed -- unless the
 * `audit` suite armed that point.  An armed point stops the machine at a
 * debugger breakpoint (arch/audit.h); the Bochs harness (ci/audit.py)
 * compares the CPU's TLB, the page-table walk and the expectation the hook
 * states, and answers pass or fail; the suite turns the answers into KTAP
 * test cases.
 *
 * Checks (what the harness verifies at laddr):
 *   AUDIT_MAPS        the walk maps frame E; the TLB holds nothing for laddr or E
 *   AUDIT_GONE        no TLB holds laddr -> E (E is the frame just unmapped)
 *   AUDIT_MATCH_WALK  for each page of a range: a TLB entry agrees with the walk
 *   AUDIT_CACHED      the TLB holds laddr -> E (a global entry kept by design)
 *   AUDIT_ABSENT      the TLB holds nothing for laddr
 *   AUDIT_CR3         CR3 is E, and under PAE the CPU's PDPTE registers equal
 *                     the PDPT in memory
 *   AUDIT_PDPT_STALE  CR3 is E, and the PDPTE registers differ from memory
 *                     (the PDPT was edited without a CR3 load: by design)
 * With AUDIT_ALL_CPUS every online CPU's TLB is checked, else only the
 * caller's.
 */
#ifndef KERNEL_AUDIT_H
#define KERNEL_AUDIT_H
#include "lib/types.h"

enum audit_point {
	AUDIT_KMAP_ATOMIC = 1, /* a kmap_atomic slot was mapped */
	AUDIT_PKMAP_FLUSH,     /* the pkmap pool's lazy flush */
	AUDIT_TRY_TO_UNMAP,    /* try_to_unmap cleared a PTE */
	AUDIT_MUNMAP,          /* munmap (zap) cleared a PTE */
	AUDIT_COW,             /* a copy-on-write break remapped a window */
	AUDIT_CR3_LOAD,        /* switch_mm loaded CR3 */
	AUDIT_PDPT,            /* the audit suite's PDPT edit (PAE) */
	AUDIT_GLOBAL,          /* the audit suite's global mapping across CR3 loads */
	AUDIT_LAZY_ENTER,      /* a kernel thread borrowed the loaded address space */
	AUDIT_LAZY_LEAVE,      /* a task with its own mm replaced a borrowing one */
	AUDIT_NR_POINTS,
};

enum audit_check {
	AUDIT_MAPS = 1,
	AUDIT_GONE,
	AUDIT_MATCH_WALK,
	AUDIT_CACHED,
	AUDIT_ABSENT,
	AUDIT_CR3,
	AUDIT_PDPT_STALE,
};

#define AUDIT_ALL_CPUS 1u /* flag: check every online CPU */

enum audit_verdict {
	AUDIT_UNANSWERED = 0, /* no debugger answered (not Bochs, or no harness) */
	AUDIT_PASS = 1,
	AUDIT_FAIL = 2,
	AUDIT_UNDECIDED = 3,  /* the harness could not read what it needed */
};

/* Bit p set: point p is armed (only while the audit suite runs, with `audit`). */
extern u32 audit_armed;

void audit_point(enum audit_point p, enum audit_check c, u32 flags, u32 laddr, u64 expect,
		 u32 pages);

/* The hooks: one branch when not armed. */
static inline void audit_maps(enum audit_point p, u32 laddr, u64 frame)
{
	if (unlikely(audit_armed & (1u << p)))
		audit_point(p, AUDIT_MAPS, 0, laddr, frame, 1);
}

static inline void audit_gone(enum audit_point p, u32 laddr, u64 frame)
{
	if (unlikely(audit_armed & (1u << p)))
		audit_point(p, AUDIT_GONE, AUDIT_ALL_CPUS, laddr, frame, 1);
}

static inline void audit_range(enum audit_point p, u32 laddr, u32 pages)
{
	if (unlikely(audit_armed & (1u << p)))
		audit_point(p, AUDIT_MATCH_WALK, AUDIT_ALL_CPUS, laddr, 0, pages);
}

static inline void audit_cr3(enum audit_point p, u32 cr3)
{
	if (unlikely(audit_armed & (1u << p)))
		audit_point(p, AUDIT_CR3, 0, 0, cr3, 0);
}

/* ---- for the audit suite ---- */

#define AUDIT_FAILS_KEPT 4

struct audit_failure {
	u32 seq, laddr, expect, seen, cpu, check;
};

struct audit_record {
	u32 fired, passed, failed, unanswered, undecided;
	struct audit_failure fail[AUDIT_FAILS_KEPT];
};

/*
 * Arms point p for addresses in [lo, hi) (lo == hi: any address) until
 * max_points have fired, and clears its record.  Returns false when the
 * boot has no `audit` option (nothing is armed).
 */
bool audit_arm(enum audit_point p, u32 lo, u32 hi, u32 max_points);
void audit_disarm(enum audit_point p);
const struct audit_record *audit_record(enum audit_point p);
const char *audit_point_name(enum audit_point p);
const char *audit_check_name(enum audit_check c);
/* The sequence number the next point will carry. */
u32 audit_next_seq(void);

#endif
