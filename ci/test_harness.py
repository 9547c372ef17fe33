#!/usr/bin/python3
"""The harness's own tests.

Unit tests of the report parser, the consistency checks and the TLB audit's
parsers and decisions (ci/audit.py, on recorded Bochs output; no emulator),
then end-to-end runs proving that every way a guest can go wrong is reported
as a failure with the right reason: inject=fail, inject=hang, inject=panic,
inject=triple, a stale disk lock, and a passing run that must pass.

    ci/test_harness.py [--unit] [--variant V] [--jobs N]

Prints `ok - NAME` or `not ok - NAME: why` per case and ends with one line
`N passed, N failed`; exit status 1 if any case failed.
"""

import argparse
import re
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import Signal, consistency_problems, parse_report  # noqa: E402
import audit as tlb_audit  # noqa: E402

# A small selection of the kernel's own tests for the passing run.
SMALL_TESTS = 'cmdline.*'
HANG_TIMEOUT = 20


class Failed(Exception):
    pass


def expect(cond, what: str) -> None:
    if not cond:
        raise Failed(what)


def expect_in(needle: str, hay, what: str = '') -> None:
    if needle not in hay:
        raise Failed(f'{what or "expected"} {needle!r} in {hay!r}')


UNIT = []


def unit(fn):
    UNIT.append(fn)
    return fn


GOOD = """\
ia32mm: variant test
# lowmem: ram_kib=1048112 lowmem_kib=917104 mem_map_kib=256 free_lowmem_kib=916912
KTAP version 1
1..4
ok 1 mm.alloc
# a diagnostic
    KTAP version 1
    1..1
    not ok 1 nested.case # indented: not a top-level result
not ok 2 mm.free # expected 3, got 4
ok 3 - mm.skipped # SKIP no NX on this CPU
ok 4 mm.last
# bench: {"name": "tlb_flush", "ns": 412}
# ia32mm: 2 passed, 1 failed, 1 skipped
# ia32mm: status=fail
"""


def report_of(text: str):
    return parse_report(text)


@unit
def parse_good_report():
    r = report_of(GOOD)
    expect(r.version == '1' and r.plan == 4, f'version/plan {r.version} {r.plan}')
    expect([c.as_tuple() for c in r.cases] == [
        (True, 1, 'mm.alloc', ''),
        (False, 2, 'mm.free', 'expected 3, got 4'),
        (True, 3, 'mm.skipped', 'SKIP no NX on this CPU'),
        (True, 4, 'mm.last', '')], f'cases {r.cases}')
    expect(r.summary == (2, 1, 1) and r.counts() == (2, 1, 1), f'counts {r.summary} {r.counts()}')
    expect(r.status == 'fail', r.status)
    expect(r.lowmem == {'ram_kib': 1048112, 'lowmem_kib': 917104, 'mem_map_kib': 256,
                        'free_lowmem_kib': 916912}, r.lowmem)
    expect(r.bench == [{'name': 'tlb_flush', 'ns': 412}], r.bench)
    expect(consistency_problems(r, 'fail') == [], consistency_problems(r, 'fail'))


@unit
def carriage_returns_ignored():
    r = report_of(GOOD.replace('\n', '\r\n'))
    expect(consistency_problems(r, 'fail') == [], consistency_problems(r, 'fail'))


def problems_of(text: str, status: str):
    return '; '.join(consistency_problems(report_of(text), status))


@unit
def missing_plan():
    expect_in('no KTAP plan', problems_of(GOOD.replace('1..4\n', ''), 'fail'))


@unit
def missing_version():
    expect_in("no 'KTAP version'", problems_of(GOOD.replace('KTAP version 1\n', '', 1), 'fail'))


@unit
def plan_disagrees_with_results():
    expect_in('plan says 5 tests, 4 results', problems_of(GOOD.replace('1..4', '1..5'), 'fail'))


@unit
def summary_disagrees_with_results():
    text = GOOD.replace('2 passed, 1 failed', '3 passed, 0 failed')
    expect_in('summary says 3 passed, 0 failed, 1 skipped; results give 2, 1, 1',
              problems_of(text, 'fail'))


@unit
def missing_summary():
    text = GOOD.replace('# ia32mm: 2 passed, 1 failed, 1 skipped\n', '')
    expect_in('no summary line', problems_of(text, 'fail'))


