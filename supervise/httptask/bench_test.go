package httptask_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tether-go/tether/supervise"
	"github.com/tether-go/tether/supervise/httptask"
)

// benchHandler returns the service under benchmark: a mux with one route,
// served bare or through Handler (and the group to Wait for, or nil).
func benchHandler(b *testing.B, impl string) (http.Handler, *supervise.Group) {
	mux := http.NewServeMux()
	body := []byte(`{"id":42,"item":"widget"}`)
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "" {
			b.Error("no path value")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	switch impl {
	case "bare":
		return mux, nil
	case "httptask", "httptask+serve":
		g := supervise.New(b.Context(), "bench", quiet)
		return httptask.Handler(g, mux), g
	}
	b.Fatalf("unknown impl %q", impl)
	return nil, nil
}

var impls = []string{"bare", "httptask"}

// BenchmarkRequest is a whole request on a loopback server, client
// included: the latency a caller sees. Allocations count both sides.
func BenchmarkRequest(b *testing.B) {
	for _, impl := range append(impls, "httptask+serve") {
		b.Run("impl="+impl, func(b *testing.B) {
			h, g := benchHandler(b, impl)
			var (
				url   string
				close func()
			)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			if impl == "httptask+serve" {
				// Served by Serve, as a task of g: each request runs as the
				// drain requires.
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				httptask.Serve(g, "http", &http.Server{Handler: h}, httptask.Listener(ln))
				url = "http://" + ln.Addr().String() + "/orders/42"
				close = func() { g.Shutdown(context.Background()) }
			} else {
				srv := httptest.NewServer(h)
				url = srv.URL + "/orders/42"
				close = srv.Close
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			client.CloseIdleConnections()
			close()
			if g != nil {
				if err := g.Wait(); err != nil {
					b.Error(err)
				}
			}
		})
	}
}

// BenchmarkServeHTTP is the server's side alone, without the network:
// what Handler adds to each request, in time and allocations. Each request
// gets a context of its own, cancelled when it ends, as net/http gives it;
// with impl=httptask+serve that context derives from the base context
// Serve gives its requests, so Handler runs the request as Serve's drain
// requires (detached from the group's cancellation, listed as live).
func BenchmarkServeHTTP(b *testing.B) {
	for _, impl := range append(impls, "httptask+serve") {
		b.Run("impl="+impl, func(b *testing.B) {
			h, g := benchHandler(b, impl)
			base := context.Background()
			if impl == "httptask+serve" {
				var stop func()
				base, stop = httptask.ServeBaseContext(b.Context())
				defer stop()
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest("GET", "/orders/42", nil)
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					ctx, cancel := context.WithCancel(base)
					h.ServeHTTP(w, r.WithContext(ctx))
					cancel()
				}
			})
			b.StopTimer()
			if g != nil {
				if err := g.Wait(); err != nil {
					b.Error(err)
				}
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handler, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
