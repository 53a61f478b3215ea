// Command sessions shows a database's pool draining because a handler
// forgets to close a connection on one path, and what tether reports about
// it.
//
//	go run ./examples/sessions          # the bug
//	go run ./examples/sessions -fixed   # the handler without a connection of its own
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/tether-go/tether/examples/scenario/sessions"
)

func main() {
	fixed := flag.Bool("fixed", false, "run the corrected handler")
	flag.Parse()
	fmt.Println("bug:", sessions.Bug)
	res, err := sessions.Run(context.Background(), os.Stdout, *fixed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nserved %d, failed %d\n", res.Served, res.Failed)
	if res.TimedOut != "" {
		fmt.Println("\nthe waiter's error:\n ", res.TimedOut)
	}
	for _, l := range res.Leaks {
		fmt.Printf("\nleak %s: database %q %s #%d opened at %s (%s) by task %q, held %v\n",
			l.Kind, l.Pool, l.Handle, l.ID, l.Site, l.Func, l.Task, l.HeldFor.Round(1e6))
	}
	fmt.Println("\n" + res.After)
}
