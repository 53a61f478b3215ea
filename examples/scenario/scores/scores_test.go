package scores_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/tether-go/tether/examples/internal/sourceline"
	"github.com/tether-go/tether/examples/scenario/scores"
	"github.com/tether-go/tether/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Run(m) }

func TestBrokenLosesUpdates(t *testing.T) {
	res, err := scores.Run(context.Background(), io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	// Lost updates depend on scheduling; with 4 tasks racing over 200
	// read-add-write rounds on 2 cores some are lost in practice, but
	// never gained.
	if res.Got > res.Want {
		t.Fatalf("naive total %d exceeds the %d increments made", res.Got, res.Want)
	}
	t.Logf("naive read-add-write kept %d of %d increments", res.Got, res.Want)
}

func TestFixedIsExactAndAttributesConflicts(t *testing.T) {
	// The referee's CompareAndSwap, the first in attribute, wins the race.
	winner, err := sourceline.Call("scores.go", "attribute", "CompareAndSwap")
	if err != nil {
		t.Fatal(err)
	}
	res, err := scores.Run(context.Background(), io.Discard, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Got != res.Want {
		t.Fatalf("guarded total %d, want exactly %d", res.Got, res.Want)
	}
	if res.Stats.Updates != int64(res.Want) {
		t.Errorf("Stats.Updates = %d, want %d", res.Stats.Updates, res.Want)
	}
	if res.Writer != "league/referee" || res.Loser != "league/bonus" {
		t.Errorf("conflict attributed to writer %q and loser %q, want league/referee and league/bonus", res.Writer, res.Loser)
	}
	for _, want := range []string{"league/bonus", "league/referee", `key "ada"`} {
		if !strings.Contains(res.Conflict, want) {
			t.Errorf("conflict error %q lacks %q", res.Conflict, want)
		}
	}
	if !strings.Contains(res.Conflict, "written by league/referee at "+winner) {
		t.Errorf("conflict error %q does not name the winning write at %s", res.Conflict, winner)
	}
}
