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
// Names must not be empty or contain '/' or '#'. Use a small set of role
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
// Wait returns nil or one error listing every failure; errors.As finds each
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
// reported (log and leak report), naming where it was created. Go must not
// be called after Wait or Shutdown returned; it panics. The OnEvent hook runs
// on the tasks' goroutines and must not block.
//
// # Cost
//
// A task costs more than an errgroup task: it allocates its record, its
// path, its pprof label context and its identity context, and reads the
// clock once. BenchmarkGoWait (bench_test.go) runs tether, errgroup, conc
// and raw goroutines side by side; on the 2-core machine this was written
// on, under load from other builds, a task that returns at once cost 3-4x an
// errgroup task (per task at 100 tasks: ~1.8-2µs against ~0.5-0.6µs; 7
// allocations against 2) and 2-3x a conc pool task. pprof labels are about a
// third of the difference (compare impl=tether-nolabels; alone they cost 3
// allocations and ~130-300ns, BenchmarkLabels); an OnEvent hook adds one
// clock read per task (impl=tether-hook). A group itself (New and Wait with
// no task, registered for leak reports) costs ~1.4µs against ~0.5µs for
// errgroup.WithContext (BenchmarkNewWait). The cost per task does not grow
// with the number of live tasks, and a task that ends takes no lock.
//
// That is noise next to any task doing I/O, and the price of a name, a
// label, an identity and a report for every goroutine. For fan-outs of
// tiny CPU-bound work items, run a worker per core under supervise and feed
// it the items.
//
// A panic costs tens of microseconds more (its stack is captured), paid only
// when it happens.
package supervise
