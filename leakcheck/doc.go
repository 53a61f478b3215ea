// Package leakcheck reports everything still running or held in a program:
// supervised tasks, goroutines started inside tasks, unsupervised goroutines,
// pool leases and waiters, cleanup steps not yet run, groups never waited,
// and guard conflicts. Each entry says what it is, which task owns it, how
// long it has been there, what it is waiting on, and the file:line and
// function where it began.
//
// The same report serves three places:
//
//   - in tests: [VerifyNone] at the end of a test and [VerifyTestMain] in
//     TestMain fail with the report when something was left behind;
//   - at shutdown: supervise.Main prints it when the service did not stop
//     clean;
//   - live: [Handler] serves it as an HTML page and as JSON.
//
// # Reading a report
//
// [Report.String] starts with a summary line ("2 leases held in pool "db",
// 1 task still running, 3 unsupervised goroutines"), then lists entries
// grouped by the task that owns them, oldest first:
//
//	task app/sync
//	  task app/sync: chan receive, running 4.2s, started at main.go:40 main.run
//	      sync.go:88 main.syncLoop
//	  lease #3 of pool "db": held, held 4.2s, acquired at sync.go:80 main.syncLoop
//
// A lease's site is the line that called Acquire; a task's is the line that
// called Go; a goroutine's is its go statement.
//
// # Where the information comes from
//
// Pools, groups, scopes and guards register themselves in tether's internal
// registry and describe their live state when asked; that part costs
// nothing until a snapshot is taken. Goroutines come from the runtime: a
// full snapshot parses runtime.Stack(all), which carries wait reasons and
// creation sites and, with GODEBUG tracebacklabels=1, the pprof labels that
// supervise puts on every task's goroutine. Those labels are how a goroutine
// is matched to its task, including goroutines a task starts with a plain go
// statement, which inherit them. The first full snapshot turns that GODEBUG
// setting on for the process unless GODEBUG already sets it (see [Snapshot]).
//
// The runtime's own "N minutes" blocked figure is only updated by the
// garbage collector and is not shown; ages come from tether's own
// timestamps (when a task started, a lease was acquired, a waiter blocked).
//
// # Cost
//
// A full snapshot stops the world while the runtime writes every
// goroutine's stack: about 2 µs per goroutine on the 2-core development VM
// (17-25 ms at 10,000 goroutines), and parsing, attribution and building the
// report take about as long again, outside the pause: a full snapshot of
// 10,000 goroutines took 2x runtime.Stack(all) alone, and goleak.Find 4-5x
// a full snapshot (BenchmarkSnapshot). A [Light] snapshot reads the goroutine profile
// instead: no wait reasons or goroutine ids, but its longest pause was
// 0.03 ms at 10,000 goroutines, which is why [Handler] uses it by
// default. Neither is for a hot path.
//
// # Ignoring goroutines
//
// The testing framework's and the runtime's own goroutines are never
// reported. [IgnoreTopFunction], [IgnoreCreatedBy] and [IgnoreCurrent] skip
// others, in the style of go.uber.org/goleak.
package leakcheck
