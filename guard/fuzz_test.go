package guard_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tether-go/tether/guard"
)

// model is the sequential specification of a Guard[int]: one value, one
// version, one last writer.
type model struct {
	value   int
	version uint64
	writer  string
}

// FuzzCompareAndSwapModel runs any interleaving of three clients' Loads,
// CompareAndSwaps (from their last read, or from any version) and
// Updates against the model. Every result must match: a write commits only
// if it is based on the current version, then the version grows by exactly
// one; otherwise it is refused, naming the current version and its writer.
// So the history of commits is always consecutive versions, each based on
// the one before.
func FuzzCompareAndSwapModel(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 4, 5, 5, 1, 7, 9})                     // two readers race; the second write is stale
	f.Add([]byte{0, 0, 4, 3, 2, 2, 6, 0, 9, 1})                     // writes from an old read, then by Update
	f.Add([]byte{3, 0, 6, 200, 0, 0, 3, 1, 9, 4, 0, 0, 3, 3, 3, 3}) // unknown versions: 0 and ahead
	f.Fuzz(func(t *testing.T, ops []byte) {
		const clients = 3
		names := [clients]string{"app/c0", "app/c1", "app/c2"}
		var ctxs [clients]context.Context
		for i, n := range names {
			ctxs[i] = taskCtx(t, n)
		}
		g := guard.New("model", 0)
		m := model{version: 1}
		var held [clients]guard.Snapshot[int] // each client's last read
		match := func(step int, what string, s guard.Snapshot[int]) {
			t.Helper()
			if s.Value != m.value || s.Version != m.version || s.Writer != m.writer {
				t.Fatalf("step %d, %s returned %d at v%d by %q; model has %d at v%d by %q",
					step, what, s.Value, s.Version, s.Writer, m.value, m.version, m.writer)
			}
		}
		for i := 0; i+1 < len(ops); i += 2 {
			c, op, arg := int(ops[i])%clients, int(ops[i])/clients%4, ops[i+1]
			switch op {
			case 0: // Load
				held[c] = g.Load()
				match(i, "Load", held[c])
			case 1, 2: // CompareAndSwap from the last read (1) or from version arg (2)
				base := held[c].Version
				if op == 2 {
					base = uint64(arg)
				}
				next := held[c].Value + int(arg)
				s, err := g.CompareAndSwap(ctxs[c], base, next)
				var ce *guard.ConflictError
				switch {
				case base == 0 || base > m.version:
					if !errors.Is(err, guard.ErrUnknownVersion) {
						t.Fatalf("step %d: CompareAndSwap from v%d at v%d: %v, want ErrUnknownVersion", i, base, m.version, err)
					}
				case base < m.version:
					if !errors.As(err, &ce) || ce.Base != base || ce.Current != m.version || ce.Writer != m.writer || ce.Task != names[c] {
						t.Fatalf("step %d: stale CompareAndSwap from v%d at v%d by %q: %v", i, base, m.version, m.writer, err)
					}
				default:
					if err != nil {
						t.Fatalf("step %d: CompareAndSwap from the current v%d: %v", i, base, err)
					}
					m = model{value: next, version: m.version + 1, writer: names[c]}
				}
				match(i, "CompareAndSwap", s)
			case 3: // Update adds arg; alone, it never conflicts
				s, err := g.Update(ctxs[c], func(v int) (int, error) { return v + int(arg), nil }, guard.NoRetry())
				if err != nil {
					t.Fatalf("step %d: Update: %v", i, err)
				}
				m = model{value: m.value + int(arg), version: m.version + 1, writer: names[c]}
				match(i, "Update", s)
			}
		}
		match(len(ops), "final Load", g.Load())
		if st := g.Stats(); st.Updates != int64(m.version-1) {
			t.Fatalf("Stats.Updates = %d, want %d (one per version after the first)", st.Updates, m.version-1)
		}
	})
}
