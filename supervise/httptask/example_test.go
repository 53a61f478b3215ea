package httptask_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"

	"github.com/tether-go/tether/supervise"
	"github.com/tether-go/tether/supervise/httptask"
)

// Each request runs as a task of the group, named by its route; a panic is
// the request's failure, answered with 500, and the group goes on.
func ExampleHandler() {
	g := supervise.New(context.Background(), "app", supervise.Logger(slog.New(slog.DiscardHandler)))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, t := range g.Tasks() {
			fmt.Println("running:", t.Path)
		}
		fmt.Fprintln(w, "order", r.PathValue("id"))
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		var orders map[string]int
		orders["42"]++ // panics: assignment to entry in nil map
	})
	h := httptask.Handler(g, mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/orders/42", nil))
	fmt.Print(rec.Code, " ", rec.Body)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", nil))
	fmt.Println(rec.Code)

	st := g.Stats()
	fmt.Println("completed:", st.Completed, "panicked:", st.Panicked)
	fmt.Println("Wait:", g.Wait())
	// Output:
	// running: app/GET /orders/{id}
	// 200 order 42
	// 500
	// completed: 1 panicked: 1
	// Wait: <nil>
}

// Serve runs the server as a task; the group's Shutdown stops it
// gracefully.
func ExampleServe() {
	g := supervise.New(context.Background(), "app")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })
	ln, err := net.Listen("tcp", "127.0.0.1:0") // bound first, to know the port
	if err != nil {
		fmt.Println(err)
		return
	}
	httptask.Serve(g, "http", &http.Server{Handler: httptask.Handler(g, mux)}, httptask.Listener(ln))

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + ln.Addr().String() + "/hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	fmt.Println("Shutdown:", g.Shutdown(context.Background()))
	// Output:
	// hello
	// Shutdown: <nil>
}
