package httptask

import (
	"context"
	"net/http"
	"time"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

// Handler returns an http.Handler that serves each request with h as a
// task of g (Group.Run), on the goroutine net/http gave the request. The
// task is named by the request's route (see the package doc): with g named
// "app", a request served by the route "GET /orders/{id}" runs as the task
// "app/GET /orders/{id}" ("#2", "#3"... for the requests after the first),
// so leases it takes, guard values it writes and goroutines it starts are
// attributed to that route.
//
// h gets a request whose context carries the task's identity (and pprof
// labels) and the request's values and deadline. It is cancelled when the
// client goes away or the request ends, as net/http's is. Under [Serve],
// g's cancellation does not reach it: the server drains its requests, and
// cancels them only when the drain gives up (see the package doc,
// Shutdown). Under a server that Serve does not run, it is cancelled when
// g's context is too (a failure that cancels g, or its Shutdown), since
// nothing else would end the request.
//
// A panic in h is the request's failure: it is recovered and logged at once
// with the task's path and the panicking line (supervise's Panicked event,
// at Error level with the stack), counted by g (Group.Stats), and answered
// with 500 Internal Server Error if the response had not begun, or by
// aborting the connection if it had. It does not cancel g, and Wait does
// not return it. A panic with http.ErrAbortHandler keeps net/http's
// meaning: the response is aborted and nothing is logged or counted.
//
// If g's context is done when a request arrives (g is shutting down, and
// the server has not stopped accepting yet), or g's Wait or Shutdown has
// returned (the server should have stopped first, as it does under Serve),
// h does not run and the request gets 503 Service Unavailable, with
// Connection: close.
//
// Handler panics if g or h is nil.
func Handler(g *supervise.Group, h http.Handler) http.Handler {
	if g == nil {
		panic("httptask: Handler(nil, h): pass the group whose tasks the requests are")
	}
	if h == nil {
		panic("httptask: Handler(g, nil): pass the handler that serves the requests (an *http.ServeMux names them by route)")
	}
	hd := &handler{g: g, h: h}
	hd.names.mux, _ = h.(*http.ServeMux)
	return hd
}

type handler struct {
	g     *supervise.Group
	h     http.Handler
	names namer
}

func (hd *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := &request{writer: writer{ResponseWriter: w}, hd: hd, r: r}
	defer func() {
		// Run panics without running h only once g's Wait or Shutdown
		// has returned (every other misuse is ruled out here): a request
		// that slipped in after the group finished is refused, not a
		// crash of net/http's goroutine. A panic of h never gets here:
		// Run recovers it.
		if !req.ran {
			if v := recover(); v != nil {
				w.Header().Set("Connection", "close")
				http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			}
		}
	}()
	err := hd.g.Run(r.Context(), hd.names.name(r), req.serve)
	switch {
	case err == nil:
		if req.aborted {
			panic(http.ErrAbortHandler)
		}
	case req.ran:
		// A panic or runtime.Goexit (which never returns here): logged
		// and counted by the group already.
		if req.started {
			panic(http.ErrAbortHandler)
		}
		clear(w.Header()) // what the failed handler set (a cookie, a type) is not the error's
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	default:
		// h did not run: the request's context or g's was done.
		if r.Context().Err() == nil {
			w.Header().Set("Connection", "close")
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		}
	}
}

// request is one request's task: its writer and what happened to it, and,
// under Serve, its place among its server's live requests.
type request struct {
	writer
	hd      *handler
	r       *http.Request
	ran     bool // serve was called
	aborted bool // h panicked with http.ErrAbortHandler

	// Set by drain.enter, for a request of a server that Serve runs.
	task           *track.Task
	since          time.Time
	cancel         context.CancelCauseFunc // cancels the handler's context
	stop           func() bool             // stops the request context's AfterFunc
	cancelDeadline context.CancelFunc      // nil if the request has no deadline
	prev, next     *request                // guarded by the drain's mu
}

// serve is the request's task function. It recovers only a panic with
// http.ErrAbortHandler (net/http's way to abort a response quietly), and
// re-raises any other, so that Run reports it; the panicking line is found
// below the re-raise, since a deferred function runs on top of the
// panicking frames.
func (req *request) serve(ctx context.Context) error {
	req.ran = true
	if d := drainOf(req.r.Context()); d != nil {
		// Served by Serve: the group's cancellation must not cut the
		// request short; the drain ends it if it takes too long.
		ctx = d.enter(req, ctx, req.r.Context())
		defer d.leave(req)
	}
	defer func() {
		if v := recover(); v != nil {
			if v == any(http.ErrAbortHandler) { // net/http compares it the same way
				req.aborted = true
				return
			}
			panic(v)
		}
	}()
	req.hd.h.ServeHTTP(&req.writer, req.r.WithContext(ctx))
	if d := drainOf(req.r.Context()); d != nil && d.givenUp() {
		// The drain gave up on this request and is closing its
		// connection: a response written now must not get out, as if
		// it had been served.
		req.aborted = true
	}
	return nil
}
