// Package httptask runs HTTP requests as tasks of a supervise.Group, and an
// http.Server as a task of its own.
//
// net/http serves each request on a goroutine of its own that no task
// owns: a lease taken in a handler would be held "by no task", a panic
// would be logged by net/http and forgotten. [Handler] makes each request a
// task of a group, named by its route, on net/http's own goroutine (with
// Group.Run), and [Serve] runs the server as a task whose group's end shuts
// it down gracefully, draining the requests in flight:
//
//	supervise.Main("app", func(ctx context.Context, g *supervise.Group) error {
//		mux := http.NewServeMux()
//		mux.HandleFunc("GET /orders/{id}", getOrder)
//		httptask.Serve(g, "http", &http.Server{Addr: ":8080", Handler: httptask.Handler(g, mux)})
//		return nil
//	})
//
// A lease that getOrder takes is held by the task "app/GET /orders/{id}"
// (the path gains "#2", "#3"... for later requests), with the line that
// acquired it; a panic in getOrder is logged with that path and the
// panicking line, answered with 500, counted by the group, and the server
// keeps serving.
//
// # Names
//
// A request task is named by the pattern of the http.ServeMux route that
// serves it ("GET /orders/{id}", "/static/"): Handler finds it when h is
// the *http.ServeMux itself, by asking the mux which route matches
// (ServeMux.Handler), and when Handler wraps a route's handler inside a
// mux (mux.Handle(pattern, httptask.Handler(g, h))), from
// Request.Pattern. A handler that wraps the mux in middleware hides its
// routes: wrap the mux itself, or each route, so that requests are named
// by route.
//
// A request no pattern names (a handler that is not a ServeMux, a path no
// route matches) is named by its method and path. The path comes from the
// client, so it is used in its escaped form (printable ASCII: a client
// cannot forge a line of a report or log), cut at 64 bytes, and a Handler
// uses at most 256 such names; after that, such requests are named
// "GET (other paths)". A group keeps a counter for each distinct task name
// it has seen, so names must not grow without bound.
//
// # Failures
//
// Requests are tasks of the group, so its Tasks, its leak reports and
// goroutine profiles (the pprof labels tether.group and tether.task) list
// them while they run, and Shutdown and Wait wait for them. Their failures
// belong to them: a panic does not cancel the group, and Wait does not
// return it. The group counts them (Group.Stats, and the metrics package's
// tether.task.failures) and keeps the last few, which supervise.Main
// prints when the service stops.
//
// # Shutdown
//
// When the group's context is done, [Serve] drains its server, as
// net/http's Server.Shutdown does: it stops accepting connections (a
// client dialing then is refused), closes the idle ones, and waits for the
// requests in flight. The rules, for a request of a server run by Serve:
//
//   - The group's cancellation does not reach the request's context,
//     although the request is a task of the group: a handler in the middle
//     of a database query finishes it, and its client gets the response.
//     The task keeps its name, its leases and its pprof labels, and the
//     group's Tasks, leak reports and Shutdown still count it.
//   - Its context is cancelled when its client goes away or it ends (as
//     net/http's is), or when the drain gives up: when [ShutdownTimeout]
//     has passed, or when the group's Shutdown has given up waiting (its
//     context's deadline; Main's ShutdownTimeout). The cause names the
//     server and the timeout, for example
//     httptask: server "app/http": graceful shutdown gave up after 2s (ShutdownTimeout).
//     The server's connections are closed at the same moment.
//   - The drain's error names each request still running by its task, the
//     site where the task started (as the group's Tasks give it) and how
//     long it has run: "app/GET /slow" (started at server.go:NNNN, running
//     for 2s). It is the server task's failure after ShutdownTimeout, and
//     part of the group's Shutdown error after the group's deadline.
//   - Once the server has stopped, a request still running (one whose
//     connection was hijacked, which Server.Shutdown does not wait for)
//     has its context cancelled, with a cause saying so.
//   - A request that reaches Handler once the group's context is done,
//     before the server stops accepting (a narrow window), is not started:
//     it is answered with 503 and Connection: close.
//
// A Handler under a server that Serve does not run has no drain to answer
// to: its requests' contexts are cancelled when the group's is.
//
// # Cost
//
// A request through Handler does what net/http does plus Group.Run (the
// task's record, its context and pprof labels, its place in the group's
// task list), a second routing when h is a ServeMux (to learn the route
// before the task starts), a shallow copy of the request
// (Request.WithContext) and a wrapper of the ResponseWriter: 17
// allocations and about 1.3 KB per request, most of them Group.Run's, and
// a few microseconds (BenchmarkServeHTTP, the server's side alone, against
// the bare mux, each request with a cancellable context as net/http gives
// it). Under Serve the drain adds 6 allocations and about 270 bytes (the
// request's own context, detached from the group's cancellation and tied
// to the request's; impl=httptask+serve), and a lock of the server's list
// of live requests on entry and exit. On a whole request over loopback,
// client included (BenchmarkRequest, bare mux, Handler, and Handler under
// Serve side by side), Handler measured 1.1-1.2x the bare mux, with 15
// allocations more (25 under Serve).
package httptask
