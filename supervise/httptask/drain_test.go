package httptask_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/pprof"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/supervise"
	"github.com/tether-go/tether/supervise/httptask"
)

// slowRoute is a handler for "GET /slow" that, once entered, waits for
// release (then answers 200 "done") or for its context (then records the
// cause and answers 503). It reports what its context said about its task.
type slowRoute struct {
	entered chan struct{}
	release chan struct{}
	task    chan string // the task the request ran as, and its pprof label
	cause   chan error  // the cause, if the context was cancelled first
}

func newSlowRoute() *slowRoute {
	return &slowRoute{
		entered: make(chan struct{}),
		release: make(chan struct{}),
		task:    make(chan string, 2),
		cause:   make(chan error, 1),
	}
}

func (s *slowRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	label, _ := pprof.Label(ctx, track.LabelTask)
	s.task <- track.TaskFrom(ctx).String()
	s.task <- label
	close(s.entered)
	select {
	case <-s.release:
		fmt.Fprint(w, "done")
	case <-ctx.Done():
		s.cause <- context.Cause(ctx)
		http.Error(w, "cancelled", http.StatusServiceUnavailable)
	}
}

// siteOf returns where g's live task path started, as g lists it.
func siteOf(t *testing.T, g *supervise.Group, path string) string {
	t.Helper()
	for _, ti := range g.Tasks() {
		if ti.Path == path {
			return ti.Site
		}
	}
	t.Fatalf("no task %q in %v", path, g.Tasks())
	return ""
}

// TestServeDrainsRequestsInFlight: when the group shuts down, the server
// stops accepting connections, but a request in flight keeps its context
// (and its task: identity and pprof labels) and runs to completion; its
// client gets the response, then the server stops and Shutdown returns nil.
func TestServeDrainsRequestsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(t.Context(), "app", quiet)
		pn := newPipeNet()
		slow := newSlowRoute()
		mux := http.NewServeMux()
		mux.Handle("GET /slow", slow)
		httptask.Serve(g, "http", &http.Server{Handler: httptask.Handler(g, mux)}, httptask.Listener(pn))
		type result struct {
			status int
			body   string
			err    error
		}
		got := make(chan result, 1)
		go func() {
			status, body, err := get(pn.client(), "GET", "http://pipe/slow")
			got <- result{status, body, err}
		}()
		<-slow.entered
		if task, label := <-slow.task, <-slow.task; task != "app/GET /slow" || label != "app/GET /slow" {
			t.Errorf("the request ran as task %q with label %q, want app/GET /slow", task, label)
		}

		stopped := make(chan error, 1)
		start := time.Now()
		go func() { stopped <- g.Shutdown(context.Background()) }()
		synctest.Wait() // the shutdown has begun: the group is cancelled, the server is draining
		select {
		case cause := <-slow.cause:
			t.Errorf("the request in flight was cancelled when the shutdown began: %v", cause)
		default:
		}
		if _, err := pn.dial(t.Context(), "", ""); !errors.Is(err, net.ErrClosed) {
			t.Errorf("dial during the drain: %v, want net.ErrClosed (new connections refused)", err)
		}
		if tasks := fmt.Sprint(g.Tasks()); !strings.Contains(tasks, "app/GET /slow") {
			t.Errorf("during the drain the group's tasks lack the request: %s", tasks)
		}

		time.Sleep(time.Minute) // the request takes its time; nothing times out
		close(slow.release)
		if r := <-got; r.err != nil || r.status != 200 || r.body != "done" {
			t.Errorf("the drained request got %d %q %v, want 200 \"done\"", r.status, r.body, r.err)
		}
		if err := <-stopped; err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
		if d := time.Since(start); d < time.Minute || d > time.Minute+time.Second {
			t.Errorf("Shutdown took %v, want 1m (until the request ended) and the server's last poll", d)
		}
	})
}

