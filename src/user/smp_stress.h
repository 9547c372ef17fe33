/* What the SMP stress suite's kernel side and its ring-3 reader share. */
#ifndef USER_SMP_STRESS_H
#define USER_SMP_STRESS_H

#define SR_BASE 0x50000000u /* the reader's stamped pages */
#define SR_PAGES 16u        /* 4 KiB pages (four clusters in pgcl4) */
#define SR_CTRL (SR_BASE - 4096u) /* word 0: the kernel sets it to 1 to stop */
#define SR_CHILD_ROUNDS 40u
#define SR_POISON 0xdead0000u /* freed frames are filled with this | word index */

#endif
