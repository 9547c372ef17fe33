#!/usr/bin/python3
"""Everything `make check` runs.

  (c) make -j2 matrix: all variants (first: the other steps boot them)
  (a) ci/test_harness.py: the harness's own tests
  (b) ci/test_flash.sh (when present)
  (d) every variant booted under Bochs with MEM=2048, the 64g ones also with
      MEM=4608 (RAM above 4 GiB); every smp variant with 4 CPUs (MEM=2048)
      and with 2 CPUs (MEM=4608 for 64g, else 2048 again).  Reclaim and
      swap are exercised in every run (swap.reclaim_pressure and
      swap.fork_tree_unmap must pass, not skip: one more check per run):
      on the HighMem area where there is HighMem, on a small swap disk in
      the nohighmem variants.  The runs have the quick option: the two
      longest cases do a sample of their work ((l) and (m) run them whole)
  (f) the default variant on a Pentium: must refuse with "no PAE"; every up
      variant without PAE (nohighmem, 4g, 4g-highpte: 12) boots on that
      Pentium (no local APIC SMP set-up, no PGE) and passes (quick)
  (g) a representative set under QEMU (-kernel boot), up to 6 GiB
  (h) make image; build/ia32mm.img booted under Bochs (ATA disk), QEMU (IDE
      disk) and QEMU as a USB stick behind xHCI and EHCI
  (i) no `pte_offset(` in the code of src/ (comments aside): user PTEs are
      reached through pte_offset_map/_nested, kernel ones pte_offset_kernel
  (j) the stress suite's long run (stress=100000) under QEMU, one variant of
      each class: PAE with and without highpte, 2-level; preempt, nopreempt
  (k) a highpte variant built twice with a deliberate bug (BREAK=tlb-flush,
      BREAK=pte-unmap) and booted under Bochs: the stress suite must fail,
      and because of the bug (a stale translation seen by stress_task, or a
      debug-check panic about the kmap slot)
  (l) the paging conformance suite (tests=conformance.*) under Bochs in
      both paging modes: it passes and prints its case count; with a wrong
      rule in its model (model_bug=wp) it must fail on the cases that rule
      decides; Bochs' pentium (no PGE) and p2_klamath (no NX) must skip
      those cases, saying so
  (m) reclaim and swap under real pressure (tests=swap.*): 64 MiB guests
      with a swap disk (the harness's --swap-mib) under Bochs and QEMU, the
      2-level pgcl1 variant too, and the HighMem area chosen on the command
      line (the matrix runs of (d) use the HighMem area, ballooned small, or
      a small swap disk in the nohighmem variants)
  (n) the TLB audit (audit tests=audit.*) under Bochs, the debugger
      answering every audit point: PAE highpte UP and SMP (2 CPUs) and
      2-level highpte (pgcl1, and pgcl4 with preemption); every audit case passes (audit.pdpt skips in 2-level
      mode only) and every point is answered; the default variant built
      with BREAK=kmap-invlpg must fail audit.kmap_atomic, the harness
      having found the stale slot at the kmap_atomic point
  (o) the pte_chain reverse map (RMAP=pte_chain) built for a highpte PAE
      variant, pgcl4 and pgcl1: every suite under QEMU, the swap suite under
      pressure (a 64 MiB guest with a swap disk; the HighMem area), and the
      pgcl4 build's whole report once under Bochs
  (p) the swap stress (tests=swap.swap_out_stress swap_stress=100000) under
      QEMU: at least 100,000 swap-outs with no checksum mismatch, on an ATA
      swap disk (a 64 MiB pgcl1 guest) and on the HighMem area (2 GiB,
      ballooned)
  (q) SMP under QEMU with 4 CPUs: every smp variant, the
      SMP stress suite's long run (smp_stress.* stress=200), and an smp
      variant built with BREAK=shootdown (no TLB shootdown IPIs): the SMP
      stress suite must fail with a stale read (under QEMU and under Bochs);
      the allocator suite smp_alloc with 1000 rounds under QEMU with a thread
      per vCPU (the CPUs truly in parallel); the same variant built with
      BREAK=zone-lock (the page allocator without its zone lock): smp_alloc
      must fail under Bochs with 4 CPUs and under QEMU with a thread per vCPU
      (QEMU's single-threaded TCG switches vCPUs too seldom to show it);
      the same variant built with BREAK=anon-vma-lock (anon_vma link/unlink
      without their lock, which ring-3 mmap/munmap/mprotect reach without
      the kernel lock): smp_stress.mm_calls_on_one_anon_vma must end in the
      debug list check's panic under Bochs with 4 CPUs

Counting: every KTAP test case of every guest run is one passed or failed
check (skipped cases count as passed); a run that did not end with status
pass, or whose report is inconsistent, is one more failure; the harness's
self-tests, the flash tests, each variant's build, the refusal, each
image boot, the source check and each broken build (passed when caught)
are one check each.  The last line is `N passed, N failed`; the
exit status is 1 on any failure.

    ci/check.py [--jobs N] [--only STEPS]     e.g. --only adg
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import REPO, BochsRun, QemuRun  # noqa: E402

PYTHON = '/usr/bin/python3'
DEFAULT = harness.DEFAULT_VARIANT
IMAGE = harness.BUILD / 'ia32mm.img'
RE_TOTALS = re.compile(r'^(\d+) passed, (\d+) failed\s*$')
QEMU_SET = [('nohighmem-up-nopreempt-pgcl1', 2048),
            ('4g-highpte-smp-preempt-pgcl4', 2048),
            (DEFAULT, 2048),
            (DEFAULT, 6144)]
# (j): one variant per class, pgcl1 and pgcl4 mixed, each with its own seed.
STRESS_STEPS = 100000
STRESS_SET = [('64g-highpte-up-preempt-pgcl4', 1001),
              ('64g-highpte-up-nopreempt-pgcl1', 1002),
              ('64g-up-preempt-pgcl1', 1003),
              ('64g-up-nopreempt-pgcl4', 1004),
              ('4g-highpte-up-preempt-pgcl1', 1005),
              ('nohighmem-up-nopreempt-pgcl4', 1006)]
# (d): every run has the quick option (conformance.access_rights samples every
# 17th case, swap.reclaim_pressure touches half as much; (l) and (m) run them
# whole).
MATRIX_ARGS = 'quick'
# (f): every up variant without PAE (nohighmem, 4g, 4g-highpte) must pass on
# a Pentium (Bochs cpu model: no local APIC SMP set-up, no PGE), quick.
# (q): every smp variant under QEMU with 4 CPUs; the SMP stress suite's long run;
# the broken build (BREAK=shootdown) the SMP stress suite must catch.
SMP_STRESS_STEPS = 200
SMP_BREAK_VARIANT = '4g-highpte-smp-nopreempt-pgcl1'
SMP_BREAKS = ('shootdown', 'zone-lock', 'anon-vma-lock')
SMP_BREAK_SIGN = re.compile(r'stale read: page \d+ word \d+ = dead')
# BREAK=zone-lock: smp_alloc's threads started, then the test failed or the
# kernel panicked (the buddy lists' corruption usually faults in buddy_alloc).
SMP_ALLOC_ROUNDS = 1000
ZONE_BREAK_STARTED = re.compile(r'^# \d+ threads, \d+ rounds each', re.M)
ZONE_BREAK_SIGN = re.compile(r'not ok \d+ smp_alloc\.|PANIC')
# BREAK=anon-vma-lock: the family started, then the anon_vma list check panicked.
ANON_BREAK_STARTED = re.compile(r'^# \d+ members, \d+ rounds each', re.M)
ANON_BREAK_SIGN = re.compile(r'anon_vma [0-9a-fx]+: (list broken|\d+ VMAs listed)')

# (k): what the stress suite must report on each broken build of BREAK_VARIANT.
BREAK_VARIANT = '64g-highpte-up-nopreempt-pgcl1'
BREAKS = {
    'tlb-flush': ('a stale translation seen by stress_task',
                  re.compile(r'stress\.c:\d+: .*(fresh mapping: |went through)')),
    'pte-unmap': ('a debug-check panic about the kmap slot',
                  re.compile(r'PANIC: .*(kmap_atomic|KM_PTE0|preempt count)')),
}
# (l): (variant, Bochs CPU model or None, model_bug= or None, what the
# guest's output must show).  With model_bug= the run must fail, in
# conformance.access_rights.
CONFORMANCE_2LEVEL, CONFORMANCE_PAE = 'nohighmem-up-preempt-pgcl1', '64g-highpte-smp-preempt-pgcl1'
CONFORMANCE_RUNS = [
    (CONFORMANCE_2LEVEL, None, None, r'# conformance: \d+ cases in 2-level mode, 0 mismatches'),
    (CONFORMANCE_PAE, None, None, r'# conformance: \d+ cases in PAE mode .*, 0 mismatches'),
    (CONFORMANCE_2LEVEL, None, 'wp', r'MISMATCH supervisor write .* wp=1 '),
    (CONFORMANCE_PAE, None, 'wp', r'MISMATCH supervisor write .* wp=1 '),
    (CONFORMANCE_2LEVEL, 'pentium', None, r'CR4\.PGE=1 cases skipped: this CPU has no PGE'),
    (CONFORMANCE_PAE, 'p2_klamath', None, r'NX cases skipped: this CPU has no NX'),
]

# (n): (variant, CPUs) audited; the broken build (BREAK=kmap-invlpg) of AUDIT_BREAK_VARIANT.
AUDIT_RUNS = [(DEFAULT, 1), ('64g-highpte-smp-nopreempt-pgcl4', 2),
              ('4g-highpte-up-nopreempt-pgcl1', 1), ('4g-highpte-up-preempt-pgcl4', 1)]
AUDIT_BREAK_VARIANT = DEFAULT


class Tally:
    """Counts checks and prints progress; safe to use from several threads."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        with self.lock:
            print(text, flush=True)

    def count(self, passed: int, failed: int, skipped: int = 0) -> None:
        with self.lock:
            self.passed += passed
            self.failed += failed
            self.skipped += skipped

    def check(self, name: str, ok: bool, why: str = '', details=()) -> None:
        self.count(int(ok), int(not ok))
        if ok:
            self.say(f'  ok   {name}')
        else:
            self.fail(name, why, details)

    def fail(self, name: str, why: str, details=()) -> None:
        with self.lock:
            self.failures.append(f'{name}: {why}')
            print(f'  FAIL {name}: {why}', flush=True)
            for line in details:
                print(f'       | {line}', flush=True)


