; Interrupt and exception entry: one stub per vector pushes a uniform frame
; (struct trap_frame in traps.h) and calls trap_dispatch(frame).
;
; SDM vol. 3 6.12.1: the CPU pushes EFLAGS, CS, EIP (and SS, ESP on a
; privilege change), then an error code for vectors 8, 10-14 and 17.  The
; stubs push a zero for the others so every frame has the same shape.

%include "layout.inc"

extern trap_dispatch
extern sched_return_check

%macro STUB_NOERR 1
vec_%1:
    push dword 0
    push dword %1
    jmp trap_common
%endmacro

%macro STUB_ERR 1
vec_%1:
    push dword %1
    jmp trap_common
%endmacro

section .text
align 16
trap_common:
    pushad
    push ds
    push es
    push fs
    push gs
    mov ax, KERNEL_DS
    mov ds, ax
    mov es, ax
    push esp                    ; struct trap_frame *
    call trap_dispatch
    add esp, 4
    push esp                    ; the same frame: a switch may happen here
    call sched_return_check
    add esp, 4
global trap_return
trap_return:
    pop gs
    pop fs
    pop es
    pop ds
    popad
    add esp, 8                  ; vector and error code
    iretd

%assign v 0
%rep 256
%if v = 8 || (v >= 10 && v <= 14) || v = 17
    STUB_ERR v
%else
    STUB_NOERR v
%endif
%assign v v + 1
%endrep

section .rodata
global trap_stubs
align 4
trap_stubs:
%assign v 0
%rep 256
    dd vec_ %+ v
%assign v v + 1
%endrep
