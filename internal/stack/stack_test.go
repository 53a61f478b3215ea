package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/tether-go/tether/internal/stack"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// find returns the goroutines of gs for which match holds.
func find(gs []stack.Goroutine, match func(*stack.Goroutine) bool) []*stack.Goroutine {
	var out []*stack.Goroutine
	for i := range gs {
		if match(&gs[i]) {
			out = append(out, &gs[i])
		}
	}
	return out
}

// genLine returns the line of the generator (testdata/gen/main.go) that
// holds text: the dumps were taken from it, so their lines are its lines.
func genLine(t testing.TB, text string) int {
	t.Helper()
	src := fixture(t, filepath.Join("gen", "main.go"))
	i := bytes.Index(src, []byte(text))
	if i < 0 {
		t.Fatalf("the generator has no %q", text)
	}
	return 1 + bytes.Count(src[:i], []byte("\n"))
}

func one(t *testing.T, gs []stack.Goroutine, what string, match func(*stack.Goroutine) bool) *stack.Goroutine {
	t.Helper()
	found := find(gs, match)
	if len(found) != 1 {
		t.Fatalf("%d goroutines %s, want 1", len(found), what)
	}
	return found[0]
}

func topIs(fn string) func(*stack.Goroutine) bool {
	return func(g *stack.Goroutine) bool { return g.Top() == fn }
}

func TestParseFullFixtures(t *testing.T) {
	for _, name := range []string{"full.txt", "full-labels.txt", "debug2-labels.txt"} {
		t.Run(name, func(t *testing.T) {
			dump := fixture(t, name)
			gs := stack.ParseFull(dump)
			if got, want := len(gs), bytes.Count(dump, []byte("\ngoroutine "))+1; got != want {
				t.Fatalf("%d goroutines, want %d", got, want)
			}
			for _, g := range gs {
				if g.ID == 0 || g.Count != 1 || g.State == "" || len(g.Frames) == 0 {
					t.Errorf("goroutine %+v: want an id, count 1, a state and frames", g)
				}
			}
			labelled := name != "full.txt"

			deep := one(t, gs, "recursing in main.deep", func(g *stack.Goroutine) bool { return g.HasFunc("main.deep") && g.Elided > 0 })
			if len(deep.Frames) != 100 || deep.Elided != 53 || deep.CreatedBy.Func != "main.park" || deep.Parent != 1 ||
				deep.State != "chan receive" || deep.Frames[0] != (stack.Frame{Func: "main.deep", File: deep.Frames[0].File, Line: genLine(t, "\t\t<-stop\n\t\treturn\n\t}\n\tdeep(")}) {
				t.Errorf("deep goroutine: %d frames, %d elided, created by %s in %d, state %q, top %+v; want 100, 53, main.park in 1, chan receive, main.deep's <-stop",
					len(deep.Frames), deep.Elided, deep.CreatedBy.Func, deep.Parent, deep.State, deep.Frames[0])
			}
			if !strings.HasSuffix(deep.Frames[0].File, "testdata/gen/main.go") {
				t.Errorf("file %q, want the generator's", deep.Frames[0].File)
			}
			box := one(t, gs, "in Box's method", topIs("main.(*Box[...]).WaitOnAVeryLongMethodNameThatGoesOnAndOnToTestLongNamesInDumps"))
			if want := genLine(t, "\treturn <-ch"); box.Frames[0].Line != want {
				t.Errorf("Box frame %+v, want line %d", box.Frames[0], want)
			}
			inl := one(t, gs, "in the inlined function", topIs("main.inlined"))
			if inl.Frames[0].Line != genLine(t, "func inlined(") || inl.Frames[1].Func != "main.park.func7" {
				t.Errorf("inlined frames %+v", inl.Frames)
			}
			locked := one(t, gs, "locked to a thread", func(g *stack.Goroutine) bool { return g.Locked })
			if locked.State != "chan receive" {
				t.Errorf("locked goroutine state %q", locked.State)
			}
			for state, top := range map[string]string{
				"select":              "main.park.func2",
				"sync.Mutex.Lock":     "internal/sync.runtime_SemacquireMutex",
				"sync.WaitGroup.Wait": "sync.runtime_SemacquireWaitGroup",
			} {
				g := one(t, gs, "in "+state, func(g *stack.Goroutine) bool { return g.State == state && g.ID != 1 })
				if g.Top() != top {
					t.Errorf("%s goroutine top %q, want %q", state, g.Top(), top)
				}
			}
			child := one(t, gs, "started by another", topIs("main.park.func11.1"))
			parent := one(t, gs, "starting another", topIs("main.park.func11"))
			if child.Parent != parent.ID || child.CreatedBy.Func != "main.park.func11" {
				t.Errorf("child created by %s in %d, want main.park.func11 in %d", child.CreatedBy.Func, child.Parent, parent.ID)
			}

			tasks := map[string]string{}
			for _, g := range gs {
				if v := g.Label("tether.task"); v != "" {
					tasks[v] = g.Label("tether.group")
				}
			}
			if !labelled {
				if len(tasks) != 0 {
					t.Errorf("labels in a dump without tracebacklabels: %v", tasks)
				}
				return
			}
			for task, group := range map[string]string{
				"app/worker":                          "app",
				"app/<script>alert(1)</script>":       "app",
				"app/\"quoted\"/line\nbreak\ttab]:{}": "app/\"quoted\"",
				"app/ünïcödé ☃ \x01\x7f":              "",
			} {
				if g, ok := tasks[task]; !ok || g != group {
					t.Errorf("no goroutine labelled task %q group %q (found %v)", task, group, ok)
				}
			}
			obj := one(t, gs, "labelled tether.object", func(g *stack.Goroutine) bool { return g.Label("tether.object") != "" })
			if obj.Label("tether.object") != "42" || len(obj.Labels) != 1 {
				t.Errorf("object labels %v", obj.Labels)
			}
			other := one(t, gs, "labelled other", func(g *stack.Goroutine) bool { return g.Label("other") != "" })
			if want := []stack.Label{{"other", "x"}, {"tether.task", "app/ünïcödé ☃ \x01\x7f"}}; !equalLabels(other.Labels, want) {
				t.Errorf("labels %q, want %q in the order printed", other.Labels, want)
			}
		})
	}
}