// TestServeShutdownTimeoutCancelsTheRequestsLeft: a request still running
// when ShutdownTimeout passes sees its context cancelled then, with a cause
// naming the server and the timeout, and the server's failure names the
// request by route, where it started and for how long it had run.
func TestServeShutdownTimeoutCancelsTheRequestsLeft(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(t.Context(), "app", quiet)
		pn := newPipeNet()
		slow := newSlowRoute()
		mux := http.NewServeMux()
		mux.Handle("GET /slow", slow)
		httptask.Serve(g, "http", &http.Server{Handler: httptask.Handler(g, mux)},
			httptask.Listener(pn), httptask.ShutdownTimeout(2*time.Second))
		clientErr := make(chan error, 1)
		go func() {
			_, _, err := get(pn.client(), "GET", "http://pipe/slow")
			clientErr <- err
		}()
		<-slow.entered
		site := siteOf(t, g, "app/GET /slow")
		time.Sleep(time.Second) // the request has run 1s when the shutdown begins

		start := time.Now()
		err := g.Shutdown(context.Background())
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("Shutdown returned after %v, want 2s (ShutdownTimeout)", d)
		}
		select {
		case cause := <-slow.cause:
			for _, want := range []string{`server "app/http"`, "2s", "ShutdownTimeout"} {
				if !strings.Contains(fmt.Sprint(cause), want) {
					t.Errorf("the request's cancellation cause lacks %q: %v", want, cause)
				}
			}
		default:
			t.Fatal("the request's context was not cancelled when ShutdownTimeout passed")
		}
		msg := fmt.Sprint(err)
		for _, want := range []string{
			`server "app/http": graceful shutdown gave up after 2s (ShutdownTimeout) with 1 request still running`,
			`"app/GET /slow" (started at ` + site + ", running for 3s)",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("Shutdown's error lacks %q:\n%s", want, msg)
			}
		}
		if err := <-clientErr; err == nil {
			t.Error("the client's request succeeded; want its connection closed")
		}
	})
}

// TestServeGroupDeadlineCancelsTheRequestsLeft: without ShutdownTimeout,
// the drain lasts until the group's Shutdown gives up; then the requests
// still running are cancelled, with a cause naming the server, their
// connections closed, and Shutdown's error names them.
func TestServeGroupDeadlineCancelsTheRequestsLeft(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(t.Context(), "app", quiet)
		pn := newPipeNet()
		slow := newSlowRoute()
		mux := http.NewServeMux()
		mux.Handle("GET /slow", slow)
		httptask.Serve(g, "http", &http.Server{Handler: httptask.Handler(g, mux)}, httptask.Listener(pn))
		clientErr := make(chan error, 1)
		go func() {
			_, _, err := get(pn.client(), "GET", "http://pipe/slow")
			clientErr <- err
		}()
		<-slow.entered
		site := siteOf(t, g, "app/GET /slow")

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		err := g.Shutdown(ctx)
		msg := fmt.Sprint(err)
		for _, want := range []string{
			`server "app/http": graceful shutdown gave up after 3s (the group's Shutdown deadline) with 1 request still running`,
			`"app/GET /slow" (started at ` + site + ", running for 3s)",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("Shutdown's error lacks %q:\n%s", want, msg)
			}
		}
		synctest.Wait()
		select {
		case cause := <-slow.cause:
			if !strings.Contains(fmt.Sprint(cause), `server "app/http"`) || !strings.Contains(fmt.Sprint(cause), "Shutdown deadline") {
				t.Errorf("the request's cancellation cause = %v, want the server and the group's deadline", cause)
			}
		default:
			t.Fatal("the request's context was not cancelled when the group's Shutdown gave up")
		}
		if err := <-clientErr; err == nil {
			t.Error("the client's request succeeded; want its connection closed")
		}
		g.Wait() // the request and the server have ended
	})
}

