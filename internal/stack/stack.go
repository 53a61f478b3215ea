// Package stack parses the goroutine dumps the Go runtime writes, in the
// two text forms tether reads:
//
//   - the full dump: runtime.Stack(buf, true), which is also the goroutine
//     profile at debug=2 and what a crash prints. Each goroutine has an id,
//     a header with its wait reason ("chan receive", "select"), markers
//     ("(durable)" in a synctest bubble, "(leaked)" once the collector has
//     proved it can never wake), the blocked-for minutes, and, under GODEBUG
//     tracebacklabels=1, its pprof labels; then its frames, the "created by"
//     frame, and under GODEBUG tracebackancestors the stacks of the
//     goroutines that created it.
//   - the goroutine profile at debug=1: goroutines with the same stack and
//     labels grouped into one record with a count, always with labels, but
//     with no ids, wait reasons or creation frames.
//
// leakcheck builds its reports from these, and supervise names the stacks of
// tasks that do not stop. Both parse with this one package, which is fuzzed
// (FuzzFull, FuzzProfile) with a corpus of real dumps in testdata.
//
// Parsing works on the dump's bytes in place: only the strings a caller
// keeps are made, and each function name, file path, wait reason and label
// is made once per dump however many goroutines repeat it. Malformed lines
// are skipped, never fatal: a dump cut short by a full buffer parses up to
// where it ends.
package stack

// Goroutine is one goroutine of a full dump, or one record of a profile (a
// group of Count goroutines with the same stack and labels).
type Goroutine struct {
	// ID is the runtime's goroutine id; 0 in a profile.
	ID uint64
	// Count is how many goroutines the record stands for: 1 in a full dump.
	Count int
	// State is the wait reason ("chan receive", "select", "sync.Mutex.Lock")
	// or status ("running", "runnable", "syscall") without the markers
	// below; "" in a profile.
	State string
	// Minutes is how long the goroutine has been blocked, in whole
	// minutes, when the runtime printed it (only from 1 minute on, and
	// only once a garbage collection has stamped the wait).
	Minutes int
	// Leaked: "(leaked)", the garbage collector proved the goroutine
	// blocked on something nothing else can reach (the goroutineleak
	// profile of GOEXPERIMENT=goroutineleakprofile).
	Leaked bool
	// Durable: "(durable)", the goroutine is durably blocked inside a
	// synctest bubble. Wait reasons that carry the marker in their own name
	// ("chan receive (durable)") set it too, and lose it from State.
	Durable bool
	// Locked: "locked to thread" (runtime.LockOSThread).
	Locked bool
	// Bubble is the synctest bubble the goroutine belongs to; 0 for none.
	Bubble uint64
	// Labels are the goroutine's pprof labels, in the order printed: a full
	// dump shows them only under GODEBUG tracebacklabels=1; a profile
	// always does.
	Labels []Label
	// Frames are the goroutine's frames, innermost first.
	Frames []Frame
	// Elided is how many frames the runtime left out in the middle of a
	// deep stack ("...N frames elided...").
	Elided int
	// Truncated: the runtime said "...additional frames elided..." without
	// a count (older runtimes).
	Truncated bool
	// CreatedBy is the go statement that started the goroutine: the
	// function containing it and its line. Zero for the main goroutine and
	// in a profile.
	CreatedBy Frame
	// Parent is the id of the goroutine that ran the go statement, when the
	// runtime printed it ("created by ... in goroutine N").
	Parent uint64
	// Args are the first arguments of the goroutine's frames of the
	// functions EachFullArgs was asked about, innermost first: only those
	// the runtime printed exactly (a word, not "0x1?" or "{...}").
	Args []Arg
	// Ancestors are the stacks of the goroutines that created this one,
	// parent first, as they were when each ran its go statement: only
	// under GODEBUG tracebackancestors=N.
	Ancestors []Ancestor
}

// Arg is the first argument of a frame, as a full dump prints it: for a
// method, its receiver (a pointer, for a pointer receiver).
type Arg struct {
	Func  string
	Value uint64
}

// Ancestor is the stack of a goroutine's creator at the moment it ran the go
// statement ("[originating from goroutine N]:").
type Ancestor struct {
	ID        uint64
	Frames    []Frame
	Truncated bool  // "...additional frames elided..."
	CreatedBy Frame // the ancestor's own creation site
}

// Frame is one frame: a function and the line it was at.
type Frame struct {
	// Func is the fully qualified function name as the runtime prints it,
	// without arguments: "example.com/app.(*Pool[...]).run". A C frame the
	// runtime cannot name is "non-Go function".
	Func string
	// File and Line are where the frame was; File is "" and Line 0 when
	// the dump did not say.
	File string
	Line int
}

// Label is one pprof label.
type Label struct{ Key, Value string }

// Label returns the value of the goroutine's label key, or "".
func (g *Goroutine) Label(key string) string {
	for _, l := range g.Labels {
		if l.Key == key {
			return l.Value
		}
	}
	return ""
}

// HasFunc reports whether any frame of g runs the function fn.
func (g *Goroutine) HasFunc(fn string) bool {
	for i := range g.Frames {
		if g.Frames[i].Func == fn {
			return true
		}
	}
	return false
}

// Top returns the innermost frame's function, or "".
func (g *Goroutine) Top() string {
	if len(g.Frames) == 0 {
		return ""
	}
	return g.Frames[0].Func
}

// ID returns the id of the goroutine whose stack header starts buf, as
// runtime.Stack(buf, false) writes it ("goroutine 18 [running]:"), or 0.
// A 64-byte buffer holds any header's id.
func ID(buf []byte) uint64 {
	rest, ok := cutPrefix(buf, "goroutine ")
	if !ok {
		return 0
	}
	id, n := parseUint(rest)
	if n == 0 || n == len(rest) || rest[n] != ' ' {
		return 0
	}
	return id
}
