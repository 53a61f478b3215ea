package httptask

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzTaskName: whatever the method, path and pattern, a task name is
// non-empty, printable ASCII without '#' (which would forge a task
// number), and short; patterns that need no escaping are kept as they are.
func FuzzTaskName(f *testing.F) {
	f.Add("GET", "/orders/42", "")
	f.Add("BREW", "/a\nb#c", "GET /orders/{id}")
	f.Add("GET", "/x", "/static/")
	f.Add("", "", "POST /odd#route\x00")
	f.Fuzz(func(t *testing.T, method, path, pattern string) {
		var n namer
		r := &http.Request{Method: method, URL: &url.URL{Path: path}, Pattern: pattern}
		name := n.name(r)
		if name == "" {
			t.Fatalf("empty name for %q %q %q", method, path, pattern)
		}
		for i := 0; i < len(name); i++ {
			if c := name[i]; c < ' ' || c >= 0x7f || c == '#' {
				t.Fatalf("name %q (for %q %q %q) holds byte %q", name, method, path, pattern, c)
			}
		}
		if limit := len("OPTIONS ") + maxPatternLen + len("..."); len(name) > limit {
			t.Fatalf("name is %d bytes long (limit %d)", len(name), limit)
		}
		clean := pattern != "" && len(pattern) <= maxPatternLen && !strings.ContainsAny(pattern, "#%")
		for i := 0; clean && i < len(pattern); i++ {
			clean = pattern[i] >= ' ' && pattern[i] < 0x7f
		}
		if clean && !strings.HasSuffix(name, pattern) {
			t.Fatalf("name %q does not keep the clean pattern %q", name, pattern)
		}
	})
}