@unit
def duplicate_numbers():
    text = GOOD.replace('ok 4 mm.last', 'ok 3 mm.last')
    expect_in('duplicate test number 3', problems_of(text, 'fail'))


@unit
def numbers_out_of_order():
    text = GOOD.replace('ok 4 mm.last', 'ok 7 mm.last')
    expect_in('test number 7 (mm.last) where 4 was expected', problems_of(text, 'fail'))


@unit
def status_word_pass_but_tests_failed():
    text = GOOD.replace('status=fail', 'status=pass')
    expect_in('signalled pass but 1 tests failed', problems_of(text, 'pass'))


@unit
def status_word_fail_but_nothing_failed():
    text = GOOD.replace('not ok 2 mm.free # expected 3, got 4', 'ok 2 mm.free') \
               .replace('2 passed, 1 failed', '3 passed, 0 failed')
    expect_in('signalled fail but no test failed', problems_of(text, 'fail'))


@unit
def status_line_disagrees_with_status_word():
    expect_in('status line says fail, the kernel signalled panic', problems_of(GOOD, 'panic'))


@unit
def missing_status_line():
    text = GOOD.replace('# ia32mm: status=fail\n', '')
    expect_in("no '# ia32mm: status=' line", problems_of(text, 'fail'))


@unit
def bad_bench_json():
    text = GOOD.replace('"ns": 412}', '"ns": }')
    expect_in('bad bench JSON', problems_of(text, 'fail'))


@unit
def bench_commentary_is_not_json():
    text = GOOD.replace('# bench: {', '# bench: running 1 benchmark\n# bench: {')
    expect(problems_of(text, 'fail') == '', problems_of(text, 'fail'))
    expect(len(report_of(text).bench) == 1, report_of(text).bench)


@unit
def bad_lowmem_field():
    text = GOOD.replace('mem_map_kib=256', 'mem_map_kib=lots')
    expect_in("bad lowmem field 'mem_map_kib=lots'", problems_of(text, 'fail'))


@unit
def second_plan_line():
    text = GOOD.replace('ok 4 mm.last\n', 'ok 4 mm.last\n1..4\n')
    expect_in('a second plan line', problems_of(text, 'fail'))


@unit
def empty_output_is_not_a_pass():
    problems = problems_of('', 'pass')
    for what in ('no KTAP plan', 'no summary line', "no '# ia32mm: status=' line"):
        expect_in(what, problems)


@unit
def refusal_needs_no_ktap():
    text = 'ia32mm: variant x\nia32mm: this CPU has no PAE; boot a nohighmem variant\n' \
           '# ia32mm: status=refused\n'
    expect(problems_of(text, 'refused') == '', problems_of(text, 'refused'))
    expect(harness.refusal_reason(text) == 'ia32mm: this CPU has no PAE; boot a nohighmem variant',
           harness.refusal_reason(text))


@unit
def timeouts_are_not_compared():
    expect(problems_of('KTAP version 1\n1..3\nok 1 a\n', 'timeout') == '', 'timeout compared')


def fake_run(status: str, text: str, word=None, detail=''):
    run = harness.GuestRun.__new__(harness.GuestRun)
    run.name, run.emu, run.variant, run.args = 'unit', 'unit', 'v', ''
    run.logdir = Path('/nonexistent')
    return harness.judge(run, Signal(status, detail, status_word=word), text, text, 0.0)


@unit
def verdicts():
    passing = GOOD.replace('not ok 2 mm.free # expected 3, got 4', 'ok 2 mm.free') \
                  .replace('2 passed, 1 failed', '3 passed, 0 failed').replace('=fail', '=pass')
    r = fake_run('pass', passing, 0x600D600D)
    expect(r.ok and r.reason == '', f'{r.ok} {r.reason}')
    r = fake_run('fail', GOOD, 0xBAD0BAD0)
    expect(not r.ok and r.reason == '1 tests failed: mm.free', r.reason)
    r = fake_run('pass', GOOD.replace('=fail', '=pass'), 0x600D600D)
    expect(not r.ok, 'a pass with a failed test must not be ok')
    expect_in('inconsistent report', r.reason)
    r = fake_run('panic', 'PANIC: page fault at 0x0\n# ia32mm: status=panic\n', 0xDEAD000E)
    expect(r.reason == 'panic (vector 0x0e #PF): page fault at 0x0', r.reason)
    r = fake_run('timeout', 'ok 1 x\n', detail='timeout after 20 s')
    expect(not r.ok and r.reason == 'timeout after 20 s', r.reason)


