/* The legacy PIC pair and the PIT. */
#include "arch/timer.h"
#include "arch/io.h"
#include "arch/traps.h"
#include "kernel/task.h"

#define PIC1 0x20
#define PIC2 0xa0
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_HZ 1193182 /* 8254 input clock (8254 datasheet) */

volatile u32 jiffies;
void (*volatile timer_hook)(void);

/*
 * 8259A datasheet: ICW1 (edge, cascade, ICW4 needed), ICW2 vector base,
 * ICW3 cascade wiring (slave on IRQ 2), ICW4 8086 mode.  All IRQs masked.
 */
void pic_init(void)
{
	outb(PIC1, 0x11);
	outb(PIC2, 0x11);
	outb(PIC1 + 1, VEC_IRQ0);
	outb(PIC2 + 1, VEC_IRQ0 + 8);
	outb(PIC1 + 1, 0x04);
	outb(PIC2 + 1, 0x02);
	outb(PIC1 + 1, 0x01);
	outb(PIC2 + 1, 0x01);
	outb(PIC1 + 1, 0xfb); /* all masked but the cascade */
	outb(PIC2 + 1, 0xff);
}

void pic_unmask(int irq)
{
	u16 port = irq < 8 ? PIC1 + 1 : PIC2 + 1;
	outb(port, inb(port) & ~(1 << (irq & 7)));
}

/* OCW2 non-specific EOI (0x20), to the slave too for IRQs 8-15. */
void pic_eoi(int irq)
{
	if (irq >= 8)
		outb(PIC2, 0x20);
	outb(PIC1, 0x20);
}

static void timer_tick(struct trap_frame *tf)
{
	void (*hook)(void) = timer_hook;

	jiffies++;
	if (hook)
		hook();
	sched_tick();
	pic_eoi(0);
}

void timer_init(void)
{
	u16 divisor = PIT_HZ / HZ;

	set_irq_handler(VEC_IRQ0, timer_tick);
	/* 8254: channel 0, lobyte/hibyte access, mode 2 (rate generator), binary. */
	outb(PIT_CMD, 0x34);
	outb(PIT_CH0, divisor & 0xff);
	outb(PIT_CH0, divisor >> 8);
	pic_unmask(0);
}
