package leakcheck_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/leakcheck"
)

// fakeT records what VerifyNone reports instead of failing the real test.
type fakeT struct {
	name string
	mu   sync.Mutex
	errs []string
	logs []string
}

func (f *fakeT) Name() string { return f.name }
func (f *fakeT) Helper()      {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

func TestVerifyNoneReportsTheLeakWithItsLine(t *testing.T) {
	line := leakGoroutine(t)
	ft := &fakeT{name: t.Name()}
	start := time.Now()
	leakcheck.VerifyNone(ft, leakcheck.MaxWait(50*time.Millisecond))
	if len(ft.errs) != 1 {
		t.Fatalf("VerifyNone with a leak reported %d errors, want 1: %v", len(ft.errs), ft.errs)
	}
	want := fmt.Sprintf("created at helpers_test.go:%d", line)
	if !strings.Contains(ft.errs[0], want) || !strings.Contains(ft.errs[0], t.Name()+" left things running or held") {
		t.Fatalf("VerifyNone error lacks %q or the test name:\n%s", want, ft.errs[0])
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Fatalf("VerifyNone gave up after %v, before MaxWait", waited)
	}
}

// TestVerifyNoneDoesNotBlameTheNextTest plants a leak in this test, then has
// VerifyNone check on behalf of a different test: the leak is logged with
// this test's name as its owner, and the other test is not failed.
func TestVerifyNoneDoesNotBlameTheNextTest(t *testing.T) {
	leakGoroutine(t)
	site, _ := testkit.HereSite()
	register(t, track.State{
		Kind: track.KindPool, Name: "db",
		Items: []track.Item{{Kind: track.ItemLease, Name: "#1", Since: time.Now(), State: "held", Site: site}},
	})
	next := &fakeT{name: "TestSomethingElse/sub"}
	leakcheck.VerifyNone(next, leakcheck.MaxWait(10*time.Millisecond))
	if len(next.errs) != 0 {
		t.Fatalf("VerifyNone blamed TestSomethingElse for this test's leaks:\n%s", next.errs[0])
	}
	logs := strings.Join(next.logs, "\n")
	if !strings.Contains(logs, t.Name()+":") || !strings.Contains(logs, "lease #1") || !strings.Contains(logs, "unsupervised goroutine") {
		t.Fatalf("VerifyNone log does not name %s as the owner of both leaks:\n%s", t.Name(), logs)
	}
	// The owner itself is failed.
	owner := &fakeT{name: t.Name()}
	leakcheck.VerifyNone(owner, leakcheck.MaxWait(10*time.Millisecond))
	if len(owner.errs) != 1 {
		t.Fatalf("VerifyNone for the owning test reported %d errors, want 1", len(owner.errs))
	}
}

func TestVerifyNoneWaitsForSlowStops(t *testing.T) {
	done := make(chan struct{})
	release := make(chan struct{})
	go func() {
		<-release
		close(done)
	}()
	ft := &fakeT{name: t.Name()}
	// The goroutine stops while VerifyNone is retrying: not a leak.
	time.AfterFunc(20*time.Millisecond, func() { close(release) })
	leakcheck.VerifyNone(ft, leakcheck.MaxWait(5*time.Second))
	<-done
	if len(ft.errs) != 0 {
		t.Fatalf("VerifyNone failed on a goroutine that stopped in time:\n%s", ft.errs[0])
	}
}

func TestVerifyNoneClean(t *testing.T) {
	ft := &fakeT{name: t.Name()}
	leakcheck.VerifyNone(ft)
	if len(ft.errs) != 0 || len(ft.logs) != 0 {
		t.Fatalf("VerifyNone on a clean test: errors %v logs %v", ft.errs, ft.logs)
	}
	leakcheck.VerifyNone(t) // and with a real *testing.T
}

type fakeM struct{ code int }

func (m fakeM) Run() int { return m.code }

func TestVerifyTestMain(t *testing.T) {
	out, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if code := leakcheck.VerifyTestMainCode(fakeM{3}, out); code != 3 {
		t.Errorf("failing tests: exit code %d, want theirs (3)", code)
	}
	if code := leakcheck.VerifyTestMainCode(fakeM{0}, out); code != 0 {
		t.Errorf("passing clean tests: exit code %d, want 0", code)
	}
	line := leakGoroutine(t)
	if code := leakcheck.VerifyTestMainCode(fakeM{0}, out, leakcheck.MaxWait(10*time.Millisecond)); code != 1 {
		t.Errorf("passing tests with a leak: exit code %d, want 1", code)
	}
	b, _ := os.ReadFile(out.Name())
	if want := fmt.Sprintf("created at helpers_test.go:%d", line); !strings.Contains(string(b), want) {
		t.Errorf("VerifyTestMain output lacks %q:\n%s", want, b)
	}
	if want := "leakcheck: after all tests passed, " + t.Name() + " left things running or held:"; !strings.Contains(string(b), want) {
		t.Errorf("VerifyTestMain output does not name the test that leaked (%q):\n%s", want, b)
	}
}

// TestVerifyTestMainNamesEachTest plants leaks from two tests (this one,
// and a recorded one whose site names another test) and one no test can be
// named for: each is reported under its own heading, the unnamed last.
func TestVerifyTestMainNamesEachTest(t *testing.T) {
	leakGoroutine(t)
	site, _ := testkit.HereSite()
	register(t, track.State{
		Kind: track.KindPool, Name: "named-pool",
		Items: []track.Item{{Kind: track.ItemLease, Name: "#1", Since: time.Now(), State: "held", Site: site}},
	})
	register(t, track.State{
		Kind: track.KindScope, Name: "unnamed-scope",
		Items: []track.Item{{Kind: track.ItemStep, Name: "close", State: "pending"}},
	})
	var out strings.Builder
	if code := leakcheck.VerifyTestMainCode(fakeM{0}, &out, leakcheck.MaxWait(10*time.Millisecond)); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	text := out.String()
	mine := strings.Index(text, t.Name()+" left things running or held:")
	unnamed := strings.Index(text, "things no test can be named for are still running or held:")
	step := strings.Index(text, `cleanup step "close" of scope "unnamed-scope"`)
	if mine < 0 || unnamed < mine || step < unnamed || strings.Index(text, "lease #1") > unnamed {
		t.Fatalf("VerifyTestMain output does not put each leak under its test, the unnamed last:\n%s", text)
	}
}
