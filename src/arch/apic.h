/*
 * The local APIC (Intel SDM vol. 3 chapter 10): mapped uncached in the
 * fixmap, used for inter-processor interrupts and AP start-up.
 */
#ifndef ARCH_APIC_H
#define ARCH_APIC_H
#include "lib/types.h"

#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_ESR 0x280
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310

#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0
#define VEC_IPI_TEST 0xf0 /* an IPI whose handler only counts */
#define VEC_TLB_FLUSH 0xf1 /* TLB shootdown request (arch/tlbflush.c) */
#define VEC_RESCHED 0xf2   /* wakes an idle CPU to look at the run queue */
#define VEC_APIC_TIMER 0xf3 /* each AP's local APIC timer tick */
#define VEC_STOP 0xf4       /* a panic elsewhere: halt for good */
#define VEC_APIC_SPURIOUS 0xff

/* Maps this CPU's local APIC (BSP: also the fixmap slot) and enables it. */
bool apic_init(void);
void apic_enable_this_cpu(void);
u32 apic_read(u32 reg);
void apic_write(u32 reg, u32 v);
u32 apic_id(void);
void apic_eoi(void);
/* Sends an IPI (ICR low word: delivery mode and vector) to the CPU with apicid;
 * waits for the send to complete.  False if it never completed. */
bool apic_send_ipi(u32 apicid, u32 icr_low);
extern bool apic_present;
/* Measures the local APIC timer against the PIT tick (boot CPU, interrupts on). */
void apic_timer_calibrate(void);
/* Starts this CPU's local APIC timer: periodic, HZ per second, VEC_APIC_TIMER. */
void apic_timer_start(void);
extern u32 apic_timer_count_per_tick;

#endif