@unit
def console_comparison():
    e9 = 'ia32mm: a\nKTAP version 1\n# ia32mm: status=pass\n'
    com1 = '\r\nSYSLINUX 6.04\r\n' + e9.replace('\n', '\r\n')
    expect(harness.console_problems(e9, com1) == [], harness.console_problems(e9, com1))
    expect(harness.console_problems(e9, com1[:-6]) == [], 'a UART still sending is fine')
    bad = com1.replace('KTAP', 'KTAB')
    expect_in('differ from line 2', '; '.join(harness.console_problems(e9, bad)))
    expect_in('no output on COM1', '; '.join(harness.console_problems(e9, '')))


@unit
def smp_runs_need_every_cpu():
    from types import SimpleNamespace
    run = SimpleNamespace(variant='4g-smp-preempt-pgcl1', cpus=2)
    rep = harness.parse_report('# cpus: listed=2 online=1 (ACPI MADT)\n')
    expect(rep.cpus == (2, 1), rep.cpus)
    expect_in('only 1 of 2 CPUs', '; '.join(harness.cpu_problems(run, rep, 'pass')))
    ok = harness.parse_report('# cpus: listed=2 online=2 (ACPI MADT)\n')
    expect(harness.cpu_problems(run, ok, 'pass') == [], 'two of two is fine')
    up = SimpleNamespace(variant='4g-up-preempt-pgcl1', cpus=2)
    expect(harness.cpu_problems(up, rep, 'pass') == [], 'a UP variant uses one CPU')
    expect_in("no '# cpus:'", '; '.join(harness.cpu_problems(run, harness.parse_report(''), 'pass')))


@unit
def status_words():
    table = {0x600D600D: 'pass', 0xBAD0BAD0: 'fail', 0xBAD0C0DE: 'refused',
             0xDEAD000E: 'panic', 0xDEAD00FF: 'panic', 0x12345678: 'crash'}
    for word, status in table.items():
        expect(harness.status_from_word(word) == status, f'{word:#x} -> {harness.status_from_word(word)}')


@unit
def bochs_triple_fault_reason():
    log = '00181517855p[CPU0  ] >>PANIC<< exception(): 3rd (13) exception with no resolution\n'
    with tempfile.NamedTemporaryFile('w', suffix='.log') as f:
        f.write(log)
        f.flush()
        reason = harness.bochs_exit_reason(Path(f.name), '', 'exited')
    expect(reason == 'triple fault (exception 13 #GP could not be delivered)', reason)


@unit
def line_echo_joins_partial_lines():
    got = []
    echo = harness.LineEcho(got.append)
    for chunk in ('ab', 'c\r\nde', 'f\n', 'g'):
        echo.feed(chunk)
    echo.flush()
    expect(got == ['abc', 'def', 'g'], got)


@unit
def syslinux_cfg_boots_default_at_once():
    cfg = 'UI menu.c32\nPROMPT 1\nTIMEOUT 50\nSERIAL 0 115200\nLABEL a\n  KERNEL mboot.c32\n' \
          'LABEL b\n  MENU DEFAULT\n  KERNEL mboot.c32\n'
    out = harness.boot_default_config(cfg)
    expect(out.startswith('PROMPT 0\nTIMEOUT 0\nDEFAULT b\n'), out)
    expect('UI ' not in out and 'TIMEOUT 50' not in out and 'SERIAL 0 115200' in out, out)
    out = harness.boot_default_config('DEFAULT a\nPROMPT 1\nLABEL a\n')
    expect(out == 'PROMPT 0\nTIMEOUT 0\nDEFAULT a\nLABEL a\n', repr(out))


# --------------------------------------------------------------------------
# End to end: real guests

# ---- the TLB audit's parsers and decisions (ci/audit.py), on Bochs 2.7 output

REGS = """CPU0:
rax: 00000000_ad17c0de
rbx: 00000000_00070101
rcx: 00000000_ffff5000
rdx: 00000000_0003ffe4
rsp: 00000000_c016cd78
rsi: 00000000_00010001
rdi: 00000000_001754e0
rip: 00000000_c0102a29
eflags 0x00000006: id vip vif ac vm rf nt IOPL=0 of df if tf sf zf af PF cf
"""


