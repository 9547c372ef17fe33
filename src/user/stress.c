/*
 * stress_task(arg): one family of the stress suite's random workload.  The
 * kernel half (src/selftest/stress.c) starts the families, audits their
 * address spaces while they run and counts the steps they report.
 *
 * arg: bits 31-10 seed the task's generator, bits 9-0 are the family's
 * budget of steps.  Each step is one operation drawn from the generator:
 *
 *   touch     read pages and check them, write new values
 *   map       mmap(MAP_FIXED) over a range, private or shared: whatever was
 *             there goes, and the new pages must read zero -- or, in pgcl4,
 *             EINVAL when shared and private memory would meet inside a
 *             cluster window (mm/mmap.c), and nothing changes
 *   unmap     munmap part of a range
 *   protect   mprotect a range to rw, r or none (-ENOMEM if it has a hole)
 *   fork      the child takes half of the budget left and goes on alone
 *   wait      reap one child, adding the steps it reports
 *   ping      a fresh shared page, a child that writes into it (after
 *             mapping and writing a private neighbour, which pgcl4 refuses
 *             inside the shared page's cluster window), the parent reading
 *             the child's value
 *   doomed    a child that must be killed: a write after mprotect(PROT_READ),
 *             or a read after munmap, of a page it has just written
 *   exit      end now, children alive or not (they go to task 0)
 *
 * The task keeps a model of its arena, page by page (mapped, rights, shared,
 * what it last wrote), on its stack -- so fork copies the model along with
 * the memory it describes.  Every read is checked against the model.
 *
 *   ARENA_A  0x50000000  64 pages inside one PTE table (2 MiB under PAE,
 *                        4 MiB with 2-level paging).  Page 0 is the anchor,
 *                        mapped and written for the task's whole life: the
 *                        table never empties, so munmap and mprotect here
 *                        are followed by no whole-TLB flush, and only the
 *                        per-page invalidation (invlpg, SDM vol. 3 4.10.4.1)
 *                        stands between a stale translation and the next
 *                        access.  The map step reads the old pages (loading
 *                        the TLB) just before it maps over them: a missing
 *                        invalidation then reads the old frame, not zeros.
 *   ARENA_B  0x50800000  32 pages in another table, which empties and is freed.
 *
 * A check that fails is reported (TEST_FAIL, at this file's line) and the
 * task exits with status 1 at once: after a wrong read nothing it might
 * write is safe.  Otherwise the exit status is STATUS_OK + the steps taken
 * by the task and by the children it reaped.
 */
#include "user/ulib.h"
#include "lib/printf.h"

#define PG 4096u
#define ARENA_A 0x50000000u
#define ARENA_B 0x50800000u
#define PAGES_A 64u
#define NPAGES 96u
#define MAX_KIDS 3u
#define MAX_DEPTH 4u
#define MAILBOX 100u /* the word of a ping page the child writes (not a checked word) */
#define STATUS_OK 0x10000
#define KILLED_BY_PF EXIT_KILLED(14)
#define RW (PROT_READ | PROT_WRITE)
#define NONE 0xffffffffu /* no page */

/* The words of a page that carry its value; the rest stays as it is. */
static const u32 check_words[3] = { 0, 517, 1023 };

struct spage {
	u32 tag;   /* what the task last wrote there (odd), 0: never written, reads zero */
	u8 mapped;
	u8 prot;   /* PROT_READ | PROT_WRITE, PROT_READ or PROT_NONE */
	u8 shared; /* MAP_SHARED */
	u8 frozen; /* shared with a child at fork: nobody writes it any more */
};

struct stress {
	u32 rng;
	u32 window;       /* pages per cluster window: 1, or 4 in pgcl4 */
	u32 budget;       /* steps left */
	u32 steps;        /* taken here, plus those of the children reaped */
	u32 depth;        /* forks since the family's root */
	u32 nkids;
	s32 kids[MAX_KIDS];
	struct spage pg[NPAGES];
};

/* ---- reporting ---- */

