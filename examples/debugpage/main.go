// Command debugpage runs a small ledger service that serves leakcheck's live
// page on a loopback port, and tether's metrics for Prometheus next to it.
// Open the printed URL; add ?format=json for the machine form, ?mode=full
// for wait reasons. Ctrl-C stops it.
//
//	go run ./examples/debugpage
package main

import (
	"fmt"

	"github.com/tether-go/tether/examples/scenario/debugpage"
	"github.com/tether-go/tether/supervise"
)

func main() {
	addr := make(chan string, 1)
	//tether:allow nakedgo prints the address once the service has one; it never outlives main
	go func() {
		base := <-addr
		fmt.Println("live page:", base+"/debug/tether", "(Ctrl-C to stop)")
		fmt.Println("metrics:  ", base+"/metrics")
	}()
	supervise.Main("ledger", debugpage.Service(debugpage.Config{Addr: addr}))
}