@contextmanager
def step(tally: Tally, title: str):
    tally.say(f'== {title}')
    start = time.monotonic()
    yield
    tally.say(f'   ({time.monotonic() - start:.0f} s)')


# --------------------------------------------------------------------------
# Guest runs

def variants():
    out = subprocess.run(['make', '--no-print-directory', 'list-variants'], cwd=REPO,
                         capture_output=True, text=True, check=True, env=CLEAN_ENV).stdout
    return out.split()


def cpus_for(variant: str) -> int:
    return 2 if '-smp-' in variant else 1


def matrix_runs(variant: str):
    """(d): (MEM, CPUS) of a variant's Bochs runs.  Every variant boots with
    2 GiB (HighMem present: RAM above ~896 MiB); the 64g (PAE) ones also
    with RAM above 4 GiB (Bochs' guest=4608 puts 512 MiB there).  An smp
    variant runs with 4 CPUs at MEM=2048 and with 2 CPUs at MEM=4608 (64g)
    or at 2048 again (the others)."""
    if cpus_for(variant) == 1:
        return [(2048, 1)] + ([(4608, 1)] if variant.startswith('64g') else [])
    return [(2048, 4), (4608, 2) if variant.startswith('64g') else (2048, 2)]


def count_run(tally: Tally, label: str, run) -> 'harness.Result':
    """Run one guest and count its test cases (+1 failure if it did not end
    in pass or its report does not add up)."""
    try:
        result = run.run()
    except harness.HarnessError as e:
        tally.count(0, 1)
        tally.fail(label, str(e))
        return None
    passed, failed, skipped = result.report.counts()
    ended_badly = not (result.status in ('pass', 'fail') and not result.problems)
    tally.count(passed + skipped, failed + int(ended_badly), skipped)
    if result.ok:
        tally.say(f'  ok   {label}: {passed} passed, {skipped} skipped ({result.elapsed:.0f} s)')
    else:
        tally.fail(label, result.reason, failure_details(result))
    return result


