package guard_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/internal/testkit"
)

func TestMapMissingKeyIsVersion0(t *testing.T) {
	m := guard.NewMap[string, int]("scores")
	s, err := m.Load(t.Context(), "alice")
	if err != nil || s != (guard.Snapshot[int]{}) {
		t.Fatalf("Load(missing) = %+v, %v; want the zero snapshot", s, err)
	}
	site := testkit.Here(1)
	s, err = m.Update(taskCtx(t, "app/a"), "alice", inc)
	if err != nil || s.Value != 1 || s.Version != 1 || s.Writer != "app/a" || s.Site.String() != site {
		t.Fatalf("first Update = %+v, %v; want 1 at v1 by app/a at %s", s, err, site)
	}
	if got, _ := m.Load(t.Context(), "alice"); got != s {
		t.Fatalf("Load = %+v, want %+v", got, s)
	}
}

func TestMapKeysHaveTheirOwnVersions(t *testing.T) {
	m := guard.NewMap[int, string]("names")
	ctx := t.Context()
	if _, err := m.CompareAndSwap(ctx, 1, 0, "one"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"uno", "eins"} {
		s, _ := m.Load(ctx, 1)
		if _, err := m.CompareAndSwap(ctx, 1, s.Version, v); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := m.CompareAndSwap(ctx, 2, 0, "two"); err != nil || s.Version != 1 {
		t.Fatalf("CompareAndSwap(2, 0) = %+v, %v; want key 2 created at v1", s, err)
	}
	if s, _ := m.Load(ctx, 1); s.Value != "eins" || s.Version != 3 {
		t.Fatalf("key 1 = %+v, want eins at v3", s)
	}
}

func TestMapConflictNamesTheKey(t *testing.T) {
	m := guard.NewMap[string, int]("scores")
	a, b := taskCtx(t, "app/a"), taskCtx(t, "app/b")
	m.Update(a, "alice", inc)
	sa, _ := m.Load(a, "alice")
	sb, _ := m.Load(b, "alice")
	siteB := testkit.Here(1)
	m.CompareAndSwap(b, "alice", sb.Version, sb.Value+10)
	siteA := testkit.Here(1)
	cur, err := m.CompareAndSwap(a, "alice", sa.Version, sa.Value+1)
	var ce *guard.ConflictError
	if !errors.As(err, &ce) || ce.Key != "alice" || ce.Guard != "scores" || ce.Writer != "app/b" || ce.Task != "app/a" {
		t.Fatalf("err = %v (%+v), want a conflict on key alice", err, ce)
	}
	want := fmt.Sprintf(`guard "scores" key "alice": stale write by app/a at %s: based on v1, but v2 is current, written by app/b at %s`, siteA, siteB)
	if err.Error() != want {
		t.Fatalf("message:\n got %s\nwant %s", err, want)
	}
	if cur.Value != 11 || cur.Version != 2 {
		t.Fatalf("returned %+v, want the current snapshot", cur)
	}
	// Creating a key that exists is a conflict too.
	if _, err := m.CompareAndSwap(a, "alice", 0, 1); !errors.Is(err, guard.ErrConflict) ||
		!strings.Contains(err.Error(), "based on v0, but v2 is current") {
		t.Fatalf("create over an existing key: %v", err)
	}
	st := m.Stats()
	if st.Updates != 2 || st.Conflicts != 2 || st.LastConflict == nil || st.LastConflict.Key != "alice" {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestMapDelete(t *testing.T) {
	m := guard.NewMap[string, int]("sessions")
	ctx := taskCtx(t, "app/a")
	m.Update(ctx, "u1", inc)
	m.Update(ctx, "u1", inc)
	old, _ := m.Load(ctx, "u1") // v2
	if err := m.Delete(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "u1"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if s, _ := m.Load(ctx, "u1"); s.Version != 0 || s.Value != 0 {
		t.Fatalf("Load after Delete = %+v, want the zero snapshot", s)
	}
	_, err := m.CompareAndSwap(ctx, "u1", old.Version, 7)
	if !errors.Is(err, guard.ErrConflict) || !strings.HasSuffix(err.Error(), "based on v2, but the key no longer exists") {
		t.Fatalf("write based on a deleted version: %v", err)
	}
	m.Update(ctx, "u1", inc) // recreated at v1
	_, err = m.CompareAndSwap(ctx, "u1", old.Version, 7)
	if !errors.Is(err, guard.ErrConflict) || !strings.Contains(err.Error(), "based on v2, but v1 is current (the key was deleted and written again)") {
		t.Fatalf("write based on a version from before the delete: %v", err)
	}
}

func TestMapRange(t *testing.T) {
	m := guard.NewMap[int, int]("squares")
	ctx := t.Context()
	for i := range 200 {
		m.Update(ctx, i, func(int) (int, error) { return i * i, nil })
	}
	seen := map[int]int{}
	err := m.Range(ctx, func(k int, s guard.Snapshot[int]) bool {
		seen[k] = s.Value
		// fn may write to the map it ranges over.
		if _, err := m.Update(ctx, k, inc); err != nil {
			t.Error(err)
		}
		return true
	})
	if err != nil || len(seen) != 200 {
		t.Fatalf("Range: %v, saw %d keys, want 200", err, len(seen))
	}
	for k, v := range seen {
		if v != k*k {
			t.Fatalf("Range gave %d for key %d, want %d", v, k, k*k)
		}
	}
	n := 0
	m.Range(ctx, func(int, guard.Snapshot[int]) bool { n++; return n < 5 })
	if n != 5 {
		t.Fatalf("Range went on after fn returned false: %d calls", n)
	}
}

func TestMapNoLostUpdates(t *testing.T) {
	const tasks, increments, keys = 6, 300, 3
	synctest.Test(t, func(t *testing.T) {
		m := guard.NewMap[string, int]("scores")
		var wg sync.WaitGroup
		for i := range tasks {
			ctx := taskCtx(t, fmt.Sprintf("app/worker-%d", i))
			wg.Go(func() {
				for j := range increments {
					if _, err := m.Update(ctx, fmt.Sprint("k", j%keys), slowInc); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		for k := range keys {
			s, _ := m.Load(t.Context(), fmt.Sprint("k", k))
			if want := tasks * increments / keys; s.Value != want || s.Version != uint64(want) {
				t.Fatalf("key k%d = %d at v%d, want %d", k, s.Value, s.Version, want)
			}
		}
		if st := m.Stats(); st.Updates != tasks*increments || st.Retries != st.Conflicts {
			t.Fatalf("Stats = %+v", st)
		}
	})
}

// TestMapUpdateRetriesUnderTheKeyLock is TestUpdateRetriesUnderTheCommitLock
// for a key of a Map in memory; NoRetry returns the conflict instead.
func TestMapUpdateRetriesUnderTheKeyLock(t *testing.T) {
	m := guard.NewMap[string, int]("m")
	b := taskCtx(t, "app/b")
	runs := 0
	var locked []bool
	fn := func(v int) (int, error) { // lets app/b commit first, the first time
		runs++
		locked = append(locked, m.KeyLocked("k"))
		if runs == 1 {
			s, _ := m.Load(b, "k")
			m.CompareAndSwap(b, "k", s.Version, s.Value+100)
		}
		return v + 1, nil
	}
	_, err := m.Update(taskCtx(t, "app/a"), "k", fn, guard.NoRetry())
	var ce *guard.ConflictError
	if !errors.As(err, &ce) || runs != 1 || ce.Key != "k" || ce.Base != 0 || ce.Current != 1 || ce.Writer != "app/b" {
		t.Fatalf("NoRetry: runs %d, err %v", runs, err)
	}
	runs = 0
	locked = nil
	s, err := m.Update(taskCtx(t, "app/a"), "k", fn)
	if err != nil || s.Value != 201 || s.Version != 3 || runs != 2 {
		t.Fatalf("Update = %+v, %v after %d runs; want 201 at v3 after 2", s, err, runs)
	}
	if !slices.Equal(locked, []bool{false, true}) {
		t.Fatalf("key lock held during fn's runs: %v, want only during the retry", locked)
	}
	st := m.Stats()
	if st.Updates != 3 || st.Conflicts != 2 || st.Retries != 1 || st.MaxRetries != 1 {
		t.Fatalf("Stats = %+v", st)
	}
	if m.KeyLocked("k") {
		t.Fatal("Update returned with the key locked")
	}
}

// TestMapWriteBasedOnDeletedKeyConflicts: an Update whose first run read a
// key that was then deleted and written again (at the same version
// number) must not commit over the new value.
func TestMapWriteBasedOnDeletedKeyConflicts(t *testing.T) {
	m := guard.NewMap[string, int]("m")
	ctx := taskCtx(t, "app/a")
	m.Update(ctx, "k", inc) // 1 at v1
	runs := 0
	s, err := m.Update(ctx, "k", func(v int) (int, error) {
		runs++
		if runs == 1 {
			m.Delete(ctx, "k")
			m.CompareAndSwap(taskCtx(t, "app/b"), "k", 0, 50) // 50 at v1 again
		}
		return v + 1, nil
	})
	if err != nil || runs != 2 || s.Value != 51 || s.Version != 2 {
		t.Fatalf("Update = %+v, %v after %d runs; want 51 at v2 after a retry", s, err, runs)
	}
	if lc := m.Stats().LastConflict; lc == nil || lc.Writer != "app/b" || lc.Base != 1 || lc.Current != 1 {
		t.Fatalf("LastConflict = %+v, want the write based on the deleted v1", lc)
	}
}

func TestMapValidatorAndClone(t *testing.T) {
	errEmpty := errors.New("empty set")
	m := guard.NewMap[string, map[string]bool]("members",
		guard.WithClone(maps.Clone[map[string]bool]),
		guard.WithValidator(func(s map[string]bool) error {
			if len(s) == 0 {
				return errEmpty
			}
			return nil
		}))
	ctx := taskCtx(t, "app/a")
	add := func(who string) func(map[string]bool) (map[string]bool, error) {
		return func(s map[string]bool) (map[string]bool, error) {
			if s == nil {
				s = map[string]bool{}
			}
			s[who] = true
			return s, nil
		}
	}
	m.Update(ctx, "team", add("ann"))
	before, _ := m.Load(ctx, "team")
	m.Update(ctx, "team", add("bob"))
	if len(before.Value) != 1 {
		t.Fatalf("an earlier snapshot changed: %v", before.Value)
	}
	_, err := m.CompareAndSwap(ctx, "team", 2, map[string]bool{})
	if !errors.Is(err, errEmpty) || !strings.HasPrefix(err.Error(), `guard "members" key "team": write by app/a at `) {
		t.Fatalf("refused write: %v", err)
	}
	if s, _ := m.Load(ctx, "team"); len(s.Value) != 2 || s.Version != 2 {
		t.Fatalf("after refusal: %+v", s)
	}
}

func TestMapBadInputPanics(t *testing.T) {
	m := guard.NewMap[string, int]("m")
	var nilCtx context.Context
	fn := func(string, guard.Snapshot[int]) bool { return true }
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"empty name", "NewMap needs a non-empty name", func() { guard.NewMap[string, int]("") }},
		{"nil option", `nil Option passed to NewMap "x"`, func() { guard.NewMap[string, int]("x", nil) }},
		{"NewMapIn empty name", "NewMapIn needs a non-empty name", func() { guard.NewMapIn[string, int]("", &textStore[string, int]{}) }},
		{"NewMapIn nil store", `NewMapIn("x", nil): pass a Store, or use NewMap`, func() { guard.NewMapIn[string, int]("x", nil) }},
		{"NewMapIn nil option", `nil Option passed to NewMapIn "x"`, func() { guard.NewMapIn[string, int]("x", &textStore[string, int]{}, nil) }},
		{"Load nil ctx", `nil Context passed to Load on map "m"`, func() { m.Load(nilCtx, "k") }},
		{"CompareAndSwap nil ctx", `nil Context passed to CompareAndSwap on map "m"`, func() { m.CompareAndSwap(nilCtx, "k", 0, 1) }},
		{"Update nil ctx", `nil Context passed to Update on map "m"`, func() { m.Update(nilCtx, "k", inc) }},
		{"Update nil fn", `nil func passed to Update on map "m"`, func() { m.Update(t.Context(), "k", nil) }},
		{"Delete nil ctx", `nil Context passed to Delete on map "m"`, func() { m.Delete(nilCtx, "k") }},
		{"Range nil ctx", `nil Context passed to Range on map "m"`, func() { m.Range(nilCtx, fn) }},
		{"Range nil fn", `nil func passed to Range on map "m"`, func() { m.Range(t.Context(), nil) }},
		{"zero Map Load", "Map used without NewMap", func() { new(guard.Map[string, int]).Load(t.Context(), "k") }},
		{"zero Map Update", "Map used without NewMap", func() { new(guard.Map[string, int]).Update(t.Context(), "k", inc) }},
		{"zero Map Delete", "Map used without NewMap", func() { new(guard.Map[string, int]).Delete(t.Context(), "k") }},
		{"zero Map Range", "Map used without NewMap", func() { new(guard.Map[string, int]).Range(t.Context(), fn) }},
		{"zero Map CompareAndSwap", "Map used without NewMap", func() { new(guard.Map[string, int]).CompareAndSwap(t.Context(), "k", 0, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := mustPanic(t, tc.f); !strings.Contains(msg, tc.want) {
				t.Fatalf("panic %q, want it to contain %q", msg, tc.want)
			}
		})
	}
}

// TestMapOnAStore runs a Map on a Store that keeps writers and sites as
// text, the way a database would.
func TestMapOnAStore(t *testing.T) {
	store := &textStore[string, int]{}
	m := guard.NewMapIn("scores", store)
	a, b := taskCtx(t, "app/a"), taskCtx(t, "app/b")
	siteB := testkit.Here(1)
	m.Update(b, "alice", inc)
	s, err := m.Load(a, "alice")
	if err != nil || s.Value != 1 || s.Writer != "app/b" || s.Site.String() != siteB {
		t.Fatalf("Load through the store = %+v (site %s), %v; want writer and site from the text row", s, s.Site, err)
	}
	siteB2 := testkit.Here(1)
	m.Update(b, "alice", inc)
	siteA := testkit.Here(1)
	_, err = m.CompareAndSwap(a, "alice", s.Version, 50)
	want := fmt.Sprintf(`guard "scores" key "alice": stale write by app/a at %s: based on v1, but v2 is current, written by app/b at %s`, siteA, siteB2)
	if err == nil || err.Error() != want {
		t.Fatalf("conflict through the store:\n got %v\nwant %s", err, want)
	}
	var keys []string
	m.Range(a, func(k string, _ guard.Snapshot[int]) bool { keys = append(keys, k); return true })
	if !slices.Equal(keys, []string{"alice"}) {
		t.Fatalf("Range = %v", keys)
	}
	if store.cas != 3 {
		t.Fatalf("store saw %d CompareAndSwap calls, want 3", store.cas)
	}
}

func TestMapWrapsStoreErrors(t *testing.T) {
	errDown := errors.New("connection refused")
	m := guard.NewMapIn[string, int]("scores", &textStore[string, int]{err: errDown})
	ctx := t.Context()
	_, errLoad := m.Load(ctx, "k")
	_, errCAS := m.CompareAndSwap(ctx, "k", 0, 1)
	_, errUpdate := m.Update(ctx, "k", inc)
	errDelete := m.Delete(ctx, "k")
	errRange := m.Range(ctx, func(string, guard.Snapshot[int]) bool { return true })
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errLoad, `guard "scores" key "k": store load: connection refused`},
		{errCAS, `guard "scores" key "k": store compare-and-swap: connection refused`},
		{errUpdate, `guard "scores" key "k": store load: connection refused`},
		{errDelete, `guard "scores" key "k": store delete: connection refused`},
		{errRange, `guard "scores": store range: connection refused`},
	} {
		if !errors.Is(tc.err, errDown) || tc.err.Error() != tc.want {
			t.Errorf("err = %v, want %q wrapping the store's error", tc.err, tc.want)
		}
	}
}

func TestMapLoadDoesNotAllocate(t *testing.T) {
	ctx := t.Context()
	strs := guard.NewMap[string, int]("strs")
	key := strings.Repeat("k", 40) // not a constant: its boxing could allocate
	strs.Update(ctx, key, inc)
	ints := guard.NewMap[int, int]("ints")
	ints.Update(ctx, 1<<20, inc)
	type pair struct{ a, b int }
	pairs := guard.NewMap[pair, int]("pairs")
	pairs.Update(ctx, pair{1, 2}, inc)
	for name, load := range map[string]func(){
		"string": func() { strs.Load(ctx, key) },
		"int":    func() { ints.Load(ctx, 1<<20) },
		"struct": func() { pairs.Load(ctx, pair{1, 2}) },
		"absent": func() { strs.Load(ctx, "nobody") },
	} {
		if n := testing.AllocsPerRun(1000, load); n != 0 {
			t.Errorf("Load of a %s key allocates %v times", name, n)
		}
	}
	if n := testing.AllocsPerRun(1000, func() { ints.Update(ctx, 1<<20, inc) }); n != 0 {
		t.Errorf("Update of an existing key allocates %v times", n)
	}
}
