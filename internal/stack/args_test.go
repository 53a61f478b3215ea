package stack_test

import (
	"slices"
	"testing"

	"github.com/tether-go/tether/internal/stack"
)

// TestEachFullArgs: the first argument of the frames asked about is kept
// when the runtime printed it exactly, innermost first; a value marked
// possibly stale ("?"), a non-word, and frames not asked about are not.
func TestEachFullArgs(t *testing.T) {
	const dump = `goroutine 7 [chan receive]:
main.block(0xc000012345?)
	/src/main.go:10 +0x1f
example.com/sv.(*task).runHere(0xc0000a0000, {0x7a2c40, 0xc000090000})
	/src/sv/run.go:20 +0x2a
example.com/sv.(*task).run(0xc0000b0000)
	/src/sv/run.go:30 +0x3b
example.com/sv.(*task).run(0xc0000c0000?)
	/src/sv/run.go:30 +0x3b
example.com/sv.(*task).run({0x1, 0x2})
	/src/sv/run.go:30 +0x3b
created by main.main in goroutine 1
	/src/main.go:5 +0x10

goroutine 8 [select]:
example.com/sv.(*task).run(0xc0000d0000)
	/src/sv/run.go:30 +0x3b
`
	funcs := []string{"example.com/sv.(*task).run", "example.com/sv.(*task).runHere"}
	var got [][]stack.Arg
	stack.EachFullArgs([]byte(dump), funcs, func(g *stack.Goroutine) {
		got = append(got, slices.Clone(g.Args))
	})
	want := [][]stack.Arg{
		{{Func: funcs[1], Value: 0xc0000a0000}, {Func: funcs[0], Value: 0xc0000b0000}},
		{{Func: funcs[0], Value: 0xc0000d0000}},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Args = %x, want %x", got, want)
	}
	stack.EachFull([]byte(dump), func(g *stack.Goroutine) {
		if g.Args != nil {
			t.Errorf("EachFull kept Args %v; only EachFullArgs asks for them", g.Args)
		}
	})
}
