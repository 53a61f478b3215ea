#include "textflag.h"

// func Caller(skip int) Site
//
// Frameless on purpose: BP still holds the frame pointer of the Go function
// that called us (F). In Go's amd64 frame layout 0(BP) is the caller's saved
// BP and 8(BP) is F's return address, a PC inside F's caller. Each skip, and
// each PC after the first, follows the saved-BP chain one frame further out.
// A zero BP ends the chain (the top of a goroutine); the rest stays zero.
TEXT ·Caller(SB), NOSPLIT|NOFRAME, $0-32
	MOVQ $0, ret_pcs_0+8(FP)
	MOVQ $0, ret_pcs_1+16(FP)
	MOVQ $0, ret_pcs_2+24(FP)
	MOVQ BP, AX
	MOVQ skip+0(FP), CX
skiploop:
	TESTQ AX, AX
	JZ    out
	TESTQ CX, CX
	JZ    collect
	MOVQ  0(AX), AX
	DECQ  CX
	JMP   skiploop
collect:
	MOVQ 8(AX), DX
	MOVQ DX, ret_pcs_0+8(FP)
	MOVQ 0(AX), AX
	TESTQ AX, AX
	JZ   out
	MOVQ 8(AX), DX
	MOVQ DX, ret_pcs_1+16(FP)
	MOVQ 0(AX), AX
	TESTQ AX, AX
	JZ   out
	MOVQ 8(AX), DX
	MOVQ DX, ret_pcs_2+24(FP)
out:
	RET

// func CallerPCs(skip int) (pc0, pc1, pc2 uintptr)
//
// Caller's walk, with the counters kept in registers and each result
// written once, by one 8-byte store (see caller_fp.go).
TEXT ·CallerPCs(SB), NOSPLIT|NOFRAME, $0-32
	XORL DX, DX
	XORL BX, BX
	XORL SI, SI
	MOVQ BP, AX
	MOVQ skip+0(FP), CX
pskip:
	TESTQ AX, AX
	JZ    pout
	TESTQ CX, CX
	JZ    pcollect
	MOVQ  0(AX), AX
	DECQ  CX
	JMP   pskip
pcollect:
	MOVQ  8(AX), DX
	MOVQ  0(AX), AX
	TESTQ AX, AX
	JZ    pout
	MOVQ  8(AX), BX
	MOVQ  0(AX), AX
	TESTQ AX, AX
	JZ    pout
	MOVQ  8(AX), SI
pout:
	MOVQ DX, pc0+8(FP)
	MOVQ BX, pc1+16(FP)
	MOVQ SI, pc2+24(FP)
	RET