def failure_details(result):
    lines = [f'logs: {result.logdir}']
    if result.status == 'fail' and not result.problems:
        return lines + result.failure_lines()
    tail = result.tail(12)
    if tail:
        lines.append(f'last lines of {result.logdir / "e9.log"}:')
        lines += tail
    return lines


def one_check_run(tally: Tally, label: str, run):
    """Run a guest whose outcome is one check; None (and that check failed)
    if the harness could not run it."""
    try:
        return run.run()
    except harness.HarnessError as e:
        tally.check(label, False, str(e))
        return None


def refusal_check(tally: Tally, label: str, run) -> None:
    """A Pentium has no PAE: the PAE kernel must refuse, saying so."""
    result = one_check_run(tally, label, run)
    if result is None:
        return
    ok = result.status == 'refused' and 'no PAE' in result.reason and not result.problems
    tally.check(label, ok, f'expected a refusal with "no PAE", got {result.verdict()}',
                failure_details(result))


def image_check(tally: Tally, label: str, run) -> None:
    """A guest run whose success is also one check of its own (count_run
    has already said why it failed)."""
    result = count_run(tally, label, run)
    ok = bool(result and result.ok)
    tally.count(int(ok), int(not ok))


# (d): the nohighmem variants have no HighMem for a swap area: a swap disk.
MATRIX_SWAP_DISK_MIB = 32
MATRIX_SWAP_TESTS = ('swap.reclaim_pressure', 'swap.fork_tree_unmap')


def matrix_swap_disk(variant: str):
    return MATRIX_SWAP_DISK_MIB if variant.startswith('nohighmem') else None


def matrix_check(tally: Tally, label: str, run) -> None:
    """(d) A matrix run, and one check that it exercised reclaim and swap."""
    result = count_run(tally, label, run)
    if result is None:
        return
    ran = {c.name for c in result.report.cases if c.passed}
    missing = [t for t in MATRIX_SWAP_TESTS if t not in ran]
    tally.check(f'{label}: reclaim and swap exercised', not missing,
                f'{", ".join(missing)} did not pass (skipped or failed)')


def break_check(what: str):
    """(k) A run of a broken kernel passes this check when the stress suite
    failed because of the bug."""
    def check(tally: Tally, label: str, run) -> None:
        result = one_check_run(tally, label, run)
        if result is None:
            return
        sign, pattern = BREAKS[what]
        caught = result.status != 'pass' and bool(pattern.search(result.output))
        tally.check(label, caught, f'expected a failure with {sign}, got {result.verdict()}',
                    failure_details(result))
    return check


