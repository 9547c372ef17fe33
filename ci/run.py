#!/usr/bin/python3
"""Boot one kernel variant and show its report: `make run|qemu|debug|bench`.

    ci/run.py --emu bochs|qemu --variant V [--mem MiB] [--cpus N]
              [--cpu-model M] [--timeout S] [--args 'ARGS'] [--boot MODE]
              [--swap-mib N]
              [--interactive] [--bench]

Prints the guest's output while it runs, then one verdict line.  Exit
status 0 only if the kernel reported pass, no test failed and the report is
consistent; 1 otherwise; 2 for a usage or set-up error.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DEBUG_HINT = """\
Bochs stops at its debugger prompt before the BIOS runs.  Useful commands:
  c                  continue (the kernel ends at a magic breakpoint; EAX =
                     0x600d600d pass, 0xbad0bad0 failed, 0xbad0c0de refused,
                     0xdead00vv panic with vector vv)
  Ctrl-C             stop the simulation
  r, sreg, creg      registers, segment registers, control registers
  page LADDR         walk the page tables for a linear address
  tlb LADDR          the ITLB/DTLB slots for LADDR (compare with page)
  info tab           every mapping of the current CR3
  x /4wx LADDR       memory by linear address; xp /4wx PADDR by physical
  set $cpu = N       select a CPU (SMP)
  q                  quit
With the `audit` option each TLB audit point stops here too (EAX =
0xad17c0de; the request's layout is in src/arch/audit.h); `c` goes on
(nobody answers it here, so the audit suite skips).
Guest output: port 0xE9 appears here, COM1 goes to {com1}."""


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--emu', choices=sorted(harness.RUNNERS), default='bochs')
    ap.add_argument('--variant', default=harness.DEFAULT_VARIANT)
    ap.add_argument('--mem', type=int, help='guest RAM in MiB (default %d)' % harness.DEFAULT_MEM)
    ap.add_argument('--cpus', type=int, help='number of CPUs (default 1)')
    ap.add_argument('--cpu-model', help='Bochs cpu model or QEMU -cpu '
                    f'(default {harness.DEFAULT_BOCHS_CPU} / {harness.DEFAULT_QEMU_CPU})')
    ap.add_argument('--timeout', type=float, help='seconds the guest may run '
                    '(default grows with --mem)')
    ap.add_argument('--args', default='', help='kernel command line')
    ap.add_argument('--boot', choices=harness.QemuRun.BOOTS, default='kernel',
                    help='QEMU only: how the kernel is booted')
    ap.add_argument('--swap-mib', type=int, help='attach a swap disk of N MiB (a raw file of '
                    'the run, ata0-slave; the kernel finds it by its signature)')
    ap.add_argument('--name', help='log directory name under build/logs')
    ap.add_argument('--interactive', action='store_true',
                    help='Bochs only: hand the debugger prompt to the user')
    ap.add_argument('--bench', action='store_true', help="add 'bench' to the kernel arguments")
    opts = ap.parse_args(argv)
    if opts.interactive and opts.emu != 'bochs':
        ap.error('--interactive works with --emu bochs only')
    if opts.boot != 'kernel' and opts.emu != 'qemu':
        ap.error('--boot works with --emu qemu only (Bochs always boots the disk image)')
    if opts.bench:
        opts.args = (opts.args + ' bench').strip()
    return opts


def make_run(opts):
    kw = dict(variant=opts.variant, mem=opts.mem, cpus=opts.cpus, cpu_model=opts.cpu_model,
              args=opts.args, timeout=opts.timeout, name=opts.name, swap_mib=opts.swap_mib,
              echo=lambda line: print(line, flush=True))
    if opts.emu == 'qemu':
        return harness.QemuRun(boot=opts.boot, **kw)
    return harness.BochsRun(**kw)


def interactive(run):
    """Replace this process with Bochs on the user's terminal."""
    if not run.kernel.exists():
        raise harness.HarnessError(f'{run.kernel} is missing: run make VARIANT={run.variant} first')
    run._fresh_logdir()
    rc = run.prepare()
    print(DEBUG_HINT.format(com1=run.log('com1.log')), flush=True)
    cmd = run.command(rc)
    os.chdir(run.logdir)
    os.execvp(cmd[0], cmd)


def show_result(result, bench: bool) -> None:
    if bench:
        for entry in result.report.bench:
            print('bench:', ' '.join(f'{k}={v}' for k, v in entry.items()))
        if not result.report.bench:
            print('bench: the kernel printed no "# bench: {...}" lines')
    if result.status in ('timeout', 'crash') and result.output:
        print(f'--- last {harness.TAIL_LINES} lines of guest output ---')
        print('\n'.join(result.tail()))
    if result.cpu_state and result.status in ('timeout', 'crash'):
        print('--- CPU state ---')
        print(result.cpu_state.rstrip())
    for problem in result.problems:
        print('problem:', problem)
    if result.audit:
        bad = result.audit_failures()
        print(f'audit: {len(result.audit)} points answered, {len(bad)} failed '
              f'(each point: {result.logdir / "audit.log"})')
        for outcome in bad:
            print(f'audit FAIL {outcome.line()}; transcript {outcome.transcript_path}')
    if not result.ok:
        print(f'logs: {result.logdir}')
    print(result.verdict(), flush=True)


def main(argv=None) -> int:
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    run = make_run(opts)
    try:
        if opts.interactive:
            interactive(run)
        result = run.run()
    except harness.HarnessError as e:
        print(f'run.py: {e}', file=sys.stderr)
        return 2
    show_result(result, opts.bench)
    return 0 if result.ok else 1


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print('run.py: interrupted', file=sys.stderr)
        sys.exit(130)
