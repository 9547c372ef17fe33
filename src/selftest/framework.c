/*
 * Suite "framework": the selftest framework checks itself.  Tests that must
 * fail run nested (ktest_run_nested), so their failure is observed here
 * instead of being reported.
 */
#include "selftest/ktest.h"
#include "kernel/printk.h"
#include "lib/string.h"

KTEST(framework, glob_match)
{
	KT_ASSERT(glob_match("*", ""));
	KT_ASSERT(glob_match("*", "cmdline.bad_loglevel"));
	KT_ASSERT(glob_match("cmdline.*", "cmdline.good"));
	KT_ASSERT(!glob_match("cmdline.*", "cpuid.good"));
	KT_ASSERT(glob_match("*.pf_*", "exceptions.pf_read"));
	KT_ASSERT(glob_match("a?c", "abc"));
	KT_ASSERT(!glob_match("a?c", "ac"));
	KT_ASSERT(glob_match("a*b*c", "aXbYbZc"));
	KT_ASSERT(!glob_match("a*b*c", "aXbYbZ"));
	KT_ASSERT(!glob_match("", "x"));
}

KTEST(framework, selection)
{
	KT_ASSERT(ktest_selected("", "a", "b"));
	KT_ASSERT(ktest_selected(NULL, "a", "b"));
	KT_ASSERT(ktest_selected("x.*,a.b", "a", "b"));
	KT_ASSERT(!ktest_selected("x.*,a.c", "a", "b"));
	KT_ASSERT(ktest_selected("*.b", "a", "b"));
	KT_ASSERT_EQ(ktest_count_selected("framework.selection"), 1);
	KT_ASSERT_EQ(ktest_count_selected("no-such-suite.*"), 0);
}

static bool after_assert_ran;

static void failing_assert(void)
{
	KT_ASSERT_EQ(1 + 1, 3);
	after_assert_ran = true;
}

static void two_expectations(void)
{
	KT_EXPECT_EQ(1, 2);
	KT_EXPECT(0 > 1);
	KT_EXPECT_EQ(2, 2);
}

static void skipping(void)
{
	KT_SKIP("nothing to test here");
}

static void passing(void)
{
	KT_ASSERT_STREQ("abc", "abc");
}

KTEST(framework, assert_stops_the_test)
{
	after_assert_ran = false;
	struct ktest_result r = ktest_run_nested(failing_assert);
	KT_ASSERT_EQ(r.failures, 1);
	KT_ASSERT(!r.skipped);
	KT_ASSERT(!after_assert_ran);
}

KTEST(framework, expect_continues)
{
	struct ktest_result r = ktest_run_nested(two_expectations);
	KT_ASSERT_EQ(r.failures, 2);
}

KTEST(framework, skip_and_pass)
{
	struct ktest_result r = ktest_run_nested(skipping);
	KT_ASSERT(r.skipped);
	KT_ASSERT_EQ(r.failures, 0);
	KT_ASSERT_STREQ(r.reason, "nothing to test here");
	r = ktest_run_nested(passing);
	KT_ASSERT(!r.skipped);
	KT_ASSERT_EQ(r.failures, 0);
}

/* A failed comparison prints file:line, the expression and both values. */
KTEST(framework, failure_message)
{
	static char out[512];

	printk_capture_start(out, sizeof(out));
	struct ktest_result r = ktest_run_nested(failing_assert);
	printk_capture_stop();
	KT_ASSERT_EQ(r.failures, 1);
	KT_ASSERT(strstr(out, "src/selftest/framework.c:"));
	KT_ASSERT(strstr(out, "expected 1 + 1 == 3, got 2 (0x2) vs 3 (0x3)"));
	KT_ASSERT(strstr(r.reason, "framework.c:"));
}
