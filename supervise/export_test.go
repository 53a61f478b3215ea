package supervise

import "log/slog"

// WithoutLabels is an Option for benchmarks: the group's tasks run without
// pprof labels, to measure what labels cost.
func WithoutLabels() Option { return noLabelsOption{} }

type noLabelsOption struct{}

func (noLabelsOption) apply(s settings) settings { s.noLabels = true; return s }

// JitterSource is a TaskOption for tests: it replaces the restart jitter's
// random source (values in [0, 1)).
func JitterSource(random func() float64) TaskOption { return jitterOption(random) }

type jitterOption func() float64

func (j jitterOption) applyTask(s taskSettings) taskSettings { s.random = j; return s }

// LoseGroup reports a group named name, with one failure wrapping err, as
// garbage-collected without Wait, the way the collector's cleanup does, and
// returns the record it registered (the caller keeps it alive while it
// looks: the registry holds it weakly).
func LoseGroup(name string, err error) any {
	f := &failures{group: name, site: "x.go:1", logger: slog.New(slog.DiscardHandler),
		errs: []error{&TaskError{Task: name + "/t", Err: err}}}
	reportUnobserved(f)
	return f
}
