/*
 * Temporary kernel mappings of HighMem (see highmem.h for the interface and
 * for what a cluster maps to).
 *
 * kmap_atomic: a fixmap slot per (CPU, type).  Only its own CPU touches a
 * slot, and a type has one user at a time on a CPU (interrupt handlers use
 * the IRQ types), so the slots need no lock; preemption stays disabled from
 * map to unmap so that no other task can take the slot, or move the holder
 * to another CPU.  Mapping writes the PTE and then invalidates the address:
 * the slot may still be cached with its previous frame (SDM vol. 3
 * 4.10.4.2), and with PAE the 64-bit PTE is rewritten in two stores, which
 * the invlpg after both also covers.
 *
 * kmap: the pkmap pool, one page table below the fixmap (layout.h), shared
 * by all CPUs and all address spaces (its PTEs are global).  Each entry has
 * a count: 0 = free, and in no TLB since the last flush; 1 = nobody uses it,
 * but a TLB may still hold it; n = n - 1 users.  kunmap only decrements.
 * Entries are handed out by a rotating index; when it wraps to 0, every
 * entry at 1 is cleared and the whole TLB is flushed once -- global entries
 * included, so CR4.PGE is toggled (flush_tlb_all_local).  A count-0 entry
 * is not present and in no TLB (no translation is cached from a not-present
 * entry, SDM vol. 3 4.10.2.3), so filling it needs no invalidation (4.10.4.3).
 *
 * Locking: the pool (counts, hash, rotor) is locked by a ticket spinlock
 * taken with interrupts off on this CPU, because kunmap may run in an
 * interrupt handler (up variants: interrupts off only).  The wrap-around
 * flush is a shootdown on every CPU (flush_tlb_kernel_all).  kmap may wait
 * for a free entry, so it is never called in an atomic section (debug
 * builds check preempt_count); the wait lets the lock go.
 */
#include "mm/highmem.h"
#include "kernel/audit.h"
#include "kernel/panic.h"
#include "kernel/preempt.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "arch/io.h"
#include "arch/smp.h"
#include "arch/spinlock.h"
#include "arch/tlbflush.h"

#define EFLAGS_IF (1u << 9) /* SDM vol. 1 3.4.3 */

/* Declared in kernel/preempt.h; defined here until the scheduler exists. */
struct kmap_stats kmap_stats;

static const char *const km_names[KM_TYPE_NR] = {
	[KM_PTE0] = "KM_PTE0", [KM_PTE1] = "KM_PTE1",   [KM_USER0] = "KM_USER0",
	[KM_USER1] = "KM_USER1", [KM_IRQ0] = "KM_IRQ0", [KM_IRQ1] = "KM_IRQ1",
	[KM_SWAP] = "KM_SWAP", [KM_TEST] = "KM_TEST",
};

const char *km_type_name(enum km_type type)
{
	if ((unsigned)type >= KM_TYPE_NR || !km_names[type])
		return "KM_?";
	return km_names[type];
}

/* ---- kmap_atomic ---- */

/*
 * The PTE of the first slot.  The fixmap lies in one page table (fixmap.h
 * asserts it) and fixmap indices grow downwards in memory, so slot idx's
 * PTE is kmap_pte - (idx - FIX_KMAP_BEGIN).  Found on first use: the page
 * tables exist once paging_init has run, before anything maps a page.
 */
static pte_t *kmap_pte;

static pte_t *slot_pte(enum fixed_addresses idx)
{
	if (unlikely(!kmap_pte))
		kmap_pte = kernel_pte(fix_to_virt(FIX_KMAP_BEGIN));
	return kmap_pte - (idx - FIX_KMAP_BEGIN);
}

static enum fixed_addresses km_slot(enum km_type type)
{
	return FIX_KMAP_BEGIN + type + KM_TYPE_NR * smp_processor_id();
}

void *kmap_atomic_slot(enum km_type type)
{
	return (void *)fix_to_virt(km_slot(type));
}

/* The checks' messages, one buffer per CPU (a check that fails is followed by a panic). */
static char km_reason[NR_CPUS][128];

static const char *reason(const char *fmt, ...) __printf(1, 2);
static const char *reason(const char *fmt, ...)
{
	char *buf = km_reason[smp_processor_id()];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(km_reason[0]), fmt, ap);
	va_end(ap);
	return buf;
}

