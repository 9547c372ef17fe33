/*
 * The in-image self-test framework.
 *
 * A test is a function registered with KTEST(suite, name) into the linker
 * section .selftests; tests run in registration order (link order, then line
 * order) and are selected by the kernel command line's tests=<glob>,...
 * matched against "suite.name".  Output is KTAP version 1, then one line
 *   # ia32mm: N passed, N failed, N skipped
 *
 * Inside a test, KT_ASSERT* stop the test on failure (they return from the
 * test function) and print file:line, the expression and both values;
 * KT_EXPECT* record a failure and go on; KT_SKIP(reason) ends the test as
 * skipped.  A test that neither fails nor skips passes.
 */
#ifndef SELFTEST_KTEST_H
#define SELFTEST_KTEST_H
#include "lib/types.h"

struct ktest {
	const char *suite;
	const char *name;
	void (*fn)(void);
	int line;
};

#define KTEST(suite, name)                                                        \
	static void ktest_##suite##_##name(void);                                 \
	static const struct ktest ktest_desc_##suite##_##name                     \
		__attribute__((used, section(".selftests"), aligned(4))) = {      \
			#suite, #name, ktest_##suite##_##name, __LINE__ };        \
	static void ktest_##suite##_##name(void)

/* The result of the test now running. */
struct ktest_result {
	int failures;
	bool skipped;
	char reason[96];
};

void ktest_fail(const char *file, int line, const char *fmt, ...) __printf(3, 4);
void ktest_fail_cmp(const char *file, int line, const char *ea, const char *op,
		    const char *eb, s64 a, s64 b);
void ktest_skip(const char *reason);
/* Prints a "# " diagnostic line inside the current test's output. */
void ktest_diag(const char *fmt, ...) __printf(1, 2);
/* The current test's failure count (for tests that look at their sub-steps). */
int ktest_failures(void);

#define KT_CMP_(a, op, b, stop)                                                   \
	do {                                                                      \
		s64 _a = (s64)(a), _b = (s64)(b);                                 \
		if (!(_a op _b)) {                                                \
			ktest_fail_cmp(__FILE__, __LINE__, #a, #op, #b, _a, _b);  \
			stop;                                                     \
		}                                                                 \
	} while (0)

#define KT_ASSERT(cond)                                                           \
	do {                                                                      \
		if (!(cond)) {                                                    \
			ktest_fail(__FILE__, __LINE__, "assertion %s", #cond);    \
			return;                                                   \
		}                                                                 \
	} while (0)
#define KT_EXPECT(cond)                                                           \
	do {                                                                      \
		if (!(cond))                                                      \
			ktest_fail(__FILE__, __LINE__, "expectation %s", #cond);  \
	} while (0)
#define KT_ASSERT_EQ(a, b) KT_CMP_(a, ==, b, return)
#define KT_ASSERT_NE(a, b) KT_CMP_(a, !=, b, return)
#define KT_ASSERT_LT(a, b) KT_CMP_(a, <, b, return)
#define KT_ASSERT_LE(a, b) KT_CMP_(a, <=, b, return)
#define KT_ASSERT_GT(a, b) KT_CMP_(a, >, b, return)
#define KT_ASSERT_GE(a, b) KT_CMP_(a, >=, b, return)
#define KT_EXPECT_EQ(a, b) KT_CMP_(a, ==, b, (void)0)
#define KT_EXPECT_NE(a, b) KT_CMP_(a, !=, b, (void)0)
#define KT_EXPECT_GE(a, b) KT_CMP_(a, >=, b, (void)0)
#define KT_EXPECT_LE(a, b) KT_CMP_(a, <=, b, (void)0)
#define KT_ASSERT_STREQ(a, b)                                                     \
	do {                                                                      \
		const char *_a = (a), *_b = (b);                                  \
		if (strcmp(_a, _b)) {                                             \
			ktest_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
				   #a, #b, _a, _b);                               \
			return;                                                   \
		}                                                                 \
	} while (0)
#define KT_SKIP(reason)                                                           \
	do {                                                                      \
		ktest_skip(reason);                                               \
		return;                                                           \
	} while (0)

/*
 * Runs the selected tests and prints the KTAP report and summary.
 * globs: comma-separated patterns, NULL or "" for all.
 * Returns the number of failed tests.
 */
struct ktest_totals {
	int passed, failed, skipped;
};
struct ktest_totals ktest_run_all(const char *globs);
/* Appends one more test after the registered ones (inject=fail uses it). */
void ktest_add_extra(const struct ktest *t);
/* How many registered tests the globs select. */
int ktest_count_selected(const char *globs);
/* true if "suite.name" is selected by the comma-separated globs. */
bool ktest_selected(const char *globs, const char *suite, const char *name);
/*
 * Runs one test function in a nested context (for the framework's own
 * tests): its output is indented and its result returned, not reported.
 */
struct ktest_result ktest_run_nested(void (*fn)(void));

#endif
