// Command debugpage runs a small ledger service that serves leakcheck's live
// page on a loopback port. Open the printed URL; add ?format=json for the
// machine form, ?mode=full for wait reasons. Ctrl-C stops it.
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
	go func() { fmt.Println("live page:", <-addr, "(Ctrl-C to stop)") }()
	supervise.Main("ledger", debugpage.Service(debugpage.Config{Addr: addr}))
}
