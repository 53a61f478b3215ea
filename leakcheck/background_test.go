package leakcheck_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/pool"
)

// TestPoolWatchdogIsTheOpenPools: a pool left open keeps its watchdog
// goroutine. The report lists it under the pool, with the line that created
// the pool, in every kind of snapshot: full without labels (by goroutine
// id), full with labels, and light (by the pool's label). It is never an
// "unsupervised goroutine created at pool.go".
func TestPoolWatchdogIsTheOpenPools(t *testing.T) {
	keepGODEBUG(t)
	t.Setenv("GODEBUG", "")
	newLine := line() + 1
	p, err := pool.New(pool.Config[int]{Name: "left-open", MaxSize: 1, Logger: slog.New(slog.DiscardHandler),
		New: func(context.Context) (int, error) { return 1, nil }})
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []struct {
		name string
		opts []leakcheck.Option
	}{
		{"full", nil},
		{"full with labels", []leakcheck.Option{leakcheck.TracebackLabels()}},
		{"light", []leakcheck.Option{leakcheck.Light()}},
	} {
		r := leakcheck.Snapshot(mode.opts...)
		var found *leakcheck.Entry
		for i, e := range r.Entries {
			if e.Kind == leakcheck.KindBackground && e.ObjectName == "left-open" {
				found = &r.Entries[i]
			}
			for _, f := range e.Stack {
				if e.Kind != leakcheck.KindBackground && strings.Contains(f.Function, "pool.(*Pool[...]).watch") {
					t.Errorf("%s: the watchdog is listed as %s:\n%s", mode.name, e.Kind, r)
				}
			}
		}
		switch {
		case found == nil:
			t.Errorf("%s: no background entry for pool left-open:\n%s", mode.name, r)
		case found.Name != "watchdog" || found.ObjectKind != "pool" || found.Site.Line != newLine ||
			!strings.HasSuffix(found.Site.File, "background_test.go") || found.Test != t.Name():
			t.Errorf("%s: entry %+v; want the watchdog of pool left-open, created at background_test.go:%d by %s", mode.name, *found, newLine, t.Name())
		case mode.name != "light" && (found.Goroutine == 0 || found.State == ""):
			t.Errorf("%s: entry %+v has no goroutine id or state", mode.name, *found)
		default:
			text := r.String()
			want := `watchdog goroutine`
			if !strings.Contains(text, want) || !strings.Contains(text, `of pool "left-open"`) ||
				!strings.Contains(r.Summary(), `1 background goroutine of pool "left-open"`) {
				t.Errorf("%s: the text does not name the pool's watchdog:\n%s", mode.name, text)
			}
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := false
		for _, e := range leakcheck.Snapshot().Entries {
			left = left || e.Kind == leakcheck.KindBackground && e.ObjectName == "left-open"
		}
		if !left {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watchdog is still reported after Shutdown")
		}
		time.Sleep(time.Millisecond)
	}
}
