package stack_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tether-go/tether/internal/stack"
)

// The fuzz targets check the parsers against simple models:
//
//   - FuzzFull and FuzzProfile take any bytes (seeded with the real dumps
//     in testdata): the parser must not panic; it must find exactly the
//     goroutines (records) that a regular expression over the lines finds;
//     and what it returns, written back out in the runtime's form, must
//     parse to the same thing (nothing is invented or half-read).
//   - FuzzModel builds goroutines from the fuzzer's bytes (hostile labels,
//     ancestors, markers), writes them as the runtime does, and checks the
//     parse gives back exactly the model.
//
//	go test -fuzz FuzzFull ./internal/stack

func addDumps(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no dumps in testdata: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// headerModel is what a goroutine header looks like: an id, anything
// without a '[' (GOTRACEBACK=system's "gp=... m=..."), then the bracketed
// state and labels.
var headerModel = regexp.MustCompile(`^goroutine ([0-9]+) [^\[]*\[.*\]:$`)

func countHeaders(dump []byte) int {
	n := 0
	for _, line := range strings.Split(string(dump), "\n") {
		if m := headerModel.FindStringSubmatch(line); m != nil {
			if id, err := strconv.ParseUint(m[1], 10, 64); err == nil && id != 0 {
				n++
			}
		}
	}
	return n
}

var recordModel = regexp.MustCompile(`^([0-9]+) @ `)

func countRecords(dump []byte) int {
	n := 0
	for _, line := range strings.Split(string(dump), "\n") {
		if m := recordModel.FindStringSubmatch(line); m != nil {
			if c, err := strconv.ParseInt(m[1], 10, 0); err == nil && c > 0 {
				n++
			}
		}
	}
	return n
}

func FuzzFull(f *testing.F) {
	addDumps(f)
	f.Fuzz(func(t *testing.T, dump []byte) {
		gs := stack.ParseFull(dump)
		if got, want := len(gs), countHeaders(dump); got != want {
			t.Fatalf("%d goroutines parsed, %d header lines", got, want)
		}
		for _, g := range gs {
			if g.ID == 0 || g.Count != 1 {
				t.Fatalf("goroutine %d count %d", g.ID, g.Count)
			}
		}
		again := stack.ParseFull(renderFull(gs, strconv.Quote))
		if !same(gs, again) {
			t.Fatalf("parsed, written and parsed again, the dump changed:\n%+v\n%+v", gs, again)
		}
		if each := eachFull(dump); !same(gs, each) {
			t.Fatalf("EachFull differs from ParseFull:\n%+v\n%+v", each, gs)
		}
		// Asking for arguments changes nothing else, and keeps only
		// those of the functions asked about.
		i := 0
		stack.EachFullArgs(dump, fuzzArgFuncs, func(g *stack.Goroutine) {
			if i >= len(gs) || g.ID != gs[i].ID || len(g.Frames) != len(gs[i].Frames) {
				t.Fatalf("EachFullArgs goroutine %d differs from ParseFull's", i)
			}
			for _, a := range g.Args {
				if !slices.Contains(fuzzArgFuncs, a.Func) {
					t.Fatalf("an argument of %s, which was not asked about", a.Func)
				}
			}
			i++
		})
	})
}

// fuzzArgFuncs are functions of the recorded dumps whose arguments
// FuzzFull asks for.
var fuzzArgFuncs = []string{"main.main", "runtime.gopark", "github.com/tether-go/tether/supervise.(*task).run"}

// eachFull collects EachFull's goroutines, copying what it reuses.
func eachFull(dump []byte) []stack.Goroutine {
	var out []stack.Goroutine
	stack.EachFull(dump, func(g *stack.Goroutine) {
		c := *g
		c.Frames, c.Labels, c.Ancestors = slices.Clone(g.Frames), slices.Clone(g.Labels), slices.Clone(g.Ancestors)
		for i := range c.Ancestors {
			c.Ancestors[i].Frames = slices.Clone(c.Ancestors[i].Frames)
		}
		out = append(out, c)
	})
	return out
}

func FuzzProfile(f *testing.F) {
	addDumps(f)
	f.Fuzz(func(t *testing.T, dump []byte) {
		gs := stack.ParseProfile(dump)
		if got, want := len(gs), countRecords(dump); got != want {
			t.Fatalf("%d records parsed, %d record lines", got, want)
		}
		for _, g := range gs {
			if g.Count < 1 || g.ID != 0 || g.State != "" {
				t.Fatalf("record %+v", g)
			}
			for _, fr := range g.Frames {
				if fr.Func == "" {
					t.Fatalf("frame without a function: %+v", g.Frames)
				}
			}
		}
		again := stack.ParseProfile(renderProfile(gs))
		if !same(gs, again) {
			t.Fatalf("parsed, written and parsed again, the profile changed:\n%+v\n%+v", gs, again)
		}
	})
}

func FuzzModel(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x05\x03\x02\x07\x01\x09\x11\xff", strings.Repeat("\xa5\x13\x7e", 40)} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, seed []byte) {
		r := &source{b: seed}
		full, profile := modelGoroutines(r), modelRecords(r)
		if got := stack.ParseFull(renderFull(full, runtimeQuote)); !same(got, full) {
			t.Fatalf("full dump:\n got %+v\nwant %+v\ntext:\n%s", got, full, renderFull(full, runtimeQuote))
		}
		if got := eachFull(renderFull(full, runtimeQuote)); !same(got, full) {
			t.Fatalf("EachFull:\n got %+v\nwant %+v", got, full)
		}
		if got := stack.ParseProfile(renderProfile(profile)); !same(got, profile) {
			t.Fatalf("profile:\n got %+v\nwant %+v\ntext:\n%s", got, profile, renderProfile(profile))
		}
	})
}

