package httptask_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/supervise"
	"github.com/tether-go/tether/supervise/httptask"
)

// TestServeDrainsUnwrappedHandlers: a handler not wrapped with Handler
// drains too: its request keeps its context (and the server task's
// identity) when the shutdown begins and completes; a request still
// running when ShutdownTimeout passes is cancelled with the drain's cause.
func TestServeDrainsUnwrappedHandlers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(t.Context(), "app", quiet)
		pn := newPipeNet()
		slow, stuck := newSlowRoute(), newSlowRoute()
		mux := http.NewServeMux()
		mux.Handle("GET /slow", slow)
		mux.Handle("GET /stuck", stuck)
		httptask.Serve(g, "http", &http.Server{Handler: mux}, httptask.Listener(pn), httptask.ShutdownTimeout(time.Minute))
		got := make(chan string, 2)
		for _, path := range []string{"/slow", "/stuck"} {
			go func() {
				status, body, err := get(pn.client(), "GET", "http://pipe"+path)
				got <- fmt.Sprint(path, " ", status, " ", body, " ", err)
			}()
		}
		<-slow.entered
		<-stuck.entered
		if task := <-slow.task; task != "app/http" {
			t.Errorf("an unwrapped handler ran as %q, want the server task app/http", task)
		}

		stopped := make(chan error, 1)
		go func() { stopped <- g.Shutdown(context.Background()) }()
		synctest.Wait()
		select {
		case cause := <-slow.cause:
			t.Errorf("the request in flight was cancelled when the shutdown began: %v", cause)
		default:
		}
		close(slow.release)
		if r := <-got; r != "/slow 200 done <nil>" {
			t.Errorf("the drained request got %s, want 200 done", r)
		}
		err := <-stopped // after ShutdownTimeout: /stuck never ends by itself
		if cause := fmt.Sprint(<-stuck.cause); !strings.Contains(cause, `server "app/http": graceful shutdown gave up after 1m0s (ShutdownTimeout)`) {
			t.Errorf("the stuck request's cancellation cause = %s, want the drain's", cause)
		}
		if !strings.Contains(fmt.Sprint(err), `graceful shutdown gave up after 1m0s (ShutdownTimeout); their contexts are cancelled`) {
			t.Errorf("Shutdown = %v, want the server's failure", err)
		}
		if r := <-got; !strings.HasPrefix(r, "/stuck 0") {
			t.Errorf("the stuck request got %s, want its connection closed", r)
		}
	})
}

// TestServeShutdownNamesTheStuckRequest: a handler that ignores its
// context keeps the server from stopping. After ShutdownTimeout the server
// closes its connections and fails naming how many requests were left;
// when the group's own Shutdown gives up, it names the request's task, by
// route, with its stack.
func TestServeShutdownNamesTheStuckRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(t.Context(), "app", quiet)
		pn := newPipeNet()
		entered, release := make(chan struct{}), make(chan struct{})
		mux := http.NewServeMux()
		mux.HandleFunc("GET /reports/{id}", func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release // BUG: ignores r.Context()
		})
		httptask.Serve(g, "http", &http.Server{Handler: httptask.Handler(g, mux)},
			httptask.Listener(pn), httptask.ShutdownTimeout(2*time.Second))
		clientErr := make(chan error, 1)
		go func() {
			_, _, err := get(pn.client(), "GET", "http://pipe/reports/7")
			clientErr <- err
		}()
		<-entered

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := g.Shutdown(ctx)
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Shutdown returned after %v, want 5s (its deadline)", d)
		}
		if err == nil {
			t.Fatal("Shutdown = nil, want the stuck request and the server's failure")
		}
		msg := err.Error()
		for _, want := range []string{
			`server "app/http": graceful shutdown gave up after 2s (ShutdownTimeout) with 1 request still running: "app/GET /reports/{id}"`,
			`"app/GET /reports/{id}"`, "did not stop", "serve_test.go:", // the request's task, with its stack
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("Shutdown's error lacks %q:\n%s", want, msg)
			}
		}
		if !errors.Is(err, supervise.ErrNotStopped) {
			t.Errorf("Shutdown's error does not match ErrNotStopped:\n%s", msg)
		}
		if err := <-clientErr; err == nil {
			t.Error("the client's request succeeded; want its connection closed")
		}
		close(release)
		if err := g.Wait(); err == nil { // the stragglers end
			t.Error("Wait after the Shutdown = nil, want the same failures")
		}
	})
}