const char *kmap_atomic_map_check(enum km_type type)
{
	if (!CONFIG_DEBUG)
		return NULL;
	if ((unsigned)type >= KM_TYPE_NR)
		return reason("kmap_atomic: %d is not a km_type", type);
	pte_t pte = ptep_get(slot_pte(km_slot(type)));
	if (pte_present(pte))
		return reason("kmap_atomic(%s): the slot is still mapped (frame 0x%llx): "
			      "a kunmap_atomic is missing", km_type_name(type), pte_frame(pte));
	return NULL;
}

const char *kmap_atomic_unmap_check(void *addr, enum km_type type)
{
	u32 va = (u32)addr;
	u32 first = fix_to_virt(FIX_KMAP_END), last = fix_to_virt(FIX_KMAP_BEGIN);

	if (!CONFIG_DEBUG)
		return NULL;
	if (preempt_count() <= 0)
		return reason("kunmap_atomic(%08x, %s): preemption is not disabled: "
			      "more unmaps than maps", va, km_type_name(type));
	if (va >= PAGE_OFFSET && va < PAGE_OFFSET + LOWMEM_MAX)
		return NULL; /* a lowmem page's direct-map address: no slot was used */
	if (va < first || va >= last + MMUPAGE_SIZE)
		return reason("kunmap_atomic(%08x, %s): not a kmap_atomic address", va,
			      km_type_name(type));
	enum fixed_addresses idx = virt_to_fix(va);
	if ((unsigned)type >= KM_TYPE_NR || idx != km_slot(type)) {
		u32 n = idx - FIX_KMAP_BEGIN;
		return reason("kunmap_atomic(%08x, %s): that is the slot of %s on CPU %u", va,
			      km_type_name(type), km_type_name(n % KM_TYPE_NR), n / KM_TYPE_NR);
	}
	if (!pte_present(ptep_get(slot_pte(idx))))
		return reason("kunmap_atomic(%08x, %s): the slot is not mapped (unmapped twice?)", va,
			      km_type_name(type));
	return NULL;
}

const char *kmap_atomic_idle_check(void)
{
	if (!CONFIG_DEBUG)
		return NULL;
	for (int t = 0; t < KM_TYPE_NR; t++) {
		pte_t pte = ptep_get(slot_pte(km_slot(t)));
		if (pte_present(pte))
			return reason("%s is still mapped (frame 0x%llx)", km_type_name(t),
				      pte_frame(pte));
	}
	return NULL;
}

void kmap_atomic_check_idle(const char *where)
{
	const char *why = kmap_atomic_idle_check();

	if (why)
		panic("%s: kmap_atomic slot left mapped: %s", where, why);
}

void *kmap_atomic_frame(u64 frame, enum km_type type)
{
	preempt_disable();
	if (CONFIG_DEBUG) {
		const char *why = kmap_atomic_map_check(type);
		if (why)
			panic("%s", why);
	}
	enum fixed_addresses idx = km_slot(type);
	u32 va = fix_to_virt(idx);

	set_pte(slot_pte(idx), mk_pte_frame(frame, PAGE_KERNEL));
	if (!CONFIG_BREAK_KMAP_INVLPG) /* a deliberate bug the audit must catch */
		invlpg(va); /* drop the slot's previous translation (SDM 4.10.4.2) */
	audit_maps(AUDIT_KMAP_ATOMIC, va, frame);
	atomic_inc(&kmap_stats.atomic_maps); /* kmap_atomic runs on every CPU at once */
	return (void *)va;
}

void *kmap_atomic(struct page *page, enum km_type type)
{
	if (!PageHighMem(page)) {
		preempt_disable(); /* the same rules as for HighMem, so bugs show on any RAM size */
		return lowmem_page_address(page);
	}
	return kmap_atomic_frame(page_to_frame(page), type);
}

void kunmap_atomic(void *addr, enum km_type type)
{
	if (CONFIG_DEBUG) {
		u32 va = (u32)addr;
		const char *why = kmap_atomic_unmap_check(addr, type);
		if (why)
			panic("%s", why);
		if (va >= FIXADDR_START) {
			/* A use after unmap faults instead of reaching the old frame. */
			pte_clear(slot_pte(virt_to_fix(va)));
			if (!CONFIG_BREAK_KMAP_INVLPG) /* else it would hide the broken map */
				invlpg(va);
		}
	}
	/* Otherwise nothing: the next kmap_atomic of the slot invalidates it. */
	preempt_enable();
}

