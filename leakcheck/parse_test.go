package leakcheck

import (
	"context"
	"os"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"

	"github.com/tether-go/tether/internal/stack"
	"github.com/tether-go/tether/internal/track"
)

// The parser itself is internal/stack's, tested and fuzzed there; these
// tests keep leakcheck's own fixtures (which attribution_test.go feeds to
// snapshots) and the live dumps leakcheck takes read as it expects.

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFullFixture(t *testing.T) {
	gs := stack.ParseFull(readFixture(t, "full.txt"))
	want := []stack.Goroutine{
		{ID: 1, Count: 1, State: "running", Frames: []stack.Frame{{Func: "main.main", File: "/src/app/main.go", Line: 10}}},
		{
			ID: 21, Count: 1, State: "chan receive", Minutes: 3, Locked: true,
			Labels: []stack.Label{{Key: "tether.group", Value: "app"}, {Key: "tether.task", Value: `app/w<1>"x"`}},
			Frames: []stack.Frame{
				{Func: "example.com/app/worker.(*Pool[...]).run", File: "/src/app/worker/pool.go", Line: 42},
				{Func: "github.com/tether-go/tether/supervise.(*task).run", File: "/src/tether/supervise/task.go", Line: 120},
			},
			CreatedBy: stack.Frame{Func: "github.com/tether-go/tether/supervise.(*Group).Go", File: "/src/tether/supervise/group.go", Line: 88},
			Parent:    7,
		},
		{
			ID: 35, Count: 1, State: "select (no cases)", Durable: true, Bubble: 2, Truncated: true,
			Frames:    []stack.Frame{{Func: "main.forever", File: "/src/app/main.go", Line: 30}},
			CreatedBy: stack.Frame{Func: "main.main", File: "/src/app/main.go", Line: 22},
		},
		{
			ID: 40, Count: 1, State: "chan send", Leaked: true, Elided: 12,
			Frames:    []stack.Frame{{Func: "main.deep", File: "/src/app/deep.go", Line: 5}, {Func: "main.deep", File: "/src/app/deep.go", Line: 7}},
			CreatedBy: stack.Frame{Func: "main.start", File: "/src/app/main.go", Line: 50},
			Parent:    1,
		},
	}
	if !reflect.DeepEqual(gs, want) {
		t.Fatalf("ParseFull(full.txt):\n got %+v\nwant %+v", gs, want)
	}
}

func TestParseProfileFixture(t *testing.T) {
	gs := stack.ParseProfile(readFixture(t, "profile.txt"))
	want := []stack.Goroutine{
		{
			Count:  4,
			Labels: []stack.Label{{Key: "tether.group", Value: "app"}, {Key: "tether.task", Value: `app/w<1>"x"`}},
			Frames: []stack.Frame{
				{Func: "example.com/app/worker.(*Pool[...]).run", File: "/src/app/worker/pool.go", Line: 42},
				{Func: "github.com/tether-go/tether/supervise.(*task).run", File: "/src/tether/supervise/task.go", Line: 120},
			},
		},
		{Count: 3, Frames: []stack.Frame{{Func: "main.forever", File: "/src/app/main.go", Line: 30}}},
	}
	if !reflect.DeepEqual(gs, want) {
		t.Fatalf("ParseProfile(profile.txt):\n got %+v\nwant %+v", gs, want)
	}
}

func TestParseEmptyAndGarbage(t *testing.T) {
	for _, in := range []string{"", "\n\n", "goroutine", "goroutine 5 [", "goroutine 5 running]:", "7 @", "x"} {
		if gs := stack.ParseFull([]byte(in)); len(gs) != 0 {
			t.Errorf("ParseFull(%q) = %+v, want nothing", in, gs)
		}
		if gs := stack.ParseProfile([]byte(in)); len(gs) != 0 {
			t.Errorf("ParseProfile(%q) = %+v, want nothing", in, gs)
		}
	}
}

