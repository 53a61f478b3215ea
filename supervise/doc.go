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
// # Paths
//
// A root group's path is its name. A task's path is its group's path, "/",
// and its name, with "#2", "#3"... for the second, third... task of that
// name in the group: "app/worker", "app/worker#2". Numbers are never reused
// within a group, so a path names one task instance: a goroutine a task left
// behind still carries a label that no later task has. A group created with
// a task's context is that task's child, and its path continues the task's:
// New(ctx, "conns") inside task "app/http" is "app/http/conns" (a second
// child of the same name is "app/http/conns#2"), and its tasks are
// "app/http/conns/handler", "app/http/conns/handler#2"...
//
// Names must not be empty or contain '#'; group names must not contain '/'
// either (a task's name may: a request task is named by its route, "GET
// /orders/{id}"). Use a small set of role
// names ("handler", not "handler-"+id): each group keeps a counter per
// distinct name, and the detail of each request belongs in its logs. Give
// root groups distinct names (a service has one, under supervise.Main):
// paths are unique among the tasks of one tree, and leak reports match
// goroutines to tasks by path.
//
// Each task's context carries its identity (package pool records it as a
// lease's holder, package guard as a value's writer), and each task runs
// under the pprof labels "tether.group" (the group's path) and "tether.task"
// (the task's path). Goroutines a task starts inherit the labels, so
// goroutine profiles and leak reports name their owner.
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
// # Rules
//
// Wait (or Shutdown) must be called: it is where failures are returned and
// Defers run. A group garbage-collected with failures nobody has seen is
// reported: it is logged, and kept as a record that every later leak report
// lists, naming where it was created and the failures. Go must not be
// called after Wait or Shutdown returned; it panics. The OnEvent hook runs
// on the tasks' goroutines and must not block.
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
// A task costs more than an errgroup task. Besides its goroutine it
// allocates its record (144 bytes) and its pprof labels: three allocations
// and 136 bytes, the least pprof allows for a context that carries labels
// (about 220ns alone, BenchmarkLabels). Its identity costs nothing (the
// task is its own context), its path is sliced from a string built ahead
// for a batch of tasks of the same name, and its start is read once, from
// the monotonic clock (time.Since the group's creation: about 40ns here
// against 65ns for time.Now, BenchmarkClock). A task that ends takes no
// lock, and the cost per task does not grow with the number of live tasks.
//
// BenchmarkGoWait (bench_test.go) runs tether, errgroup, conc and raw
// goroutines side by side. On the 2-core machine this was written on, under
// load from other builds (medians of 10 runs, 1 and 2 CPUs), a task that
// returns at once cost, at 100 tasks, 1.2µs against errgroup's 0.5µs (2.2
// to 2.4x) and conc's pool's 0.7-0.8µs, with 5.1 allocations and 315 bytes
// against errgroup's 2 and 56; in quieter runs 0.7µs against 0.4µs. The
// labels are more than half of the difference (impl=tether-nolabels:
// 0.7-0.8µs); an OnEvent hook adds two events and one clock read per task
// (impl=tether-hook, about 0.1µs). New and Wait of a group with no task
// cost 0.73µs against 0.27µs for errgroup.WithContext (BenchmarkNewWait):
// one 320-byte allocation, a clock read, and the group's registration for
// leak reports (track.Register and Unregister, 0.15µs and one allocation:
// BenchmarkRegistry); New, one Go and Wait cost 3.1-3.4µs against 1.3µs. A
// group made inside a task (BenchmarkGoWaitNested) costs the same per task:
// its tasks' labels replace the parent task's instead of merging with them.
//
// Start times (TaskInfo.Since, TaskError.Start, the times of Started and
// Completed events) are read on that clock: the group's creation time plus
// the monotonic time since, so they do not follow wall-clock steps made
// while the group runs.
//
// That is noise next to any task doing I/O, and the price of a name, a
// label, an identity and a report for every goroutine. For fan-outs of
// tiny CPU-bound work items, run a worker per core under supervise and feed
// it the items.
//
// A panic costs tens of microseconds more (its stack is captured), paid only
// when it happens.
package supervise
