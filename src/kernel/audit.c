/*
 * The audit points' generic half (kernel/audit.h): arming, the request
 * sent through arch_audit_break, and the record the audit suite reads.
 * Points fire with preemption off so that the CPU number in the request
 * is the CPU whose TLB is meant.
 *
 * Locking: audit_lock (a leaf, interrupts off) makes a point's countdown,
 * the sequence number and the record one point at a time on all CPUs: the
 * points in munmap and copy-on-write run without the kernel lock on
 * several CPUs at once (page faults; mmap/munmap/mprotect, kernel/
 * syscall.c).  A CPU spinning for it answers TLB shootdowns (arch/
 * spinlock.h); the holder stops in the debugger and sends none.
 */
#include "kernel/audit.h"
#include "kernel/cmdline.h"
#include "kernel/preempt.h"
#include "arch/audit.h"
#include "arch/smp.h"
#include "arch/switch.h"
#include "arch/spinlock.h"
#include "lib/string.h"

u32 audit_armed;

static struct {
	u32 lo, hi, left;
	struct audit_record rec;
} points[AUDIT_NR_POINTS];

static u32 seq;
static spinlock_t audit_lock = SPINLOCK_INIT;

static const char *const point_names[AUDIT_NR_POINTS] = {
	[AUDIT_KMAP_ATOMIC] = "kmap_atomic", [AUDIT_PKMAP_FLUSH] = "pkmap_flush",
	[AUDIT_TRY_TO_UNMAP] = "try_to_unmap", [AUDIT_MUNMAP] = "munmap",
	[AUDIT_COW] = "cow", [AUDIT_CR3_LOAD] = "cr3_load", [AUDIT_PDPT] = "pdpt",
	[AUDIT_GLOBAL] = "global", [AUDIT_LAZY_ENTER] = "lazy_enter",
	[AUDIT_LAZY_LEAVE] = "lazy_leave",
};

static const char *const check_names[] = {
	[AUDIT_MAPS] = "maps", [AUDIT_GONE] = "gone", [AUDIT_MATCH_WALK] = "match-walk",
	[AUDIT_CACHED] = "cached", [AUDIT_ABSENT] = "absent", [AUDIT_CR3] = "cr3",
	[AUDIT_PDPT_STALE] = "pdpt-stale",
};

const char *audit_point_name(enum audit_point p)
{
	return (unsigned)p < AUDIT_NR_POINTS && point_names[p] ? point_names[p] : "?";
}

const char *audit_check_name(enum audit_check c)
{
	return (unsigned)c < ARRAY_SIZE(check_names) && check_names[c] ? check_names[c] : "?";
}

bool audit_arm(enum audit_point p, u32 lo, u32 hi, u32 max_points)
{
	if (!boot_opts.audit || (unsigned)p >= AUDIT_NR_POINTS)
		return false;
	memset(&points[p].rec, 0, sizeof(points[p].rec));
	points[p].lo = lo;
	points[p].hi = hi;
	points[p].left = max_points;
	__atomic_or_fetch(&audit_armed, 1u << p, __ATOMIC_SEQ_CST);
	return true;
}

void audit_disarm(enum audit_point p)
{
	__atomic_and_fetch(&audit_armed, ~(1u << p), __ATOMIC_SEQ_CST);
}

const struct audit_record *audit_record(enum audit_point p)
{
	return &points[p].rec;
}

u32 audit_next_seq(void)
{
	return seq;
}

void audit_point(enum audit_point p, enum audit_check c, u32 flags, u32 laddr, u64 expect,
		 u32 pages)
{
	struct arch_audit_request req;
	struct arch_audit_answer ans;
	struct audit_record *r = &points[p].rec;

	if (points[p].lo != points[p].hi && (laddr < points[p].lo || laddr >= points[p].hi))
		return;
	preempt_disable();
	u32 flags_irq = spin_lock_irqsave(&audit_lock); /* one point at a time, the record consistent */
	if (!points[p].left) {
		spin_unlock_irqrestore(&audit_lock, flags_irq);
		preempt_enable();
		return;
	}
	points[p].left--;
	u32 s = seq++;
	req.word = (u32)p | (u32)c << 8 | (flags & 0xf) << 12 | (s & 0xffff) << 16;
	req.laddr = laddr;
	req.expect = (u32)expect;
	req.where = (u32)smp_processor_id() | (pages & 0xffff) << 16;
	ans = arch_audit_break(&req);
	r->fired++;
	switch (ans.verdict) {
	case AUDIT_PASS:
		r->passed++;
		break;
	case AUDIT_FAIL:
		if (r->failed < AUDIT_FAILS_KEPT)
			r->fail[r->failed] = (struct audit_failure){ s, ans.laddr, (u32)expect,
								     ans.seen, ans.cpu, c };
		r->failed++;
		break;
	case AUDIT_UNANSWERED:
		r->unanswered++;
		break;
	default:
		r->undecided++;
		break;
	}
	spin_unlock_irqrestore(&audit_lock, flags_irq);
	preempt_enable();
}
