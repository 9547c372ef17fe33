/*
 * Suite cmdline: cmdline_parse on good lines (every option, combinations,
 * blanks, the loader's file name, repeated tests=) and bad ones (each must be
 * refused with a message that names the offending word).
 */
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "selftest/ktest.h"

static struct boot_options opts;
static char err[160];

/* Returns true if needle occurs in hay. */
static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncmp(hay, needle, n))
			return true;
	return !n;
}

/* Parses line into opts/err; the test fails unless it is accepted with err "". */
#define PARSE_OK(line)                                                            \
	do {                                                                      \
		if (!cmdline_parse(line, &opts, err, sizeof(err))) {              \
			ktest_fail(__FILE__, __LINE__, "'%s' refused: %s", line, err); \
			return;                                                   \
		}                                                                 \
		KT_ASSERT_STREQ(err, "");                                         \
	} while (0)

/* Parses line; the test fails unless it is refused with a message containing word. */
#define PARSE_BAD(line, word)                                                     \
	do {                                                                      \
		KT_ASSERT(!cmdline_parse(line, &opts, err, sizeof(err)));         \
		if (!contains(err, word)) {                                       \
			ktest_fail(__FILE__, __LINE__, "error \"%s\" does not name \"%s\"", \
				   err, word);                                    \
			return;                                                   \
		}                                                                 \
	} while (0)

/* An empty or blank line gives the defaults. */
KTEST(cmdline, defaults)
{
	memset(&opts, 0x5a, sizeof(opts));
	PARSE_OK("");
	KT_ASSERT_STREQ(opts.tests, "");
	KT_ASSERT_EQ(opts.bench, false);
	KT_ASSERT_EQ(opts.loglevel, LOGLEVEL_DEFAULT);
	KT_ASSERT_EQ(opts.inject, INJECT_NONE);
	memset(&opts, 0x5a, sizeof(opts));
	PARSE_OK(" \t  \t");
	KT_ASSERT_STREQ(opts.tests, "");
	KT_ASSERT_EQ(opts.loglevel, LOGLEVEL_DEFAULT);
	KT_ASSERT_EQ(opts.bench, false);
}

/* Each option alone. */
KTEST(cmdline, each_option)
{
	PARSE_OK("tests=cpuid.*");
	KT_ASSERT_STREQ(opts.tests, "cpuid.*");
	KT_ASSERT_EQ(opts.bench, false);
	PARSE_OK("bench");
	KT_ASSERT_EQ(opts.bench, true);
	KT_ASSERT_STREQ(opts.tests, "");
	PARSE_OK("loglevel=0");
	KT_ASSERT_EQ(opts.loglevel, 0);
	PARSE_OK("loglevel=7");
	KT_ASSERT_EQ(opts.loglevel, 7);
	PARSE_OK("inject=fail");
	KT_ASSERT_EQ(opts.inject, INJECT_FAIL);
	PARSE_OK("inject=hang");
	KT_ASSERT_EQ(opts.inject, INJECT_HANG);
	PARSE_OK("inject=panic");
	KT_ASSERT_EQ(opts.inject, INJECT_PANIC);
	PARSE_OK("inject=triple");
	KT_ASSERT_EQ(opts.inject, INJECT_TRIPLE);
	PARSE_OK("inject=overflow");
	KT_ASSERT_EQ(opts.inject, INJECT_OVERFLOW);
	PARSE_OK("inject=double-free");
	KT_ASSERT_EQ(opts.inject, INJECT_DOUBLE_FREE);
	PARSE_OK("inject=lock-order");
	KT_ASSERT_EQ(opts.inject, INJECT_LOCK_ORDER);
	KT_ASSERT_EQ(opts.loglevel, LOGLEVEL_DEFAULT);
}

/* Options together, separated by runs of spaces and tabs; later loglevel= wins. */
KTEST(cmdline, combined)
{
	PARSE_OK("  tests=mm-*.a?c,cpuid.boot_cpu\t\tbench  loglevel=3 inject=panic\t");
	KT_ASSERT_STREQ(opts.tests, "mm-*.a?c,cpuid.boot_cpu");
	KT_ASSERT_EQ(opts.bench, true);
	KT_ASSERT_EQ(opts.loglevel, 3);
	KT_ASSERT_EQ(opts.inject, INJECT_PANIC);
	PARSE_OK("loglevel=2 loglevel=5 bench bench");
	KT_ASSERT_EQ(opts.loglevel, 5);
	KT_ASSERT_EQ(opts.bench, true);
	PARSE_OK("loglevel=007");
	KT_ASSERT_EQ(opts.loglevel, 7);
}

