/* Software panics: say why, show where, stop the run with the panic status. */
#include "kernel/panic.h"
#include "arch/smpboot.h"
#include "kernel/printk.h"
#include "arch/io.h"
#include "arch/panic_arch.h"
#include "arch/platform.h"

int panicking;

void panic(const char *fmt, ...)
{
	va_list ap;

	cli();
	if (panicking++) {
		printk("PANIC: recursive panic\n");
		platform_exit(RUN_PANIC, 0xff);
	}
	smp_stop_others();
	printk("\nPANIC: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	arch_dump_current();
	platform_exit(RUN_PANIC, 0xff);
}
