; The context switch and the first instructions of a new task.
;
; switch_to(&prev->esp, next->esp) is called from schedule() only, with
; interrupts off.  It pushes what the i386 System V ABI says a callee must
; preserve (EBP, EBX, ESI, EDI) plus EFLAGS, parks ESP in prev->esp, takes
; next's ESP and pops the same five words: the `ret` then returns into
; next's own call of switch_to -- or, for a task that never ran, into one of
; the entry points below, which task.c put on its new stack (the layout is
; drawn in switch.h).

%include "layout.inc"

extern schedule_tail
extern do_exit
extern trap_return

section .text

; void switch_to(u32 *prev_esp, u32 next_esp)
global switch_to
switch_to:
    mov eax, [esp + 4]          ; &prev->esp
    mov edx, [esp + 8]          ; next->esp
    push ebp
    push ebx
    push esi
    push edi
    pushfd
    mov [eax], esp
    mov esp, edx                ; from here on we are on next's stack
    popfd
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; A new kernel thread: EBX = its function, ESI = its argument.  The
; scheduler's own bookkeeping of the switch ends first (schedule_tail),
; then interrupts go on: a thread runs preemptible from its first line.
global kthread_start
kthread_start:
    call schedule_tail
    sti
    push esi
    call ebx                    ; eax = fn(arg)
    add esp, 4
; Also the return address of a kernel-mode trap frame (task_create): the
; function's return value in EAX becomes the exit code.
global kthread_exit
kthread_exit:
    push eax
    call do_exit                ; does not return
    ud2

; A task created from a trap frame (fork's child, the first entry into
; ring 3): the frame sits right above the switch frame, so after
; schedule_tail the ordinary interrupt exit path restores it and irets.
global ret_from_fork
ret_from_fork:
    call schedule_tail
    jmp trap_return
