package supervise

// WithoutLabels is an Option for benchmarks: the group's tasks run without
// pprof labels, to measure what labels cost.
func WithoutLabels() Option { return noLabelsOption{} }

type noLabelsOption struct{}

func (noLabelsOption) apply(s *settings) { s.noLabels = true }

// WithJitter returns p with its jitter source replaced (values in [0, 1)).
func WithJitter(p Policy, random func() float64) Policy {
	p.random = random
	return p
}