def tlb_text(laddr, d_lpf, d_ppf, i_lpf=0xffffffffffffffff, i_ppf=0):
    def entry(name, slot, lpf, ppf):
        return (f'show param name: <{name}.entry{slot}>\nentry{slot} = {{\n  lpf = {lpf:#x}\n'
                f'  lpf_mask = 0x00000fff\n  ppf = {ppf:#x}\n  accessBits = 0x80000005\n'
                f'  pkey = 0x00000000\n  memtype = 0x00000000\n}}\n')
    return (entry('ITLB', (laddr >> 12) & 1023, i_lpf, i_ppf) +
            entry('DTLB', (laddr >> 12) & 2047, d_lpf, d_ppf))


def page_text(laddr, frame):
    if frame is None:
        return (' PDE: 0x0000000000000000    ps         a pcd pwt S R p\n'
                f'physical address not available for linear 0x{laddr:016x}\n')
    return (' PDE: 0x00000000001fb023    ps         A pcd pwt S W P\n'
            f' PTE: 0x{frame << 12 | 0x163:016x}       G pat D A pcd pwt S W P\n'
            f'linear page 0x{laddr:016x} maps to physical page 0x{frame << 12:012x}\n')


CREG_PAE = """CR0=0xe0010011: PG CD NW ac WP ne ET ts em mp PE
CR2=page fault laddr=0x0000000000000000
CR3=0x0000001b6000
    PCD=page-level cache disable=0
CR4=0x000000a0: pks cet pke smap smep keylock osxsave pcid fsgsbase smx vmx la57 umip osxmmexcpt osfxsr pce PGE mce PAE pse de tsd pvi vme
EFER=0x00000800: ffxsr NXE lma lme sce
"""
CREG_2LEVEL = CREG_PAE.replace('mce PAE pse', 'mce pae PSE').replace('1b6000', '1a7000')
PDPTR = """show param name: <cpu0.PDPTR_CACHE>
PDPTR_CACHE = {
  entry0 = 0x1b7001
  entry1 = 0x1b8001
  entry2 = 0x1b9001
  entry3 = 0x1ba001
}
"""


def xp_text(addr, words):
    lines = []
    for i in range(0, len(words), 4):
        lines.append(f'0x{addr + 4 * i:016x} <bogus+ {4 * i:7d}>:\t' +
                     '\t'.join(f'0x{w:08x}' for w in words[i:i + 4]))
    return '[bochs]:\n' + '\n'.join(lines) + '\n'


@unit
def audit_register_decoding():
    regs = tlb_audit.parse_regs(REGS)
    expect(regs['eax'] == tlb_audit.AUDIT_MAGIC, f'eax {regs.get("eax")}')
    req = tlb_audit.Request.from_regs(regs)
    expect((req.point, req.check, req.flags, req.seq) == (1, 1, 0, 7), f'{req}')
    expect((req.laddr, req.expect, req.cpu, req.pages, req.answer) ==
           (0xffff5000, 0x3ffe4, 1, 1, 0x1754e0), f'{req}')
    expect_in('#7 kmap_atomic maps cpu 1 laddr 0xffff5000 frame 0x3ffe4', req.describe())


@unit
def audit_tlb_slot_parsing():
    got = tlb_audit.parse_tlb(tlb_text(0xffff5000, 0xffff5000, 0x3ffe0000))
    expect(set(got) == {'ITLB', 'DTLB'}, f'{got}')
    expect(got['DTLB'].slot == 2037 and got['DTLB'].frame_for(0xffff5000) == 0x3ffe0, f'{got}')
    expect(got['ITLB'].frame_for(0xffff5000) is None, 'an invalid slot holds nothing')
    # The slot indexed by 0xc0100000 holding another page 8 MiB away: not ours.
    other = tlb_audit.parse_tlb(tlb_text(0xc0100000, 0xc0900000, 0x900000))
    expect(other['DTLB'].frame_for(0xc0100000) is None, 'another page in the slot')


@unit
def audit_page_walk_parsing():
    expect(tlb_audit.parse_page(page_text(0xffff5000, 0x3ffe4)) == 0x3ffe4, 'mapped')
    expect(tlb_audit.parse_page(page_text(0x40000000, None)) is None, 'not mapped')
    try:
        tlb_audit.parse_page('Error: something else')
    except ValueError:
        return
    raise Failed('unrecognised page output accepted')


