package leakcheck

import (
	"strconv"
	"strings"
)

// This file parses goroutine tracebacks in the two text forms the runtime
// writes: the full dump of runtime.Stack(buf, true) (wait reasons, created-by
// frames, and labels when GODEBUG tracebacklabels=1) and the goroutine profile
// at debug=1 (stacks grouped with their labels and a count, no wait reasons).
//
// Both parsers work on one string holding the whole dump, so function names
// and file paths are substrings of it and parsing allocates little beyond the
// frame and goroutine slices.

// goroutine is one parsed goroutine (full dump) or one group of identical
// goroutines (profile, count > 1).
type goroutine struct {
	id      uint64 // 0 in the profile form
	count   int    // 1 in the full dump
	state   string // wait reason: "chan receive", "select", "running"...
	minutes int    // the runtime's coarse blocked-for figure, when printed
	group   string // LabelGroup value, "" when unlabelled
	task    string // LabelTask value, "" when unlabelled
	labels  bool   // the goroutine had any labels at all
	frames  []frame
	created frame  // the "created by" frame; zero for the main goroutine
	parent  uint64 // the goroutine that created it, when printed
}

type frame struct {
	fn   string // fully qualified function name, without arguments
	file string
	line int
}

// topFunction returns the first frame's function, or "".
func (g *goroutine) topFunction() string {
	if len(g.frames) == 0 {
		return ""
	}
	return g.frames[0].fn
}

// hasFramePrefix reports whether any frame's function starts with prefix.
func (g *goroutine) hasFramePrefix(prefix string) bool {
	for _, f := range g.frames {
		if strings.HasPrefix(f.fn, prefix) {
			return true
		}
	}
	return false
}

// parseFull parses the output of runtime.Stack(buf, true). All frames share
// one backing array, sized from the dump, so a dump of thousands of
// goroutines costs a few allocations, not one per goroutine.
func parseFull(dump string) []goroutine {
	// Each frame takes two lines; each goroutine a header, a created-by
	// pair and a blank line.
	lines := strings.Count(dump, "\n")
	goroutines := strings.Count(dump, "\ngoroutine ") + 1
	frames := make([]frame, 0, max(lines/2, 1))
	out := make([]goroutine, 0, goroutines)
	var cur *goroutine
	start := 0 // where cur's frames begin in frames
	for len(dump) > 0 {
		line, rest, _ := strings.Cut(dump, "\n")
		dump = rest
		switch {
		case line == "":
			cur = nil
		case strings.HasPrefix(line, "goroutine "):
			g, ok := parseHeader(line)
			if !ok {
				cur = nil
				continue
			}
			out = append(out, g)
			cur = &out[len(out)-1]
			start = len(frames)
		case cur == nil, strings.HasPrefix(line, "..."):
			// Outside a goroutine, or "...N frames elided...".
		case strings.HasPrefix(line, "created by "):
			fn := strings.TrimPrefix(line, "created by ")
			if i := strings.LastIndex(fn, " in goroutine "); i >= 0 {
				cur.parent, _ = strconv.ParseUint(fn[i+len(" in goroutine "):], 10, 64)
				fn = fn[:i]
			}
			cur.created.fn = fn
			if loc, rest, ok := nextFileLine(dump); ok {
				cur.created.file, cur.created.line = loc.file, loc.line
				dump = rest
			}
		case line[0] != '\t':
			f := frame{fn: trimArgs(line)}
			if loc, rest, ok := nextFileLine(dump); ok {
				f.file, f.line = loc.file, loc.line
				dump = rest
			}
			frames = append(frames, f)
			// A full three-index slice, so that a later append to
			// frames (after a reallocation) never writes into it.
			cur.frames = frames[start:len(frames):len(frames)]
		}
	}
	return out
}

// nextFileLine parses a "\t/path/file.go:123 +0x1f" line at the start of s.
func nextFileLine(s string) (frame, string, bool) {
	if len(s) == 0 || s[0] != '\t' {
		return frame{}, s, false
	}
	line, rest, _ := strings.Cut(s, "\n")
	line = line[1:]
	if i := strings.LastIndex(line, " +0x"); i >= 0 {
		line = line[:i]
	}
	colon := strings.LastIndexByte(line, ':')
	if colon < 0 {
		return frame{file: line}, rest, true
	}
	n, err := strconv.Atoi(line[colon+1:])
	if err != nil {
		return frame{file: line}, rest, true
	}
	return frame{file: line[:colon], line: n}, rest, true
}