def conformance_check(pattern: str, must_fail: bool):
    """(l) A run of the conformance suite: it passes and its output shows
    pattern; or, with a wrong rule in the model, conformance.access_rights
    fails and the output shows pattern (the mismatches that rule causes)."""
    def check(tally: Tally, label: str, run) -> None:
        result = one_check_run(tally, label, run)
        if result is None:
            return
        shown = re.search(pattern, result.output, re.M) is not None
        if must_fail:
            failed = [name for ok, _, name, _ in result.ktap if not ok]
            good = result.status == 'fail' and not result.problems and shown and \
                'conformance.access_rights' in failed
            want = f'a failure of conformance.access_rights showing /{pattern}/'
        else:
            good = result.ok and shown
            want = f'a pass showing /{pattern}/'
        tally.check(label, good, f'expected {want}, got {result.verdict()}', failure_details(result))
    return check


def audit_check(must_fail: bool):
    """(n) A run of the audit suite: every case passed (audit.pdpt may skip
    without PAE) and every audit point was answered and passed; or, for the
    BREAK=kmap-invlpg kernel, audit.kmap_atomic failed and the harness
    failed a kmap_atomic point."""
    def check(tally: Tally, label: str, run) -> None:
        if must_fail:               # one check: the failure is the expected outcome
            result = one_check_run(tally, label, run)
            if result is None:
                return
        else:                       # every test case counts, and the verdict once more
            result = count_run(tally, label, run)
            if not result:
                return
        cases = [c for c in result.report.cases if c.name.startswith('audit.')]
        bad_points = result.audit_failures()
        if must_fail:
            failed = [c.name for c in cases if c.failed]
            good = result.status == 'fail' and not result.problems and \
                failed == ['audit.kmap_atomic'] and \
                any(o.request.point == 1 for o in bad_points)
            want = 'audit.kmap_atomic to fail at a kmap_atomic audit point'
        else:
            skipped = [c.name for c in cases if c.skipped]
            good = result.ok and len(cases) >= 9 and bool(result.audit) and not bad_points and \
                skipped == ([] if run.variant.startswith('64g') else ['audit.pdpt'])
            want = 'every audit case to pass, every point answered'
        details = failure_details(result) + [f'audit FAIL {o.line()}; transcript '
                                             f'{o.transcript_path}' for o in bad_points[:4]]
        tally.check(label if must_fail else label + ' (audit verdict)', good,
                    f'expected {want}, got {result.verdict()}', details)
    return check


def audit_jobs():
    jobs = []
    for v, cpus in AUDIT_RUNS:
        jobs.append((6 * cpus, f'(n) bochs {v} CPUS={cpus} audit', audit_check(False),
                     BochsRun(v, cpus=cpus, args='audit tests=audit.*', name=f'check-audit-{v}')))
    kernel = harness.BUILD / f'{AUDIT_BREAK_VARIANT}-break-kmap-invlpg' / 'kernel.elf'
    jobs.append((4, f'(n) bochs {AUDIT_BREAK_VARIANT} BREAK=kmap-invlpg: the audit fails',
                 audit_check(True),
                 BochsRun(AUDIT_BREAK_VARIANT, kernel=kernel, args='audit tests=audit.kmap_atomic',
                          name='check-audit-break-kmap-invlpg')))
    return jobs


def build_audit(tally: Tally) -> None:
    """(n) The audited variants (up to date after (c)) and the broken kernel."""
    builds = [[f'VARIANT={v}'] for v, _ in AUDIT_RUNS]
    builds.append([f'VARIANT={AUDIT_BREAK_VARIANT}', 'BREAK=kmap-invlpg'])
    for b in builds:
        code, _ = run_command(tally, ['make', '-j2', '--no-print-directory'] + b + ['kernel'])
        if code != 0:
            tally.check(f'(n) build {" ".join(b)}', False, f'exit status {code}')


def break_kernel(what: str) -> Path:
    return harness.BUILD / f'{BREAK_VARIANT}-break-{what}' / 'kernel.elf'


def smp_break_kernel(what: str = 'shootdown') -> Path:
    return harness.BUILD / f'{SMP_BREAK_VARIANT}-break-{what}' / 'kernel.elf'


def smp_break_check(tally: Tally, label: str, run) -> None:
    """(q) The kernel without shootdown IPIs: the SMP stress suite must fail
    because a reader saw poison through a stale translation."""
    result = one_check_run(tally, label, run)
    if result is None:
        return
    caught = result.status == 'fail' and bool(SMP_BREAK_SIGN.search(result.output))
    tally.check(label, caught, f'expected a failure with a stale read, got {result.verdict()}',
                failure_details(result))


def zone_break_check(attempts: int = 1):
    """(q) The page allocator without its zone lock: once smp_alloc's threads
    run on every CPU, the test fails or the kernel panics.  Bochs interleaves
    its CPUs the same way every run (one attempt); QEMU with a thread per
    vCPU races on the host's scheduling, which a loaded host can starve: the
    bug must show within `attempts` runs."""
    def check(tally: Tally, label: str, run) -> None:
        for attempt in range(1, attempts + 1):
            result = one_check_run(tally, label, run)
            if result is None:
                return
            caught = result.status in ('fail', 'panic') and \
                bool(ZONE_BREAK_STARTED.search(result.output)) and \
                bool(ZONE_BREAK_SIGN.search(result.output))
            if caught:
                break
        tally.check(label if attempts == 1 else f"{label} (run {attempt} of at most {attempts})", caught,
                    f'expected smp_alloc to fail or a panic, got {result.verdict()}',
                    failure_details(result))
    return check