@unit
def audit_creg_pdptr_xp_parsing():
    expect(tlb_audit.parse_creg(CREG_PAE) == (0x1b6000, True), 'PAE creg')
    expect(tlb_audit.parse_creg(CREG_2LEVEL) == (0x1a7000, False), '2-level creg')
    expect(tlb_audit.parse_pdptr(PDPTR) == [0x1b7001, 0x1b8001, 0x1b9001, 0x1ba001], 'PDPTR')
    words = [0x1b7001, 0, 0x1b8001, 0, 0x1b9001, 0, 0x1ba001, 0]
    expect(tlb_audit.parse_words(xp_text(0x1b6000, words)) == words, 'xp words')


class FakeBochs:
    """Answers debugger commands from a table; records what was asked."""

    def __init__(self, table):
        self.table, self.sent = table, []

    def __call__(self, command):
        self.sent.append(command)
        for prefix, out in self.table.items():
            if command.startswith(prefix):
                return out
        return ''


def audit_answer(table, regs=REGS, cpus=1):
    fake = FakeBochs(table)
    outcome = tlb_audit.Auditor(fake, cpus).answer(regs)
    verdicts = [c for c in fake.sent if c.startswith('setpmem 0x1754e0 ')]
    expect(verdicts == [f'setpmem 0x1754e0 4 {outcome.verdict:#x}'], f'verdict write {verdicts}')
    return outcome, fake


@unit
def audit_stale_kmap_slot_fails():
    laddr = 0xffff5000
    ok, _ = audit_answer({'tlb': tlb_text(laddr, 0xffffffffffffffff, 0),
                          'page': page_text(laddr, 0x3ffe4)})
    expect(ok.verdict == tlb_audit.PASS, ok.line())
    fresh, _ = audit_answer({'tlb': tlb_text(laddr, laddr, 0x3ffe4000),
                             'page': page_text(laddr, 0x3ffe4)})
    expect(fresh.verdict == tlb_audit.PASS, fresh.line())
    stale, fake = audit_answer({'tlb': tlb_text(laddr, laddr, 0x3ffe0000),
                                'page': page_text(laddr, 0x3ffe4)})
    expect(stale.verdict == tlb_audit.FAIL and stale.seen == 0x3ffe0, stale.line())
    expect_in('setpmem 0x1754e4 4 0x3ffe0', fake.sent, 'the frame seen written back:')
    expect_in('set $cpu = 1', fake.sent, 'the point\'s CPU selected:')


@unit
def audit_gone_checks_every_cpu():
    regs = REGS.replace('00070101', '00081203')    # try_to_unmap, gone, every CPU, seq 8
    fake = FakeBochs({'tlb': tlb_text(0xffff5000, 0xffffffffffffffff, 0)})
    outcome = tlb_audit.Auditor(fake, 2).answer(regs)
    expect(outcome.verdict == tlb_audit.PASS, outcome.line())
    expect('set $cpu = 0' in fake.sent and 'set $cpu = 1' in fake.sent, f'{fake.sent}')
    held, _ = audit_answer({'tlb': tlb_text(0xffff5000, 0xffff5000, 0x3ffe4000)}, regs, 2)
    expect(held.verdict == tlb_audit.FAIL and held.cpu == 0, held.line())


@unit
def audit_pdpt_registers_against_memory():
    regs = REGS.replace('00070101', '00090606').replace('0003ffe4', '001b6000')  # cr3_load, cr3
    words = [0x1b7001, 0, 0x1b8001, 0, 0x1b9001, 0, 0x1ba001, 0]
    same = {'creg': CREG_PAE, 'show': PDPTR, 'xp': xp_text(0x1b6000, words)}
    ok, _ = audit_answer(same, regs)
    expect(ok.verdict == tlb_audit.PASS, ok.line())
    edited = dict(same, xp=xp_text(0x1b6000, [0x5000001] + words[1:]))
    bad, _ = audit_answer(edited, regs)
    expect(bad.verdict == tlb_audit.FAIL and 'PDPTE 0' in bad.why, bad.line())
    stale = regs.replace('00090606', '00090707')                  # pdpt-stale expects the edit
    expect(audit_answer(edited, stale)[0].verdict == tlb_audit.PASS, 'stale expected')
    expect(audit_answer(same, stale)[0].verdict == tlb_audit.FAIL, 'no edit seen')
    wrong_cr3 = regs.replace('001b6000', '00aaa000')
    expect(audit_answer(same, wrong_cr3)[0].verdict == tlb_audit.FAIL, 'CR3 differs')
    expect(audit_answer({'creg': CREG_2LEVEL}, regs.replace('001b6000', '001a7000'))[0].verdict
           == tlb_audit.PASS, '2-level: CR3 only')