func equalLabels(a, b []stack.Label) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseFullSynctest(t *testing.T) {
	gs := stack.ParseFull(fixture(t, "full-synctest.txt"))
	durable := find(gs, func(g *stack.Goroutine) bool { return g.Durable })
	states := map[string]bool{}
	for _, g := range durable {
		states[g.State] = true
		if g.Bubble != 1 {
			t.Errorf("durable goroutine %d in bubble %d, want 1", g.ID, g.Bubble)
		}
	}
	for _, want := range []string{"chan receive", "select", "sync.WaitGroup.Wait", "synctest.Run"} {
		if !states[want] {
			t.Errorf("no durable goroutine in %q (durable states: %v)", want, states)
		}
	}
	running := one(t, gs, "running in the bubble", func(g *stack.Goroutine) bool { return g.State == "running" })
	if running.Bubble != 1 || running.Durable {
		t.Errorf("running goroutine bubble %d durable %v", running.Bubble, running.Durable)
	}
}

func TestParseFullLeaked(t *testing.T) {
	gs := stack.ParseFull(fixture(t, "full-leaked.txt"))
	leaked := find(gs, func(g *stack.Goroutine) bool { return g.Leaked })
	if len(leaked) != 6 {
		t.Fatalf("%d leaked goroutines, want 6", len(leaked))
	}
	for _, g := range leaked {
		if g.State != "chan receive" && g.State != "chan send" {
			t.Errorf("leaked goroutine state %q", g.State)
		}
	}
}

func TestParseFullAncestors(t *testing.T) {
	gs := stack.ParseFull(fixture(t, "full-ancestors.txt"))
	leaf := one(t, gs, "with three ancestors", func(g *stack.Goroutine) bool { return len(g.Ancestors) == 3 })
	a := leaf.Ancestors
	if a[0].ID != leaf.Parent || a[2].ID != 1 {
		t.Errorf("ancestor ids %d, %d, %d; want the parent (%d) first, goroutine 1 last", a[0].ID, a[1].ID, a[2].ID, leaf.Parent)
	}
	if !a[0].Truncated || len(a[0].Frames) < 2 || a[0].Frames[0].Func != "main.writeAncestors.func1.1.1" || a[0].Frames[1].Func != "main.deepThen" {
		t.Errorf("first ancestor: truncated %v, frames %+v; want the deep recursion, truncated", a[0].Truncated, a[0].Frames)
	}
	if a[1].CreatedBy.Func != "main.writeAncestors" || a[1].CreatedBy.Line == 0 || a[2].CreatedBy != (stack.Frame{}) {
		t.Errorf("ancestors created by %+v and %+v; want main.writeAncestors, then none (goroutine 1)", a[1].CreatedBy, a[2].CreatedBy)
	}
	for _, g := range gs {
		if g.ID != leaf.ID && leaf.HasFunc(g.Top()) {
			t.Errorf("the leaf's frames include goroutine %d's: ancestors leaked into Frames", g.ID)
		}
	}
	if len(leaf.Labels) != 0 || len(leaf.Frames) != 1 || leaf.Frames[0].Func != "main.writeAncestors.func1.1.1.1" {
		t.Errorf("leaf %+v", leaf.Frames)
	}
}

