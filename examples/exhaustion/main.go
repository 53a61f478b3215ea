// Command exhaustion shows slow holders exhausting a database's small pool
// and the bounded wait that fails, naming them, instead of hanging.
//
//	go run ./examples/exhaustion          # the bug
//	go run ./examples/exhaustion -fixed   # renders release before slow work
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/tether-go/tether/examples/scenario/exhaustion"
)

func main() {
	fixed := flag.Bool("fixed", false, "run the corrected render")
	flag.Parse()
	fmt.Println("bug:", exhaustion.Bug)
	if _, err := exhaustion.Run(context.Background(), os.Stdout, *fixed); err != nil {
		log.Fatal(err)
	}
}
