package guard_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tether-go/tether/guard"
)

func ExampleGuard_Update() {
	ctx := context.Background()
	hits := guard.New("hits", 0)
	for range 3 {
		hits.Update(ctx, func(n int) (int, error) { return n + 1, nil })
	}
	s := hits.Load()
	fmt.Printf("%d hits at v%d\n", s.Value, s.Version)
	// Output: 3 hits at v4
}

// fn's error aborts the update: nothing is committed.
func ExampleGuard_Update_error() {
	ctx := context.Background()
	balance := guard.New("balance", 100)
	errFunds := errors.New("insufficient funds")
	withdraw := func(amount int) func(int) (int, error) {
		return func(b int) (int, error) {
			if b < amount {
				return b, errFunds
			}
			return b - amount, nil
		}
	}
	_, err := balance.Update(ctx, withdraw(30))
	fmt.Println(err)
	_, err = balance.Update(ctx, withdraw(500))
	fmt.Println(err)
	fmt.Println(balance.Load().Value)
	// Output:
	// <nil>
	// insufficient funds
	// 70
}

func ExampleGuard_Stats() {
	ctx := context.Background()
	g := guard.New("config", "v1")
	s := g.Load()
	g.CompareAndSwap(ctx, s.Version, "v2")
	g.CompareAndSwap(ctx, s.Version, "v2 again") // stale: refused
	st := g.Stats()
	fmt.Println(st.Updates, st.Conflicts, st.LastConflict.Base, st.LastConflict.Current)
	// Output: 1 1 1 2
}

func ExampleNewMap() {
	ctx := context.Background()
	votes := guard.NewMap[string, int]("votes")
	for _, who := range []string{"ann", "bob", "ann", "ann"} {
		votes.Update(ctx, who, func(n int) (int, error) { return n + 1, nil })
	}
	votes.Delete(ctx, "bob")

	var lines []string
	votes.Range(ctx, func(who string, s guard.Snapshot[int]) bool {
		lines = append(lines, fmt.Sprintf("%s=%d (v%d)", who, s.Value, s.Version))
		return true
	})
	slices.Sort(lines)
	fmt.Println(strings.Join(lines, ", "))
	bob, _ := votes.Load(ctx, "bob")
	fmt.Printf("bob=%d (v%d)\n", bob.Value, bob.Version)
	// Output:
	// ann=3 (v3)
	// bob=0 (v0)
}

// With WithClone, Update's fn gets a private copy of a map-valued guard, so
// it may change it in place; readers of earlier versions are unaffected.
func ExampleWithClone() {
	ctx := context.Background()
	routes := guard.New("routes", map[string]string{"/": "home"}, guard.WithClone(maps.Clone[map[string]string]))
	before := routes.Load()
	routes.Update(ctx, func(m map[string]string) (map[string]string, error) {
		m["/about"] = "about"
		return m, nil
	})
	fmt.Println(len(before.Value), len(routes.Load().Value))
	// Output: 1 2
}
