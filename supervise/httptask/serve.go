package httptask

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tether-go/tether/internal/text"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

// ServeOption configures [Serve].
type ServeOption interface{ apply(*serveSettings) }

type serveSettings struct {
	ln              net.Listener
	shutdownTimeout time.Duration
}

type listenerOption struct{ ln net.Listener }

func (o listenerOption) apply(s *serveSettings) { s.ln = o.ln }

// Listener serves on ln, which the caller has bound already (for example
// on port 0, to learn the address before the server starts), instead of
// listening on srv.Addr. Serve owns ln from then on: it is closed when the
// server stops, or, if the server never starts (g's context was already
// done), when g finishes (Serve registers a Defer of g for that). Listener
// panics if ln is nil.
func Listener(ln net.Listener) ServeOption {
	if ln == nil {
		panic("httptask: Listener(nil): pass a bound net.Listener, or leave the option out to listen on srv.Addr")
	}
	return listenerOption{ln}
}

type shutdownTimeoutOption time.Duration

func (d shutdownTimeoutOption) apply(s *serveSettings) { s.shutdownTimeout = time.Duration(d) }

// ShutdownTimeout bounds the graceful shutdown: once d has passed, the
// server's connections are closed and the server's task fails, naming how
// many requests were still running. Without it the shutdown waits for the
// requests until they end, bounded only by the group's own Shutdown (which
// names every task still running, requests included, with its stack).
// ShutdownTimeout panics unless d > 0.
func ShutdownTimeout(d time.Duration) ServeOption {
	if d <= 0 {
		panic(fmt.Sprintf("httptask: ShutdownTimeout(%v): the timeout must be positive", d))
	}
	return shutdownTimeoutOption(d)
}

// Serve runs srv as the task name of g. The server listens on srv.Addr
// (":http" if empty), or on the listener given with [Listener], and serves
// TLS when srv.TLSConfig holds a certificate (Certificates, GetCertificate
// or GetConfigForClient). The task accepts connections itself; a child
// task waits for the end: with g named "app" and name "http", the tasks
// are "app/http" and "app/http/shutdown/watch".
//
// When g's context is done (g's Shutdown, Main's signal, a failure that
// cancels g), the server shuts down gracefully: srv.Shutdown stops
// accepting, closes idle connections and waits for the requests in flight
// (see [ShutdownTimeout]). Requests served through [Handler] see their
// context cancelled at that moment, since they are tasks of g. The task
// ends with nil after a clean shutdown, and fails if the server could not
// listen or serve, or if the shutdown timed out.
//
// If srv.BaseContext is nil, Serve sets it so that every request's context
// derives from the server task's: even a handler not wrapped with Handler
// then runs with the identity of the task "app/http", and with its
// cancellation.
//
// Serve panics if g or srv is nil, or an option is nil, and where g.Go
// panics (an invalid name, g already waited for).
func Serve(g *supervise.Group, name string, srv *http.Server, opts ...ServeOption) {
	if g == nil {
		panic(fmt.Sprintf("httptask: Serve(nil, %q, srv): pass the group the server runs in", name))
	}
	if srv == nil {
		panic(fmt.Sprintf("httptask: Serve(g, %q, nil): pass the *http.Server to run", name))
	}
	var set serveSettings
	for i, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("httptask: Serve(g, %q, srv): option %d is nil", name, i))
		}
		o.apply(&set)
	}
	if ln := set.ln; ln != nil {
		// srv.Serve closes ln when it returns. If the task never runs (g's
		// context is already done), this closes it when g finishes; a
		// second Close does nothing harmful.
		g.Defer("close listener of "+name, func(context.Context) error { ln.Close(); return nil })
	}
	g.Go(name, func(ctx context.Context) error { return serve(ctx, srv, set) })
}

// serve is the server's task: it serves on its own goroutine, while a
// child task waits for the task's context to be done (or for the server to
// stop by itself) and shuts the server down.
func serve(ctx context.Context, srv *http.Server, set serveSettings) error {
	if srv.BaseContext == nil {
		srv.BaseContext = func(net.Listener) context.Context { return ctx }
	}
	stopped := make(chan struct{})
	watch := supervise.New(ctx, "shutdown")
	watch.Go("watch", func(wctx context.Context) error {
		select {
		case <-wctx.Done():
		case <-stopped:
		}
		return shutdown(ctx, srv, set.shutdownTimeout)
	})
	err := listen(srv, set.ln)
	close(stopped)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	} else {
		addr := srv.Addr
		if set.ln != nil {
			addr = set.ln.Addr().String()
		}
		err = fmt.Errorf("httptask: server %q on %q: %w", track.TaskFrom(ctx).String(), addr, err)
	}
	return errors.Join(err, watch.Wait())
}

// listen serves srv on ln, or on srv.Addr, with TLS if srv.TLSConfig has
// a certificate.
func listen(srv *http.Server, ln net.Listener) error {
	tls := srv.TLSConfig != nil &&
		(len(srv.TLSConfig.Certificates) > 0 || srv.TLSConfig.GetCertificate != nil || srv.TLSConfig.GetConfigForClient != nil)
	switch {
	case ln != nil && tls:
		return srv.ServeTLS(ln, "", "")
	case ln != nil:
		return srv.Serve(ln)
	case tls:
		return srv.ListenAndServeTLS("", "")
	}
	return srv.ListenAndServe()
}

// shutdown stops srv gracefully: it waits for the requests in flight,
// bounded by timeout if it is set, then closes what is left.
func shutdown(ctx context.Context, srv *http.Server, timeout time.Duration) error {
	sctx := context.WithoutCancel(ctx)
	if timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(sctx, timeout)
		defer cancel()
	}
	start := time.Now()
	err := srv.Shutdown(sctx)
	if err == nil {
		return nil
	}
	running := ""
	if hd, ok := srv.Handler.(*handler); ok {
		running = fmt.Sprintf(" with %s still running", text.Count(hd.inFlight.Load(), "request", "requests"))
	}
	srv.Close()
	// Not wrapping err (context.DeadlineExceeded): the group would take
	// the failure for an echo of its own cancellation and drop it.
	return fmt.Errorf("httptask: server %q: graceful shutdown gave up after %v%s; connections closed (%v)",
		track.TaskFrom(ctx).String(), text.Round(time.Since(start)), running, err)
}