def anon_break_check(tally: Tally, label: str, run) -> None:
    """(q) anon_vma link/unlink without the lock: once the mm_family members
    run on every CPU, the debug list check finds the list broken (Bochs
    interleaves its CPUs the same way every run)."""
    result = one_check_run(tally, label, run)
    if result is None:
        return
    caught = result.status in ('fail', 'panic') and \
        bool(ANON_BREAK_STARTED.search(result.output)) and bool(ANON_BREAK_SIGN.search(result.output))
    tally.check(label, caught, f'expected the anon_vma list check to fire, got {result.verdict()}',
                failure_details(result))


def pentium_check(tally: Tally, label: str, run) -> None:
    """(f) An up variant on a Pentium: passes, and the CPU line shows no APIC
    SMP set-up is used (one CPU, uniprocessor variant)."""
    result = count_run(tally, label, run)
    ok = bool(result and result.ok) and '# cpus: listed=1 online=1' in result.output
    tally.check(label + ': passes', ok, f'expected a pass, got {result.verdict() if result else "nothing"}',
                failure_details(result) if result else '')


# (m): (emulator, variant, MEM, swap disk MiB or None, extra kernel arguments).
# A 64 MiB guest's tasks touch up to 6 times its free memory, at most 256 MiB
# and what the swap holds: 256 MiB under QEMU, about 125 under Bochs.
RECLAIM_RUNS = [('bochs', DEFAULT, 64, 128, ''),
                ('qemu', DEFAULT, 64, 320, ''),
                ('qemu', 'nohighmem-up-preempt-pgcl1', 64, 320, ''),
                ('qemu', '64g-highpte-up-nopreempt-pgcl1', 2048, None, 'swap=highmem swap_mib=32')]


# (o): the variants built with RMAP=pte_chain, and their runs: (emulator,
# variant, MEM, swap disk MiB or None, kernel arguments).
PTE_CHAIN_VARIANTS = [DEFAULT, '64g-highpte-up-nopreempt-pgcl1']
PTE_CHAIN_RUNS = [('qemu', DEFAULT, 2048, None, ''),
                  ('qemu', '64g-highpte-up-nopreempt-pgcl1', 2048, None, ''),
                  ('qemu', DEFAULT, 64, 320, 'tests=swap.*'),
                  ('qemu', '64g-highpte-up-nopreempt-pgcl1', 2048, None,
                   'tests=swap.* swap=highmem swap_mib=32'),
                  ('bochs', DEFAULT, 2048, None, '')]


def pte_chain_kernel(v: str) -> Path:
    return harness.BUILD / f'{v}-rmap-pte_chain' / 'kernel.elf'


def build_pte_chain(tally: Tally):
    """(o) The RMAP=pte_chain kernels that were built (a failed build is a failed check)."""
    built = []
    for v in PTE_CHAIN_VARIANTS:
        code, _ = run_command(tally, ['make', '-j2', '--no-print-directory', f'VARIANT={v}',
                                      'RMAP=pte_chain', 'kernel'])
        ok = code == 0 and pte_chain_kernel(v).exists()
        tally.check(f'(o) build {v} RMAP=pte_chain', ok, f'exit status {code}')
        if ok:
            built.append(v)
    return built


def pte_chain_jobs(built):
    jobs = []
    for emu, v, mem, disk, args in PTE_CHAIN_RUNS:
        if v not in built:
            continue
        runner = BochsRun if emu == 'bochs' else QemuRun
        what = ' '.join(x for x in (f'swap disk {disk} MiB' if disk else '', args) if x)
        name = f'check-pte_chain-{emu}-{v}-{mem}' + ('-swap' if 'swap' in args else '')
        run = runner(v, mem=mem, swap_mib=disk, args=args, kernel=pte_chain_kernel(v),
                     timeout=900 if 'swap' in args else None, name=name)
        jobs.append((30 if emu == 'bochs' else 10, f'(o) {emu} {v} RMAP=pte_chain MEM={mem} {what}'.strip(),
                     count_run, run))
    return jobs


# (p): (variant, MEM, swap disk MiB or None, extra kernel arguments).
SWAP_STRESS_OUTS = 100000
SWAP_STRESS_RUNS = [('64g-highpte-up-nopreempt-pgcl1', 64, 320, ''),
                    (DEFAULT, 2048, None, 'swap=highmem swap_mib=64')]


def swap_stress_jobs():
    jobs = []
    for v, mem, disk, extra in SWAP_STRESS_RUNS:
        what = f'swap disk {disk} MiB' if disk else extra
        args = f'tests=swap.swap_out_stress swap_stress={SWAP_STRESS_OUTS} {extra}'.strip()
        run = QemuRun(v, mem=mem, swap_mib=disk, args=args, timeout=600,
                      name=f'check-swap-stress-{v}-{mem}')
        jobs.append((30 if disk else 15, f'(p) qemu {v} MEM={mem} {what} swap_stress={SWAP_STRESS_OUTS}',
                     count_run, run))
    return jobs


