package pool_test

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

// wantPanic runs f and returns the panic message, failing if f returns.
func wantPanic(t *testing.T, what string, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("%s did not panic", what)
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

// wantContains fails unless s contains every one of subs.
func wantContains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s = %q\nwant it to contain %q", what, s, sub)
		}
	}
}

// lineOf returns the line number of a "file.go:LINE" site.
func lineOf(site string) int {
	n, _ := strconv.Atoi(site[strings.LastIndex(site, ":")+1:])
	return n
}

// slogDiscard returns a logger that drops every record, for examples whose
// output must not include log lines.
func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
