// Package leakcheck reports everything still running or held in a program:
// supervised tasks, goroutines started inside tasks, goroutines tether's
// own objects run (a pool's watchdog), unsupervised goroutines, pool leases
// and waiters, cleanup steps not yet run, groups never waited, and guard
// conflicts. Each entry says what it is, which task owns it, how long it
// has been there, what it is waiting on, and the file:line and function
// where it began.
//
// The same report serves three places:
//
//   - in tests: [VerifyNone] at the end of a test and [VerifyTestMain] in
//     TestMain fail with the report when something was left behind, naming
//     the test that left it. They take small interfaces ([TestingT],
//     [TestingM]), so a program that imports leakcheck does not link package
//     testing;
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
//	task "app/sync"
//	  task "app/sync": chan receive, running 4.2s, started at main.go:40 main.run
//	      sync.go:88 main.syncLoop
//	  lease #3 of pool "db", held for 4.2s, acquired at sync.go:80 main.syncLoop
//
// A lease's site is the line that called Acquire; a task's is the line that
// called Go; a goroutine's is its go statement; a pool's watchdog's is the
// line that created the pool. Names come quoted, and any text from a user
// that does not print as one plain line is escaped, so no name can forge a
// line of the report.
//
// # Where the information comes from
//
// Pools, groups, scopes and guards register themselves in tether's internal
// registry and describe their live state when asked; that part costs
// nothing until a snapshot is taken. Goroutines come from the runtime: a
// full snapshot parses runtime.Stack(all), which carries wait reasons,
// goroutine ids and creation sites. A task's own goroutine is found by
// supervise's frame that runs it, whose receiver (printed by the runtime as
// the frame's first argument) is the task's record. supervise puts pprof
// labels on every task's goroutine, and goroutines a task starts with a
// plain go statement inherit them: that is how a goroutine is matched to
// the task that started it. The tasks of one name in a group share their
// labels ("app/worker" for app/worker, app/worker#2...), so a goroutine
// is given to one of them only when the dump shows it: its creator, or its
// creator's creator with the same labels, is that task's goroutine; or no
// other task ever had the name. Otherwise it is listed under the name
// ([Entry.Role]), with how many such tasks run: "started by a task
// "app/worker" (2 running)". A full dump prints labels only under GODEBUG
// tracebacklabels=1, which is off by default; leakcheck turns it on (for
// the whole process) only when asked, with [TracebackLabels], as
// supervise.Main does. Without it, the report says in its Notes what it
// could not attribute: goroutines started inside tasks are listed as
// unsupervised. A [Light] snapshot reads the goroutine profile, which
// always carries labels but has no goroutine ids or creators: the
// goroutines of tasks that share a name are given to them only when they
// are identical, and otherwise listed under the name.
//
// A report also lists, apart from its entries, the last failures of each
// group's Group.Run tasks (a server's requests): they were returned to
// their callers, so they are not leaks, but they are worth seeing.
//
// The runtime's own "N minutes" blocked figure is only updated by the
// garbage collector and is not shown; ages come from tether's own
// timestamps (when a task started, a lease was acquired, a waiter blocked).
//
// # Cost
//
// A full snapshot stops the world while the runtime writes every
// goroutine's stack, about 2 µs per goroutine; parsing and building the
// report happen after the pause. BenchmarkSnapshot runs it side by side
// with runtime.Stack(all) alone and with goleak.Find: at 10,000 goroutines
// a full snapshot costs under 1.5x runtime.Stack(all) (the dump is written
// into the last snapshot's buffer when it fits, then parsed and turned
// into one entry per goroutine), and goleak.Find several times a full
// snapshot. A [Light] snapshot barely pauses the program (well
// under a millisecond at 10,000 goroutines), which is why [Handler] uses it
// by default, but has no wait reasons and no goroutine ids. Neither is for
// a hot path.
//
// # Ignoring goroutines
//
// The testing framework's and the runtime's own goroutines are never
// reported. [IgnoreTopFunction], [IgnoreCreatedBy] and [IgnoreCurrent] skip
// others, in the style of go.uber.org/goleak.
package leakcheck