def reclaim_jobs():
    jobs = []
    for emu, v, mem, disk, extra in RECLAIM_RUNS:
        what = f'swap disk {disk} MiB' if disk else extra
        runner = BochsRun if emu == 'bochs' else QemuRun
        run = runner(v, mem=mem, swap_mib=disk, args=f'tests=swap.* {extra}'.strip(),
                     timeout=900, name=f'check-swap-{emu}-{v}-{mem}')
        jobs.append((60 if emu == 'bochs' else 30, f'(m) {emu} {v} MEM={mem} {what}',
                     count_run, run))
    return jobs


def guest_jobs(names, image_ok: bool, breaks=(), pte_chain=()):
    """(expected seconds, label, function, run): the slowest first."""
    jobs = []
    for v in names:
        disk = matrix_swap_disk(v)
        for mem, cpus in matrix_runs(v):
            what = (f' CPUS={cpus}' if cpus > 1 else '') + (f' swap disk {disk} MiB' if disk else '')
            jobs.append((8 * cpus + mem // 256, f'(d) bochs {v} MEM={mem}{what}', matrix_check,
                         BochsRun(v, mem=mem, cpus=cpus, swap_mib=disk, args=MATRIX_ARGS,
                                  name=f'check-bochs-{v}-{mem}-cpus{cpus}')))
    jobs.append((5, f'(f) bochs {DEFAULT} CPU_MODEL=pentium refuses (no PAE)', refusal_check,
                 BochsRun(DEFAULT, cpu_model='pentium', name='check-refusal-pentium')))
    for v in (v for v in names if cpus_for(v) == 1 and not v.startswith('64g')):
        jobs.append((10, f'(f) bochs {v} CPU_MODEL=pentium', pentium_check,
                     BochsRun(v, mem=1024, cpu_model='pentium', args=MATRIX_ARGS,
                              name=f'check-pentium-{v}')))
    for v in (v for v in names if cpus_for(v) > 1):
        jobs.append((3, f'(q) qemu {v} -smp 4', count_run,
                     QemuRun(v, mem=2048, cpus=4, name=f'check-qemu-smp4-{v}')))
    if 'shootdown' in breaks:
        jobs.append((3, f'(q) qemu {SMP_BREAK_VARIANT} -smp 4 smp_stress.* stress={SMP_STRESS_STEPS}',
                     count_run, QemuRun(SMP_BREAK_VARIANT, mem=1024, cpus=4,
                                        args=f'tests=smp_stress.* stress={SMP_STRESS_STEPS}',
                                        name='check-smp-stress-long')))
        for emu, runner in (('qemu', QemuRun), ('bochs', BochsRun)):
            jobs.append((4, f'(q) {emu} {SMP_BREAK_VARIANT} BREAK=shootdown CPUS=4: '
                         'the SMP stress suite fails', smp_break_check,
                         runner(SMP_BREAK_VARIANT, mem=1024, cpus=4, args='tests=smp_stress.*',
                                kernel=smp_break_kernel(), name=f'check-break-shootdown-{emu}')))
    if 'zone-lock' in breaks:
        jobs.append((8, f'(q) bochs {SMP_BREAK_VARIANT} BREAK=zone-lock CPUS=4: smp_alloc fails',
                     zone_break_check(),
                     BochsRun(SMP_BREAK_VARIANT, mem=1024, cpus=4, args='tests=smp_alloc.* stress=300',
                              kernel=smp_break_kernel('zone-lock'), name='check-break-zone-lock')))
        jobs.append((2, f'(q) qemu {SMP_BREAK_VARIANT} BREAK=zone-lock -smp 4, a thread per vCPU: '
                     'smp_alloc fails', zone_break_check(3),
                     QemuRun(SMP_BREAK_VARIANT, mem=1024, cpus=4, mttcg=True,
                             args=f'tests=smp_alloc.* stress={SMP_ALLOC_ROUNDS}',
                             kernel=smp_break_kernel('zone-lock'), name='check-break-zone-lock-qemu')))
    if 'anon-vma-lock' in breaks:
        jobs.append((6, f'(q) bochs {SMP_BREAK_VARIANT} BREAK=anon-vma-lock CPUS=4: '
                     'smp_stress.mm_calls_on_one_anon_vma fails', anon_break_check,
                     BochsRun(SMP_BREAK_VARIANT, mem=1024, cpus=4, args='tests=smp_stress.mm_calls*',
                              kernel=smp_break_kernel('anon-vma-lock'), name='check-break-anon-vma-lock')))
    # The allocators with a thread per vCPU: truly parallel CPUs (2 host cores).
    jobs.append((10, f'(q) qemu {SMP_BREAK_VARIANT} -smp 4, a thread per vCPU: smp_alloc.* '
                 f'stress={SMP_ALLOC_ROUNDS}', count_run,
                 QemuRun(SMP_BREAK_VARIANT, mem=1024, cpus=4, mttcg=True,
                         args=f'tests=smp_alloc.* stress={SMP_ALLOC_ROUNDS}', name='check-smp-alloc-mttcg')))
    for v, mem in QEMU_SET:
        jobs.append((2, f'(g) qemu {v} -m {mem}', count_run,
                     QemuRun(v, mem=mem, cpus=cpus_for(v), name=f'check-qemu-{v}-{mem}')))
    for v, seed in STRESS_SET:
        mem = max(mem for mem, _ in matrix_runs(v))
        jobs.append((20, f'(j) qemu {v} -m {mem} stress={STRESS_STEPS} seed={seed}', count_run,
                     QemuRun(v, mem=mem, args=f'tests=stress.* stress={STRESS_STEPS} seed={seed}',
                             timeout=600, name=f'check-stress-{v}')))
    for what in (b for b in breaks if b not in SMP_BREAKS):
        jobs.append((6, f'(k) bochs {BREAK_VARIANT} BREAK={what}: the stress suite fails',
                     break_check(what),
                     BochsRun(BREAK_VARIANT, mem=2048, args='tests=stress.*',
                              kernel=break_kernel(what), name=f'check-break-{what}')))
    for v, model, bug, pattern in CONFORMANCE_RUNS:
        args = 'tests=conformance.*' + (f' model_bug={bug}' if bug else '')
        what = ' '.join(x for x in (f'CPU_MODEL={model}' if model else '', f'model_bug={bug}' if bug else '') if x)
        label = f'(l) bochs {v} conformance{" " + what if what else ""}' + (': must fail' if bug else '')
        name = 'check-conformance-' + '-'.join(x for x in (v, model, bug) if x)
        jobs.append((20 if v.startswith('64g') else 6, label, conformance_check(pattern, bool(bug)),
                     BochsRun(v, mem=1024, cpus=cpus_for(v), cpu_model=model, args=args, name=name)))
    jobs += reclaim_jobs()
    jobs += audit_jobs()
    jobs += pte_chain_jobs(pte_chain)
    jobs += swap_stress_jobs()
    if image_ok:
        jobs += image_jobs()
    return sorted(jobs, key=lambda j: -j[0])


