// Package track is the meeting point of tether's packages: a process-wide
// registry of live objects, the identity of the running task carried in a
// context, and cheap call-site capture.
//
// # Registry
//
// Pools, groups, cleanup scopes and guards call [Register] once, in New, with
// a function that describes their live state ([State]: leases, tasks, pending
// steps, conflicts). They unregister when they finish. leakcheck calls
// [Snapshot] to build its report. The registry holds weak pointers, so it never
// keeps an object alive, and no per-operation path (Acquire, Go, Update) ever
// touches it.
//
// # Task identity
//
// supervise puts a [*Task] in each task's context with [WithTask]; pool and
// guard read it with [TaskFrom] to record who holds a lease or wrote a value.
// Tasks also run under the pprof labels [LabelGroup] and [LabelTask], which
// goroutines they start inherit.
//
// # Call sites
//
// [Caller] records where an API was called as program counters: a few loads
// of the frame-pointer chain on amd64 and arm64, runtime.Callers elsewhere.
// A [Site] is symbolised only when an error or report is rendered, and then
// skips tether's own frames and compiler-generated wrappers, so it names the
// user's file and line.
package track
