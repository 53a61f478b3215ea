package track

import "time"

// Kind names what a registered object is.
type Kind string

// The kinds of object that register themselves.
const (
	KindPool  Kind = "pool"
	KindGroup Kind = "group"
	KindScope Kind = "scope"
	KindGuard Kind = "guard"
)

// ItemKind names one live thing inside a registered object.
type ItemKind string

// The kinds of live things objects report.
const (
	ItemLease    ItemKind = "lease"    // a pool resource lent out
	ItemWaiter   ItemKind = "waiter"   // a caller blocked in Acquire
	ItemTask     ItemKind = "task"     // a running (or restarting, or queued) task
	ItemStep     ItemKind = "step"     // a cleanup step not yet run
	ItemConflict ItemKind = "conflict" // the last version conflict of a guard
	// ItemFailure is one of the last failures an object returned to its
	// caller (a group's Run task): worth a report's reader knowing, not
	// a leak.
	ItemFailure ItemKind = "failure"
)

// State is what a registered object says about itself when a snapshot asks.
// The describe function that builds it runs outside the registry's locks and
// must take only the object's own locks, briefly.
type State struct {
	Kind    Kind
	Name    string    // pool, guard or scope name; group path
	Owner   string    // path of the task that created the object, if any
	Created time.Time // when New was called
	Site    Site      // where New was called

	// Counters are named numbers in a stable order, e.g. "in_use", "max_size",
	// "conflicts". Names are lower_snake_case.
	Counters []Counter

	// Items are the live things the object holds: leases, waiters, tasks,
	// pending steps. Empty when the object is quiet.
	Items []Item

	// Problems are findings about the object itself that make a report
	// unclean, e.g. "never waited" or "2 failures never observed". Each is a
	// short lower-case phrase.
	Problems []string

	// ID and Goroutines are filled in by Snapshot, whatever describe
	// returns. ID is the object's registration (a Lost record's, for one),
	// which goroutines started with Handle.Go carry in their LabelObject
	// label. Goroutines are those goroutines, while they run.
	ID         uint64
	Goroutines []Goroutine
}

// Goroutine is a goroutine an object started for itself with Handle.Go.
type Goroutine struct {
	Name string // what it does: "watchdog"
	ID   uint64 // the runtime's goroutine id
}

// Counter is one named number in a State.
type Counter struct {
	Name  string
	Value int64
}

// Item is one live thing inside a registered object.
type Item struct {
	Kind  ItemKind
	Name  string    // task path, lease id ("#3"), step name
	Owner string    // path of the task that holds or runs it; "" for none
	Since time.Time // acquired, started, or blocked since
	State string    // "held", "waiting", "running", "restarting", "pending"...
	Site  Site      // where it began: Acquire, Go, Defer, the conflicting write
	// Detail is optional extra text for people, e.g. "held past LeakAfter
	// (5s)" or "lost to app/b at scores.go:40".
	Detail string

	// For a task, how leakcheck finds its goroutines in a dump. Label is
	// the value of its LabelTask label ("" when it runs without labels),
	// which the tasks of one name in a group share: it names the role,
	// Name the instance. Shared is set when the group has started more
	// than one task with that label (live or ended), so the label alone
	// does not say which task a goroutine carrying it belongs to. Runner
	// is the address of supervise's record of the task: the receiver of
	// FuncTaskRun (or FuncTaskRunHere) on the task's goroutine, which a
	// full dump prints as that frame's first argument.
	Label  string
	Shared bool
	Runner uint64
}