def image_jobs():
    def q(boot):
        return QemuRun(DEFAULT, image=IMAGE, boot=boot, name=f'check-image-qemu-{boot}')
    return [(10, '(h) image under bochs (ATA disk)', image_check,
             BochsRun(DEFAULT, image=IMAGE, name='check-image-bochs')),
            (3, '(h) image under qemu (IDE disk)', image_check, q('disk')),
            (3, '(h) image under qemu (USB stick, xHCI)', image_check, q('usb-xhci')),
            (3, '(h) image under qemu (USB stick, EHCI)', image_check, q('usb-ehci'))]


def run_guests(tally: Tally, jobs, workers: int) -> None:
    pool = ThreadPoolExecutor(workers)
    futures = [pool.submit(fn, tally, label, run) for _, label, fn, run in jobs]
    try:
        for f in futures:
            f.result()
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        harness.LIVE.stop_all()
        raise
    pool.shutdown()


# --------------------------------------------------------------------------
# Steps that run commands

# `make check` runs this script: the inner makes must not inherit the outer
# one's flags (jobserver, VARIANT=... from its command line).
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL')}


def run_command(tally: Tally, cmd, prefix: str = '    '):
    """Run a command, echo its output indented; (exit status, lines)."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, errors='replace', env=CLEAN_ENV)
    lines = []
    for line in proc.stdout:
        line = line.rstrip('\n')
        lines.append(line)
        tally.say(prefix + line)
    return proc.wait(), lines


def counted_suite(tally: Tally, name: str, cmd) -> None:
    """A test program that prints `ok - X`/`not ok - X` lines and ends with
    `N passed, N failed`: each of its cases is one check."""
    code, lines = run_command(tally, cmd)
    totals = [RE_TOTALS.match(l) for l in lines]
    totals = [m for m in totals if m]
    if not totals:
        tally.count(0, 1)
        tally.fail(name, f'exit status {code} and no "N passed, N failed" line')
        return
    passed, failed = (int(g) for g in totals[-1].groups())
    tally.count(passed, failed)
    if code != 0 and not failed:
        tally.count(0, 1)
        tally.fail(name, f'exit status {code} although no case failed')
    for line in lines:
        if line.startswith('not ok'):
            with tally.lock:
                tally.failures.append(f'{name}: {line}')


def flash_tests(tally: Tally) -> None:
    if (REPO / 'ci' / 'test_flash.sh').exists():
        counted_suite(tally, '(b) ci/test_flash.sh', ['bash', 'ci/test_flash.sh'])
    else:
        tally.say('  ci/test_flash.sh is not there: nothing to run')


# The steps that boot the kernels of `make matrix` (h: the image holds them).
NEEDS_MATRIX = 'adfghjlmpq'


def build_matrix(tally: Tally, names) -> None:
    code, lines = run_command(tally, ['make', '-j2', '--no-print-directory', 'matrix'], '    ')
    for v in names:
        built = (harness.BUILD / v / 'kernel.elf').exists() and f'matrix: {v} FAILED' not in lines
        tally.check(f'(c) build {v}', built, f'see build/matrix-{v}.log')
    if code != 0 and all((harness.BUILD / v / 'kernel.elf').exists() for v in names):
        tally.check('(c) make matrix', False, f'exit status {code}')


def build_breaks(tally: Tally):
    """(k) The broken kernels that were built (a failed build is a failed check)."""
    built = []
    wanted = [('k', BREAK_VARIANT, what, break_kernel(what)) for what in BREAKS] + \
             [('q', SMP_BREAK_VARIANT, what, smp_break_kernel(what)) for what in SMP_BREAKS]
    for letter, variant, what, kernel in wanted:
        code, _ = run_command(tally, ['make', '-j2', '--no-print-directory',
                                      f'VARIANT={variant}', f'BREAK={what}', 'kernel'])
        if code == 0 and kernel.exists():
            built.append(what)
        else:
            tally.check(f'({letter}) build {variant} BREAK={what}', False, f'exit status {code}')
    return built


RE_PTE_OFFSET = re.compile(r'\bpte_offset\s*\(')
RE_C_COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)


def pte_offset_uses(root: Path):
    """`file:line: text` of every pte_offset( in the C code under root;
    comments are blanked first (keeping the line numbers)."""
    hits = []
    for path in sorted(p for p in root.rglob('*') if p.suffix in ('.c', '.h')):
        text = path.read_text('utf-8', 'replace')
        code = RE_C_COMMENT.sub(lambda m: re.sub(r'[^\n]', ' ', m.group()), text)
        lines = text.split('\n')
        for n, line in enumerate(code.split('\n')):
            if RE_PTE_OFFSET.search(line):
                hits.append(f'{path.relative_to(REPO)}:{n + 1}: {lines[n].strip()}')
    return hits


def source_check(tally: Tally) -> None:
    hits = pte_offset_uses(REPO / 'src')
    tally.check('(i) no pte_offset( in src/ outside the accessor definitions', not hits,
                f'{len(hits)} found', hits)


def build_image(tally: Tally) -> bool:
    code, _ = run_command(tally, ['make', '--no-print-directory', 'image'])
    tally.check('(h) make image', code == 0 and IMAGE.exists(), f'exit status {code}')
    return code == 0 and IMAGE.exists()


# --------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description='make check')
    ap.add_argument('--jobs', type=int, default=2, help='guest runs in parallel (default 2)')
    ap.add_argument('--only', default='abcdefghijklmnopq', help='steps to run, e.g. "adg"')
    opts = ap.parse_args(argv)
    only = set(opts.only)
    tally = Tally()
    start = time.monotonic()
    names = variants()

    if 'i' in only:
        with step(tally, '(i) no pte_offset( in src/'):
            source_check(tally)
    # The kernels first: the harness's own tests boot the default variant.
    # Steps that boot the matrix's kernels get them rebuilt even when (c) is
    # not asked for (make is incremental): else they would boot stale ones.
    if 'c' in only or only & set(NEEDS_MATRIX):
        with step(tally, f'(c) make -j2 matrix ({len(names)} variants)'):
            build_matrix(tally, names)
    if 'a' in only:
        with step(tally, "(a) the harness's own tests"):
            counted_suite(tally, '(a) ci/test_harness.py',
                          [PYTHON, 'ci/test_harness.py', '--jobs', str(opts.jobs)])
    if 'b' in only:
        with step(tally, '(b) flash tests'):
            flash_tests(tally)
    image_ok = False
    if 'h' in only:
        with step(tally, '(h) make image'):
            image_ok = build_image(tally)
    breaks = []
    if 'k' in only or 'q' in only:
        with step(tally, f'(k, q) {BREAK_VARIANT} with BREAK={",".join(BREAKS)}, '
                  f'{SMP_BREAK_VARIANT} with BREAK={",".join(SMP_BREAKS)}'):
            breaks = build_breaks(tally)
    if 'n' in only:
        with step(tally, '(n) the audited kernels and BREAK=kmap-invlpg'):
            build_audit(tally)
    pte_chain = []
    if 'o' in only:
        with step(tally, f'(o) RMAP=pte_chain builds of {", ".join(PTE_CHAIN_VARIANTS)}'):
            pte_chain = build_pte_chain(tally)
    with step(tally, f'(d-q) guest runs, {opts.jobs} at a time'):
        jobs = [j for j in guest_jobs(names, image_ok, breaks, pte_chain) if j[1][1] in only]
        run_guests(tally, jobs, opts.jobs)

    minutes = (time.monotonic() - start) / 60
    tally.say(f'== done in {minutes:.1f} min; {tally.skipped} skipped test cases count as passed')
    for failure in tally.failures:
        tally.say(f'failed: {failure}')
    print(f'{tally.passed} passed, {tally.failed} failed', flush=True)
    return 1 if tally.failed else 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print('check.py: interrupted', file=sys.stderr)
        sys.exit(130)
