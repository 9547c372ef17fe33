/*
 * The selftest runner: collects the KTEST() descriptors from the .selftests
 * section, orders them (link order of suites, then source line), runs the
 * selected ones and prints KTAP version 1.
 */
#include "selftest/ktest.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"

#define KTEST_MAX 1024

extern const struct ktest __selftests_start[], __selftests_end[];

static struct ktest_result *cur;
static int nest_depth;
static const struct ktest *extra_test;

/* Lines printed while a test runs are KTAP diagnostics ("# "), indented when nested. */
static void diag_prefix(void)
{
	for (int i = 0; i < nest_depth; i++)
		printk("    ");
	printk("# ");
}

void ktest_diag(const char *fmt, ...)
{
	va_list ap;

	diag_prefix();
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
}

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_prefix();
	printk("%s:%d: %s\n", file, line, msg);
	if (cur) {
		if (!cur->failures)
			snprintf(cur->reason, sizeof(cur->reason), "%s:%d", file, line);
		cur->failures++;
	}
}

void ktest_fail_cmp(const char *file, int line, const char *ea, const char *op,
		    const char *eb, s64 a, s64 b)
{
	ktest_fail(file, line, "expected %s %s %s, got %lld (0x%llx) vs %lld (0x%llx)",
		   ea, op, eb, a, (u64)a, b, (u64)b);
}

void ktest_skip(const char *reason)
{
	if (cur) {
		cur->skipped = true;
		strlcpy(cur->reason, reason, sizeof(cur->reason));
	}
}

int ktest_failures(void)
{
	return cur ? cur->failures : 0;
}

struct ktest_result ktest_run_nested(void (*fn)(void))
{
	struct ktest_result r = { 0 }, *saved = cur;

	cur = &r;
	nest_depth++;
	fn();
	nest_depth--;
	cur = saved;
	return r;
}

bool ktest_selected(const char *globs, const char *suite, const char *name)
{
	char full[96], pat[96];
	const char *p = globs;

	if (!globs || !*globs)
		return true;
	snprintf(full, sizeof(full), "%s.%s", suite, name);
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len < sizeof(pat)) {
			memcpy(pat, p, len);
			pat[len] = 0;
			if (glob_match(pat, full))
				return true;
		}
		p += len + (end ? 1 : 0);
	}
	return false;
}

void ktest_add_extra(const struct ktest *t)
{
	extra_test = t;
}

/* Position of a suite in link order: the index of its first test. */
static int suite_rank(const struct ktest *t)
{
	for (const struct ktest *s = __selftests_start; s < __selftests_end; s++)
		if (!strcmp(s->suite, t->suite))
			return s - __selftests_start;
	return __selftests_end - __selftests_start;
}

static bool runs_before(const struct ktest *a, const struct ktest *b)
{
	int ra = suite_rank(a), rb = suite_rank(b);
	return ra != rb ? ra < rb : a->line < b->line;
}

/* The selected tests in run order; returns how many. */
static int collect(const char *globs, const struct ktest **list)
{
	int n = 0;

	for (const struct ktest *t = __selftests_start; t < __selftests_end && n < KTEST_MAX; t++) {
		if (!ktest_selected(globs, t->suite, t->name))
			continue;
		int i = n++;
		while (i > 0 && runs_before(t, list[i - 1])) {
			list[i] = list[i - 1];
			i--;
		}
		list[i] = t;
	}
	if (extra_test && n < KTEST_MAX)
		list[n++] = extra_test;
	return n;
}

struct ktest_totals ktest_run_all(const char *globs)
{
	static const struct ktest *list[KTEST_MAX];
	struct ktest_totals tot = { 0 };
	int n = collect(globs, list);

	printk("KTAP version 1\n1..%d\n", n);
	for (int i = 0; i < n; i++) {
		struct ktest_result r = { 0 };
		const struct ktest *t = list[i];

		cur = &r;
		t->fn();
		cur = NULL;
		if (r.failures) {
			tot.failed++;
			printk("not ok %d %s.%s # %d failure%s at %s\n", i + 1, t->suite, t->name,
			       r.failures, r.failures > 1 ? "s, first" : "", r.reason);
		} else if (r.skipped) {
			tot.skipped++;
			printk("ok %d %s.%s # SKIP %s\n", i + 1, t->suite, t->name, r.reason);
		} else {
			tot.passed++;
			printk("ok %d %s.%s\n", i + 1, t->suite, t->name);
		}
	}
	printk("# ia32mm: %d passed, %d failed, %d skipped\n", tot.passed, tot.failed, tot.skipped);
	return tot;
}

int ktest_count_selected(const char *globs)
{
	int n = 0;
	for (const struct ktest *t = __selftests_start; t < __selftests_end; t++)
		n += ktest_selected(globs, t->suite, t->name);
	return n;
}