// trimArgs turns "pkg.(*T).M(0xc000012345, {0x1, 0x2})" into "pkg.(*T).M".
// Arguments never contain '(' in a Go traceback, so the last one starts them.
func trimArgs(line string) string {
	if i := strings.LastIndexByte(line, '('); i > 0 {
		return line[:i]
	}
	return line
}

// parseHeader parses "goroutine 21 [chan receive, 3 minutes, locked to
// thread, synctest bubble 2 labels:{"k": "v"}]:". With GOTRACEBACK=system the
// id is followed by " gp=... m=...", which is skipped.
func parseHeader(line string) (goroutine, bool) {
	g := goroutine{count: 1}
	rest := strings.TrimPrefix(line, "goroutine ")
	idEnd := strings.IndexByte(rest, ' ')
	if idEnd < 0 {
		return g, false
	}
	id, err := strconv.ParseUint(rest[:idEnd], 10, 64)
	if err != nil {
		return g, false
	}
	g.id = id
	open := strings.IndexByte(rest, '[')
	if open < 0 || !strings.HasSuffix(rest, "]:") {
		return g, false
	}
	body := rest[open+1 : len(rest)-len("]:")]
	if i := strings.Index(body, " labels:{"); i >= 0 {
		parseLabels(&g, body[i+len(" labels:{"):], ": ")
		body = body[:i]
	}
	parts := strings.Split(body, ", ")
	// "(scan)" is a GC detail and "(durable)" marks a goroutine parked in a
	// synctest bubble; neither says anything about what it waits for.
	g.state = strings.TrimSuffix(strings.TrimSuffix(parts[0], " (scan)"), " (durable)")
	for _, p := range parts[1:] {
		if m, ok := strings.CutSuffix(p, " minutes"); ok {
			g.minutes, _ = strconv.Atoi(m)
		}
	}
	return g, true
}

// parseLabels reads `"k": "v", "k2": "v2"}` (sep ": ") or `"k":"v", ...}`
// (sep ":"), Go-quoted, and keeps the two tether labels.
func parseLabels(g *goroutine, s, sep string) {
	for len(s) > 0 && s[0] == '"' {
		key, rest, ok := unquotePrefix(s)
		if !ok {
			return
		}
		rest, ok = strings.CutPrefix(rest, sep)
		if !ok {
			return
		}
		val, rest, ok := unquotePrefix(rest)
		if !ok {
			return
		}
		g.labels = true
		switch key {
		case labelGroup:
			g.group = val
		case labelTask:
			g.task = val
		}
		s = strings.TrimPrefix(rest, ", ")
	}
}

func unquotePrefix(s string) (val, rest string, ok bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", s, false
	}
	v, err := strconv.Unquote(q)
	if err != nil {
		return "", s, false
	}
	return v, s[len(q):], true
}

// parseProfile parses the goroutine profile at debug=1:
//
//	goroutine profile: total 4
//	2 @ 0x47d96e 0x4158ee 0x4dc839 0x483e81
//	# labels: {"tether.group":"app", "tether.task":"app/w"}
//	#	0x4dc838	main.worker+0x18	/src/main.go:13
//
// Each record is a group of goroutines with the same stack and labels.
func parseProfile(dump string) []goroutine {
	var out []goroutine
	var cur *goroutine
	for len(dump) > 0 {
		line, rest, _ := strings.Cut(dump, "\n")
		dump = rest
		switch {
		case line == "":
			cur = nil
		case line[0] >= '1' && line[0] <= '9':
			n, _, ok := strings.Cut(line, " @ ")
			count, err := strconv.Atoi(n)
			if !ok || err != nil {
				cur = nil
				continue
			}
			out = append(out, goroutine{count: count})
			cur = &out[len(out)-1]
		case cur == nil:
		case strings.HasPrefix(line, "# labels: {"):
			parseLabels(cur, strings.TrimPrefix(line, "# labels: {"), ":")
		case strings.HasPrefix(line, "#\t"):
			// "#\t0x4dc838\tmain.worker+0x18\t\t/src/main.go:13": the
			// columns are aligned with a varying number of tabs.
			fields := strings.FieldsFunc(line, func(r rune) bool { return r == '\t' })
			if len(fields) < 4 {
				continue
			}
			fn := fields[2]
			if i := strings.LastIndex(fn, "+0x"); i >= 0 {
				fn = fn[:i]
			}
			f := frame{fn: fn}
			loc := fields[len(fields)-1]
			if colon := strings.LastIndexByte(loc, ':'); colon >= 0 {
				f.file = loc[:colon]
				f.line, _ = strconv.Atoi(loc[colon+1:])
			} else {
				f.file = loc
			}
			cur.frames = append(cur.frames, f)
		}
	}
	return out
}
