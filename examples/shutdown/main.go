// Command shutdown runs a small service (HTTP server, workers, connection
// pool over SQLite) under supervise.Main. Stop it with Ctrl-C or SIGTERM, or
// let -duration end it: it shuts down in order and prints a clean report.
// A request in flight when it stops is drained: GET /report takes 200ms,
// and one interrupted by Ctrl-C still completes, its query included.
// With -leak a background task ignores cancellation while holding a
// connection, and the output names both.
//
//	go run ./examples/shutdown
//	go run ./examples/shutdown -leak
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tether-go/tether/examples/scenario/shutdown"
	"github.com/tether-go/tether/supervise"
)

func main() {
	leak := flag.Bool("leak", false, "leave a task and a lease behind")
	duration := flag.Duration("duration", 10*time.Second, "stop after this long if no signal came")
	flag.Parse()
	if *leak {
		fmt.Println("bug:", shutdown.Bug)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	addr := make(chan string, 1)
	//tether:allow nakedgo prints the address once the service has one; it never outlives main
	go func() { fmt.Printf("listening on http://%s/orders; Ctrl-C to stop\n", <-addr) }()
	supervise.Main("shop", shutdown.Service(shutdown.Config{Out: os.Stdout, Leak: *leak, Addr: addr}),
		supervise.MainContext(ctx), supervise.ShutdownTimeout(2*time.Second))
}
