package track_test

import (
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/internal/track/internal/sitetest"
)

func frameOf(pc uintptr) runtime.Frame {
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	return f
}

// TestCallerMatchesRuntimeCallers checks the frame-pointer capture against
// runtime.Callers for every way a user can reach a capturing method.
func TestCallerMatchesRuntimeCallers(t *testing.T) {
	g := &sitetest.Gen[int]{}
	var viaIface sitetest.Siter = g
	var viaIfaceStr sitetest.Siter = &sitetest.Gen[string]{}
	methodValue := g.Site
	methodExpr := (*sitetest.Gen[int]).Site
	closure := func() (track.Site, uintptr) { return g.Site() }

	cases := []struct {
		name string
		call func() (track.Site, uintptr)
	}{
		{"plain", func() (track.Site, uintptr) { return sitetest.Plain() }},
		{"generic direct", func() (track.Site, uintptr) { return g.Site() }},
		{"generic via interface", func() (track.Site, uintptr) { return viaIface.Site() }},
		{"generic string via interface", func() (track.Site, uintptr) { return viaIfaceStr.Site() }},
		{"method value", func() (track.Site, uintptr) { return methodValue() }},
		{"method expression", func() (track.Site, uintptr) { return methodExpr(g) }},
		{"closure", func() (track.Site, uintptr) { return closure() }},
		{"skip through a library frame", func() (track.Site, uintptr) { return sitetest.Outer() }},
		{"deferred", func() (s track.Site, pc uintptr) {
			func() { defer func() { s, pc = g.Site() }() }()
			return s, pc
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			site, pc := tc.call()
			got, ok := site.Frame()
			want := frameOf(pc)
			if !ok || got.Function != want.Function || got.Line != want.Line || got.File != want.File {
				t.Fatalf("Caller site = %s:%d %s; runtime.Callers = %s:%d %s",
					got.File, got.Line, got.Function, want.File, want.Line, want.Function)
			}
			if !strings.HasPrefix(want.Function, "github.com/tether-go/tether/internal/track_test.") {
				t.Fatalf("reference frame %s is not in the test package; the case is wrong", want.Function)
			}
		})
	}
}

func TestCallerOnNewGoroutine(t *testing.T) {
	// A capture at the top of a goroutine must not walk off the end of the
	// frame-pointer chain.
	var wg sync.WaitGroup
	var site track.Site
	var pc uintptr
	wg.Go(func() { site, pc = sitetest.Plain() })
	wg.Wait()
	got, _ := site.Frame()
	if want := frameOf(pc); got.Line != want.Line || got.Function != want.Function {
		t.Fatalf("site = %s:%d, want %s:%d", got.Function, got.Line, want.Function, want.Line)
	}
}

func TestSiteString(t *testing.T) {
	site, _ := sitetest.Plain()
	_, file, line, _ := runtime.Caller(0)
	line-- // the call above
	want := "site_test.go:" + itoa(line)
	if got := site.String(); got != want {
		t.Fatalf("String() = %q, want %q (file %s)", got, want, file)
	}
	if fn := site.Function(); !strings.HasSuffix(fn, ".TestSiteString") {
		t.Fatalf("Function() = %q, want the test function", fn)
	}
	if site.IsZero() || site.PC() == 0 {
		t.Fatal("captured site reports zero")
	}
}

func TestZeroSite(t *testing.T) {
	var s track.Site
	if !s.IsZero() {
		t.Fatal("zero Site: IsZero() = false")
	}
	if got := s.String(); got != "unknown site" {
		t.Fatalf("zero Site String() = %q, want %q", got, "unknown site")
	}
	if _, ok := s.Frame(); ok {
		t.Fatal("zero Site Frame() ok = true")
	}
	if s.Function() != "" {
		t.Fatalf("zero Site Function() = %q, want empty", s.Function())
	}
}

func TestSiteOf(t *testing.T) {
	var pc [1]uintptr
	runtime.Callers(1, pc[:])
	_, _, line, _ := runtime.Caller(0)
	if got, want := track.SiteOf(pc[0]).String(), "site_test.go:"+itoa(line-1); got != want {
		t.Fatalf("SiteOf(pc).String() = %q, want %q", got, want)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func BenchmarkCaller(b *testing.B) {
	b.Run("impl=framepointer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sitetest.Plain2()
		}
	})
	b.Run("impl=baseline-call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sitetest.Empty()
		}
	})
	b.Run("impl=runtime.Callers", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sitetest.PlainRuntime()
		}
	})
}
