// Package supervise runs groups of named tasks that never swallow a failure.
//
// A [Group] is errgroup with names, identities and memory: every task has a
// path, every failure (error, panic, timeout, runtime.Goexit) is reported at
// once as an event and a log line and comes back from [Group.Wait], and a
// goroutine dump or leak report names the task that owns each goroutine.
//
//	g := supervise.New(ctx, "app")
//	g.Go("http", serveHTTP)
//	g.Go("sync", syncLoop, supervise.Restart(supervise.Policy{}))
//	g.Defer("db", func(ctx context.Context) error { return db.Close() })
//	if err := g.Wait(); err != nil {
//		log.Print(err) // supervise: task "app/sync" (started at main.go:31) panicked at sync.go:88: ...
//	}
//
// # Paths and labels
//
// A root group's path is its name. A task's path is its group's path, "/",
// and its name, with "#2", "#3"... for the second, third... task of that
// name in the group: "app/worker", "app/worker#2". Numbers are never reused
// within a group, so a path names one task instance in events, errors and
// reports. A group created with a task's context is that task's child, and
// its path continues the task's: New(ctx, "conns") inside task "app/http"
// is "app/http/conns" (a second child of the same name is
// "app/http/conns#2"), and its tasks are "app/http/conns/handler"...
//
// Names must not be empty or contain '#'; group names must not contain '/'
// either (a task's name may: a request task is named by its route, "GET
// /orders/{id}"). Use a small set of role names ("handler", not
// "handler-"+id): each group keeps a record per distinct name. Give root
// groups distinct names (a service has one, under supervise.Main).
//
// Each task's context carries its identity (package pool records it as a
// lease's holder, package guard as a value's writer), and each task runs
// under the pprof labels "tether.group" (the group's path) and "tether.task"
// (the group's path and the task's name, without its number: all the tasks
// of a name share one label set). Goroutines a task starts inherit the
// labels, so goroutine profiles and leak reports name their owner's role.
//
// # Failures
//
// A failure is a task that returned an error, panicked, timed out or called
// runtime.Goexit. It is logged at once (Error level) and passed to the
// [OnEvent] hook; a panic is reported at the moment it is recovered, with its
// stack. By default the first failure cancels the group's context with the
// *[TaskError] as its cause (context.Cause), so siblings stop and can tell
// why; [ContinueOnError] keeps them running. A task started after the
// group's context is done does not run: it is reported as skipped.
//
// Wait returns nil or one error listing every failure (errgroup returns
// the first, and conc re-panics a panic in Wait); errors.As finds each
// *[TaskError], and through it the task's error or *[PanicError]. An error
// that only echoes the group's cancellation (a sibling's task returning
// context.Canceled after the first failure) is not a failure: it is
// reported as a Canceled event only. If the parent's context cancels the
// group while tasks are working, Wait says so, wrapping the parent's cause.
//
// [Group.Run] runs a function as a task on the calling goroutine (a request
// on net/http's goroutine, see package supervise/httptask): its failure is
// returned to its caller instead, and does not cancel the group.
//
// # Rules
//
// Wait (or Shutdown) must be called: it is where failures are returned and
// Defers run. A group garbage-collected with failures nobody has seen is
// reported: it is logged, and kept as a record that every later leak report
// lists, naming where it was created and the failures. Go, TryGo and Run
// must not be called after Wait or Shutdown returned; they panic. The
// OnEvent hook runs on the tasks' goroutines and must not block; a panic in
// it, or in the logger's handler, is recovered and returned by Wait.
//
// # Main
//
// [Main] is the body of a service's func main: it runs the root group on a
// context that SIGINT and SIGTERM stop, waits until the tasks end, one
// fails or a signal comes, shuts the group down within a deadline, runs
// the Defers, prints a leak report (package leakcheck) if anything is left
// running or held, and exits 0, or 1 naming every failure. Its exit, its
// signals and its output are options, so it can be tested and embedded.
//
// # Cost
//
// A task is a goroutine plus two allocations (its record, which is also its
// context, and its goroutine's closure), one read of the monotonic clock
// (its start), the group's lock twice (to start and to end), and setting
// its pprof labels on the goroutine. Its path is built only when something
// asks for it (an event that is logged, an error, Tasks, a pool lease or a
// guard write; with an [OnEvent] hook, when Go is called: a third
// allocation), and its labels once per task name, not per task. No event
// is built, and the clock is not read again at its end, unless the hook is
// set or the logger is enabled at the event's level (TestAllocationsPerTask
// holds the counts). A group costs, besides what
// errgroup.WithContext costs, a clock read, its registration for leak
// reports, and the labels of each task name (three allocations).
//
// BenchmarkGoWait runs tether, errgroup, conc and plain goroutines side by
// side (impl=tether-nolabels and impl=tether-hook show what labels and
// events cost); BenchmarkNewWait measures a group with zero and one task
// against errgroup.WithContext; BenchmarkRun measures Group.Run against
// pprof.Do and a plain call; BenchmarkClock and BenchmarkRegistry measure
// a clock read and a registration alone.
//
// That is noise next to any task doing I/O, and the price of a name, a
// label, an identity and a report for every goroutine. For fan-outs of tiny
// CPU-bound work items, run a worker per core under supervise and feed it
// the items. A panic costs tens of microseconds more (its stack is
// captured), paid only when it happens.
//
// Start times (TaskInfo.Since, TaskError.Start, the times of events) are
// read on the monotonic clock since the group's creation, so they do not
// follow wall-clock steps made while the group runs.
package supervise
