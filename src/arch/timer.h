/* The timer tick: the 8253/8254 PIT on IRQ 0 through the 8259 PICs. */
#ifndef ARCH_TIMER_H
#define ARCH_TIMER_H
#include "lib/types.h"

#define HZ 100

extern volatile u32 jiffies;
/* When set, called at every tick after jiffies advances, in interrupt
 * context (interrupts off): lets a selftest act "later", e.g. release a
 * pkmap entry while a kmap waits for one. */
extern void (*volatile timer_hook)(void);

void pic_init(void);
void pic_unmask(int irq);
void pic_eoi(int irq);
/* Programs PIT channel 0 for HZ interrupts and installs the tick handler. */
void timer_init(void);

#endif
