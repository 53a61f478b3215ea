package httptask_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/testmain"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/supervise"
	"github.com/tether-go/tether/supervise/httptask"
)

func TestMain(m *testing.M) { testmain.Run(m) }

var quiet = supervise.Logger(slog.New(slog.DiscardHandler))

// taskOf is a handler that sends the task its request runs as.
func taskOf(seen chan<- string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		seen <- track.TaskFrom(r.Context()).String()
	}
}

func TestRequestTaskIsNamedByItsRoute(t *testing.T) {
	routes := func(seen chan<- string) *http.ServeMux {
		mux := http.NewServeMux()
		mux.Handle("GET /orders/{id}", taskOf(seen))
		mux.Handle("/static/", taskOf(seen))
		mux.Handle("POST /odd#route", taskOf(seen))
		return mux
	}
	for _, c := range []struct {
		name           string
		handler        func(g *supervise.Group, seen chan<- string) http.Handler
		method, target string
		want           string // the task's path; "" if the handler must not run
		status         int
	}{
		{"mux pattern", func(g *supervise.Group, seen chan<- string) http.Handler {
			return httptask.Handler(g, routes(seen))
		}, "GET", "/orders/42", "app/GET /orders/{id}", 200},
		{"HEAD matches GET", func(g *supervise.Group, seen chan<- string) http.Handler {
			return httptask.Handler(g, routes(seen))
		}, "HEAD", "/orders/42", "app/GET /orders/{id}", 200},
		{"pattern without a method", func(g *supervise.Group, seen chan<- string) http.Handler {
			return httptask.Handler(g, routes(seen))
		}, "DELETE", "/static/app.css", "app/DELETE /static/", 200},
		{"pattern without a method, odd method", func(g *supervise.Group, seen chan<- string) http.Handler {
			return httptask.Handler(g, routes(seen))
		}, "BREW", "/static/app.css", "app/OTHER /static/", 200},
		{"'#' in a pattern is escaped", func(g *supervise.Group, seen chan<- string) http.Handler {
			return httptask.Handler(g, routes(seen))
		}, "POST", "/odd%23route", "app/POST /odd%23route", 200},
		{"inside a route: Request.Pattern", func(g *supervise.Group, seen chan<- string) http.Handler {
			outer := http.NewServeMux()
			outer.Handle("PUT /items/{id}", httptask.Handler(g, taskOf(seen)))
			return outer
		}, "PUT", "/items/7", "app/PUT /items/{id}", 200},
		{"no mux: method and path", func(g *supervise.Group, seen chan<- string) http.Handler {
			return httptask.Handler(g, taskOf(seen))
		}, "GET", "/plain/path?q=1", "app/GET /plain/path", 200},
		{"no mux: odd method", func(g *supervise.Group, seen chan<- string) http.Handler {
			return httptask.Handler(g, taskOf(seen))
		}, "BREW", "/pot", "app/OTHER /pot", 200},
		{"no route matches", func(g *supervise.Group, seen chan<- string) http.Handler {
			return httptask.Handler(g, routes(seen))
		}, "GET", "/nope", "", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := supervise.New(t.Context(), "app", quiet)
			defer g.Wait()
			seen := make(chan string, 1)
			rec := httptest.NewRecorder()
			c.handler(g, seen).ServeHTTP(rec, httptest.NewRequest(c.method, c.target, nil))
			if rec.Code != c.status {
				t.Errorf("status %d, want %d", rec.Code, c.status)
			}
			select {
			case got := <-seen:
				if got != c.want {
					t.Errorf("the handler ran as task %q, want %q", got, c.want)
				}
			default:
				if c.want != "" {
					t.Errorf("the handler did not run; want it to run as %q", c.want)
				}
			}
		})
	}
}

