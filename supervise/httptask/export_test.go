package httptask

import (
	"context"
	"net/http"
)

// ServeBaseContext returns the base context Serve gives the requests of
// a server whose task's context is ctx (for benchmarks of the drain), and
// the function that ends the drain.
func ServeBaseContext(ctx context.Context) (context.Context, func()) {
	d := &drain{srv: &http.Server{}}
	return d.start(ctx), d.stop
}