// parked starts a goroutine under labels that blocks until the test ends,
// and reports the line of its go statement.
func parked(t *testing.T, labels ...string) (line int) {
	t.Helper()
	stop := make(chan struct{})
	started := make(chan int)
	pprof.Do(context.Background(), pprof.Labels(labels...), func(context.Context) {
		_, _, l, _ := runtime.Caller(0)
		go func() { started <- l + 1; <-stop }()
	})
	t.Cleanup(func() { close(stop) })
	line = <-started
	// After its send the goroutine is runnable for a moment; wait until
	// a dump shows it parked on stop.
	loc := "parse_test.go:" + strconv.Itoa(line) + " "
	for range 10000 {
		for _, g := range stack.ParseFull(liveDump()) {
			if g.State == "chan receive" && len(g.Frames) > 0 && strings.HasSuffix(g.Frames[0].File, "parse_test.go") && g.Frames[0].Line == line {
				return line
			}
		}
		runtime.Gosched()
	}
	t.Fatalf("goroutine at %s never parked", loc)
	return line
}

func TestParseRealDumps(t *testing.T) {
	t.Setenv("GODEBUG", "") // restored after the test: labelsInTracebacks sets it
	if !labelsInTracebacks(true) {
		t.Fatal("labelsInTracebacks(true) with GODEBUG unset did not turn labels on")
	}
	task := `app/<script>"q"`
	line := parked(t, track.LabelGroup, "app", track.LabelTask, task)
	for _, mode := range []string{"full", "light"} {
		t.Run(mode, func(t *testing.T) {
			var gs []stack.Goroutine
			if mode == "full" {
				gs = stack.ParseFull(liveDump())
			} else {
				gs = stack.ParseProfile(lightDump())
			}
			var found *stack.Goroutine
			for i := range gs {
				if gs[i].Label(track.LabelTask) == task {
					found = &gs[i]
				}
			}
			if found == nil {
				t.Fatalf("no goroutine with task label %q in the %s dump", task, mode)
			}
			if found.Label(track.LabelGroup) != "app" {
				t.Errorf("group label = %q, want app", found.Label(track.LabelGroup))
			}
			if !strings.HasSuffix(found.Top(), "parked.func1.1") {
				t.Errorf("top function = %q, want the parked closure", found.Top())
			}
			if mode == "full" {
				if found.State != "chan receive" {
					t.Errorf("state = %q, want chan receive", found.State)
				}
				if found.CreatedBy.Line != line || !strings.HasSuffix(found.CreatedBy.File, "parse_test.go") {
					t.Errorf("created at %s:%d, want parse_test.go:%d", found.CreatedBy.File, found.CreatedBy.Line, line)
				}
			}
		})
	}
}

func TestTracebackLabelsRespectsGODEBUG(t *testing.T) {
	for _, tc := range []struct {
		name, env, wantEnv string
		enable, want       bool
	}{
		{"unset, asked", "", "tracebacklabels=1", true, true},
		{"other settings kept", "gctrace=0", "gctrace=0,tracebacklabels=1", true, true},
		{"explicitly off", "tracebacklabels=0", "tracebacklabels=0", true, false},
		{"explicitly on", "tracebacklabels=1", "tracebacklabels=1", true, true},
		{"last wins", "tracebacklabels=1,tracebacklabels=0", "tracebacklabels=1,tracebacklabels=0", true, false},
		// Without the option a snapshot leaves the environment alone.
		{"unset, not asked", "", "", false, false},
		{"other settings, not asked", "gctrace=0", "gctrace=0", false, false},
		{"on, not asked", "tracebacklabels=1", "tracebacklabels=1", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GODEBUG", tc.env)
			if got := labelsInTracebacks(tc.enable); got != tc.want {
				t.Errorf("labelsInTracebacks(%v) with GODEBUG=%q = %v, want %v", tc.enable, tc.env, got, tc.want)
			}
			if got := os.Getenv("GODEBUG"); got != tc.wantEnv {
				t.Errorf("GODEBUG after = %q, want %q", got, tc.wantEnv)
			}
		})
	}
}