// TestServeWaitsForTheGroupsDeadline: without ShutdownTimeout, the server
// waits for the stuck request until the group's Shutdown gives up on both;
// then the server gives up too, closing the request's connection.
func TestServeWaitsForTheGroupsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(t.Context(), "app", quiet)
		pn := newPipeNet()
		entered, release := make(chan struct{}), make(chan struct{})
		mux := http.NewServeMux()
		mux.HandleFunc("GET /reports/{id}", func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
		})
		httptask.Serve(g, "http", &http.Server{Handler: httptask.Handler(g, mux)}, httptask.Listener(pn))
		done := make(chan error, 1)
		go func() {
			_, _, err := get(pn.client(), "GET", "http://pipe/reports/7")
			done <- err
		}()
		<-entered
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		err := g.Shutdown(ctx)
		msg := fmt.Sprint(err)
		for _, want := range []string{
			`"app/http"`, `"app/GET /reports/{id}"`, "did not stop",
			`server "app/http": graceful shutdown gave up after 3s (the group's Shutdown deadline) with 1 request still running: "app/GET /reports/{id}"`,
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("Shutdown's error lacks %q:\n%s", want, msg)
			}
		}
		// Once the group gave up, the drain did too: the request's
		// connection is closed.
		if err := <-done; err == nil {
			t.Error("the request left running got its response; want its connection closed")
		}
		close(release)
		g.Wait() // the request and the server end
	})
}

// TestServeFailsWhenItCannotListen: a listen error is the server task's
// failure, naming the task.
func TestServeFailsWhenItCannotListen(t *testing.T) {
	g := supervise.New(t.Context(), "app", quiet)
	httptask.Serve(g, "http", &http.Server{Addr: "127.0.0.1:-1", Handler: http.NewServeMux()})
	err := g.Wait()
	if err == nil || !strings.Contains(err.Error(), `task "app/http" (started at serve_test.go:`) || !strings.Contains(err.Error(), `on "127.0.0.1:-1"`) {
		t.Fatalf("Wait = %v, want the listen task's failure naming the address", err)
	}
}

// TestServeTLS: a server whose TLSConfig has a certificate serves HTTPS.
func TestServeTLS(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	cfg, client := ts.TLS.Clone(), ts.Client() // the test certificate, and a client that trusts it
	ts.Close()

	g := supervise.New(t.Context(), "app", quiet)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /secure", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.TLS != nil)
	})
	httptask.Serve(g, "https", &http.Server{Handler: httptask.Handler(g, mux), TLSConfig: cfg}, httptask.Listener(ln))
	status, body, err := get(client, "GET", "https://"+ln.Addr().String()+"/secure")
	if err != nil || status != 200 || body != "true" {
		t.Errorf("GET https://.../secure: %d %q %v", status, body, err)
	}
	client.CloseIdleConnections()
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestServeSetsBaseContext: a handler not wrapped with Handler still runs
// with the server task's identity.
func TestServeSetsBaseContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(t.Context(), "app", quiet)
		pn := newPipeNet()
		seen := make(chan string, 1)
		httptask.Serve(g, "http", &http.Server{Handler: taskOf(seen)}, httptask.Listener(pn))
		if _, _, err := get(pn.client(), "GET", "http://pipe/"); err != nil {
			t.Fatal(err)
		}
		if got := <-seen; got != "app/http" {
			t.Errorf("an unwrapped handler ran as %q, want the server task app/http", got)
		}
		if err := g.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestServeClosesAnUnusedListener: if the group is done before the server
// starts, the listener it was given is still closed.
func TestServeClosesAnUnusedListener(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		g := supervise.New(ctx, "app", quiet)
		block := make(chan struct{})
		g.Go("first", func(context.Context) error { <-block; return nil })
		cancel()
		pn := newPipeNet()
		httptask.Serve(g, "http", &http.Server{Handler: http.NewServeMux()}, httptask.Listener(pn))
		close(block)
		g.Wait()
		select {
		case <-pn.closed:
		default:
			t.Error("the listener of a server that never started is still open")
		}
	})
}

func TestServeMisuse(t *testing.T) {
	g := supervise.New(t.Context(), "app", quiet)
	defer g.Wait()
	srv := &http.Server{}
	testkit.WantPanic(t, "Serve(nil, ...)", func() { httptask.Serve(nil, "http", srv) }, "httptask: Serve(nil")
	testkit.WantPanic(t, "Serve(g, name, nil)", func() { httptask.Serve(g, "http", nil) }, "httptask: Serve(g", "nil")
	testkit.WantPanic(t, "nil option", func() { httptask.Serve(g, "http", srv, nil) }, "option 0 is nil")
	testkit.WantPanic(t, "Listener(nil)", func() { httptask.Listener(nil) }, "httptask: Listener(nil)")
	testkit.WantPanic(t, "ShutdownTimeout(0)", func() { httptask.ShutdownTimeout(0) }, "must be positive")
	testkit.WantPanic(t, "name with '#'", func() { httptask.Serve(g, "http#1", srv) }, "'#'")
}
