package httptask_test

import (
	"io"
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
	case "httptask":
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
	for _, impl := range impls {
		b.Run("impl="+impl, func(b *testing.B) {
			h, g := benchHandler(b, impl)
			srv := httptest.NewServer(h)
			client := srv.Client()
			url := srv.URL + "/orders/42"
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
			srv.Close()
			if g != nil {
				if err := g.Wait(); err != nil {
					b.Error(err)
				}
			}
		})
	}
}

// BenchmarkServeHTTP is the server's side alone, without the network:
// what Handler adds to each request, in time and allocations.
func BenchmarkServeHTTP(b *testing.B) {
	for _, impl := range impls {
		b.Run("impl="+impl, func(b *testing.B) {
			h, g := benchHandler(b, impl)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest("GET", "/orders/42", nil)
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					h.ServeHTTP(w, r)
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