/* Repeated tests= options append, joined by a comma. */
KTEST(cmdline, tests_append)
{
	PARSE_OK("tests=cpuid.* bench tests=memmap.qemu_like,cmdline.* tests=x");
	KT_ASSERT_STREQ(opts.tests, "cpuid.*,memmap.qemu_like,cmdline.*,x");
	KT_ASSERT_EQ(opts.bench, true);
}

/* The first word is the loader's file name when it has a '/' or ends in ".elf". */
KTEST(cmdline, kernel_file_name)
{
	PARSE_OK("/boot/ia32mm/kernel.elf tests=a.b");
	KT_ASSERT_STREQ(opts.tests, "a.b");
	PARSE_OK("kernel.elf bench");
	KT_ASSERT_EQ(opts.bench, true);
	PARSE_OK("build/64g-highpte-up-nopreempt-pgcl4/kernel");
	KT_ASSERT_STREQ(opts.tests, "");
	PARSE_OK("  /kernel.elf  ");
	KT_ASSERT_EQ(opts.bench, false);
	/* Only the first word may be a file name. */
	PARSE_BAD("bench /kernel.elf", "'/kernel.elf'");
	PARSE_BAD("/a.elf /b.elf", "'/b.elf'");
	PARSE_BAD("kernel bench", "'kernel'");
	PARSE_BAD(".elfx", "'.elfx'");
}

/* Unknown words and misspelt options are refused by name. */
KTEST(cmdline, unknown_words)
{
	PARSE_BAD("foo", "'foo'");
	KT_ASSERT_STREQ(err, "unknown option 'foo'");
	PARSE_BAD("bench tests=a foo=bar", "'foo=bar'");
	KT_ASSERT_STREQ(err, "unknown option 'foo=bar'");
	PARSE_BAD("Bench", "'Bench'");
	PARSE_BAD("test=a", "'test=a'");
	PARSE_BAD("tests", "'tests'");
	PARSE_BAD("loglevel", "'loglevel'");
	PARSE_BAD("bench=", "'bench='");
	PARSE_BAD("bench=1", "'bench=1'");
	KT_ASSERT_STREQ(err, "bad value in 'bench=1': bench takes no value");
}

/* loglevel= takes one decimal number 0..7 and nothing else. */
KTEST(cmdline, bad_loglevel)
{
	PARSE_BAD("loglevel=9", "'loglevel=9'");
	KT_ASSERT_STREQ(err, "bad value in 'loglevel=9': expected 0-7");
	PARSE_BAD("loglevel=", "'loglevel='");
	PARSE_BAD("loglevel=8", "'loglevel=8'");
	PARSE_BAD("loglevel=abc", "'loglevel=abc'");
	PARSE_BAD("loglevel=-1", "'loglevel=-1'");
	PARSE_BAD("loglevel=0x5", "'loglevel=0x5'");
	PARSE_BAD("loglevel=3x", "'loglevel=3x'");
	PARSE_BAD("loglevel=99999999999999999999", "'loglevel=99999999999999999999'");
	PARSE_BAD("bench loglevel=4 loglevel= bench", "'loglevel='");
}

/* tests= needs non-empty globs of [A-Za-z0-9_.*?-]. */
KTEST(cmdline, bad_tests)
{
	PARSE_BAD("tests=", "'tests='");
	PARSE_BAD("tests=a,,b", "'tests=a,,b'");
	PARSE_BAD("tests=,a", "'tests=,a'");
	PARSE_BAD("tests=a,", "'tests=a,'");
	PARSE_BAD("tests=bad!char", "'tests=bad!char'");
	PARSE_BAD("bench tests=a/b", "'tests=a/b'");
	PARSE_BAD("tests=ok tests=[x]", "'tests=[x]'");
}

/* inject= takes fail, hang, panic, triple, overflow, double-free or lock-order. */
KTEST(cmdline, bad_inject)
{
	PARSE_BAD("inject=nope", "'inject=nope'");
	KT_ASSERT_STREQ(err, "bad value in 'inject=nope': expected fail, hang, panic, triple, overflow, double-free or lock-order");
	PARSE_BAD("inject=", "'inject='");
	PARSE_BAD("inject=FAIL", "'inject=FAIL'");
	PARSE_BAD("inject=failx", "'inject=failx'");
	PARSE_BAD("inject", "'inject'");
}