void clear_highpage(struct page *page)
{
	if (!PageHighMem(page)) {
		memset(lowmem_page_address(page), 0, PAGE_SIZE);
		return;
	}
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		void *va = kmap_atomic_frame(page_to_frame(page) + i, KM_USER0);
		memset(va, 0, MMUPAGE_SIZE);
		kunmap_atomic(va, KM_USER0);
	}
}

/* ---- kmap: the pkmap pool ---- */

/*
 * The pages in the pool are found through a small hash of chains (no field
 * in struct page: 32 bytes per 16 KiB is the budget).  Chains link entry
 * numbers plus one, so 0 -- the zeroed bss -- ends a chain.  An entry is in
 * the hash exactly while pkmap_page[nr] is set, i.e. while its count is not 0.
 */
#define PA_HASH_BITS 8
#define PA_HASH_SIZE (1u << PA_HASH_BITS)
_Static_assert((LAST_PKMAP_PAGES & (LAST_PKMAP_PAGES - 1)) == 0, "the rotor wraps with a mask");
_Static_assert(LAST_PKMAP_PAGES < 0xffff, "chain links are u16");

static u32 pkmap_count[LAST_PKMAP_PAGES];
static struct page *pkmap_page[LAST_PKMAP_PAGES];
static u16 pkmap_chain[LAST_PKMAP_PAGES]; /* next entry + 1 in the same chain */
static u16 pa_hash[PA_HASH_SIZE];         /* first entry + 1 of each chain */
static u32 last_pkmap_nr;                 /* the rotor: the entry handed out last */
static u32 pkmap_releases;                /* kunmaps that left an entry unused */
static pte_t *pkmap_pte;                  /* the pool's page table (found on first use) */

static spinlock_t pkmap_spin = SPINLOCK_INIT;

/* Interrupts off, then the pool's ticket lock (no preemption count: kmap may
 * sleep in pkmap_wait, which lets the lock go meanwhile). */
static u32 pkmap_lock(void)
{
	u32 flags = local_irq_save();
	raw_spin_lock(&pkmap_spin);
	return flags;
}

static void pkmap_unlock(u32 flags)
{
	raw_spin_unlock(&pkmap_spin);
	local_irq_restore(flags);
}

static pte_t *entry_pte(u32 nr)
{
	if (unlikely(!pkmap_pte))
		pkmap_pte = kernel_pte(PKMAP_BASE); /* LAST_PKMAP = one whole table */
	return pkmap_pte + (nr << PAGE_MMUSHIFT);
}

static void *entry_addr(u32 nr)
{
	return (void *)PKMAP_ADDR(nr << PAGE_MMUSHIFT);
}

static u16 *hash_head(const struct page *page)
{
	return &pa_hash[(page_to_pfn(page) * 0x9e3779b1u) >> (32 - PA_HASH_BITS)];
}

/* The entry holding page, or -1. */
static int pkmap_lookup(const struct page *page)
{
	for (u32 link = *hash_head(page); link; link = pkmap_chain[link - 1])
		if (pkmap_page[link - 1] == page)
			return link - 1;
	return -1;
}

static void hash_del(u32 nr)
{
	u16 *link = hash_head(pkmap_page[nr]);

	while (*link != nr + 1)
		link = &pkmap_chain[*link - 1];
	*link = pkmap_chain[nr];
	pkmap_page[nr] = NULL;
}

/* Clears every entry at count 1, then flushes the TLB once if any was. */
static void pkmap_flush_unused(void)
{
	bool cleared = false;

	for (u32 nr = 0; nr < LAST_PKMAP_PAGES; nr++) {
		if (pkmap_count[nr] != 1)
			continue;
		pkmap_count[nr] = 0;
		for (u32 i = 0; i < PAGE_MMUCOUNT; i++)
			pte_clear(entry_pte(nr) + i);
		hash_del(nr);
		cleared = true;
	}
	if (cleared) {
		flush_tlb_kernel_all(); /* global PTEs (a CR3 load keeps them), every CPU */
		kmap_stats.pkmap_flushes++;
		audit_range(AUDIT_PKMAP_FLUSH, PKMAP_BASE, LAST_PKMAP);
	}
}