// same compares parses; an empty result is empty whether nil or not.
func same(a, b []stack.Goroutine) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

// source hands out the fuzzer's bytes as small numbers, then zeros.
type source struct{ b []byte }

func (s *source) next(n int) int {
	if len(s.b) == 0 || n <= 0 {
		return 0
	}
	v := int(s.b[0])
	s.b = s.b[1:]
	return v % n
}

func pick[T any](s *source, from []T) T { return from[s.next(len(from))] }

var (
	states = []string{"running", "runnable", "syscall", "chan receive", "chan send", "select", "select (no cases)",
		"sync.Mutex.Lock", "sync.WaitGroup.Wait", "IO wait", "sleep", "chan receive (nil chan)", "GC worker (idle)",
		"semacquire", "sync.Cond.Wait", "synctest.Run", "unknown wait reason"}
	funcs = []string{"main.main", "main.worker", "example.com/app/db.(*Pool[...]).acquire", "main.run.func1.2",
		"github.com/tether-go/tether/supervise.(*task).run", "runtime.gopark", "panic", "net/http.(*conn).serve",
		"C.block", "non-Go function", "example.com/ünï/pkg.F", "main.(*T).M-fm"}
	files = []string{"/src/app/main.go", "/usr/local/go/src/runtime/proc.go", "_cgo_gotypes.go",
		"C:/Users/me/app with space/main.go", "/src/a:b/c.go", "<autogenerated>"}
	texts = []string{"app", "app/worker", "tether.task", "tether.group", "", "a, b", `"quoted"`, `back\slash`,
		"line\nbreak", "tab\there", "]:{}", " labels:{", "ünïcödé ☃", "\x00\x01\x7f", "\U0001F600", "<script>alert(1)</script>"}
)

// text returns a label key or value: one of texts, or up to 8 of the
// fuzzer's bytes made valid UTF-8 (the runtime quotes runes, so invalid
// bytes would not survive).
func text(s *source) string {
	if s.next(4) != 0 {
		return pick(s, texts)
	}
	var b []byte
	for range s.next(9) {
		b = append(b, byte(s.next(256)))
	}
	return strings.ToValidUTF8(string(b), string(utf8.RuneError))
}

func frames(s *source, max int) []stack.Frame {
	var out []stack.Frame
	for range s.next(max + 1) {
		f := stack.Frame{Func: pick(s, funcs)}
		if f.Func != "non-Go function" || s.next(2) == 0 {
			f.File, f.Line = pick(s, files), 1+s.next(5000)
		}
		out = append(out, f)
	}
	return out
}

func labels(s *source) []stack.Label {
	var out []stack.Label
	for range s.next(4) {
		out = append(out, stack.Label{Key: text(s), Value: text(s)})
	}
	return out
}

// modelGoroutines builds up to 6 goroutines as a runtime could print them.
func modelGoroutines(s *source) []stack.Goroutine {
	var gs []stack.Goroutine
	for i := range s.next(7) {
		g := stack.Goroutine{
			ID: uint64(1 + i + 1000*s.next(256)), Count: 1, State: pick(s, states),
			Leaked: s.next(4) == 0, Durable: s.next(4) == 0, Locked: s.next(4) == 0,
			Minutes: s.next(3) * s.next(100), Bubble: uint64(s.next(3)),
			Labels: labels(s), Frames: frames(s, 5), Elided: s.next(2) * s.next(200), Truncated: s.next(8) == 0,
		}
		if s.next(3) != 0 {
			g.CreatedBy = stack.Frame{Func: pick(s, funcs), File: pick(s, files), Line: 1 + s.next(999)}
			g.Parent = uint64(s.next(50))
		}
		for range s.next(3) {
			a := stack.Ancestor{ID: uint64(1 + s.next(99)), Frames: frames(s, 3), Truncated: s.next(2) == 0}
			if s.next(2) == 0 {
				a.CreatedBy = stack.Frame{Func: pick(s, funcs), File: pick(s, files), Line: 1 + s.next(99)}
			}
			g.Ancestors = append(g.Ancestors, a)
		}
		gs = append(gs, g)
	}
	return gs
}

// modelRecords builds up to 4 profile records.
func modelRecords(s *source) []stack.Goroutine {
	var gs []stack.Goroutine
	for range s.next(5) {
		g := stack.Goroutine{Count: 1 + s.next(1000), Labels: labels(s)}
		for _, f := range frames(s, 5) {
			if f.File == "" { // a profile always prints a location
				f.File, f.Line = pick(s, files), 1
			}
			g.Frames = append(g.Frames, f)
		}
		gs = append(gs, g)
	}
	return gs
}