// TestUnroutedRequestIsATaskToo: a request no route matches still runs as
// a task (the mux's 404 handler does), named by method and path.
func TestUnroutedRequestIsATaskToo(t *testing.T) {
	var ran []string
	var mu sync.Mutex
	g := supervise.New(t.Context(), "app", quiet, supervise.OnEvent(func(e supervise.Event) {
		if e.Kind == supervise.Completed {
			mu.Lock()
			ran = append(ran, e.Task)
			mu.Unlock()
		}
	}))
	h := httptask.Handler(g, http.NewServeMux())
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nope", nil))
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 1 || ran[0] != "app/GET /nope" {
		t.Fatalf("tasks completed: %q, want [app/GET /nope]", ran)
	}
}

// TestRepeatedRequestsAreNumbered: each request is its own task instance.
func TestRepeatedRequestsAreNumbered(t *testing.T) {
	g := supervise.New(t.Context(), "app", quiet)
	defer g.Wait()
	seen := make(chan string, 3)
	mux := http.NewServeMux()
	mux.Handle("GET /orders/{id}", taskOf(seen))
	h := httptask.Handler(g, mux)
	for i := range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", fmt.Sprintf("/orders/%d", i), nil))
	}
	close(seen)
	var got []string
	for s := range seen {
		got = append(got, s)
	}
	want := []string{"app/GET /orders/{id}", "app/GET /orders/{id}#2", "app/GET /orders/{id}#3"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("tasks %q, want %q", got, want)
	}
}

// TestHostilePathsCannotForgeOrMultiplyNames sends paths a client
// controls: control characters, '#', very long and very many distinct
// paths, odd methods. Names stay printable, free of '#', short, and their
// number bounded.
func TestHostilePathsCannotForgeOrMultiplyNames(t *testing.T) {
	g := supervise.New(t.Context(), "app", quiet)
	defer g.Wait()
	seen := make(chan string, 1)
	h := httptask.Handler(g, taskOf(seen))
	name := func(method, path string) string {
		r := httptest.NewRequest("GET", "/", nil)
		r.Method = method
		r.URL.Path, r.URL.RawPath = path, ""
		h.ServeHTTP(httptest.NewRecorder(), r)
		return strings.TrimPrefix(<-seen, "app/")
	}
	number := regexp.MustCompile(`#[0-9]+$`)
	check := func(got string) string {
		t.Helper()
		got = number.ReplaceAllString(got, "")
		for _, c := range []byte(got) {
			if c < ' ' || c >= 0x7f || c == '#' {
				t.Fatalf("name %q holds byte %q", got, c)
			}
		}
		if len(got) > len("OPTIONS ")+64+len("...") {
			t.Fatalf("name %q is %d bytes long", got, len(got))
		}
		return got
	}
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/a\nERROR forged line", "GET /a%0AERROR%20forged%20line"},
		{"GET", "/x#2", "GET /x%232"},
		{"GET", "/\x1b[31mred", "GET /%1B%5B31mred"},
		{"GET", "/" + strings.Repeat("a", 500), "GET /" + strings.Repeat("a", 63) + "..."},
		{"GET\nX", "/m", "OTHER /m"},
		{strings.Repeat("M", 100), "/m", "OTHER /m"},
	} {
		if got := check(name(c.method, c.path)); got != c.want {
			t.Errorf("%q %q: named %q, want %q", c.method, c.path, got, c.want)
		}
	}
	// Many distinct paths: at most 256 distinct names, then one more.
	names := map[string]bool{}
	for i := range 1000 {
		names[check(name("GET", fmt.Sprintf("/scan/%d", i)))] = true
	}
	if len(names) > 256+1 || !names["GET (other paths)"] {
		t.Fatalf("1000 distinct paths made %d distinct names (want at most 257, one of them %q)", len(names), "GET (other paths)")
	}
}