/* Fills buf with "tests=" and then n characters of globs (a,aa,... pattern). */
static const char *long_tests_word(char *buf, size_t n)
{
	size_t i;

	memcpy(buf, "tests=", 6);
	for (i = 0; i < n; i++)
		buf[6 + i] = (i % 8 == 7) ? ',' : 'a' + (char)(i % 8);
	buf[6 + n] = 0;
	return buf;
}

/* The tests list holds CMDLINE_TESTS_MAX - 1 characters, in one word or appended. */
KTEST(cmdline, tests_too_long)
{
	static char line[2 * CMDLINE_TESTS_MAX + 32];
	size_t max = CMDLINE_TESTS_MAX - 1; /* 255 = 31 * "abcdefg," + "abcdefg" */

	PARSE_OK(long_tests_word(line, max));
	KT_ASSERT_EQ(strlen(opts.tests), max);
	PARSE_BAD(long_tests_word(line, max + 8), "too many tests");
	KT_ASSERT(contains(err, "'tests=abcdefg,abcdefg,"));
	/* 247 characters, then ",a" makes 249 and ",bc..." crosses 255. */
	long_tests_word(line, max - 8);
	memcpy(line + strlen(line), " tests=a", 9);
	PARSE_OK(line);
	KT_ASSERT_EQ(strlen(opts.tests), max - 6);
	memcpy(line + strlen(line), " tests=bcdefgh", 15);
	PARSE_BAD(line, "'tests=bcdefgh'");
}

/* swap= and swap_mib=: every device, the default, the size limit. */
KTEST(cmdline, swap_options)
{
	PARSE_OK("");
	KT_ASSERT_EQ(opts.swap, SWAP_AUTO);
	KT_ASSERT_EQ(opts.swap_mib, 0);
	PARSE_OK("swap=ata");
	KT_ASSERT_EQ(opts.swap, SWAP_ATA);
	PARSE_OK("swap=highmem swap_mib=32");
	KT_ASSERT_EQ(opts.swap, SWAP_HIGHMEM);
	KT_ASSERT_EQ(opts.swap_mib, 32);
	PARSE_OK("swap=none");
	KT_ASSERT_EQ(opts.swap, SWAP_NONE);
	PARSE_OK("swap_mib=1 swap_mib=65536 swap=ata swap=highmem");
	KT_ASSERT_EQ(opts.swap, SWAP_HIGHMEM); /* the last word wins */
	KT_ASSERT_EQ(opts.swap_mib, 65536);
	PARSE_OK("/boot/kernel.elf tests=swap.* swap=ata swap_mib=320");
	KT_ASSERT_STREQ(opts.tests, "swap.*");
	KT_ASSERT_EQ(opts.swap, SWAP_ATA);
	KT_ASSERT_EQ(opts.swap_mib, 320);
}

KTEST(cmdline, bad_swap)
{
	PARSE_BAD("swap=disk", "'swap=disk'");
	PARSE_BAD("swap=", "'swap='");
	PARSE_BAD("swap=ATA", "'swap=ATA'");
	PARSE_BAD("swap", "'swap'");
	PARSE_BAD("swap_mib", "'swap_mib'");
	PARSE_BAD("swap_mib=", "'swap_mib='");
	PARSE_BAD("swap_mib=0", "'swap_mib=0'");
	PARSE_BAD("swap_mib=65537", "'swap_mib=65537'");
	PARSE_BAD("swap_mib=0x40", "'swap_mib=0x40'");
	PARSE_BAD("swap_mib=-1", "'swap_mib=-1'");
	PARSE_BAD("swap_mib=12M", "'swap_mib=12M'");
	PARSE_BAD("swap_mib=99999999999999999999999", "'swap_mib=99999999999999999999999'");
	PARSE_BAD("bench swap=ata swap=maybe", "'swap=maybe'");
}

/* seed= and stress=: the stress suite's seed (the whole u32 range) and steps. */
KTEST(cmdline, stress_options)
{
	PARSE_OK("");
	KT_ASSERT_EQ(opts.seed_set, false);
	KT_ASSERT_EQ(opts.stress_steps, 0);
	PARSE_OK("seed=0");
	KT_ASSERT_EQ(opts.seed_set, true);
	KT_ASSERT_EQ(opts.seed, 0);
	PARSE_OK("seed=4294967295 stress=100000");
	KT_ASSERT_EQ(opts.seed, 0xffffffffu);
	KT_ASSERT_EQ(opts.stress_steps, 100000);
	PARSE_OK("/boot/kernel.elf tests=stress.* seed=0x2a stress=1");
	KT_ASSERT_STREQ(opts.tests, "stress.*");
	KT_ASSERT_EQ(opts.seed, 42);
	KT_ASSERT_EQ(opts.stress_steps, 1);
	PARSE_OK("stress=100000000 seed=7 seed=8");
	KT_ASSERT_EQ(opts.seed, 8); /* the last word wins */
	KT_ASSERT_EQ(opts.stress_steps, 100000000);
	KT_ASSERT_EQ(opts.swap_stress, 0);
	PARSE_OK("tests=swap.swap_out_stress swap_stress=100000 stress=5");
	KT_ASSERT_EQ(opts.swap_stress, 100000);
	KT_ASSERT_EQ(opts.stress_steps, 5);
}