func TestParseCrashAtGotracebackSystem(t *testing.T) {
	dump := fixture(t, "crash-system.txt")
	gs := stack.ParseFull(dump)
	if got, want := len(gs), bytes.Count(dump, []byte("\ngoroutine ")); got != want {
		t.Fatalf("%d goroutines, want %d", got, want)
	}
	main := one(t, gs, "panicking", func(g *stack.Goroutine) bool { return g.ID == 1 })
	if main.State != "running" || main.Frames[0].Func != "panic" || main.Frames[1].Func != "main.main" || main.Frames[1].Line != genLine(t, `panic("crash`) {
		t.Errorf("goroutine 1: %q %+v", main.State, main.Frames[:2])
	}
	for _, g := range gs {
		for _, f := range g.Frames {
			if f.Line == 0 || strings.Contains(f.File, "fp=") {
				t.Fatalf("goroutine %d frame %+v: the fp/sp/pc suffix was not cut", g.ID, f)
			}
		}
	}
}

func TestParseCgo(t *testing.T) {
	gs := stack.ParseFull(fixture(t, "full-cgo.txt"))
	in := find(gs, func(g *stack.Goroutine) bool { return g.State == "syscall" })
	if len(in) != 2 || in[0].Frames[0] != (stack.Frame{Func: "main._Cfunc_block", File: "_cgo_gotypes.go", Line: 46}) {
		t.Fatalf("goroutines in C: %d, first %+v", len(in), in[0].Frames)
	}
}

func TestParseSynthetic(t *testing.T) {
	gs := stack.ParseFull(fixture(t, "synthetic.txt"))
	byID := map[uint64]*stack.Goroutine{}
	for i := range gs {
		byID[gs[i].ID] = &gs[i]
	}
	if len(gs) != 6 {
		t.Fatalf("%d goroutines, want 6", len(gs))
	}
	if g := byID[101]; g.State != "chan receive" || g.Minutes != 5 {
		t.Errorf("101: %q %d minutes", g.State, g.Minutes)
	}
	if g := byID[102]; g.State != "IO wait" || g.Minutes != 12 || !g.Locked || g.CreatedBy.Func != "net/http.(*Server).Serve" {
		t.Errorf("102: %+v", *g)
	}
	if g := byID[103]; g.State != "select" || g.Minutes != 1 || g.Bubble != 4 || g.Durable {
		t.Errorf("103: %+v", *g)
	}
	want := []stack.Frame{
		{Func: "C.block", File: "/src/app/block.c", Line: 3},
		{Func: "non-Go function"},
		{Func: "non-Go function"},
		{Func: "runtime.cgocall", File: "/usr/local/go/src/runtime/cgocall.go", Line: 167},
		{Func: "main._Cfunc_block", File: "_cgo_gotypes.go", Line: 46},
	}
	if g := byID[104]; g.State != "syscall" || g.Minutes != 3 || !equalFrames(g.Frames, want) {
		t.Errorf("104 frames %+v\nwant %+v", g.Frames, want)
	}
	g := byID[105]
	if g.State != "sleep" || !g.Leaked || !g.Durable || g.Minutes != 2 || !g.Locked || g.Bubble != 7 || !g.Truncated ||
		g.Label("tether.group") != "a, b" || g.Label("tether.task") != `a, b/t\x` ||
		g.CreatedBy != (stack.Frame{Func: "main.main", File: "C:/src/app with space/main.go", Line: 40}) || g.Parent != 1 {
		t.Errorf("105: %+v", *g)
	}
	if g := byID[106]; len(g.Frames) != 1 || g.Frames[0] != (stack.Frame{Func: "main.cut(0x1"}) {
		t.Errorf("106, cut short: %+v", g.Frames)
	}
}

