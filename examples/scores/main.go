// Command scores shows concurrent read-modify-write losing updates, and
// guard.Map catching and retrying every conflict.
//
//	go run ./examples/scores          # the bug
//	go run ./examples/scores -fixed   # updates through guard.Map
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/tether-go/tether/examples/scenario/scores"
)

func main() {
	fixed := flag.Bool("fixed", false, "update through guard.Map")
	flag.Parse()
	fmt.Println("bug:", scores.Bug)
	if _, err := scores.Run(context.Background(), os.Stdout, *fixed); err != nil {
		log.Fatal(err)
	}
}