// TestLeakedLeaseNamesTheRoute: a handler that forgets to release a lease
// leaves it held by its route's task, acquired at its line, in the pool's
// Leases and in the leak report.
func TestLeakedLeaseNamesTheRoute(t *testing.T) {
	env := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "orders-db", MaxSize: 2})
	g := supervise.New(t.Context(), "app", quiet)
	var (
		mu      sync.Mutex
		kept    []*pool.Lease[*pooltest.Res] // reachable, so not collected
		acquire string
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		l, err := env.Pool.Acquire(r.Context()) // BUG: never released
		mu.Lock()
		acquire = testkit.Here(-2)
		mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		kept = append(kept, l)
		mu.Unlock()
		fmt.Fprintln(w, "order", r.PathValue("id"))
	})
	srv := httptest.NewServer(httptask.Handler(g, mux))
	defer srv.Close()
	status, body, err := get(srv.Client(), "GET", srv.URL+"/orders/42")
	if err != nil || status != 200 || body != "order 42\n" {
		t.Fatalf("GET /orders/42: %d %q %v", status, body, err)
	}

	leases := env.Pool.Leases()
	if len(leases) != 1 || leases[0].Task != "app/GET /orders/{id}" || leases[0].Site != acquire {
		t.Fatalf("leases %+v\nwant one held by app/GET /orders/{id}, acquired at %s", leases, acquire)
	}
	report := leakcheck.Snapshot(leakcheck.Light()).String()
	for _, want := range []string{"app/GET /orders/{id}", `pool "orders-db"`, "acquired at " + acquire} {
		if !strings.Contains(report, want) {
			t.Errorf("the leak report lacks %q:\n%s", want, report)
		}
	}
	mu.Lock()
	for _, l := range kept {
		l.Release()
	}
	mu.Unlock()
	srv.Close()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestPanicIsTheRequestsFailure: a panicking handler gets a 500, is logged
// at once with its route and line, is counted, does not cancel the group,
// and the server keeps serving.
func TestPanicIsTheRequestsFailure(t *testing.T) {
	l := &logs{}
	g := supervise.New(t.Context(), "app", supervise.Logger(l.logger()))
	var line string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=half-made")
		var orders map[string]int
		line = testkit.Here(1)
		orders[r.PathValue("id")]++ // panics: assignment to entry in nil map
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	srv := httptest.NewServer(httptask.Handler(g, mux))
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/orders/42")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || string(body) != "Internal Server Error\n" || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("GET /orders/42: %d %q, Set-Cookie %q; want 500 and none of the failed handler's headers",
			resp.StatusCode, body, resp.Header.Get("Set-Cookie"))
	}
	recs := l.find("ERROR", "panicked", "task=app/GET /orders/{id}", "panicked at "+line, "stack=")
	if len(recs) != 1 {
		t.Fatalf("want one Error record naming the route and %s; the log:\n%s", line, l.all())
	}
	for range 2 {
		if status, body, err := get(srv.Client(), "GET", srv.URL+"/health"); err != nil || status != 200 || body != "ok" {
			t.Fatalf("GET /health after the panic: %d %q %v", status, body, err)
		}
	}
	if st := g.Stats(); st.Failed != 1 || st.Panicked != 1 || st.Completed != 2 {
		t.Errorf("Stats = %+v, want 1 failed (panicked), 2 completed", st)
	}
	srv.Close()
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait = %v; a request's panic is not the group's failure", err)
	}
}

// TestManyFailuresAreCountedNotKept: a long-running server's group counts
// every failed request and keeps only the last few (supervise.Main prints
// them), so failures do not pile up.
func TestManyFailuresAreCountedNotKept(t *testing.T) {
	g := supervise.New(t.Context(), "app", quiet)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	h := httptask.Handler(g, mux)
	for range 200 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
		if rec.Code != 500 {
			t.Fatalf("status %d, want 500", rec.Code)
		}
	}
	if st := g.Stats(); st.Failed != 200 || st.Panicked != 200 || st.Running != 0 {
		t.Errorf("Stats = %+v, want 200 failed, all panics, none running", st)
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait = %v; requests' failures are not the group's", err)
	}
}

