; The user image (src/user/, linked by src/user/user.ld and flattened with
; objcopy) inside the kernel: read-only data, 16 KiB aligned and padded so
; that its frames are whole clusters in every variant (pgcl4: 16 KiB
; pages) and no kernel data shares a frame with it -- those frames are
; mapped into every user address space.  kernel/user.c reads the header.

section .rodata.user_image progbits alloc noexec nowrite align=16384

global user_image_start, user_image_end
align 16384
user_image_start:
    incbin "image.bin"
user_image_end:
align 16384, db 0
