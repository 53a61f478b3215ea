package leakcheck

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Report is what was running or held at one moment. It is a plain value:
// build it with [Snapshot], print it with [Report.String], or marshal it to
// JSON (the field names below are stable).
type Report struct {
	// Taken is when the snapshot was taken.
	Taken time.Time `json:"taken"`
	// Mode is "full" (a goroutine dump with wait reasons, the default) or
	// "light" (the goroutine profile: stacks and owners, no wait reasons or
	// goroutine ids, and no stop-the-world pause to speak of).
	Mode string `json:"mode"`
	// Entries are the things that make the report unclean: tasks still
	// running, goroutines, leases, waiters, cleanup steps not run, and
	// problems objects report about themselves (a group never waited).
	Entries []Entry `json:"entries"`
	// Info holds what is worth knowing but is not a leak: the last version
	// conflict of each guard, and the last failures of each group's
	// Group.Run tasks (their callers got them).
	Info []Entry `json:"info,omitempty"`
	// Objects lists every live pool, group, scope and guard, with counters.
	Objects []Object `json:"objects"`
	// Notes say what limited the snapshot, e.g. goroutines could not be
	// attributed to tasks because GODEBUG sets tracebacklabels=0.
	Notes []string `json:"notes,omitempty"`
}

// The kinds of Entry.
const (
	KindTask         = "task"         // a supervised task still running
	KindGoroutine    = "goroutine"    // a goroutine started inside a task (Owner) by a raw go statement
	KindUnsupervised = "unsupervised" // a goroutine not started under any task
	KindBackground   = "background"   // a goroutine a pool (or other object) runs for itself until it is shut down
	KindLease        = "lease"        // a pool resource lent and not given back
	KindWaiter       = "waiter"       // a caller blocked in a pool's Acquire
	KindStep         = "step"         // a cleanup step not yet run
	KindProblem      = "problem"      // something an object reports about itself
	KindConflict     = "conflict"     // a guard's last version conflict (Info only)
	KindFailure      = "failure"      // one of the last failures of a group's Run tasks, returned to their callers (Info only)
)

// Entry is one thing running, held, or wrong. Field names are stable JSON.
type Entry struct {
	Kind string `json:"kind"`
	// ObjectKind and ObjectName say which pool, group, scope or guard the
	// entry belongs to ("pool", "db"); empty for goroutines.
	ObjectKind string `json:"object_kind,omitempty"`
	ObjectName string `json:"object_name,omitempty"`
	// Name is the task path, lease id, step name or goroutine id; for a
	// background goroutine, what it does ("watchdog").
	Name string `json:"name,omitempty"`
	// Owner is the path of the task that holds or started it; "" for none.
	Owner string `json:"owner,omitempty"`
	// Role is set instead of Owner for a goroutine that a task started,
	// or that runs a task, when which task cannot be told: the tasks of
	// one name share their pprof labels, and the dump shows no link to
	// one of them (its creator has ended, or a light snapshot has no
	// creators). It is the name they share, the group path and the task
	// name ("app/worker" for app/worker, app/worker#2...).
	Role string `json:"role,omitempty"`
	// Since is when it began (acquired, started, blocked); zero if unknown.
	Since time.Time `json:"since,omitzero"`
	// Age is Report.Taken minus Since, in nanoseconds in JSON.
	Age time.Duration `json:"age_ns,omitempty"`
	// State is the wait reason of a goroutine ("chan receive", "select",
	// "sync.Mutex.Lock") or the state of a lease or task ("held",
	// "running", "restarting"), or the text of a problem.
	State string `json:"state,omitempty"`
	// Site is where it began: the Go call, the Acquire call, the Defer
	// call, the go statement (created by), or where the object was created
	// (for a problem, and for a background goroutine, whose go statement
	// is tether's).
	Site Frame `json:"site,omitzero"`
	// Stack is the top of the goroutine's stack, innermost first.
	Stack []Frame `json:"stack,omitempty"`
	// Goroutine is the runtime's goroutine id (full mode only).
	Goroutine uint64 `json:"goroutine,omitempty"`
	// Parent is the id of the goroutine that started this one, when the
	// runtime printed it (full mode).
	Parent uint64 `json:"parent,omitempty"`
	// Test is the top-level test, benchmark, example or fuzz function the
	// entry began in, when that can be told: from its site, its stack, or
	// the stacks of the goroutines that started it, if they still run.
	Test string `json:"test,omitempty"`
	// Count is how many identical goroutines the entry stands for (light
	// mode groups them); 0 or 1 means one.
	Count int `json:"count,omitempty"`
	// Detail is extra text for people.
	Detail string `json:"detail,omitempty"`

	// For an entry with a Role: how many tasks with it were running, and
	// whether the goroutine runs one of them (rather than was started by
	// one).
	running  int
	runsTask bool
}

// Object is one registered pool, group, scope or guard.
type Object struct {
	Kind     string           `json:"kind"`
	Name     string           `json:"name"`
	Owner    string           `json:"owner,omitempty"`
	Created  time.Time        `json:"created,omitzero"`
	Site     Frame            `json:"site,omitzero"`
	Counters map[string]int64 `json:"counters,omitempty"`
	Problems []string         `json:"problems,omitempty"`

	// order keeps the counters in the order the object gave them, for
	// people; JSON uses the map.
	order []string
}

// Frame is one source location.
type Frame struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
}

// IsZero reports whether the frame is unknown.
func (f Frame) IsZero() bool { return f.Function == "" && f.File == "" }

// String renders "file.go:LINE pkg.Function", the form a person searches for.
func (f Frame) String() string {
	if f.IsZero() {
		return "unknown site"
	}
	loc := escape(filepath.Base(f.File))
	if f.Line > 0 {
		loc += ":" + strconv.Itoa(f.Line)
	}
	if f.Function == "" {
		return loc
	}
	return loc + " " + escape(shortFunc(f.Function))
}

// Clean reports whether nothing is running or held.
func (r *Report) Clean() bool { return len(r.Entries) == 0 }

func frameOfSite(s track.Site) Frame {
	f, ok := s.Frame()
	if !ok {
		return Frame{}
	}
	return Frame{Function: f.Function, File: f.File, Line: f.Line}
}

// shortFunc trims the import path: "github.com/x/app/db.(*Conn).Close"
// becomes "db.(*Conn).Close".
func shortFunc(fn string) string {
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		return fn[i+1:]
	}
	return fn
}
