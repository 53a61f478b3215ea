#include "textflag.h"

// func Caller(skip int) Site
//
// Frameless on purpose: R29 still holds the frame pointer of the Go function
// that called us (F). In Go's arm64 frame layout 0(R29) is the caller's saved
// frame pointer and 8(R29) is F's saved link register, a PC inside F's caller.
// This is the same shape as amd64; see caller_amd64.s.
TEXT ·Caller(SB), NOSPLIT|NOFRAME, $0-32
	MOVD ZR, ret_pcs_0+8(FP)
	MOVD ZR, ret_pcs_1+16(FP)
	MOVD ZR, ret_pcs_2+24(FP)
	MOVD R29, R0
	MOVD skip+0(FP), R1
skiploop:
	CBZ  R0, out
	CBZ  R1, collect
	MOVD 0(R0), R0
	SUB  $1, R1, R1
	B    skiploop
collect:
	MOVD 8(R0), R3
	MOVD R3, ret_pcs_0+8(FP)
	MOVD 0(R0), R0
	CBZ  R0, out
	MOVD 8(R0), R3
	MOVD R3, ret_pcs_1+16(FP)
	MOVD 0(R0), R0
	CBZ  R0, out
	MOVD 8(R0), R3
	MOVD R3, ret_pcs_2+24(FP)
out:
	RET

// func CallerPCs(skip int) (pc0, pc1, pc2 uintptr)
//
// Caller's walk, with the counters kept in registers and each result
// written once (see caller_fp.go and caller_amd64.s).
TEXT ·CallerPCs(SB), NOSPLIT|NOFRAME, $0-32
	MOVD ZR, R3
	MOVD ZR, R4
	MOVD ZR, R5
	MOVD R29, R0
	MOVD skip+0(FP), R1
pskip:
	CBZ  R0, pout
	CBZ  R1, pcollect
	MOVD 0(R0), R0
	SUB  $1, R1, R1
	B    pskip
pcollect:
	MOVD 8(R0), R3
	MOVD 0(R0), R0
	CBZ  R0, pout
	MOVD 8(R0), R4
	MOVD 0(R0), R0
	CBZ  R0, pout
	MOVD 8(R0), R5
pout:
	MOVD R3, pc0+8(FP)
	MOVD R4, pc1+16(FP)
	MOVD R5, pc2+24(FP)
	RET