@unit
def audit_pkmap_range_against_walk():
    regs = REGS.replace('00070101', '00031302').replace('ffff5000', 'ffc00000') \
        .replace('00010001', '00030000')                 # pkmap_flush, match-walk, 3 pages
    def table(walk_frame):
        return {'tlb 0xffc01000': tlb_text(0xffc01000, 0xffc01000, 0x3ffe4000),
                'tlb': tlb_text(0xffc00000, 0xffffffffffffffff, 0),
                'page 0xffc01000': page_text(0xffc01000, walk_frame)}
    ok, fake = audit_answer(table(0x3ffe4), regs)
    expect(ok.verdict == tlb_audit.PASS, ok.line())
    expect([c for c in fake.sent if c.startswith('tlb')] ==
           ['tlb 0xffc00000', 'tlb 0xffc01000', 'tlb 0xffc02000'], f'{fake.sent}')
    flushed, _ = audit_answer(table(None), regs)          # cleared PTE, entry still cached
    expect(flushed.verdict == tlb_audit.FAIL and flushed.page == 0xffc01000, flushed.line())


@unit
def audit_unreadable_output_is_undecided():
    outcome, _ = audit_answer({'tlb': 'Error: no such command', 'page': page_text(0xffff5000, 0x3ffe4)})
    expect(outcome.verdict == tlb_audit.UNDECIDED, outcome.line())


class LockedBochsRun(harness.BochsRun):
    """A run whose disk image carries the lock a killed Bochs leaves behind."""

    def prepare(self):
        rc = super().prepare()
        self.log('disk.img.lock').write_text('left by a killed run\n')
        return rc


def e2e_cases(variant: str):
    """(name, run, check) triples; check(result) raises Failed."""
    def bochs(name, **kw):
        return harness.BochsRun(variant, name=f'selftest-{name}', **kw)

    def qemu(name, **kw):
        return harness.QemuRun(variant, name=f'selftest-{name}', **kw)

    return [
        ('bochs: a passing run passes', bochs('bochs-pass', args=f'tests={SMALL_TESTS}'), check_pass),
        ('bochs: inject=fail is a failure', bochs('bochs-fail', args='inject=fail'), check_fail),
        (f'bochs: inject=hang times out after {HANG_TIMEOUT} s',
         bochs('bochs-hang', args='inject=hang', timeout=HANG_TIMEOUT), check_hang),
        ('bochs: inject=panic is a panic', bochs('bochs-panic', args='inject=panic'), check_panic),
        ('bochs: inject=triple is a triple fault', bochs('bochs-triple', args='inject=triple'),
         check_triple),
        ('bochs: inject=overflow is a double-fault panic naming the overflow',
         bochs('bochs-overflow', args='inject=overflow'), check_overflow),
        ('bochs: inject=double-free is a panic of the page allocator',
         bochs('bochs-double-free', args='inject=double-free'), check_double_free),
        ('bochs: a stale disk lock does not matter',
         LockedBochsRun(variant, name='selftest-bochs-lock', args=f'tests={SMALL_TESTS}'),
         check_pass),
        ('qemu: a passing run passes', qemu('qemu-pass', args=f'tests={SMALL_TESTS}'), check_pass),
        ('qemu: inject=fail is a failure', qemu('qemu-fail', args='inject=fail'), check_fail),
        ('qemu: inject=hang times out', qemu('qemu-hang', args='inject=hang', timeout=5), check_hang),
        ('qemu: inject=panic is a panic', qemu('qemu-panic', args='inject=panic'), check_panic),
        ('qemu: inject=triple is a reset', qemu('qemu-triple', args='inject=triple'),
         check_qemu_triple),
        ('qemu: inject=lock-order is a panic of the lock-order check',
         qemu('qemu-lock-order', args='inject=lock-order'), check_lock_order),
    ]


def check_pass(r):
    expect(r.ok, f'not a pass: {r.verdict()}')
    expect(len(r.report.cases) >= 1, 'no test ran')


