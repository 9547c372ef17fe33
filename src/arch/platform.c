/* Platform detection and the end of a run (see platform.h). */
#include "arch/platform.h"
#include "arch/console.h"
#include "arch/io.h"
#include "kernel/printk.h"

enum platform platform;

static const char *const status_names[] = { "pass", "fail", "refused", "panic" };

const char *platform_name(void)
{
	return platform == PLATFORM_BOCHS ? "bochs" : platform == PLATFORM_QEMU ? "qemu" : "pc";
}

/* QEMU fw_cfg: select key 0 (signature) at port 0x510, read "QEMU" at 0x511. */
static bool qemu_fw_cfg_present(void)
{
	char sig[4];

	outw(0x510, 0x0000);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(0x511);
	return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
}

void platform_detect(void)
{
	if (qemu_fw_cfg_present())
		platform = PLATFORM_QEMU;
	else if (inb(0xe9) == 0xe9) /* Bochs port_e9_hack reads back 0xE9 */
		platform = PLATFORM_BOCHS;
	else
		platform = PLATFORM_PC;
}

void bochs_break(u32 eax_value)
{
	/* Bochs' magic breakpoint is the 16-bit xchg bx, bx (66 87 DB). */
	__asm__ __volatile__(".byte 0x66, 0x87, 0xdb" : : "a"(eax_value) : "memory");
}

static u32 status_word(enum run_status st, u32 detail)
{
	switch (st) {
	case RUN_PASS: return STATUS_WORD_PASS;
	case RUN_FAIL: return STATUS_WORD_FAIL;
	case RUN_REFUSED: return STATUS_WORD_REFUSED;
	default: return STATUS_WORD_PANIC | (detail & 0xff);
	}
}

/* Pulses the 8042's reset line (command 0xFE), the PC/AT way to reboot. */
static void __noreturn pc_reboot(void)
{
	for (int i = 0; i < 100000 && (inb(0x64) & 2); i++)
		io_delay();
	outb(0x64, 0xfe);
	for (;;)
		hlt();
}

void platform_exit(enum run_status st, u32 detail)
{
	cli();
	printk("# ia32mm: status=%s\n", status_names[st]);
	arch_console_flush();
	if (platform == PLATFORM_QEMU)
		outb(0xf4, QEMU_EXIT_BASE + st); /* isa-debug-exit, if present */
	if (platform == PLATFORM_BOCHS)
		bochs_break(status_word(st, detail));
	if (platform == PLATFORM_PC) {
		printk("ia32mm: run finished (%s); press a key to reboot\n", status_names[st]);
		while (!arch_console_wait_key(1000))
			;
		pc_reboot();
	}
	printk("ia32mm: halted\n");
	for (;;)
		hlt();
}