// TestServedRequestsKeepTheirTask: under Serve (whose requests run detached
// from the group's cancellation), a request is still its route's task: a
// lease it takes names the route, a panic is logged with the route and the
// panicking line and answered with 500, and the group counts it. A
// BaseContext of the caller's is kept, and drains too.
func TestServedRequestsKeepTheirTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "orders-db", MaxSize: 2})
		l := &logs{}
		g := supervise.New(t.Context(), "app", supervise.Logger(l.logger()))
		pn := newPipeNet()
		var (
			holder, acquired string
			panicLine        string
		)
		slow := newSlowRoute()
		mux := http.NewServeMux()
		mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
			lease, err := env.Pool.Acquire(r.Context())
			acquired = testkit.Here(-1)
			if err != nil {
				t.Error(err)
				return
			}
			defer lease.Release()
			holder = env.Pool.Leases()[0].Task + " " + env.Pool.Leases()[0].Site
			fmt.Fprint(w, r.Context().Value(baseKey{}))
		})
		mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
			var orders map[string]int
			panicLine = testkit.Here(1)
			orders["42"]++ // panics: assignment to entry in nil map
		})
		mux.Handle("GET /slow", slow)
		base := context.WithValue(context.Background(), baseKey{}, "from the caller's base")
		httptask.Serve(g, "http", &http.Server{
			Handler:     httptask.Handler(g, mux),
			BaseContext: func(net.Listener) context.Context { return base },
		}, httptask.Listener(pn))
		c := pn.client()

		if status, body, err := get(c, "GET", "http://pipe/orders/42"); err != nil || status != 200 || body != "from the caller's base" {
			t.Errorf("GET /orders/42: %d %q %v; want 200 and the base context's value", status, body, err)
		}
		if want := "app/GET /orders/{id} " + acquired; holder != want {
			t.Errorf("the lease was held by %q, want %q", holder, want)
		}
		if status, _, err := get(c, "POST", "http://pipe/orders"); err != nil || status != 500 {
			t.Errorf("POST /orders (panics): %d %v, want 500", status, err)
		}
		if recs := l.find("ERROR", "panicked", "task=app/POST /orders", "panicked at "+panicLine); len(recs) != 1 {
			t.Errorf("want one Error record naming the route and %s; the log:\n%s", panicLine, l.all())
		}

		got := make(chan string, 1)
		go func() {
			status, body, err := get(c, "GET", "http://pipe/slow")
			got <- fmt.Sprint(status, " ", body, " ", err)
		}()
		<-slow.entered
		stopped := make(chan error, 1)
		go func() { stopped <- g.Shutdown(context.Background()) }()
		synctest.Wait()
		select {
		case cause := <-slow.cause:
			t.Errorf("with the caller's BaseContext, the request in flight was cancelled when the shutdown began: %v", cause)
		default:
		}
		close(slow.release)
		if r := <-got; r != "200 done <nil>" {
			t.Errorf("the drained request got %s, want 200 done", r)
		}
		if err := <-stopped; err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
		if st := g.Stats(); st.Panicked != 1 || st.Completed < 3 {
			t.Errorf("Stats = %+v, want 1 panicked and the other requests completed", st)
		}
	})
}

type baseKey struct{}

// TestServedRequestKeepsItsDeadline: a request detached from the group's
// cancellation keeps the deadline of its context (here
// http.TimeoutHandler's), and ends with context.DeadlineExceeded at it.
func TestServedRequestKeepsItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(t.Context(), "app", quiet)
		pn := newPipeNet()
		type seen struct {
			deadline time.Time
			err      error
			at       time.Time
		}
		got := make(chan seen, 1)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
			dl, _ := r.Context().Deadline()
			<-r.Context().Done()
			got <- seen{dl, r.Context().Err(), time.Now()}
		})
		h := http.TimeoutHandler(httptask.Handler(g, mux), time.Second, "too slow")
		httptask.Serve(g, "http", &http.Server{Handler: h}, httptask.Listener(pn))
		start := time.Now()
		// The handler and TimeoutHandler see the deadline at the same
		// instant: which answers is theirs to race for.
		if _, _, err := get(pn.client(), "GET", "http://pipe/slow"); err != nil {
			t.Errorf("GET /slow: %v", err)
		}
		s := <-got
		if want := start.Add(time.Second); !s.deadline.Equal(want) || !s.at.Equal(want) || s.err != context.DeadlineExceeded {
			t.Errorf("the handler saw deadline %v, then %v at %v; want DeadlineExceeded at %v", s.deadline, s.err, s.at, want)
		}
		if err := g.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
}
