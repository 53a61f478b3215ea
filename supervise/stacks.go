package supervise

import (
	"bytes"
	"runtime/pprof"
	"strconv"
	"strings"

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
	want := make(map[string]string, len(paths)) // label text -> path
	for _, p := range paths {
		want[`"`+track.LabelTask+`":`+strconv.Quote(p)] = p
	}
	own := make(map[string][]string)    // path -> the task goroutine's stack
	others := make(map[string][]string) // path -> stacks of goroutines it started
	for _, rec := range strings.Split(buf.String(), "\n\n") {
		path, stack, isTask := parseRecord(rec, want)
		if path == "" {
			continue
		}
		if isTask {
			own[path] = append(own[path], stack)
		} else {
			others[path] = append(others[path], stack)
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

// parseRecord reads one record of a debug=1 goroutine profile:
//
//	1 @ 0x47d96e 0x4158ee 0x4dc839 0x483e81
//	# labels: {"tether.group":"app", "tether.task":"app/worker"}
//	#	0x4dc838	main.worker+0x18	/src/main.go:13
//
// It returns the task path whose label the record carries (or ""), the
// stack rendered as "function\n\tfile:line\n" lines, and whether it is the
// task's own goroutine (it runs the task's function).
func parseRecord(rec string, want map[string]string) (path, stack string, isTask bool) {
	var b strings.Builder
	count := ""
	for line := range strings.Lines(rec) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "# labels: "):
			labels := strings.Trim(strings.TrimPrefix(line, "# labels: "), "{}")
			for _, kv := range strings.Split(labels, ", ") {
				if p, ok := want[kv]; ok {
					path = p
				}
			}
		case strings.HasPrefix(line, "#\t"):
			// Fields are separated by one or more tabs (for alignment).
			f := strings.FieldsFunc(line, func(r rune) bool { return r == '\t' })
			if len(f) < 4 {
				continue
			}
			fn := f[2]
			if i := strings.LastIndex(fn, "+0x"); i > 0 {
				fn = fn[:i]
			}
			if strings.HasPrefix(fn, "github.com/tether-go/tether/supervise.") {
				// The task runner's own frames: they mark the task's
				// goroutine, and say nothing to the reader.
				isTask = isTask || strings.HasPrefix(fn, "github.com/tether-go/tether/supervise.(*task).run")
				continue
			}
			b.WriteString(fn)
			b.WriteString("\n\t")
			b.WriteString(f[3])
			b.WriteString("\n")
		case strings.Contains(line, " @ 0x"):
			count, _, _ = strings.Cut(line, " @ ")
		}
	}
	if path == "" {
		return "", "", false
	}
	if count != "" && count != "1" {
		return path, count + " goroutines:\n" + b.String(), isTask
	}
	return path, b.String(), isTask
}
