package text_test

import (
	"testing"
	"time"

	"github.com/tether-go/tether/internal/text"
)

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"zero", text.Count(0, "lease", "leases"), "0 leases"},
		{"one", text.Count(1, "lease", "leases"), "1 lease"},
		{"two", text.Count(2, "lease", "leases"), "2 leases"},
		{"phrase", text.Count(3, "task failed", "tasks failed"), "3 tasks failed"},
		{"int64", text.Count(int64(1), "request", "requests"), "1 request"},
		{"int64 many", text.Count(int64(12), "retry", "retries"), "12 retries"},
		{"uint64 large", text.Count(uint64(1)<<63, "call", "calls"), "9223372036854775808 calls"},
		{"negative", text.Count(-1, "call", "calls"), "-1 calls"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestRound(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{-3 * time.Millisecond, "-3ms"},
		{999 * time.Nanosecond, "999ns"},
		{1234 * time.Nanosecond, "1.23µs"},
		{12345 * time.Nanosecond, "12.3µs"},
		{123456 * time.Nanosecond, "123µs"},
		{1234567 * time.Nanosecond, "1.23ms"},
		{12345678 * time.Nanosecond, "12.3ms"},
		{301858374 * time.Nanosecond, "302ms"},
		{1234567890 * time.Nanosecond, "1.23s"},
		{12345678901 * time.Nanosecond, "12.3s"},
		{200*time.Second + 400*time.Millisecond, "3m20s"},
		{3 * time.Hour, "3h0m0s"},
		{time.Second + time.Millisecond, "1s"}, // 1.001s has three digits: 1.00s
		{5 * time.Second, "5s"},                // synctest's round values are kept
	} {
		if got := text.Round(tc.in).String(); got != tc.want {
			t.Errorf("Round(%d) = %s, want %s", int64(tc.in), got, tc.want)
		}
	}
}
