package stack

import "bytes"

// ParseProfile parses the goroutine profile at debug=1:
//
//	goroutine profile: total 4
//	2 @ 0x47d96e 0x4158ee 0x4dc839 0x483e81
//	# labels: {"tether.group":"app", "tether.task":"app/w"}
//	#	0x4dc838	main.worker+0x18	/src/main.go:13
//
// Each record is a group of Count goroutines with the same stack and
// labels; it has no id, state or creation frame. Lines outside a record are
// skipped, and so are frames the profile could not name.
func ParseProfile(dump []byte) []Goroutine {
	// Each frame takes a line.
	p := newParser(max(bytes.Count(dump, []byte("\n")), 1))
	var out []Goroutine
	var cur *Goroutine
	start := 0
	rest := dump
	for len(rest) > 0 {
		var line []byte
		line, rest = nextLine(rest)
		switch {
		case len(line) == 0:
			cur = nil
		case '0' <= line[0] && line[0] <= '9':
			count, n := parseUint(line)
			if n == 0 || count == 0 || count > maxInt || !hasPrefix(line[n:], " @ ") {
				cur = nil
				continue
			}
			out = append(out, Goroutine{Count: int(count)})
			cur = &out[len(out)-1]
			start = len(p.frames)
		case cur == nil:
		case hasPrefix(line, "# labels: {"):
			cur.Labels = p.labels(line[len("# labels: {"):], ":")
		case hasPrefix(line, "#\t"):
			if f, ok := p.profileFrame(line[1:]); ok {
				p.frames = append(p.frames, f)
				cur.Frames = p.frames[start:len(p.frames):len(p.frames)]
			}
		}
	}
	return out
}

// profileFrame parses "\t0x4dc838\tmain.worker+0x18\t\t/src/main.go:13":
// tab-separated columns, aligned with a varying number of tabs.
func (p *parser) profileFrame(s []byte) (Frame, bool) {
	_, s = column(s) // the program counter
	fn, s := column(s)
	if i := bytes.LastIndex(fn, []byte("+0x")); i >= 0 {
		fn = fn[:i]
	}
	if len(fn) == 0 {
		return Frame{}, false
	}
	f := Frame{Func: p.str(fn)}
	s = bytes.TrimLeft(s, "\t")
	f.File, f.Line = p.fileLine(s)
	return f, true
}

// column skips leading tabs and returns the text up to the next tab, and
// what follows it.
func column(s []byte) ([]byte, []byte) {
	s = bytes.TrimLeft(s, "\t")
	if i := bytes.IndexByte(s, '\t'); i >= 0 {
		return s[:i], s[i:]
	}
	return s, nil
}
