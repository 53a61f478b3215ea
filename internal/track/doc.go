// Package track is the meeting point of tether's packages: a process-wide
// registry of live objects, the identity of the running task carried in a
// context, and cheap call-site capture.
//
// # Registry
//
// Pools, groups, cleanup scopes and guards call [Register] once, in New, with
// a function that describes their live state ([State]: leases, tasks, pending
// steps, conflicts). They unregister when they finish. leakcheck calls
// [Snapshot] to build its report. The registry holds weak pointers (after
// the next garbage collection, for a new entry), so a dropped object is
// collected and its own checks fire with nothing but the collector running,
// and no per-operation path (Acquire, Go, Update) ever touches it. An
// object's own background goroutine (a pool's watchdog) is started with
// [Handle.Go], so reports list it under the object.
//
// # Task identity
//
// supervise puts a [*Task] in each task's context with [WithTask]; pool and
// guard read it with [TaskFrom] to record who holds a lease or wrote a value.
// Tasks also run under the pprof labels [LabelGroup] and [LabelTask], which
// goroutines they start inherit. leakcheck tells a task's own goroutine by
// [FuncTaskRun] on its stack, and Main's by [FuncMain]; supervise's tests
// keep those names true.
//
// # Call sites
//
// [Caller] records where an API was called as program counters: a few loads
// of the frame-pointer chain on amd64 and arm64, runtime.Callers elsewhere.
// A [Site] is symbolised only when an error or report is rendered, and then
// skips tether's own frames and compiler-generated wrappers, so it names the
// user's file and line.
package track