static void __noreturn fail(int line, const char *fmt, ...) __printf(2, 3);
static void __noreturn fail(int line, const char *fmt, ...)
{
	char msg[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utest_report(false, __FILE__, line, msg);
	sys_exit(1);
}

#define CHECK(cond, ...)                          \
	do {                                      \
		if (!(cond))                      \
			fail(__LINE__, __VA_ARGS__); \
	} while (0)

/* ---- the generator and the model ---- */

/* A 32-bit mixer (the finaliser of MurmurHash3): distinct seeds, unrelated streams. */
static u32 mix(u32 x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x ? x : 1;
}

/* xorshift32: the next number of the task's stream. */
static u32 rnd(struct stress *s)
{
	u32 x = s->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return s->rng = x;
}

static u32 below(struct stress *s, u32 n)
{
	return rnd(s) % n;
}

static u32 page_addr(u32 i)
{
	return i < PAGES_A ? ARENA_A + i * PG : ARENA_B + (i - PAGES_A) * PG;
}

/* Word k of a page whose tag is tag: never zero, since tags are odd. */
static u32 word_at(u32 tag, u32 k)
{
	return tag ^ (k << 12);
}

static bool writable(const struct spage *p)
{
	return p->mapped && (p->prot & PROT_WRITE) && !p->frozen;
}

/* A random range [*first, *first + *n) inside one arena, never the anchor. */
static void pick_range(struct stress *s, u32 *first, u32 *n)
{
	u32 lo = 1, hi = PAGES_A;

	if (below(s, 3) == 0) {
		lo = PAGES_A;
		hi = NPAGES;
	}
	u32 len = 1 + below(s, 8);
	*first = lo + below(s, hi - lo);
	*n = MIN(len, hi - *first);
}

/* Checks page i against the model (when it is mapped and readable). */
static void verify(const struct spage *pg, u32 i, const char *when)
{
	const struct spage *p = &pg[i];

	if (!p->mapped || p->prot == PROT_NONE)
		return;
	volatile u32 *w = (volatile u32 *)page_addr(i);
	for (u32 k = 0; k < ARRAY_SIZE(check_words); k++) {
		u32 got = w[check_words[k]], want = p->tag ? word_at(p->tag, k) : 0;
		CHECK(got == want, "%s: %08x word %u reads %08x, not %08x", when, page_addr(i),
		      check_words[k], got, want);
	}
}

static void verify_range(const struct stress *s, u32 first, u32 n, const char *when)
{
	for (u32 i = first; i < first + n; i++)
		verify(s->pg, i, when);
}

/* Writes a new value over page i (it must be writable in the model). */
static void stamp(struct stress *s, u32 i)
{
	struct spage *p = &s->pg[i];
	volatile u32 *w = (volatile u32 *)page_addr(i);

	p->tag = rnd(s) | 1;
	for (u32 k = 0; k < ARRAY_SIZE(check_words); k++)
		w[check_words[k]] = word_at(p->tag, k);
}

/* What the kernel says of page i right after a write: a private page is
 * this address space's alone (writable, count 1, no other mapper); a
 * shared one is counted once per address space. */
static void check_counts(const struct stress *s, u32 i)
{
	struct user_pte_info pi = pte_info(page_addr(i));

	CHECK(pi.frame && pi.writable, "%08x written but its PTE is frame %x, writable %u",
	      page_addr(i), pi.frame, pi.writable);
	if (s->pg[i].shared)
		CHECK(pi.mapcount >= 0 && pi.count == pi.mapcount + 1,
		      "shared %08x: count %d, mapcount %d", page_addr(i), pi.count, pi.mapcount);
	else
		CHECK(pi.count == 1 && pi.mapcount == 0,
		      "private %08x written: count %d, mapcount %d (not exclusive)", page_addr(i),
		      pi.count, pi.mapcount);
}

static void set_mapped(struct stress *s, u32 first, u32 n, u32 prot, bool shared)
{
	for (u32 i = first; i < first + n; i++)
		s->pg[i] = (struct spage){ 0, 1, (u8)prot, shared, 0 };
}

/*
 * Would mapping [first, first + n) mix shared and private memory inside a
 * cluster window?  That is, is a page of its windows outside it mapped,
 * with the new mapping or that page shared?  (The arenas start on window
 * boundaries and nothing else is mapped near them.)
 */
static bool mixes(const struct stress *s, u32 first, u32 n, bool shared)
{
	u32 lo = first - first % s->window, hi = ALIGN_UP(first + n, s->window);

	for (u32 i = lo; i < hi; i++)
		if ((i < first || i >= first + n) && s->pg[i].mapped && (shared || s->pg[i].shared))
			return true;
	return false;
}

/* mmap(MAP_FIXED) of [first, first + n) in the model and for real; false
 * when it was refused because it would mix shared and private memory. */
static bool map_fixed(struct stress *s, u32 first, u32 n, u32 prot, bool shared)
{
	u32 flags = MAP_FIXED | MAP_ANONYMOUS | (shared ? MAP_SHARED : MAP_PRIVATE);
	bool refused = mixes(s, first, n, shared);
	s32 r = sys_mmap(page_addr(first), n * PG, prot, flags);

	CHECK(r == (refused ? -EINVAL : (s32)page_addr(first)),
	      "mmap(%08x, %u pages, prot %u, flags %x) returned %d", page_addr(first), n, prot,
	      flags, r);
	if (!refused)
		set_mapped(s, first, n, prot, shared);
	return !refused;
}

/* ---- children ---- */

static void forget_kid(struct stress *s, s32 pid)
{
	for (u32 k = 0; k < s->nkids; k++)
		if (s->kids[k] == pid) {
			s->kids[k] = s->kids[--s->nkids];
			return;
		}
	fail(__LINE__, "wait returned %d, which is not a child", pid);
}

/* A forked worker ended: it must have ended well; its steps become ours. */
static void kid_done(struct stress *s, s32 pid, int status)
{
	forget_kid(s, pid);
	CHECK((status & ~0xffff) == STATUS_OK, "child %d exited with status %d", pid, status);
	s->steps += status & 0xffff;
}

/* Waits for child pid (a probe's), reaping workers that end meanwhile; its status. */
static int reap(struct stress *s, s32 pid)
{
	for (;;) {
		int status = -1;
		s32 got = sys_wait(&status);
		CHECK(got > 0, "wait for child %d returned %d", pid, got);
		if (got == pid)
			return status;
		kid_done(s, got, status);
	}
}

static void __noreturn finish(struct stress *s, bool wait_kids)
{
	while (wait_kids && s->nkids) {
		int status = -1;
		s32 got = sys_wait(&status);
		CHECK(got > 0, "wait returned %d with %u children", got, s->nkids);
		kid_done(s, got, status);
	}
	sys_exit(STATUS_OK | (int)s->steps);
}

/* ---- the operations ---- */

static void op_touch(struct stress *s)
{
	for (u32 n = 1 + below(s, 4); n; n--) {
		u32 i = below(s, NPAGES);
		verify(s->pg, i, "touch");
		if (!writable(&s->pg[i]))
			continue;
		stamp(s, i);
		if (below(s, 4) == 0)
			check_counts(s, i);
	}
}

static void op_verify_all(struct stress *s)
{
	verify_range(s, 0, NPAGES, "verify");
}

static void op_map(struct stress *s)
{
	u32 first, n, r = below(s, 100);
	u32 prot = r < 75 ? RW : r < 88 ? PROT_READ : PROT_NONE;
	bool shared = below(s, 4) == 0;

	pick_range(s, &first, &n);
	verify_range(s, first, n, "before mmap"); /* the old translations are now in the TLB */
	if (!map_fixed(s, first, n, prot, shared)) {
		verify_range(s, first, n, "after a refused mmap");
		return;
	}
	verify_range(s, first, n, "fresh mapping"); /* zeros, not the old frames */
	if (prot == RW && below(s, 2))
		for (u32 i = first; i < first + n; i++)
			stamp(s, i);
}

static void op_unmap(struct stress *s)
{
	u32 first, n;

	pick_range(s, &first, &n);
	verify_range(s, first, n, "before munmap");
	s32 r = sys_munmap(page_addr(first), n * PG);
	CHECK(r == 0, "munmap(%08x, %u pages) returned %d", page_addr(first), n, r);
	for (u32 i = first; i < first + n; i++)
		s->pg[i].mapped = 0;
}

static void op_protect(struct stress *s)
{
	u32 first, n, r = below(s, 10);
	u32 prot = r < 4 ? RW : r < 8 ? PROT_READ : PROT_NONE;
	bool whole = true;

	pick_range(s, &first, &n);
	for (u32 i = first; i < first + n; i++) {
		whole &= s->pg[i].mapped;
		verify(s->pg, i, "before mprotect");
		if (writable(&s->pg[i]) && below(s, 2))
			stamp(s, i); /* a writable, dirty translation in the TLB */
	}
	s32 ret = sys_mprotect(page_addr(first), n * PG, prot);
	if (!whole) {
		CHECK(ret == -ENOMEM, "mprotect(%08x, %u pages) over a hole returned %d",
		      page_addr(first), n, ret);
	} else {
		CHECK(ret == 0, "mprotect(%08x, %u pages, %u) returned %d", page_addr(first), n,
		      prot, ret);
		for (u32 i = first; i < first + n; i++)
			s->pg[i].prot = (u8)prot;
	}
	verify_range(s, first, n, "after mprotect");
}

/* A readable page of the given kind with a present PTE, or NONE; *frame gets its frame. */
static u32 probe_page(struct stress *s, bool shared, u32 *frame)
{
	u32 start = below(s, NPAGES);

	for (u32 k = 0; k < NPAGES; k++) {
		u32 i = (start + k) % NPAGES;
		const struct spage *p = &s->pg[i];
		if (!p->mapped || p->prot == PROT_NONE || p->shared != shared)
			continue;
		*frame = pte_info(page_addr(i)).frame;
		if (*frame)
			return i;
	}
	return NONE;
}

/*
 * fork: shared pages freeze (both sides keep reading them, nobody writes);
 * the child checks what it inherited -- every page's value, a private page
 * on the parent's frame but read-only, a shared page on the parent's frame
 * -- and goes on with half of the budget.
 */
static void op_fork(struct stress *s)
{
	u32 fpriv = 0, fshared = 0;

	if (s->budget < 8 || s->nkids == MAX_KIDS || s->depth == MAX_DEPTH)
		return;
	for (u32 i = 0; i < NPAGES; i++)
		if (s->pg[i].mapped && s->pg[i].shared)
			s->pg[i].frozen = 1;
	u32 priv = probe_page(s, false, &fpriv), sh = probe_page(s, true, &fshared);
	u32 share = s->budget / 2;
	s32 pid = sys_fork();
	CHECK(pid >= 0, "fork returned %d", pid);
	if (pid == 0) {
		s->depth++;
		s->nkids = 0;
		s->steps = 0;
		s->budget = share;
		s->rng = mix(s->rng ^ 0x6368696cu);
		op_verify_all(s);
		if (priv != NONE) {
			struct user_pte_info pi = pte_info(page_addr(priv));
			CHECK(pi.frame == fpriv && !pi.writable && pi.count == pi.mapcount + 1,
			      "child: private %08x on frame %x (parent's %x), writable %u, count %d, "
			      "mapcount %d", page_addr(priv), pi.frame, fpriv, pi.writable, pi.count,
			      pi.mapcount);
		}
		if (sh != NONE)
			CHECK(pte_info(page_addr(sh)).frame == fshared,
			      "child: shared %08x is not on the parent's frame %x", page_addr(sh), fshared);
		return;
	}
	s->budget -= share;
	s->kids[s->nkids++] = pid;
	s->rng = mix(s->rng ^ 0x70617265u);
	if (priv != NONE) {
		struct user_pte_info pi = pte_info(page_addr(priv));
		CHECK(pi.frame == fpriv && !pi.writable,
		      "parent: private %08x after fork: frame %x (was %x), writable %u",
		      page_addr(priv), pi.frame, fpriv, pi.writable);
	}
}

static void op_wait(struct stress *s)
{
	int status = -1;

	if (!s->nkids)
		return;
	s32 pid = sys_wait(&status);
	CHECK(pid > 0, "wait returned %d with %u children", pid, s->nkids);
	kid_done(s, pid, status);
}

/* An unmapped page of the model, or NONE. */
static u32 free_page(struct stress *s)
{
	u32 start = 1 + below(s, NPAGES - 1);

	for (u32 k = 0; k < NPAGES - 1; k++) {
		u32 i = 1 + (start - 1 + k) % (NPAGES - 1);
		if (!s->pg[i].mapped)
			return i;
	}
	return NONE;
}

/*
 * ping: a shared page mapped now, and a child that first writes a private
 * neighbour in the same 16 KiB -- with pgcl4 that is the shared page's
 * cluster window, so mapping it must be refused, and a fault there must
 * never take the shared slot along into a private copy -- then writes the
 * page's mailbox.  The parent must read it.
 */
static void op_ping(struct stress *s)
{
	u32 i = free_page(s);

	if (i == NONE || !map_fixed(s, i, 1, RW, true))
		return;
	verify(s->pg, i, "fresh shared page");
	volatile u32 *box = (volatile u32 *)page_addr(i) + MAILBOX;
	*box = 0;
	u32 token = rnd(s) | 1, j = i ^ 1;
	bool neighbour = j != 0 && (i < PAGES_A) == (j < PAGES_A) && j < NPAGES;
	s32 pid = sys_fork();
	CHECK(pid >= 0, "fork returned %d", pid);
	if (pid == 0) {
		if (neighbour && !s->pg[j].mapped)
			map_fixed(s, j, 1, RW, false); /* refused in pgcl4: the window is shared */
		if (neighbour && writable(&s->pg[j]) && !s->pg[j].shared) {
			verify(s->pg, j, "ping neighbour");
			stamp(s, j);
		}
		CHECK(*box == 0, "ping child: mailbox of %08x holds %08x", page_addr(i), *box);
		*box = token;
		sys_exit(STATUS_OK | 1);
	}
	int status = reap(s, pid);
	CHECK(status == (STATUS_OK | 1), "ping child %d exited with status %d", pid, status);
	s->steps++;
	CHECK(*box == token, "shared %08x: the child wrote %08x, the parent reads %08x",
	      page_addr(i), token, *box);
}

/*
 * doomed: a child writes a page of its own (its TLB now holds a writable
 * translation), then takes the right away -- mprotect(PROT_READ), or munmap
 * -- and accesses the page again.  The kernel must kill it; if the access
 * goes through, a stale translation survived.
 */
static void op_doomed(struct stress *s)
{
	u32 i = 1 + below(s, PAGES_A - 1);
	bool by_munmap = below(s, 2);

	if (mixes(s, i, 1, false))
		return; /* pgcl4: a shared neighbour in the window, the mmap would be refused */
	s32 pid = sys_fork();
	CHECK(pid >= 0, "fork returned %d", pid);
	if (pid == 0) {
		volatile u32 *w = (volatile u32 *)page_addr(i);
		map_fixed(s, i, 1, RW, false);
		stamp(s, i);
		verify(s->pg, i, "doomed");
		if (by_munmap) {
			CHECK(sys_munmap(page_addr(i), PG) == 0, "munmap(%08x) failed", page_addr(i));
			u32 v = w[check_words[0]];
			fail(__LINE__, "read of %08x after munmap went through (%08x)", page_addr(i), v);
		}
		CHECK(sys_mprotect(page_addr(i), PG, PROT_READ) == 0, "mprotect(%08x) failed",
		      page_addr(i));
		w[7] = 1;
		fail(__LINE__, "write to %08x after mprotect(PROT_READ) went through", page_addr(i));
	}
	int status = reap(s, pid);
	CHECK(status == KILLED_BY_PF, "a child that %s and accessed %08x exited with %d, not %d",
	      by_munmap ? "unmapped" : "write-protected", page_addr(i), status, KILLED_BY_PF);
}

static void step(struct stress *s)
{
	u32 r = below(s, 100);

	if (r < 30)
		op_touch(s);
	else if (r < 47)
		op_map(s);
	else if (r < 59)
		op_unmap(s);
	else if (r < 71)
		op_protect(s);
	else if (r < 79)
		op_fork(s);
	else if (r < 83)
		op_wait(s);
	else if (r < 86)
		op_ping(s);
	else if (r < 89)
		op_doomed(s);
	else if (r < 92)
		sys_yield();
	else if (r < 94)
		finish(s, below(s, 2));
	else
		op_verify_all(s);
}

static int stress_task(u32 arg)
{
	struct stress s;

	memset(&s, 0, sizeof(s));
	s.window = sys_info().page_size / PG;
	s.rng = mix(arg);
	s.budget = arg & 0x3ff;
	map_fixed(&s, 0, 1, RW, false); /* the anchor */
	stamp(&s, 0);
	while (s.budget) {
		s.budget--;
		s.steps++;
		step(&s);
	}
	finish(&s, below(&s, 2));
}
USER_PROGRAM(stress_task);
