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
)

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseFullFixture(t *testing.T) {
	gs := parseFull(readFixture(t, "full.txt"))
	want := []goroutine{
		{id: 1, count: 1, state: "running", frames: []frame{{"main.main", "/src/app/main.go", 10}}},
		{
			id: 21, count: 1, state: "chan receive", minutes: 3,
			group: "app", task: `app/w<1>"x"`, labels: true,
			frames: []frame{
				{"example.com/app/worker.(*Pool[...]).run", "/src/app/worker/pool.go", 42},
				{"github.com/tether-go/tether/supervise.(*Group).runTask", "/src/tether/supervise/task.go", 120},
			},
			created: frame{"github.com/tether-go/tether/supervise.(*Group).Go", "/src/tether/supervise/group.go", 88},
			parent:  7,
		},
		{
			id: 35, count: 1, state: "select (no cases)",
			frames:  []frame{{"main.forever", "/src/app/main.go", 30}},
			created: frame{"main.main", "/src/app/main.go", 22},
		},
		{
			id: 40, count: 1, state: "chan send (leaked)",
			frames:  []frame{{"main.deep", "/src/app/deep.go", 5}, {"main.deep", "/src/app/deep.go", 7}},
			created: frame{"main.start", "/src/app/main.go", 50},
			parent:  1,
		},
	}
	if !reflect.DeepEqual(gs, want) {
		t.Fatalf("parseFull(full.txt):\n got %+v\nwant %+v", gs, want)
	}
}

func TestParseProfileFixture(t *testing.T) {
	gs := parseProfile(readFixture(t, "profile.txt"))
	want := []goroutine{
		{
			count: 4, group: "app", task: `app/w<1>"x"`, labels: true,
			frames: []frame{
				{"example.com/app/worker.(*Pool[...]).run", "/src/app/worker/pool.go", 42},
				{"github.com/tether-go/tether/supervise.(*Group).runTask", "/src/tether/supervise/task.go", 120},
			},
		},
		{count: 3, frames: []frame{{"main.forever", "/src/app/main.go", 30}}},
	}
	if !reflect.DeepEqual(gs, want) {
		t.Fatalf("parseProfile(profile.txt):\n got %+v\nwant %+v", gs, want)
	}
}

func TestParseEmptyAndGarbage(t *testing.T) {
	for _, in := range []string{"", "\n\n", "goroutine", "goroutine 5 [", "goroutine 5 running]:", "7 @", "x"} {
		if gs := parseFull(in); len(gs) != 0 {
			t.Errorf("parseFull(%q) = %+v, want nothing", in, gs)
		}
		if gs := parseProfile(in); len(gs) != 0 {
			t.Errorf("parseProfile(%q) = %+v, want nothing", in, gs)
		}
	}
}

// parked starts a goroutine under labels that blocks until the returned
// func is called, and reports the line of its go statement.
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
		for _, g := range parseFull(fullDump()) {
			if g.state == "chan receive" && len(g.frames) > 0 && strings.HasSuffix(g.frames[0].file, "parse_test.go") && g.frames[0].line == line {
				return line
			}
		}
		runtime.Gosched()
	}
	t.Fatalf("goroutine at %s never parked", loc)
	return line
}

func TestParseRealDumps(t *testing.T) {
	if !tracebackLabels() {
		t.Skip("GODEBUG sets tracebacklabels=0")
	}
	task := `app/<script>"q"`
	line := parked(t, labelGroup, "app", labelTask, task)
	for _, mode := range []string{"full", "light"} {
		t.Run(mode, func(t *testing.T) {
			var gs []goroutine
			if mode == "full" {
				gs = parseFull(fullDump())
			} else {
				gs = parseProfile(lightDump())
			}
			var found *goroutine
			for i := range gs {
				if gs[i].task == task {
					found = &gs[i]
				}
			}
			if found == nil {
				t.Fatalf("no goroutine with task label %q in the %s dump", task, mode)
			}
			if found.group != "app" {
				t.Errorf("group label = %q, want app", found.group)
			}
			if !strings.HasSuffix(found.topFunction(), "parked.func1.1") {
				t.Errorf("top function = %q, want the parked closure", found.topFunction())
			}
			if mode == "full" {
				if found.state != "chan receive" {
					t.Errorf("state = %q, want chan receive", found.state)
				}
				if found.created.line != line || !strings.HasSuffix(found.created.file, "parse_test.go") {
					t.Errorf("created at %s:%d, want parse_test.go:%d", found.created.file, found.created.line, line)
				}
			}
		})
	}
}

func TestTracebackLabelsRespectsGODEBUG(t *testing.T) {
	for _, tc := range []struct {
		name, env, wantEnv string
		want               bool
	}{
		{"unset", "", "tracebacklabels=1", true},
		{"other settings kept", "gctrace=0", "gctrace=0,tracebacklabels=1", true},
		{"explicitly off", "tracebacklabels=0", "tracebacklabels=0", false},
		{"explicitly on", "tracebacklabels=1", "tracebacklabels=1", true},
		{"last wins", "tracebacklabels=1,tracebacklabels=0", "tracebacklabels=1,tracebacklabels=0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GODEBUG", tc.env)
			if got := tracebackLabels(); got != tc.want {
				t.Errorf("tracebackLabels() with GODEBUG=%q = %v, want %v", tc.env, got, tc.want)
			}
			if got := os.Getenv("GODEBUG"); got != tc.wantEnv {
				t.Errorf("GODEBUG after = %q, want %q", got, tc.wantEnv)
			}
		})
	}
}