KTEST(cmdline, bad_stress)
{
	PARSE_BAD("seed", "'seed'");
	PARSE_BAD("seed=", "'seed='");
	PARSE_BAD("seed=x", "'seed=x'");
	PARSE_BAD("seed=-1", "'seed=-1'");
	PARSE_BAD("seed=4294967296", "'seed=4294967296'");
	PARSE_BAD("seed=99999999999999999999999", "'seed=99999999999999999999999'");
	PARSE_BAD("stress", "'stress'");
	PARSE_BAD("stress=", "'stress='");
	PARSE_BAD("stress=0", "'stress=0'");
	PARSE_BAD("stress=100000001", "'stress=100000001'");
	PARSE_BAD("stress=10k", "'stress=10k'");
	PARSE_BAD("tests=stress.* stress=many", "'stress=many'");
	PARSE_BAD("swap_stress", "'swap_stress'");
	PARSE_BAD("swap_stress=0", "'swap_stress=0'");
	PARSE_BAD("swap_stress=100000001", "'swap_stress=100000001'");
	PARSE_BAD("swap_stress=1e5", "'swap_stress=1e5'");
}

/* model_bug=: the paging conformance model's deliberate wrong rule. */
KTEST(cmdline, model_bug)
{
	PARSE_OK("");
	KT_ASSERT_EQ(opts.model_bug, MODEL_BUG_NONE);
	PARSE_OK("model_bug=wp");
	KT_ASSERT_EQ(opts.model_bug, MODEL_BUG_WP);
	PARSE_OK("model_bug=user");
	KT_ASSERT_EQ(opts.model_bug, MODEL_BUG_USER);
	PARSE_OK("model_bug=dirty");
	KT_ASSERT_EQ(opts.model_bug, MODEL_BUG_DIRTY);
	PARSE_OK("model_bug=rsvd");
	KT_ASSERT_EQ(opts.model_bug, MODEL_BUG_RSVD);
	PARSE_OK("/kernel.elf tests=conformance.* model_bug=wp model_bug=global");
	KT_ASSERT_EQ(opts.model_bug, MODEL_BUG_GLOBAL); /* the last word wins */
	KT_ASSERT_STREQ(opts.tests, "conformance.*");
	PARSE_BAD("model_bug", "'model_bug'");
	PARSE_BAD("model_bug=", "'model_bug='");
	KT_ASSERT_STREQ(err, "bad value in 'model_bug=': expected wp, user, dirty, rsvd or global");
	PARSE_BAD("model_bug=WP", "'model_bug=WP'");
	PARSE_BAD("model_bug=none", "'model_bug=none'");
	PARSE_BAD("model-bug=wp", "'model-bug=wp'");
}

/* audit and quick: options without a value, off by default. */
KTEST(cmdline, flags)
{
	PARSE_OK("");
	KT_ASSERT_EQ(opts.audit, false);
	KT_ASSERT_EQ(opts.quick, false);
	PARSE_OK("audit");
	KT_ASSERT_EQ(opts.audit, true);
	KT_ASSERT_EQ(opts.quick, false);
	PARSE_OK("/kernel.elf tests=audit.* audit audit");
	KT_ASSERT_EQ(opts.audit, true);
	KT_ASSERT_STREQ(opts.tests, "audit.*");
	PARSE_OK("quick bench");
	KT_ASSERT_EQ(opts.audit, false);
	KT_ASSERT_EQ(opts.quick, true);
	KT_ASSERT_EQ(opts.bench, true);
	PARSE_BAD("audit=1", "'audit=1'");
	KT_ASSERT_STREQ(err, "bad value in 'audit=1': audit takes no value");
	PARSE_BAD("audit=", "'audit='");
	PARSE_BAD("Audit", "'Audit'");
	PARSE_BAD("audits", "'audits'");
	PARSE_BAD("quick=yes", "'quick=yes'");
	KT_ASSERT_STREQ(err, "bad value in 'quick=yes': quick takes no value");
	PARSE_BAD("quickly", "'quickly'");
}