/*
 * A free entry after the rotor, or -1 if a whole turn after the last flush
 * found none.  Passing 0 frees the unused entries (one flush per wrap).
 */
static int pkmap_find_free(void)
{
	for (u32 left = LAST_PKMAP_PAGES; left; left--) {
		last_pkmap_nr = (last_pkmap_nr + 1) & (LAST_PKMAP_PAGES - 1);
		if (last_pkmap_nr == 0) {
			pkmap_flush_unused();
			left = LAST_PKMAP_PAGES; /* look at every entry once more since the flush */
		}
		if (pkmap_count[last_pkmap_nr] == 0)
			return last_pkmap_nr;
	}
	return -1;
}

/*
 * Waits, the pool locked, until some kunmap leaves an entry unused.  There
 * are no tasks yet: besides this caller only interrupt handlers run, so the
 * wait halts with interrupts on, and a kunmap in a handler ends it.  "sti;
 * hlt" cannot miss that wake-up: sti enables interrupts only after the next
 * instruction (SDM vol. 2B, STI), so an interrupt arriving after the check
 * wakes the hlt.  Once there is a scheduler this becomes sleeping on a wait
 * queue that kunmap wakes up.
 */
static void pkmap_wait(u32 flags, struct page *page)
{
	u32 seen = pkmap_releases;

	if (!(flags & EFLAGS_IF))
		panic("kmap(pfn %u): the pkmap pool is full and interrupts are off: "
		      "nothing can release an entry", page_to_pfn(page));
	while (pkmap_releases == seen) {
		raw_spin_unlock(&pkmap_spin); /* another CPU's kunmap needs the pool */
		__asm__ __volatile__("sti; hlt; cli" ::: "memory");
		raw_spin_lock(&pkmap_spin);
	}
}

/* Puts page in a free entry, waiting for one if need be; the pool is locked. */
static u32 pkmap_map_new(struct page *page, u32 flags)
{
	bool waited = false;
	int nr;

	while ((nr = pkmap_find_free()) < 0) {
		if (!waited)
			kmap_stats.pkmap_waits++;
		waited = true;
		pkmap_wait(flags, page);
		/* While we waited, someone else may have mapped the page. */
		nr = pkmap_lookup(page);
		if (nr >= 0)
			return nr;
	}
	u64 frame = page_to_frame(page);
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++)
		set_pte(entry_pte(nr) + i, mk_pte_frame(frame + i, PAGE_KERNEL));
	pkmap_count[nr] = 1;
	pkmap_page[nr] = page;
	pkmap_chain[nr] = *hash_head(page);
	*hash_head(page) = nr + 1;
	kmap_stats.pkmap_maps++;
	return nr;
}

void *kmap(struct page *page)
{
	if (CONFIG_DEBUG && preempt_count() > 0)
		panic("kmap(pfn %u) in an atomic section (preempt count %d): kmap may wait; "
		      "use kmap_atomic", page_to_pfn(page), preempt_count());
	if (!PageHighMem(page))
		return lowmem_page_address(page);

	u32 flags = pkmap_lock();
	int nr = pkmap_lookup(page);
	if (nr >= 0)
		kmap_stats.pkmap_reuses++;
	else
		nr = pkmap_map_new(page, flags);
	pkmap_count[nr]++;
	pkmap_unlock(flags);
	return entry_addr(nr);
}

void kunmap(struct page *page)
{
	if (!PageHighMem(page))
		return;

	u32 flags = pkmap_lock();
	int nr = pkmap_lookup(page);
	if (nr < 0 || pkmap_count[nr] < 2)
		panic("kunmap(pfn %u): the page is not kmapped", page_to_pfn(page));
	if (--pkmap_count[nr] == 1)
		pkmap_releases++; /* wakes a waiting kmap (a wake_up with a scheduler) */
	pkmap_unlock(flags);
}

void *page_address(struct page *page)
{
	if (!PageHighMem(page))
		return lowmem_page_address(page);

	u32 flags = pkmap_lock();
	int nr = pkmap_lookup(page);
	pkmap_unlock(flags);
	return nr < 0 ? NULL : entry_addr(nr);
}

void kmap_flush_unused(void)
{
	u32 flags = pkmap_lock();
	pkmap_flush_unused();
	pkmap_unlock(flags);
}