def check_failure(r, status):
    expect(not r.ok, 'reported as a pass')
    expect(r.status == status, f'status {r.status}, expected {status}: {r.reason}')


def check_fail(r):
    check_failure(r, 'fail')
    expect(r.report.counts()[1] >= 1, 'no failed test in the report')
    expect(not r.problems, f'inconsistent: {r.problems}')
    expect_in('tests failed: ', r.reason)
    failed = [c.name for c in r.report.failed_cases()]
    expect('inject.fail' in failed, f'inject.fail not among the failed tests {failed}')


def check_hang(r):
    check_failure(r, 'timeout')
    expect(re.match(r'timeout after \d+ s \(stopped at 0x[0-9a-f]{8} \w+\+0x[0-9a-f]+', r.reason),
           r.reason)
    expect(r.tail(), 'no guest output kept for the report')
    expect(r.cpu_state, 'no CPU state captured')


def check_panic(r):
    check_failure(r, 'panic')
    expect(r.reason.startswith('panic'), r.reason)
    expect(r.report.panic, 'no PANIC: lines in the output')
    if r.emu == 'bochs':
        expect(r.status_word is not None and r.status_word & 0xffffff00 == harness.PANIC_WORD,
               f'status word {r.status_word}')
        expect_in('#PF', r.reason)
    check_crash_report(r, 'inject_crash')


def check_crash_report(r, symbol, registers=True):
    """A panic report has registers (for an exception), CR2 and a backtrace
    naming symbol."""
    out = r.output
    if registers:
        expect(re.search(r'^EAX=[0-9a-f]{8} EBX=', out, re.M), 'no register dump')
    expect(re.search(r'CR2=[0-9a-f]{8}', out), 'no CR2 in the report')
    expect(re.search(r'^\s+\[<[0-9a-f]{8}>\] ' + re.escape(symbol) + r'\S*\+0x', out, re.M),
           f'no backtrace line naming {symbol}')


def check_overflow(r):
    check_failure(r, 'panic')
    expect_in('double fault', r.reason)
    expect_in('kernel stack overflow', r.output)
    check_crash_report(r, 'inject_recurse')


def check_double_free(r):
    check_failure(r, 'panic')
    expect_in('double free', r.reason)
    check_crash_report(r, '__free_pages', registers=False)


def check_lock_order(r):
    check_failure(r, 'panic')
    expect_in('lock order', r.reason)
    check_crash_report(r, 'mm_lock_order_panic', registers=False)


def check_triple(r):
    check_failure(r, 'crash')
    expect_in('triple fault', r.reason)


def check_qemu_triple(r):
    check_failure(r, 'crash')
    expect_in('reset the machine', r.reason)


# --------------------------------------------------------------------------

class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def report(self, name: str, error) -> None:
        if error is None:
            self.passed += 1
            print(f'ok - {name}', flush=True)
        else:
            self.failed += 1
            print(f'not ok - {name}: {error}', flush=True)


def run_unit(tally: Tally) -> None:
    for fn in UNIT:
        try:
            fn()
            tally.report(f'unit: {fn.__name__}', None)
        except Failed as e:
            tally.report(f'unit: {fn.__name__}', e)


def run_e2e(tally: Tally, variant: str, jobs: int) -> None:
    def one(case):
        name, run, check = case
        try:
            result = run.run()
        except harness.HarnessError as e:
            return name, f'could not run: {e}'
        try:
            check(result)
        except Failed as e:
            return name, f'{e} (logs: {result.logdir})'
        return name, None

    cases = e2e_cases(variant)
    # The hang waits longest: start it first.
    cases.sort(key=lambda c: 'hang' not in c[0])
    with ThreadPoolExecutor(jobs) as pool:
        for name, error in pool.map(one, cases):
            tally.report(name, error)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="the harness's own tests")
    ap.add_argument('--unit', action='store_true', help='parser tests only, no emulator')
    ap.add_argument('--variant', default=harness.DEFAULT_VARIANT)
    ap.add_argument('--jobs', type=int, default=2)
    opts = ap.parse_args(argv)
    tally = Tally()
    run_unit(tally)
    if not opts.unit:
        run_e2e(tally, opts.variant, opts.jobs)
    print(f'{tally.passed} passed, {tally.failed} failed')
    return 1 if tally.failed else 0


if __name__ == '__main__':
    sys.exit(main())
