package httptask

import (
	"net/http"
	"strings"
	"sync"
)

// A request task is named by its route: the pattern of the http.ServeMux
// route that serves it ("GET /orders/{id}"), or, when there is none, its
// method and path. Names are part of task paths, leak reports and log
// lines, and a group keeps a counter per distinct task name for as long as
// it lives, so a name must never let a client forge a report line or grow
// the set of names without bound:
//
//   - a pattern is the program's own: it is used as it is, with '#' (which
//     numbers repeated task names) and anything unprintable escaped, and
//     prefixed with the request's method when it names none ("/static/"
//     serving a GET is "GET /static/");
//   - a method is one of the standard ones, or "OTHER";
//   - a path comes from the client: it is used in its escaped form (printable
//     ASCII, no '#'), cut at maxPathLen bytes, and only the first
//     maxFallbackNames distinct method-and-path names of a Handler are
//     used; every later one is the method and "(other paths)".
const (
	maxPathLen       = 64
	maxFallbackNames = 256
	maxPatternLen    = 256
)

// namer names a Handler's request tasks.
type namer struct {
	mux *http.ServeMux // the handler, if it is a ServeMux: its routes give the names

	// withMethod holds, for each pattern that names no method, its names
	// with each method (*[len(methods)]string), built on first use so
	// that naming a request allocates nothing. Patterns are the program's
	// routes: a bounded set.
	withMethod sync.Map

	mu       sync.Mutex
	fallback map[fallbackKey]string // method and path names given so far
}

// methods are the methods a name may show; any other is "OTHER".
var methods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace, "OTHER",
}

// methodIndex returns m's index in methods; any method not listed is
// "OTHER": a client may send any token as a method.
func methodIndex(m string) int {
	for i, s := range methods[:len(methods)-1] {
		if m == s {
			return i
		}
	}
	return len(methods) - 1
}

type fallbackKey struct{ method, path string }

// name returns the task name of r.
func (n *namer) name(r *http.Request) string {
	pattern := r.Pattern // set when Handler runs inside a ServeMux route
	if pattern == "" && n.mux != nil {
		_, pattern = n.mux.Handler(r)
	}
	if pattern != "" {
		return n.patternName(pattern, r.Method)
	}
	return n.fallbackName(r)
}

// patternName returns the name of a request served by pattern: the
// pattern, escaped, with the method in front if the pattern has none.
func (n *namer) patternName(pattern, method string) string {
	if hasMethod(pattern) {
		return cleanPattern(pattern)
	}
	v, ok := n.withMethod.Load(pattern)
	if !ok {
		var names [len(methods)]string
		clean := cleanPattern(pattern)
		for i, m := range methods {
			names[i] = m + " " + clean
		}
		v, _ = n.withMethod.LoadOrStore(pattern, &names)
	}
	return v.(*[len(methods)]string)[methodIndex(method)]
}

// hasMethod reports whether a ServeMux pattern begins with a method: the
// pattern syntax is [METHOD ][HOST]/[PATH], and neither a host nor a path
// contains a space or a tab.
func hasMethod(pattern string) bool { return strings.IndexAny(pattern, " \t") >= 0 }

// cleanPattern returns pattern as a task name: as it is unless it holds
// '#', an unprintable byte or more than maxPatternLen bytes, which the
// program's own patterns never do.
func cleanPattern(pattern string) string {
	if len(pattern) <= maxPatternLen {
		clean := true
		for i := 0; i < len(pattern) && clean; i++ {
			c := pattern[i]
			clean = c >= ' ' && c < 0x7f && c != '#'
		}
		if clean {
			return pattern
		}
	}
	return escapeName(pattern, maxPatternLen)
}

// escapeName escapes '#', '%' and every byte that is not printable ASCII as
// %XX, and cuts the result at about limit bytes, marking the cut with "...".
func escapeName(s string, limit int) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if b.Len() >= limit {
			b.WriteString("...")
			break
		}
		c := s[i]
		if c >= ' ' && c < 0x7f && c != '#' && c != '%' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// fallbackName names a request that no route pattern names: its method
// and escaped path, among a bounded set of such names.
func (n *namer) fallbackName(r *http.Request) string {
	method := methods[methodIndex(r.Method)]
	path := "/"
	if r.URL != nil {
		// EscapedPath is printable ASCII without '#' or spaces: the
		// client cannot put a newline or a path separator of ours in it.
		path = r.URL.EscapedPath()
	}
	if len(path) > maxPathLen {
		path = path[:maxPathLen] + "..."
	}
	key := fallbackKey{method, path}
	n.mu.Lock()
	defer n.mu.Unlock()
	if name, ok := n.fallback[key]; ok {
		return name
	}
	if len(n.fallback) >= maxFallbackNames {
		return method + " (other paths)"
	}
	if n.fallback == nil {
		n.fallback = make(map[fallbackKey]string)
	}
	name := method + " " + path
	n.fallback[key] = name
	return name
}
