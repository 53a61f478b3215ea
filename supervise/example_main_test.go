package supervise_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tether-go/tether/supervise"
)

// Main is the body of a service's func main. This one runs a batch job: when
// its only task ends, Main shuts down, runs the Defers, finds nothing left
// running or held, and exits 0. (Exit replaces os.Exit here so the example
// can print the code.)
func ExampleMain() {
	supervise.Main("batch", func(ctx context.Context, g *supervise.Group) error {
		g.Defer("close files", func(context.Context) error {
			fmt.Println("closing files")
			return nil
		})
		g.Go("import", func(ctx context.Context) error {
			fmt.Println("importing")
			return nil
		})
		return nil
	},
		supervise.Exit(func(code int) { fmt.Println("exit", code) }),
		supervise.GroupOptions(supervise.Logger(slog.New(slog.DiscardHandler))),
	)
	// Output:
	// importing
	// closing files
	// exit 0
}
