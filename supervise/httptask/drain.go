package httptask

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether/internal/text"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

// A graceful shutdown drains: the server stops accepting, and the requests
// in flight run to completion with their contexts alive. The group's
// cancellation must therefore not reach them, although they are tasks of
// the group (Group.Run cancels a task's context with its group's). A drain
// is one server's shutdown, as Serve runs it:
//
//   - its context is the base of every request's (srv.BaseContext): the
//     server task's values and identity, without its cancellation;
//   - a request served through Handler finds the drain in its context,
//     runs with a context of its own made from its task's (the task's
//     identity and pprof labels, not the group's cancellation), cancelled
//     when the request's is, and is listed among the drain's live
//     requests;
//   - when the drain gives up (ShutdownTimeout, or the group's Shutdown
//     deadline, through a Defer of the group), the drain's context is
//     cancelled with a cause naming the server and the timeout, which
//     cancels every request's, and the server's connections are closed;
//     the error names the requests still running.
//
// A Handler under a server that Serve does not run finds no drain: its
// requests keep the group's cancellation, since nothing else would end
// them.
type drain struct {
	srv *http.Server

	mu     sync.Mutex
	server string                  // the server task's path; "" until the task runs
	cancel context.CancelCauseFunc // cancels the requests' base context
	began  time.Time               // when the shutdown began
	over   bool                    // the server stopped or the drain gave up: nothing more to do
	gaveUp error                   // why the drain gave up, once it has
	live   requestList             // requests served through Handler, oldest first
}

// drainKey finds a request's drain in its context.
type drainKey struct{}

// drainOf returns the drain of the server that serves a request with
// context ctx, or nil.
func drainOf(ctx context.Context) *drain {
	d, _ := ctx.Value(drainKey{}).(*drain)
	return d
}

// start sets up the drain for the server task whose context is ctx, and
// returns the base context of the server's requests.
func (d *drain) start(ctx context.Context) context.Context {
	base, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	d.mu.Lock()
	d.server = track.TaskFrom(ctx).String()
	d.cancel = cancel
	d.mu.Unlock()
	return context.WithValue(base, drainKey{}, d)
}

// begin notes that the shutdown has begun.
func (d *drain) begin() {
	d.mu.Lock()
	d.began = time.Now()
	d.mu.Unlock()
}

// stop ends the drain once the server has stopped: nothing is left to
// give up on. A request still running then is one whose connection was
// hijacked (Server.Shutdown does not wait for those): its context is
// cancelled, with a cause saying the server has stopped.
func (d *drain) stop() {
	d.mu.Lock()
	d.over = true
	cancel, server := d.cancel, d.server
	d.mu.Unlock()
	cancel(fmt.Errorf("httptask: server %q has stopped", server))
}

// enter lists req among the live requests and returns the context its
// handler runs with: task's values (its identity, its pprof labels)
// without the group's cancellation, cancelled when the request's context
// rctx is, with rctx's cause, and with rctx's deadline. leave must follow.
func (d *drain) enter(req *request, task, rctx context.Context) context.Context {
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(task))
	req.cancel = cancel
	req.stop = context.AfterFunc(rctx, func() {
		if rctx.Err() == context.DeadlineExceeded {
			return // ctx's own deadline, the same, ends it with the same error
		}
		// Closing the connections when the drain gives up cancels rctx
		// too, possibly before the drain's own cancel arrives: the
		// request's cause is then the drain's.
		d.mu.Lock()
		cause := d.gaveUp
		d.mu.Unlock()
		if cause == nil {
			cause = context.Cause(rctx)
		}
		cancel(cause)
	})
	if dl, ok := rctx.Deadline(); ok {
		ctx, req.cancelDeadline = context.WithDeadline(ctx, dl)
	}
	req.task = track.TaskFrom(task)
	req.since = time.Now()
	d.mu.Lock()
	d.live.push(req)
	d.mu.Unlock()
	return ctx
}

// givenUp reports whether the drain gave up on the requests left.
func (d *drain) givenUp() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gaveUp != nil
}

// leave takes req off the live requests and releases its context.
func (d *drain) leave(req *request) {
	d.mu.Lock()
	d.live.remove(req)
	d.mu.Unlock()
	req.stop()
	if req.cancelDeadline != nil {
		req.cancelDeadline()
	}
	req.cancel(nil)
}

// giveUp ends a drain that took too long: it cancels the requests'
// contexts with a cause made of why (which names the server and the
// timeout), closes the server's connections, and returns an error naming
// the requests still running. It returns nil if the drain is already over.
func (d *drain) giveUp(why func(server string, began time.Time) string) error {
	d.mu.Lock()
	if d.over || d.cancel == nil {
		d.mu.Unlock()
		return nil
	}
	d.over = true
	began := d.began
	if began.IsZero() {
		began = time.Now()
	}
	headline := why(d.server, began)
	cause := errors.New(headline)
	d.gaveUp = cause
	left := d.live.snapshot()
	cancel := d.cancel
	d.mu.Unlock()

	// Describe the requests before ending them: an ended request's task
	// leaves its group's list, where running reads the line it started
	// at. Cancel before closing the connections, so that every request,
	// wrapped by Handler or not, sees the drain's cause first; a request
	// served through Handler that returns after this is aborted
	// (request.serve), so it cannot get a response out either.
	msg := headline + running(left, time.Now()) + "; their contexts are cancelled and the connections closed"
	cancel(cause)
	d.srv.Close()
	return errors.New(msg)
}

// liveRequest is what a report says of a request still running.
type liveRequest struct {
	g     *supervise.Group
	task  string
	since time.Time
}

// maxNamed is how many requests still running an error names; it counts
// the rest.
const maxNamed = 10

// running describes the requests left: " with 2 requests still running:
// "app/GET /slow" (started at handler.go:NN, running for 3s), ...", each
// with the site where its task started, as its group lists it.
func running(left []liveRequest, now time.Time) string {
	if len(left) == 0 {
		return ""
	}
	sites := make(map[string]string)
	seen := make(map[*supervise.Group]bool)
	var b strings.Builder
	fmt.Fprintf(&b, " with %s still running: ", text.Count(len(left), "request", "requests"))
	for i, r := range left {
		if i == maxNamed {
			fmt.Fprintf(&b, ", and %d more", len(left)-maxNamed)
			break
		}
		if !seen[r.g] {
			seen[r.g] = true
			for _, t := range r.g.Tasks() {
				sites[t.Path] = t.Site
			}
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q (", r.task)
		if site := sites[r.task]; site != "" {
			fmt.Fprintf(&b, "started at %s, ", site)
		}
		fmt.Fprintf(&b, "running for %v)", now.Sub(r.since).Round(time.Millisecond))
	}
	return b.String()
}

// requestList is an intrusive doubly linked list of requests, in the order
// they entered.
type requestList struct{ head, tail *request }

func (l *requestList) push(r *request) {
	r.prev = l.tail
	if l.tail != nil {
		l.tail.next = r
	} else {
		l.head = r
	}
	l.tail = r
}

func (l *requestList) remove(r *request) {
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		l.head = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else {
		l.tail = r.prev
	}
	r.prev, r.next = nil, nil
}

func (l *requestList) snapshot() []liveRequest {
	var out []liveRequest
	for r := l.head; r != nil; r = r.next {
		out = append(out, liveRequest{g: r.hd.g, task: r.task.String(), since: r.since})
	}
	return out
}
