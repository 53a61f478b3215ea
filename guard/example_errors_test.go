package guard_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/tether-go/tether/guard"
)

// Two writers read the same version; the second write is refused instead of
// erasing the first. Inside supervised tasks, the message also names both
// tasks ("stale write by app/a at ...", "written by app/b at ...").
func ExampleGuard_CompareAndSwap() {
	ctx := context.Background()
	scores := guard.New("scores", 10)

	a := scores.Load()
	b := scores.Load()
	scores.CompareAndSwap(ctx, b.Version, b.Value+5)
	cur, err := scores.CompareAndSwap(ctx, a.Version, a.Value+1)

	fmt.Println(err)
	var ce *guard.ConflictError
	if errors.As(err, &ce) {
		fmt.Printf("based on v%d, v%d is current: %d\n", ce.Base, ce.Current, cur.Value)
	}
	// Output:
	// guard "scores": stale write at example_errors_test.go:21: based on v1, but v2 is current, written outside any task at example_errors_test.go:20
	// based on v1, v2 is current: 15
}

func ExampleWithValidator() {
	ctx := context.Background()
	stock := guard.New("stock", 2, guard.WithValidator(func(n int) error {
		if n < 0 {
			return errors.New("stock cannot go negative")
		}
		return nil
	}))
	take := func(n int) (int, error) { return n - 1, nil }
	for range 3 {
		_, err := stock.Update(ctx, take)
		fmt.Println(err)
	}
	// Output:
	// <nil>
	// <nil>
	// guard "stock": write at example_errors_test.go:43 refused by validator: stock cannot go negative
}
