package leakcheck

import "time"

// Option changes what a snapshot looks at or ignores. Options are built by
// the functions below and passed to [Snapshot], [VerifyNone] and
// [VerifyTestMain].
type Option interface{ apply(*settings) }

type settings struct {
	light        bool
	labels       bool // TracebackLabels
	ignoreTop    []string
	ignoreCreate []string
	ignoreIDs    map[uint64]bool
	ignoreItems  map[string]bool
	maxWait      time.Duration
}

func buildSettings(opts []Option) *settings {
	s := &settings{maxWait: defaultMaxWait}
	for _, o := range opts {
		if o != nil {
			o.apply(s)
		}
	}
	return s
}

// defaultMaxWait is how long VerifyNone and VerifyTestMain retry before they
// report, when neither an option nor the test's deadline says otherwise.
const defaultMaxWait = 5 * time.Second

type ignoreTop string

func (o ignoreTop) apply(s *settings) { s.ignoreTop = append(s.ignoreTop, string(o)) }

// IgnoreTopFunction ignores goroutines whose innermost frame is the fully
// qualified function fn, e.g. "github.com/x/cache.(*Cache).janitor".
func IgnoreTopFunction(fn string) Option { return ignoreTop(fn) }

type ignoreCreatedBy string

func (o ignoreCreatedBy) apply(s *settings) { s.ignoreCreate = append(s.ignoreCreate, string(o)) }

// IgnoreCreatedBy ignores goroutines whose go statement is in the fully
// qualified function fn (the "created by" frame of a traceback), e.g.
// "net/http.(*Server).Serve".
func IgnoreCreatedBy(fn string) Option { return ignoreCreatedBy(fn) }

type ignoreCurrent struct {
	ids   map[uint64]bool
	items map[string]bool
}

func (o ignoreCurrent) apply(s *settings) {
	if s.ignoreIDs == nil {
		s.ignoreIDs = make(map[uint64]bool)
		s.ignoreItems = make(map[string]bool)
	}
	for k := range o.ids {
		s.ignoreIDs[k] = true
	}
	for k := range o.items {
		s.ignoreItems[k] = true
	}
}

// IgnoreCurrent ignores everything that exists when the option is built:
// goroutines (by id), and leases, tasks, steps and problems (by owner, name
// and start time). It takes a full snapshot to learn what exists, so build
// it once, before the code under test runs.
func IgnoreCurrent() Option {
	r := snapshot(&settings{}, nil)
	o := ignoreCurrent{ids: make(map[uint64]bool), items: make(map[string]bool)}
	for _, e := range r.Entries {
		if e.Goroutine != 0 {
			o.ids[e.Goroutine] = true
		}
		if e.Kind != KindGoroutine && e.Kind != KindUnsupervised {
			o.items[itemKey(e)] = true
		}
	}
	return o
}

// itemKey identifies a registry item across snapshots: by what it is, whose
// it is, and when it began, but not by its state, which changes (a task that
// was running is now restarting). A problem has no name; its text is its
// identity.
func itemKey(e Entry) string {
	k := e.Kind + "\x00" + e.ObjectKind + "\x00" + e.ObjectName + "\x00" + e.Name + "\x00" + e.Since.String()
	if e.Kind == KindProblem {
		k += "\x00" + e.State
	}
	return k
}

type light struct{}

func (light) apply(s *settings) { s.light = true }

// Light takes the snapshot from the goroutine profile instead of a full
// goroutine dump. It stops the world for well under a millisecond even with
// 10,000 goroutines (BenchmarkSnapshot), where a full dump stops it for
// tens of milliseconds, but it has no wait reasons and no goroutine ids, and
// identical goroutines are counted together. [Handler] uses it by default.
func Light() Option { return light{} }

type maxWait time.Duration

func (o maxWait) apply(s *settings) { s.maxWait = time.Duration(o) }

// MaxWait sets how long VerifyNone and VerifyTestMain keep retrying before
// they report what is still there (default 5s, and never past the test's
// deadline). Things that are merely slow to stop get that long to stop.
func MaxWait(d time.Duration) Option { return maxWait(d) }

type tracebackLabels struct{}

func (tracebackLabels) apply(s *settings) { s.labels = true }

// TracebackLabels lets a full snapshot match every goroutine to the task
// that owns it, by turning on GODEBUG tracebacklabels=1 for the whole
// process (os.Setenv) unless GODEBUG already says tracebacklabels either
// way. It is an option because it is a process-wide side effect: from then
// on every goroutine traceback (a crash, runtime.Stack, the debug=2
// profile) also prints each goroutine's pprof labels, and child processes
// started later inherit the setting. supervise.Main passes it for its
// shutdown report.
//
// Without it, and unless GODEBUG sets tracebacklabels=1, a full dump shows
// no labels, and the report says what that costs in its Notes: tasks are
// listed without their goroutine's stack and wait reason, and goroutines
// started inside tasks are listed as unsupervised. Goroutines tether's own
// objects run (a pool's watchdog) are still attributed, by goroutine id.
// [Light] snapshots always have labels, and need no option.
func TracebackLabels() Option { return tracebackLabels{} }
