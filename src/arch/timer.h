/* The timer tick: the 8253/8254 PIT on IRQ 0 through the 8259 PICs. */
#ifndef ARCH_TIMER_H
#define ARCH_TIMER_H
#include "lib/types.h"

#define HZ 100

extern volatile u32 jiffies;

void pic_init(void);
void pic_unmask(int irq);
void pic_eoi(int irq);
/* Programs PIT channel 0 for HZ interrupts and installs the tick handler. */
void timer_init(void);

#endif
