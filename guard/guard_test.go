package guard_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/internal/testkit"
)

func TestNewHoldsInitialAsVersion1(t *testing.T) {
	before := time.Now()
	site := testkit.Here(1)
	g := guard.New("config", 42)
	s := g.Load()
	if s.Value != 42 || s.Version != 1 || s.Writer != "" {
		t.Fatalf("Load() = %+v; want value 42 at v1 with no writer", s)
	}
	if got := s.Site.String(); got != site {
		t.Errorf("initial Site = %s, want %s (the New call)", got, site)
	}
	if s.At.Before(before) || s.At.After(time.Now()) {
		t.Errorf("initial At = %v, want between %v and now", s.At, before)
	}
}

func TestCompareAndSwapCommitsNextVersion(t *testing.T) {
	g := guard.New("config", "a")
	ctx := taskCtx(t, "app/loader")
	for i, want := range []string{"b", "c", "d"} {
		base := g.Load().Version
		site := testkit.Here(1)
		s, err := g.CompareAndSwap(ctx, base, want)
		if err != nil {
			t.Fatalf("CompareAndSwap #%d: %v", i, err)
		}
		if s.Value != want || s.Version != base+1 || s.Writer != "app/loader" || s.Site.String() != site {
			t.Fatalf("CompareAndSwap #%d = %+v (site %s); want %q at v%d by app/loader at %s", i, s, s.Site, want, base+1, site)
		}
		if l := g.Load(); l.Value != want || l.Version != base+1 || l.Writer != "app/loader" || !l.At.Equal(s.At) {
			t.Fatalf("Load after CompareAndSwap #%d = %+v, want %+v", i, l, s)
		}
	}
}

// TestLostUpdateIsCaught is the lost update, step by step: two tasks read
// the same version, both write, and the second write is refused with an
// error naming both writers.
func TestLostUpdateIsCaught(t *testing.T) {
	g := guard.New("scores", 10)
	a, b := taskCtx(t, "app/a"), taskCtx(t, "app/b")
	readA, readB := g.Load(), g.Load()

	siteB := testkit.Here(1)
	if _, err := g.CompareAndSwap(b, readB.Version, readB.Value+5); err != nil {
		t.Fatalf("first write: %v", err)
	}
	siteA := testkit.Here(1)
	cur, err := g.CompareAndSwap(a, readA.Version, readA.Value+1)

	var ce *guard.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, guard.ErrConflict) {
		t.Fatalf("stale write: err = %v, want a *ConflictError matching ErrConflict", err)
	}
	if ce.Guard != "scores" || ce.Key != nil || ce.Base != 1 || ce.Current != 2 || ce.Writer != "app/b" ||
		ce.Task != "app/a" || ce.Attempts != 1 || ce.Err != nil {
		t.Fatalf("ConflictError = %+v", ce)
	}
	if ce.WriterSite.String() != siteB || ce.Site.String() != siteA {
		t.Fatalf("sites: winner %s, loser %s; want %s and %s", ce.WriterSite, ce.Site, siteB, siteA)
	}
	want := fmt.Sprintf(`guard "scores": stale write by app/a at %s: based on v1, but v2 is current, written by app/b at %s`, siteA, siteB)
	if err.Error() != want {
		t.Fatalf("message:\n got %s\nwant %s", err, want)
	}
	if cur.Value != 15 || cur.Version != 2 || cur.Writer != "app/b" {
		t.Fatalf("CompareAndSwap returned %+v, want the current snapshot (15 at v2 by app/b)", cur)
	}
	if got := g.Load(); got.Value != 15 {
		t.Fatalf("value after refused write = %d, want 15: the refused write must not commit", got.Value)
	}
}

