/* printk: format once, hand the bytes to the architecture's consoles. */
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "arch/console.h"
#include "arch/io.h"
#include "arch/spinlock.h"

int console_loglevel = LOGLEVEL_DEFAULT;

static spinlock_t printk_lock = SPINLOCK_INIT;
static volatile int printk_owner = -1;
static char *capture_buf;
static size_t capture_size, capture_len;

void vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1;

	if (!capture_buf) {
		/* One message at a time: a task preempted halfway through would
		 * interleave differently on each console (COM1, 0xE9 and VGA are
		 * written character by character). */
		u32 eflags = read_eflags();
		cli();
		/* SMP: one CPU at a time too.  A CPU that panics inside its own
		 * console write (the lock already its own) goes on without it. */
		int cpu = smp_processor_id();
		bool mine = printk_owner == cpu;
		if (!mine) {
			raw_spin_lock(&printk_lock);
			printk_owner = cpu;
		}
		arch_console_write(buf, len);
		if (!mine) {
			printk_owner = -1;
			raw_spin_unlock(&printk_lock);
		}
		if (eflags & (1u << 9))
			sti();
	} else {
		size_t room = capture_size - 1 - capture_len;
		size_t c = len < room ? len : room;
		memcpy(capture_buf + capture_len, buf, c);
		capture_len += c;
		capture_buf[capture_len] = 0;
	}
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void printk_level(int level, const char *fmt, ...)
{
	va_list ap;
	if (level > console_loglevel)
		return;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void printk_capture_start(char *buf, size_t size)
{
	capture_len = 0;
	capture_size = size;
	buf[0] = 0;
	capture_buf = buf;
}

size_t printk_capture_stop(void)
{
	capture_buf = NULL;
	return capture_len;
}
