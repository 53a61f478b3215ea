package exhaustion_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/tether-go/tether/examples/internal/sourceline"
	"github.com/tether-go/tether/examples/scenario/exhaustion"
	"github.com/tether-go/tether/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Run(m) }

func TestBrokenLookupFailsNamingTheHolders(t *testing.T) {
	site, err := sourceline.Call("exhaustion.go", "render", "Conn")
	if err != nil {
		t.Fatal(err)
	}
	res, err := exhaustion.Run(context.Background(), io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || strings.Count(res.Lookup, "opened at "+site) != 2 || strings.Count(res.Lookup, "conn #") != 2 {
		t.Errorf("lookup error %q does not name both renders at %s", res.Lookup, site)
	}
	slices.Sort(res.Holders)
	if !slices.Equal(res.Holders, []string{"reports/render", "reports/render#2"}) {
		t.Errorf("holders %v, want reports/render and reports/render#2", res.Holders)
	}
	if res.Waited >= res.RenderFor {
		t.Errorf("the lookup waited %v, as long as the renders (%v): the acquire was not bounded", res.Waited, res.RenderFor)
	}
}

func TestFixedLookupIsServed(t *testing.T) {
	res, err := exhaustion.Run(context.Background(), io.Discard, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.TimedOut || res.Lookup != "customer ada" {
		t.Errorf("fixed lookup: %s", res.Lookup)
	}
}
