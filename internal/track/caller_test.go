package track_test

import (
	"sync"
	"testing"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/internal/track/internal/sitetest"
)

// TestCallerPCsMatchesCaller checks that CallerPCs returns the counters of
// Caller's Site, for every way a user can reach a capturing method
// (Caller itself is checked against runtime.Callers in site_test.go).
func TestCallerPCsMatchesCaller(t *testing.T) {
	g := &sitetest.Gen[int]{}
	var viaIface sitetest.Bother = g
	methodValue := g.Both
	cases := []struct {
		name string
		call func() (track.Site, track.Site)
	}{
		{"generic direct", func() (track.Site, track.Site) { return g.Both() }},
		{"generic via interface", func() (track.Site, track.Site) { return viaIface.Both() }},
		{"method value", func() (track.Site, track.Site) { return methodValue() }},
		{"skip through a library frame", sitetest.OuterBoth},
		{"on a new goroutine", func() (a, b track.Site) {
			var wg sync.WaitGroup
			wg.Go(func() { a, b = g.Both() })
			wg.Wait()
			return a, b
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			caller, pcs := tc.call()
			if caller.IsZero() || caller != pcs {
				t.Fatalf("Caller = %v (%s), CallerPCs = %v (%s); want the same non-zero site", caller, caller, pcs, pcs)
			}
		})
	}
}

// BenchmarkCaller's impl=framepointer-site takes the first counter of
// Caller's Site and impl=framepointer-pcs the first result of CallerPCs:
// the same walk, returned in memory or as words.
func BenchmarkCallerPC(b *testing.B) {
	b.Run("impl=framepointer-pcs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sitetest.PlainPC()
		}
	})
	b.Run("impl=framepointer-site", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sitetest.PlainSitePC()
		}
	})
	b.Run("impl=baseline-call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sitetest.Empty()
		}
	})
}
