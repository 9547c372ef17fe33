/* Suite "console": the formatter, printk's levels, and the devices present. */
#include "selftest/ktest.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "arch/io.h"
#include "arch/platform.h"

#define FMT_EQ(expect, ...)                                   \
	do {                                                  \
		char _b[64];                                  \
		int _n = snprintf(_b, sizeof(_b), __VA_ARGS__); \
		KT_ASSERT_STREQ(_b, expect);                  \
		KT_ASSERT_EQ(_n, (int)strlen(expect));        \
	} while (0)

KTEST(console, format_integers)
{
	FMT_EQ("42 -42 4294967254", "%d %d %u", 42, -42, -42);
	FMT_EQ("ff FF 377", "%x %X %o", 255, 255, 255);
	FMT_EQ("+5 -5  5", "%+d %+d % d", 5, -5, 5);
	FMT_EQ("-1 255 65535", "%hhd %hhu %hu", -1, 255, 65535);
}

KTEST(console, format_widths)
{
	FMT_EQ("[   7][7   ][0007]", "[%4d][%-4d][%04d]", 7, 7, 7);
	FMT_EQ("[-007][  -7]", "[%04d][%4d]", -7, -7);
	FMT_EQ("c0100000", "%08x", 0xc0100000u);
	FMT_EQ("[ab  ][  ab][a]", "[%-4s][%4s][%.1s]", "ab", "ab", "ab");
	FMT_EQ("[x][%]", "[%c][%%]", 'x');
	const char *volatile nul = NULL;
	FMT_EQ("(null)", "%s", nul);
	FMT_EQ("0xc0001000", "%p", (void *)0xc0001000);
}

KTEST(console, format_64bit)
{
	FMT_EQ("1000000000000", "%llx", 0x1000000000000ull);
	FMT_EQ("68719476736", "%llu", 64ull << 30);
	FMT_EQ("-9223372036854775808", "%lld", (s64)0x8000000000000000ull);
	FMT_EQ("18446744073709551615", "%llu", ~0ull);
}

KTEST(console, truncation)
{
	char b[5];
	int n = snprintf(b, sizeof(b), "%s", "abcdefgh");
	KT_ASSERT_EQ(n, 8);
	KT_ASSERT_STREQ(b, "abcd");
	KT_ASSERT_EQ(snprintf(NULL, 0, "%d", 12345), 5);
}

KTEST(console, printk_levels)
{
	static char out[256];
	int saved = console_loglevel;

	console_loglevel = LOG_WARN;
	printk_capture_start(out, sizeof(out));
	pr_info("hidden %d\n", 1);
	pr_warn("shown %d\n", 2);
	printk_level(LOG_DEBUG, "hidden too\n");
	printk_capture_stop();
	console_loglevel = saved;
	KT_ASSERT_STREQ(out, "warning: shown 2\n");
}

/* The 16550 at COM1 answers through its scratch register (16550 datasheet). */
KTEST(console, com1_present)
{
	if (platform == PLATFORM_PC)
		KT_SKIP("a real PC may have no COM1");
	u8 old = inb(0x3f8 + 7);
	outb(0x3f8 + 7, 0xa5);
	u8 got = inb(0x3f8 + 7);
	outb(0x3f8 + 7, old);
	KT_ASSERT_EQ(got, 0xa5);
	/* LSR: transmitter empty eventually (bit 6) after the output so far. */
	u32 spins = 0;
	while (!(inb(0x3f8 + 5) & 0x40) && spins < 1000000)
		spins++;
	KT_ASSERT_LT(spins, 1000000);
}

KTEST(console, e9_port)
{
	if (platform != PLATFORM_BOCHS)
		KT_SKIP("port 0xE9 reads back only under Bochs' port_e9_hack");
	KT_ASSERT_EQ(inb(0xe9), 0xe9);
}
