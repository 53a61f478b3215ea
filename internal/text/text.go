// Package text holds the small wording helpers tether's messages share: a
// count with its noun, and a duration rounded for a person to read. Each is
// written once here, so that every error, log line and report words a count
// or a duration the same way.
package text

import (
	"strconv"
	"time"
)

// Count returns n followed by its noun, one when n is 1 and many otherwise:
// Count(1, "lease", "leases") is "1 lease", Count(3, ...) is "3 leases".
// Both forms are given, since tether's nouns include phrases ("task
// failed", "tasks failed") that no rule pluralises.
func Count[N ~int | ~int64 | ~uint64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	if n < 0 { // only a signed N gets here with a negative value
		return strconv.FormatInt(int64(n), 10) + " " + many
	}
	return strconv.FormatUint(uint64(n), 10) + " " + many
}

// Round rounds a measured duration to about three significant digits, for
// a message a person reads: 301.858374ms reads as 302ms, 12.3456s as
// 12.3s, 3m20.4s as 3m20s. Durations below a microsecond, and the round
// durations of fake time (testing/synctest), are unchanged. Keep the exact
// value in structured fields (errors' fields, log attributes).
func Round(d time.Duration) time.Duration {
	for _, step := range steps {
		if d >= step.above {
			return d.Round(step.to)
		}
	}
	return d
}

// steps are Round's: at or above each bound, round to the unit beside it.
var steps = [...]struct{ above, to time.Duration }{
	{100 * time.Second, time.Second},
	{10 * time.Second, 100 * time.Millisecond},
	{time.Second, 10 * time.Millisecond},
	{100 * time.Millisecond, time.Millisecond},
	{10 * time.Millisecond, 100 * time.Microsecond},
	{time.Millisecond, 10 * time.Microsecond},
	{100 * time.Microsecond, time.Microsecond},
	{10 * time.Microsecond, 100 * time.Nanosecond},
	{time.Microsecond, 10 * time.Nanosecond},
}
