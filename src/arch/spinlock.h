/*
 * Ticket spinlocks and the atomic bit operations the SMP code needs.
 *
 * A ticket lock is two 16-bit counters in one word: `next` (the ticket the
 * next locker draws) and `owner` (the ticket being served).  Locking draws a
 * ticket with one LOCK XADD on the whole word (SDM vol. 2B XADD; a locked
 * read-modify-write is atomic and a full memory barrier, SDM vol. 3 8.1.2.2
 * and 8.2.2) and spins until `owner` reaches it; unlocking increments
 * `owner` with a plain 16-bit store (stores are not reordered with older
 * loads or stores, SDM vol. 3 8.2.2, so the critical section's accesses are
 * done before the next owner sees the store).  Waiters are served in FIFO
 * order.  The spin loop executes PAUSE (F3 90, SDM vol. 2B PAUSE: a hint for
 * spin-wait loops; older processors execute it as NOP).
 *
 * While it spins, a waiter also answers TLB shootdown requests addressed to
 * its CPU (arch/tlbflush.c, smp_poll_ipi_work): a CPU that holds a lock and
 * waits for every CPU to acknowledge a flush must not wait forever for one
 * that spins, interrupts off, on a lock it holds.
 *
 * Flavours:
 *   raw_spin_lock / raw_spin_unlock     just the lock (the scheduler's run
 *                                       queue lock, held across a switch)
 *   spin_lock / spin_unlock             also disables preemption
 *   spin_lock_irqsave / _irqrestore     also disables local interrupts
 * In up variants (CONFIG_SMP = 0) the lock word is never touched: spin_lock
 * is preempt_disable, spin_lock_irqsave is local_irq_save + preempt_disable.
 */
#ifndef ARCH_SPINLOCK_H
#define ARCH_SPINLOCK_H
#include "lib/types.h"
#include "arch/switch.h"
#include "kernel/preempt.h"

typedef struct {
	volatile u32 v; /* bits 15:0 owner, bits 31:16 next */
} spinlock_t;

#define SPINLOCK_INIT { 0 }

/* arch/tlbflush.c: answers a shootdown request for this CPU, if one is pending. */
void smp_poll_ipi_work(void);

static inline void cpu_relax(void)
{
	__asm__ __volatile__("rep; nop" ::: "memory"); /* PAUSE (SDM vol. 2B) */
}

static inline u32 atomic_xadd(volatile u32 *p, u32 v)
{
	__asm__ __volatile__("lock; xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}

/* *p |= bits, *p &= ~bits as one locked instruction (SDM vol. 3 8.1.2.2). */
static inline void atomic_or(volatile u32 *p, u32 bits)
{
	__asm__ __volatile__("lock; orl %1, %0" : "+m"(*p) : "r"(bits) : "memory");
}

static inline void atomic_andnot(volatile u32 *p, u32 bits)
{
	__asm__ __volatile__("lock; andl %1, %0" : "+m"(*p) : "r"(~bits) : "memory");
}

/* Counters several CPUs change (page->count, statistics): one locked
 * instruction in smp variants (SDM vol. 3 8.1.2.2), a plain one in up variants. */
static inline void atomic_inc(volatile u32 *p)
{
	if (CONFIG_SMP)
		__asm__ __volatile__("lock; incl %0" : "+m"(*p) : : "memory");
	else
		(*p)++;
}

/* *p += v; returns the new value. */
static inline s32 atomic_add_return(volatile s32 *p, s32 v)
{
	if (!CONFIG_SMP)
		return *p += v;
	return (s32)atomic_xadd((volatile u32 *)p, (u32)v) + v;
}

/* *p += 1 unless *p is 0 (LOCK CMPXCHG loop); false if it was 0. */
static inline bool atomic_inc_not_zero(volatile s32 *p)
{
	s32 old = *p;

	while (old) {
		if (!CONFIG_SMP) {
			*p = old + 1;
			return true;
		}
		s32 prev;
		__asm__ __volatile__("lock; cmpxchgl %2, %1"
				     : "=a"(prev), "+m"(*p) : "r"(old + 1), "0"(old) : "memory");
		if (prev == old)
			return true;
		old = prev;
	}
	return false;
}

/* *p |= bits, *p &= ~bits for page flags: locked only in smp variants. */
static inline void atomic_or_smp(volatile u32 *p, u32 bits)
{
	if (CONFIG_SMP)
		atomic_or(p, bits);
	else
		*p |= bits;
}

static inline void atomic_andnot_smp(volatile u32 *p, u32 bits)
{
	if (CONFIG_SMP)
		atomic_andnot(p, bits);
	else
		*p &= ~bits;
}

static inline void raw_spin_lock(spinlock_t *l)
{
	if (!CONFIG_SMP)
		return;
	u32 t = atomic_xadd(&l->v, 1u << 16) >> 16;
	while ((u16)l->v != (u16)t) {
		smp_poll_ipi_work();
		cpu_relax();
	}
	barrier();
}

static inline bool raw_spin_trylock(spinlock_t *l)
{
	if (!CONFIG_SMP)
		return true;
	u32 old = l->v;
	if ((u16)old != (u16)(old >> 16))
		return false;
	u32 want = old + (1u << 16), prev;
	__asm__ __volatile__("lock; cmpxchgl %2, %1"
			     : "=a"(prev), "+m"(l->v) : "r"(want), "0"(old) : "memory");
	return prev == old;
}

static inline void raw_spin_unlock(spinlock_t *l)
{
	if (!CONFIG_SMP)
		return;
	barrier();
	*(volatile u16 *)&l->v = (u16)(l->v + 1);
}

static inline bool spin_is_locked(const spinlock_t *l)
{
	u32 v = l->v;
	return CONFIG_SMP && (u16)v != (u16)(v >> 16);
}

static inline void spin_lock(spinlock_t *l)
{
	preempt_disable();
	raw_spin_lock(l);
}

static inline void spin_unlock(spinlock_t *l)
{
	raw_spin_unlock(l);
	preempt_enable();
}

static inline u32 spin_lock_irqsave(spinlock_t *l)
{
	u32 flags = local_irq_save();
	preempt_disable();
	raw_spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, u32 flags)
{
	raw_spin_unlock(l);
	local_irq_restore(flags);
	preempt_enable();
}

#endif
