package leakcheck

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestSortEntriesMatchesAPlainSort checks the index sort and its in-place
// permutation against sorting the entries themselves.
func TestSortEntriesMatchesAPlainSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for round := range 200 {
		n := rng.IntN(60)
		es := make([]Entry, n)
		for i := range es {
			es[i] = Entry{
				Kind:      []string{KindUnsupervised, KindGoroutine, KindTask, KindLease}[rng.IntN(4)],
				Owner:     []string{"", "app/a", "app/b"}[rng.IntN(3)],
				Goroutine: uint64(rng.IntN(20)),
				Name:      strconv.Itoa(rng.IntN(5)),
			}
			if rng.IntN(3) == 0 {
				es[i].Since = base.Add(time.Duration(rng.IntN(5)) * time.Second)
			}
		}
		got := slices.Clone(es)
		sortEntries(got)
		aged := slices.DeleteFunc(slices.Clone(es), func(e Entry) bool { return e.Since.IsZero() })
		rest := slices.DeleteFunc(slices.Clone(es), func(e Entry) bool { return !e.Since.IsZero() })
		slices.SortFunc(aged, func(a, b Entry) int {
			if c := a.Since.Compare(b.Since); c != 0 {
				return c
			}
			return compareRest(&a, &b)
		})
		slices.SortFunc(rest, func(a, b Entry) int { return compareRest(&a, &b) })
		want := append(aged, rest...)
		for i := range want {
			if compareRest(&got[i], &want[i]) != 0 || !got[i].Since.Equal(want[i].Since) {
				t.Fatalf("round %d: entry %d = %+v, want %+v", round, i, got[i], want[i])
			}
		}
	}
}