func TestConflictMessageOutsideTasks(t *testing.T) {
	g := guard.New("n", 0)
	ctx := context.Background()
	s := g.Load()
	siteW := testkit.Here(1)
	g.CompareAndSwap(ctx, s.Version, 1)
	siteL := testkit.Here(1)
	_, err := g.CompareAndSwap(ctx, s.Version, 2)
	want := fmt.Sprintf(`guard "n": stale write at %s: based on v1, but v2 is current, written outside any task at %s`, siteL, siteW)
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestCompareAndSwapUnknownVersion(t *testing.T) {
	g := guard.New("config", 1)
	ctx := taskCtx(t, "app/a")
	g.CompareAndSwap(ctx, 1, 2)
	for _, tc := range []struct {
		name string
		base uint64
		want string
	}{
		{"zero", 0, `guard "config": CompareAndSwap based on v0, but versions start at 1`},
		{"future", 7, `guard "config": CompareAndSwap based on v7, but the guard is only at v2: that version never existed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur, err := g.CompareAndSwap(ctx, tc.base, 99)
			if !errors.Is(err, guard.ErrUnknownVersion) || errors.Is(err, guard.ErrConflict) {
				t.Fatalf("err = %v; want ErrUnknownVersion, not ErrConflict", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("message %q, want prefix %q", err, tc.want)
			}
			if cur.Version != 2 || cur.Value != 2 {
				t.Fatalf("returned %+v, want the current snapshot", cur)
			}
		})
	}
	if st := g.Stats(); st.Conflicts != 0 || st.Updates != 1 {
		t.Fatalf("Stats = %+v; an unknown version is neither a conflict nor a write", st)
	}
}

func TestUpdateCommitsFnResult(t *testing.T) {
	g := guard.New("counter", 0)
	ctx := taskCtx(t, "app/counter")
	for i := 1; i <= 3; i++ {
		site := testkit.Here(1)
		s, err := g.Update(ctx, inc)
		if err != nil {
			t.Fatal(err)
		}
		if s.Value != i || s.Version != uint64(i+1) || s.Writer != "app/counter" || s.Site.String() != site {
			t.Fatalf("Update #%d = %+v (site %s); want %d at v%d by app/counter at %s", i, s, s.Site, i, i+1, site)
		}
	}
	if st := g.Stats(); st != (guard.Stats{Updates: 3}) {
		t.Fatalf("Stats = %+v, want 3 updates and nothing else", st)
	}
}

func TestUpdateFnErrorAbortsWithoutCommit(t *testing.T) {
	g := guard.New("balance", 5)
	errBroke := errors.New("insufficient funds")
	cur, err := g.Update(t.Context(), func(n int) (int, error) { return n - 10, errBroke })
	if err != errBroke {
		t.Fatalf("err = %v, want fn's error unchanged", err)
	}
	if cur.Value != 5 || cur.Version != 1 {
		t.Fatalf("returned %+v, want the snapshot fn saw", cur)
	}
	if s := g.Load(); s.Version != 1 || s.Value != 5 {
		t.Fatalf("after failed Update: %+v, want unchanged", s)
	}
}

// conflicting returns an Update fn that, during its first n runs, lets
// another task ("app/b") commit first, so that the run's result conflicts.
// Real fns must not write; this one does so to script a race.
func conflicting(t *testing.T, g *guard.Guard[int], n int, runs *int) func(int) (int, error) {
	other := taskCtx(t, "app/b")
	return func(v int) (int, error) {
		*runs++
		if *runs <= n {
			s := g.Load()
			if _, err := g.CompareAndSwap(other, s.Version, s.Value+100); err != nil {
				t.Errorf("scripted write: %v", err)
			}
		}
		return v + 1, nil
	}
}

func TestUpdateNoRetryReturnsFirstConflict(t *testing.T) {
	g := guard.New("scores", 0)
	runs := 0
	site := testkit.Here(1)
	cur, err := g.Update(taskCtx(t, "app/a"), conflicting(t, g, 1, &runs), guard.NoRetry())
	var ce *guard.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConflictError", err)
	}
	if runs != 1 || ce.Attempts != 1 || ce.Task != "app/a" || ce.Writer != "app/b" || ce.Base != 1 || ce.Current != 2 ||
		ce.Site.String() != site {
		t.Fatalf("runs=%d, ConflictError %+v (site %s)", runs, ce, ce.Site)
	}
	if cur.Value != 100 || cur.Version != 2 {
		t.Fatalf("returned %+v, want the winner's snapshot", cur)
	}
	if s := g.Stats(); s.Conflicts != 1 || s.Retries != 0 || s.Updates != 1 || s.LastConflict == nil || s.LastConflict.Task != "app/a" {
		t.Fatalf("Stats = %+v", s)
	}
}

// TestUpdateRetriesUnderTheCommitLock checks what happens after a conflict:
// the conflict is counted and attributed, and fn runs once more, on the
// newer value, while Update holds the commit lock, so that the second
// attempt cannot conflict and no update is lost.
func TestUpdateRetriesUnderTheCommitLock(t *testing.T) {
	g := guard.New("scores", 0)
	runs := 0
	script := conflicting(t, g, 1, &runs)
	var locked []bool
	s, err := g.Update(taskCtx(t, "app/a"), func(v int) (int, error) {
		locked = append(locked, g.CommitLocked())
		return script(v)
	})
	if err != nil {
		t.Fatal(err)
	}
	// One scripted write of +100, then ours of +1 on top of it.
	if runs != 2 || s.Value != 101 || s.Version != 3 || s.Writer != "app/a" {
		t.Fatalf("runs=%d, result %+v; want fn run twice and 101 at v3", runs, s)
	}
	if !slices.Equal(locked, []bool{false, true}) {
		t.Fatalf("commit lock held during fn's runs: %v, want only during the retry", locked)
	}
	st := g.Stats()
	if st.Updates != 2 || st.Conflicts != 1 || st.Retries != 1 || st.MaxRetries != 1 {
		t.Fatalf("Stats = %+v; want 2 updates, 1 conflict, 1 retry, max 1", st)
	}
	lc := st.LastConflict
	if lc == nil || lc.Task != "app/a" || lc.Writer != "app/b" || lc.Attempts != 1 || lc.Base != 1 || lc.Current != 2 || lc.Err != nil {
		t.Fatalf("LastConflict = %+v", lc)
	}
	if g.CommitLocked() {
		t.Fatal("Update returned with the commit lock held")
	}
}

// TestUpdateRetryReleasesTheLockOnPanicAndError checks that fn's second
// run, under the commit lock, leaves the lock free when it panics or fails.
func TestUpdateRetryReleasesTheLockOnPanicAndError(t *testing.T) {
	g := guard.New("scores", 0)
	errNo := errors.New("no")
	for _, tc := range []struct {
		name   string
		second func(int) (int, error)
	}{
		{"panic", func(int) (int, error) { panic("boom") }},
		{"error", func(int) (int, error) { return 0, errNo }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			script := conflicting(t, g, 1, &runs)
			before := g.Load()
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil && r != "boom" {
						panic(r)
					}
				}()
				_, err = g.Update(taskCtx(t, "app/a"), func(v int) (int, error) {
					if runs == 1 {
						return tc.second(v)
					}
					return script(v)
				})
			}()
			if tc.name == "error" && !errors.Is(err, errNo) {
				t.Fatalf("Update = %v, want fn's error", err)
			}
			if g.CommitLocked() {
				t.Fatal("the commit lock is still held")
			}
			// Only the scripted write committed.
			if s := g.Load(); s.Version != before.Version+1 || s.Value != before.Value+100 {
				t.Fatalf("after a failed retry: %+v, from %+v", s, before)
			}
			if _, err := g.Update(t.Context(), inc); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestUpdateIgnoresDoneContext: Update never waits, so a done ctx changes
// nothing; it only names the writer.
func TestUpdateIgnoresDoneContext(t *testing.T) {
	g := guard.New("scores", 0)
	ctx, cancel := context.WithCancel(taskCtx(t, "app/a"))
	cancel()
	runs := 0
	s, err := g.Update(ctx, conflicting(t, g, 1, &runs))
	if err != nil || s.Value != 101 || s.Writer != "app/a" {
		t.Fatalf("Update with a done ctx = %+v, %v; want 101 written by app/a", s, err)
	}
}

func TestValidatorRefusesBeforeCommit(t *testing.T) {
	errNegative := errors.New("negative balance")
	nonNegative := func(n int) error {
		if n < 0 {
			return errNegative
		}
		return nil
	}
	errOdd := errors.New("odd")
	even := func(n int) error {
		if n%2 != 0 {
			return errOdd
		}
		return nil
	}
	g := guard.New("balance", 10, guard.WithValidator(nonNegative), guard.WithValidator(even))
	ctx := taskCtx(t, "app/pay")

	site := testkit.Here(1)
	cur, err := g.CompareAndSwap(ctx, 1, -2)
	if !errors.Is(err, errNegative) || errors.Is(err, guard.ErrConflict) {
		t.Fatalf("CompareAndSwap(-2): err = %v, want the validator's error", err)
	}
	want := fmt.Sprintf(`guard "balance": write by app/pay at %s refused by validator: negative balance`, site)
	if err.Error() != want {
		t.Fatalf("message:\n got %s\nwant %s", err, want)
	}
	if cur.Version != 1 || cur.Value != 10 {
		t.Fatalf("returned %+v, want the current snapshot", cur)
	}
	if _, err := g.Update(ctx, func(n int) (int, error) { return n + 1, nil }); !errors.Is(err, errOdd) {
		t.Fatalf("Update to 11: err = %v, want the second validator's error", err)
	}
	if s := g.Load(); s.Version != 1 {
		t.Fatalf("refused writes committed: %+v", s)
	}
	if _, err := g.Update(ctx, func(n int) (int, error) { return n - 4, nil }); err != nil {
		t.Fatalf("valid Update: %v", err)
	}
	msg := mustPanic(t, func() { guard.New("balance", -1, guard.WithValidator(nonNegative)) })
	if !strings.Contains(msg, `"balance"`) || !strings.Contains(msg, "negative balance") {
		t.Fatalf("panic %q does not name the guard and the refusal", msg)
	}
}

func TestCloneGivesFnAPrivateCopy(t *testing.T) {
	g := guard.New("routes", map[string]string{"/": "home"}, guard.WithClone(maps.Clone[map[string]string]))
	before := g.Load()
	s, err := g.Update(t.Context(), func(m map[string]string) (map[string]string, error) {
		m["/about"] = "about" // allowed: m is a clone
		return m, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Value) != 1 {
		t.Fatalf("the previous snapshot changed under its reader: %v", before.Value)
	}
	if len(s.Value) != 2 || len(g.Load().Value) != 2 {
		t.Fatalf("committed %v, loaded %v; want both routes", s.Value, g.Load().Value)
	}
}

func TestBadInputPanics(t *testing.T) {
	g := guard.New("g", 0)
	var nilCtx context.Context
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"empty name", "non-empty name", func() { guard.New("", 0) }},
		{"nil option", `nil Option passed to New "x"`, func() { guard.New[int]("x", 0, nil) }},
		{"nil validator", "WithValidator(nil)", func() { guard.WithValidator[int](nil) }},
		{"nil clone", "WithClone(nil)", func() { guard.WithClone[int](nil) }},
		{"CompareAndSwap nil ctx", `nil Context passed to CompareAndSwap on guard "g"`, func() { g.CompareAndSwap(nilCtx, 1, 1) }},
		{"Update nil ctx", `nil Context passed to Update on guard "g"`, func() { g.Update(nilCtx, inc) }},
		{"Update nil fn", `nil func passed to Update on guard "g"`, func() { g.Update(t.Context(), nil) }},
		{"nil UpdateOption", `nil UpdateOption passed to Update on "g"`, func() { g.Update(t.Context(), inc, nil) }},
		{"zero Guard Load", "Guard used without New", func() { new(guard.Guard[int]).Load() }},
		{"zero Guard Update", "Guard used without New", func() { new(guard.Guard[int]).Update(t.Context(), inc) }},
		{"zero Guard CompareAndSwap", "Guard used without New", func() { new(guard.Guard[int]).CompareAndSwap(t.Context(), 1, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := mustPanic(t, tc.f); !strings.Contains(msg, tc.want) {
				t.Fatalf("panic %q, want it to contain %q", msg, tc.want)
			}
		})
	}
	if s := g.Load(); s.Version != 1 {
		t.Fatalf("misuse changed the guard: %+v", s)
	}
}

func TestLoadDoesNotAllocate(t *testing.T) {
	g := guard.New("g", "value")
	g.Update(t.Context(), func(s string) (string, error) { return s + "!", nil })
	if n := testing.AllocsPerRun(1000, func() { g.Load() }); n != 0 {
		t.Fatalf("Load allocates %v times", n)
	}
}

// TestUpdateReusesRecords checks the allocation model in the package doc:
// writes with no Load in between allocate nothing; a Load between writes
// pins the version it read, so the next write allocates one record.
func TestUpdateReusesRecords(t *testing.T) {
	type point struct{ X, Y int }
	g := guard.New("p", point{})
	ctx := taskCtx(t, "app/w")
	move := func(p point) (point, error) { return point{p.X + 1, p.Y - 1}, nil }
	g.Update(ctx, move) // the second record
	if n := testing.AllocsPerRun(1000, func() { g.Update(ctx, move) }); n != 0 {
		t.Errorf("Update with no reads in between: %v allocations per call, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { g.Load(); g.Update(ctx, move) }); n != 1 {
		t.Errorf("Load then Update: %v allocations per pair, want 1", n)
	}
	if n := testing.AllocsPerRun(1000, func() { g.CompareAndSwap(ctx, g.Load().Version, point{}) }); n != 1 {
		t.Errorf("Load then CompareAndSwap: %v allocations per pair, want 1", n)
	}
	if s := g.Load(); s.Version != 3005 { // 1 + 1 + 3 AllocsPerRun(1000) calls of 1001 writes
		t.Fatalf("version %d after 3004 writes, want 3005", s.Version)
	}
}

// TestSnapshotsOutliveRecordReuse checks that snapshots returned by writes
// (whose records the guard may reuse) are copies that later writes leave
// alone.
func TestSnapshotsOutliveRecordReuse(t *testing.T) {
	g := guard.New("g", "v1")
	ctx := t.Context()
	var got []guard.Snapshot[string]
	for i := 2; i <= 6; i++ {
		s, err := g.Update(ctx, func(string) (string, error) { return fmt.Sprintf("v%d", i), nil })
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	for i, s := range got {
		if want := fmt.Sprintf("v%d", i+2); s.Value != want || s.Version != uint64(i+2) {
			t.Fatalf("snapshot %d = %+v, want %s at v%d", i, s, want, i+2)
		}
	}
}
