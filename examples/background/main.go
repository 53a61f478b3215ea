// Command background shows a background task's panic surfacing at once,
// with its task and line, cancelling its siblings and failing the process.
//
//	go run ./examples/background          # the bug: exits 1
//	go run ./examples/background -fixed   # malformed entries skipped: exits 0
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/tether-go/tether/examples/scenario/background"
)

func main() {
	fixed := flag.Bool("fixed", false, "run the corrected sync")
	duration := flag.Duration("duration", 2*time.Second, "how long the service runs before it stops")
	flag.Parse()
	fmt.Println("bug:", background.Bug)
	res, err := background.Run(context.Background(), os.Stdout, *fixed, *duration)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nthe http task saw its context cancelled because: %s\n", res.SiblingCause)
	fmt.Printf("synced %d feed entries\n", res.Synced)
	if res.Stderr != "" {
		fmt.Printf("\nsupervise.Main printed:\n%s", res.Stderr)
	}
	fmt.Println("exit code", res.ExitCode)
	os.Exit(res.ExitCode)
}