// TestPanicAfterTheResponseBeganAbortsIt: a client must not mistake a cut
// response for a whole one.
func TestPanicAfterTheResponseBeganAbortsIt(t *testing.T) {
	g := supervise.New(t.Context(), "app", quiet)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /report", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "row 1\n")
		http.NewResponseController(w).Flush()
		panic("row 2 is broken")
	})
	srv := httptest.NewServer(httptask.Handler(g, mux))
	defer srv.Close()
	status, body, err := get(srv.Client(), "GET", srv.URL+"/report")
	if err == nil {
		t.Fatalf("GET /report: %d %q and no error; want the response cut off", status, body)
	}
	if status != 200 || body != "row 1\n" {
		t.Errorf("GET /report: %d %q, want 200 and the first row before the abort", status, body)
	}
	srv.Close()
	if st := g.Stats(); st.Panicked != 1 {
		t.Errorf("Stats = %+v, want 1 panicked", st)
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestErrAbortHandlerKeepsItsMeaning: panic(http.ErrAbortHandler) aborts
// the response quietly, as net/http defines it: no log, no failure.
func TestErrAbortHandlerKeepsItsMeaning(t *testing.T) {
	l := &logs{}
	g := supervise.New(t.Context(), "app", supervise.Logger(l.logger()))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /abort", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "partial")
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	})
	srv := httptest.NewServer(httptask.Handler(g, mux))
	defer srv.Close()
	if _, _, err := get(srv.Client(), "GET", srv.URL+"/abort"); err == nil {
		t.Fatal("GET /abort: no error; want the response aborted")
	}
	srv.Close()
	if recs := l.find("panicked"); len(recs) != 0 {
		t.Errorf("ErrAbortHandler was logged as a panic:\n%s", strings.Join(recs, "\n"))
	}
	if st := g.Stats(); st.Failed != 0 || st.Completed != 1 {
		t.Errorf("Stats = %+v, want 0 failed, 1 completed", st)
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestCancelledGroupAnswers503: a request that arrives when the group's
// context is done does not run.
func TestCancelledGroupAnswers503(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	g := supervise.New(ctx, "app", quiet)
	ran := false
	h := httptask.Handler(g, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
	cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if ran || rec.Code != 503 || rec.Header().Get("Connection") != "close" {
		t.Errorf("ran %v, status %d, Connection %q; want not run, 503, close", ran, rec.Code, rec.Header().Get("Connection"))
	}
	if err := g.Wait(); !errors.Is(err, context.Canceled) && err != nil {
		t.Fatal(err)
	}
}

// TestFinishedGroupAnswers503: a request that slips in after the group
// finished is refused; net/http's goroutine does not panic.
func TestFinishedGroupAnswers503(t *testing.T) {
	g := supervise.New(t.Context(), "app", quiet)
	ran := false
	h := httptask.Handler(g, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/late", nil))
	if ran || rec.Code != 503 {
		t.Errorf("after Wait: ran %v, status %d; want not run, 503", ran, rec.Code)
	}
}

// TestResponseWriterKeepsItsInterfaces: handlers that flush, copy into the
// response or use a ResponseController still can.
func TestResponseWriterKeepsItsInterfaces(t *testing.T) {
	g := supervise.New(t.Context(), "app", quiet)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("the ResponseWriter is not an http.Flusher")
		}
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("the ResponseWriter is not an io.ReaderFrom")
		}
		if err := http.NewResponseController(w).SetWriteDeadline(timeZero); err != nil {
			t.Errorf("ResponseController.SetWriteDeadline: %v", err)
		}
		io.Copy(w, strings.NewReader("copied"))
	})
	srv := httptest.NewServer(httptask.Handler(g, mux))
	defer srv.Close()
	if status, body, err := get(srv.Client(), "GET", srv.URL+"/x"); err != nil || status != 200 || body != "copied" {
		t.Fatalf("GET /x: %d %q %v", status, body, err)
	}
	srv.Close()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestHandlerMisuse(t *testing.T) {
	g := supervise.New(t.Context(), "app", quiet)
	defer g.Wait()
	testkit.WantPanic(t, "Handler(nil, h)", func() { httptask.Handler(nil, http.NewServeMux()) }, "httptask: Handler(nil, h)")
	testkit.WantPanic(t, "Handler(g, nil)", func() { httptask.Handler(g, nil) }, "httptask: Handler(g, nil)")
}
