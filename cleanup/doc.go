// Package cleanup releases resources in order, with deadlines, and reports
// what it could not release.
//
// A [Scope] collects release steps with [Scope.Defer] and [Scope.DeferClose]
// and runs them with [Scope.Close], last deferred first, like Go's defer but
// bounded and observable:
//
//	s := cleanup.New("app", cleanup.StepTimeout(5*time.Second))
//	db := openDB()
//	s.DeferClose("db pool", db)
//	srv := startServer()
//	s.Defer("http server", srv.Shutdown)
//	...
//	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//	defer cancel()
//	if err := s.Close(ctx); err != nil {
//		log.Print(err) // cleanup "app": step "db pool" did not finish within 5s and is still running (deferred at main.go:20)
//	}
//
// # Rules
//
// Every step runs exactly once. A step that fails, panics or overruns is
// reported and the steps after it still run: one stuck step never leaves the
// rest unreleased. A step's function should honour its context: once the
// context is done it gets 100ms to return before Close abandons it (it keeps
// running in its own goroutine, and leak reports list it).
//
// Close must be called once the scope's resources are no longer needed. A
// Scope that is garbage-collected with steps that never ran is reported: an
// error is logged naming the scope, where it was created, and each step with
// where it was deferred, and a record of the lost scope, with the same
// facts, is kept for leak reports (package leakcheck): every later report
// lists it as a problem. (The registry keeps a bounded number of such
// records, dropping the oldest and saying so.) Steps are never run by the
// garbage collector.
//
// A step deferred while Close runs is run next; one deferred after Close has
// returned runs at once in the caller (see [Scope.Defer]).
//
// # Errors
//
// Close returns nil or one error listing every failed step in run order.
// errors.As finds each [*StepError] (scope, step, where it was deferred) and
// what the step returned, including a [*PanicError] for a panic (its value,
// the panicking line and the stack); errors.Is matches [ErrOverrun] for a
// step that did not finish in time, and the context's error.
//
// # Cost
//
// New registers the scope for leak reports; the first Defer arms the
// garbage-collection check (runtime.AddCleanup), which Close disarms. Each
// step runs on its own goroutine so that it can be abandoned, and with
// StepTimeout each step also gets its own timer. Measured on 2 cores
// (BenchmarkScope in bench_test.go): New, one Defer and Close cost about 5µs
// and 13 allocations; each further step about 2µs, or 4µs with a
// StepTimeout. Scopes are meant for resources that live far longer than
// that; do not use one per fine-grained operation.
package cleanup
