package supervise

import (
	"bytes"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/tether-go/tether/internal/stack"
	"github.com/tether-go/tether/internal/track"
)

// taskStacks returns the stacks of the goroutines labelled with each task
// path (the task's own goroutine first, then those it started), from the
// goroutine profile at debug=1.
//
// That profile carries pprof labels whatever GODEBUG says. The alternative,
// runtime.Stack of every goroutine, shows labels only with
// GODEBUG=tracebacklabels=1, a process-wide setting that Shutdown would have
// to switch on and off around the dump (racing any other goroutine that
// dumps or reads GODEBUG), and it stops the world for the whole dump (tens
// of milliseconds with 10,000 goroutines; the profile stops it for well
// under one). With 1,000 parked goroutines both take about 2ms here
// (BenchmarkTaskStacks). What the profile lacks is the wait reason and the
// runtime's own frames: the top frame is the line of user code that blocks.
func taskStacks(paths []string) map[string]string {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return nil
	}
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[p] = true
	}
	own := make(map[string][]string)    // path -> the task goroutine's stack
	others := make(map[string][]string) // path -> stacks of goroutines it started
	for _, rec := range stack.ParseProfile(buf.Bytes()) {
		path := rec.Label(track.LabelTask)
		if !want[path] {
			continue
		}
		if text := renderRecord(&rec); rec.HasFunc(track.FuncTaskRun) {
			own[path] = append(own[path], text)
		} else {
			others[path] = append(others[path], text)
		}
	}
	out := make(map[string]string, len(paths))
	for _, p := range paths {
		var b strings.Builder
		for _, s := range own[p] {
			b.WriteString(s)
		}
		if n := len(others[p]); n > 0 {
			b.WriteString("and goroutines it started:\n")
			for _, s := range others[p] {
				b.WriteString(s)
			}
		}
		out[p] = b.String()
	}
	return out
}

// renderRecord writes one record of the goroutine profile as
// "function\n\tfile:line\n" lines, led by "N goroutines:" when the record
// stands for several. supervise's own frames (the task runner) are left
// out: they say nothing to the reader.
func renderRecord(rec *stack.Goroutine) string {
	var b strings.Builder
	if rec.Count > 1 {
		b.WriteString(strconv.Itoa(rec.Count) + " goroutines:\n")
	}
	for _, f := range rec.Frames {
		if strings.HasPrefix(f.Func, "github.com/tether-go/tether/supervise.") {
			continue
		}
		b.WriteString(f.Func + "\n\t" + f.File + ":" + strconv.Itoa(f.Line) + "\n")
	}
	return b.String()
}
