/*
 * Console drivers: the 16550 UART at COM1, the Bochs/QEMU debug port 0xE9
 * and the VGA text buffer.  All polled: they work before interrupts and in
 * a panic.
 */
#include "arch/console.h"
#include "arch/io.h"
#include "arch/layout.h"
#include "lib/string.h"

#define COM1 0x3f8
#define E9_PORT 0xe9
#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_ATTR 0x0700 /* light grey on black */

static bool have_com1, have_e9;
static u16 *const vga = (u16 *)phys_to_virt(0xb8000);
static int vga_row, vga_col;

/* 16550 datasheet: DLAB in LCR bit 7 exposes the divisor latch; 115200 / 1. */
static void com1_init(void)
{
	outb(COM1 + 1, 0x00); /* IER: no interrupts */
	outb(COM1 + 3, 0x80); /* LCR: DLAB */
	outb(COM1 + 0, 0x01); /* DLL: divisor 1 = 115200 baud */
	outb(COM1 + 1, 0x00); /* DLM */
	outb(COM1 + 3, 0x03); /* LCR: 8 data bits, no parity, 1 stop bit */
	outb(COM1 + 2, 0xc7); /* FCR: enable and clear FIFOs */
	outb(COM1 + 4, 0x03); /* MCR: DTR | RTS */
	/* The scratch register (offset 7) reads back what was written: a UART is there. */
	outb(COM1 + 7, 0x5a);
	have_com1 = inb(COM1 + 7) == 0x5a;
}

static void com1_putc(char c)
{
	/* LSR bit 5 (THRE): the transmit holding register is empty. */
	for (u32 spin = 0; !(inb(COM1 + 5) & 0x20); spin++)
		if (spin > 1000000) {
			have_com1 = false; /* a UART that never drains is not a console */
			return;
		}
	outb(COM1, (u8)c);
}

static void vga_clear(void)
{
	for (int i = 0; i < VGA_COLS * VGA_ROWS; i++)
		vga[i] = VGA_ATTR | ' ';
	vga_row = vga_col = 0;
}

static void vga_putc(char c)
{
	if (c == '\n') {
		vga_col = 0;
		vga_row++;
	} else if (c == '\r') {
		vga_col = 0;
	} else {
		vga[vga_row * VGA_COLS + vga_col] = VGA_ATTR | (u8)c;
		if (++vga_col == VGA_COLS) {
			vga_col = 0;
			vga_row++;
		}
	}
	if (vga_row == VGA_ROWS) {
		memmove(vga, vga + VGA_COLS, (VGA_ROWS - 1) * VGA_COLS * 2);
		for (int i = 0; i < VGA_COLS; i++)
			vga[(VGA_ROWS - 1) * VGA_COLS + i] = VGA_ATTR | ' ';
		vga_row--;
	}
}

void arch_console_init(void)
{
	com1_init();
	/* Bochs (port_e9_hack) and QEMU (isa-debugcon) read 0xE9 back from the port. */
	have_e9 = inb(E9_PORT) == E9_PORT;
	vga_clear();
}

void arch_console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (have_com1) {
			if (c == '\n')
				com1_putc('\r');
			com1_putc(c);
		}
		if (have_e9)
			outb(E9_PORT, (u8)c);
		vga_putc(c);
	}
}

void arch_console_flush(void)
{
	/* LSR bit 6 (TEMT): holding register and shift register both empty. */
	for (u32 spin = 0; have_com1 && !(inb(COM1 + 5) & 0x40) && spin < 1000000; spin++)
		;
}

bool arch_console_wait_key(u32 timeout_ms)
{
	/* 8042: status port 0x64 bit 0 = output buffer full; data at 0x60. */
	while (inb(0x64) & 1)
		inb(0x60);
	for (u32 ms = 0; ms < timeout_ms; ms++) {
		for (int i = 0; i < 1000; i++) {
			if (inb(0x64) & 1) {
				inb(0x60);
				return true;
			}
			io_delay();
		}
	}
	return false;
}