func equalFrames(a, b []stack.Frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseProfileFixture(t *testing.T) {
	dump := fixture(t, "profile.txt")
	gs := stack.ParseProfile(dump)
	total := 0
	for _, g := range gs {
		total += g.Count
		if g.ID != 0 || g.State != "" || g.CreatedBy != (stack.Frame{}) || len(g.Frames) == 0 {
			t.Errorf("record %+v: a profile has no ids, states or creators", g)
		}
	}
	header, _, _ := bytes.Cut(dump, []byte("\n"))
	if want := fmt.Sprintf("goroutine profile: total %d", total); string(header) != want {
		t.Fatalf("counts add up to %d; the profile says %q", total, header)
	}
	quoted := one(t, gs, "labelled with quotes", func(g *stack.Goroutine) bool { return strings.Contains(g.Label("tether.task"), "quoted") })
	if quoted.Label("tether.task") != "app/\"quoted\"/line\nbreak\ttab]:{}" || quoted.Label("tether.group") != "app/\"quoted\"" {
		t.Errorf("labels %q", quoted.Labels)
	}
	deep := one(t, gs, "recursing", func(g *stack.Goroutine) bool { return g.HasFunc("main.deep") })
	if deep.Frames[0] != (stack.Frame{Func: "main.deep", File: deep.Frames[0].File, Line: genLine(t, "\t\t<-stop\n\t\treturn\n\t}\n\tdeep(")}) || len(deep.Frames) < 100 {
		t.Errorf("deep record: %d frames, top %+v", len(deep.Frames), deep.Frames[0])
	}
	box := one(t, gs, "in Box's method", topIs("main.(*Box[...]).WaitOnAVeryLongMethodNameThatGoesOnAndOnToTestLongNamesInDumps"))
	if box.Frames[0].Line != genLine(t, "\treturn <-ch") || !strings.HasSuffix(box.Frames[0].File, "gen/main.go") {
		t.Errorf("Box frame %+v", box.Frames[0])
	}
}

func TestParseGarbage(t *testing.T) {
	for _, in := range []string{
		"", "\n\n", "goroutine", "goroutine 5 [", "goroutine 5 running]:", "goroutine 0 [running]:",
		"goroutine 99999999999999999999999 [running]:", "goroutine -1 [x]:", "goroutine 5[x]:",
		"7 @", "7 x", "7@", "0 @ 0x1", "x", "\tfile.go:1", "created by main.main", "[originating from goroutine 1]:",
	} {
		if gs := stack.ParseFull([]byte(in)); len(gs) != 0 {
			t.Errorf("ParseFull(%q) = %+v, want nothing", in, gs)
		}
		if gs := stack.ParseProfile([]byte(in)); len(gs) != 0 {
			t.Errorf("ParseProfile(%q) = %+v, want nothing", in, gs)
		}
	}
}

// TestParseLive parses this process's own dumps, with labels, in both forms.
func TestParseLive(t *testing.T) {
	t.Setenv("GODEBUG", "tracebacklabels=1")
	stop := make(chan struct{})
	defer close(stop)
	parked := make(chan struct{})
	pprof.Do(context.Background(), pprof.Labels("tether.task", "live/<t>\n"), func(context.Context) {
		go func() { close(parked); <-stop }()
	})
	<-parked
	var self [64]byte
	id := stack.ID(self[:runtime.Stack(self[:], false)])
	if id == 0 {
		t.Fatalf("ID of %q = 0", self)
	}
	found := func(gs []stack.Goroutine) bool {
		return len(find(gs, func(g *stack.Goroutine) bool {
			return g.Label("tether.task") == "live/<t>\n" && strings.HasSuffix(g.Top(), "TestParseLive.func1.1")
		})) == 1
	}
	for range 1000 { // the goroutine is runnable for a moment after it closes parked
		buf := make([]byte, 1<<20)
		full := stack.ParseFull(buf[:runtime.Stack(buf, true)])
		if full[0].ID != id {
			t.Fatalf("the dump's first goroutine is %d, want the caller (%d)", full[0].ID, id)
		}
		var prof bytes.Buffer
		if err := pprof.Lookup("goroutine").WriteTo(&prof, 1); err != nil {
			t.Fatal(err)
		}
		if found(full) && found(stack.ParseProfile(prof.Bytes())) {
			return
		}
		runtime.Gosched()
	}
	t.Fatal("the labelled goroutine never showed, parked, in both dumps")
}

func TestID(t *testing.T) {
	for in, want := range map[string]uint64{
		"goroutine 18 [running]:\nmain.main()": 18,
		"goroutine 7 gp=0xc0 m=1 [running]:":   7,
		"goroutine 18":                         0,
		"goroutine x [running]:":               0,
		"":                                     0,
	} {
		if got := stack.ID([]byte(in)); got != want {
			t.Errorf("ID(%q) = %d, want %d", in, got, want)
		}
	}
}

func pprofGoroutine(w *bytes.Buffer) error { return pprof.Lookup("goroutine").WriteTo(w, 1) }
