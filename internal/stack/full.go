package stack

import "bytes"

// ParseFull parses a full goroutine dump (runtime.Stack(buf, true), the
// goroutine profile at debug=2, or a crash's output), in the order the
// goroutines appear. Lines that are not part of a goroutine are skipped.
//
// The goroutines' frames share one backing array, so a dump of thousands
// of goroutines costs a few allocations plus one per distinct string.
func ParseFull(dump []byte) []Goroutine {
	lines, headers := bytes.Count(dump, []byte("\n")), bytes.Count(dump, []byte("\ngoroutine "))+1
	// A goroutine takes a header, usually a created-by pair and a blank
	// line; each frame two lines.
	p := newParser(max((lines-4*headers)/2, headers, 16))
	out := make([]Goroutine, 0, headers)
	p.full(dump, func(g *Goroutine) { out = append(out, *g) })
	return out
}

// EachFull parses a full dump as ParseFull does, calling fn with each
// goroutine in turn instead of returning them all. g, and its slices, are
// reused once fn returns: fn must copy what it keeps, except strings, which
// are not reused. For a dump of thousands of goroutines it saves holding
// every goroutine and frame at once (BenchmarkSnapshot).
func EachFull(dump []byte, fn func(g *Goroutine)) {
	EachFullArgs(dump, nil, fn)
}

// EachFullArgs is EachFull that also keeps, in each goroutine's Args, the
// first argument of its frames of the functions funcs (fully qualified
// names, as Frame.Func).
func EachFullArgs(dump []byte, funcs []string, fn func(g *Goroutine)) {
	p := newParser(256)
	p.reuse = true
	p.argFuncs = funcs
	p.full(dump, fn)
}

// full parses dump, calling emit with each goroutine once it ends.
func (p *parser) full(dump []byte, emit func(*Goroutine)) {
	var cur Goroutine
	in := false         // cur holds a goroutine
	var target *[]Frame // cur.Frames, or the frames of cur's last ancestor
	start := 0          // where *target begins in p.frames
	ancestor := false   // target is an ancestor's
	argStart := 0       // where cur.Args begins in p.argBuf
	end := func() {
		if in {
			emit(&cur)
			in = false
			if p.reuse {
				p.frames, p.labelBuf, p.argBuf = p.frames[:0], p.labelBuf[:0], p.argBuf[:0]
			}
		}
	}
	rest := dump
	for len(rest) > 0 {
		var line []byte
		line, rest = nextLine(rest)
		switch {
		case len(line) == 0:
			end()
		case hasPrefix(line, "goroutine "):
			end()
			cur = Goroutine{}
			if !p.header(line, &cur) {
				continue // a line that only looks like a header
			}
			in = true
			target, start, ancestor = &cur.Frames, len(p.frames), false
			argStart = len(p.argBuf)
		case !in:
		case line[0] == '\t':
			// A location without a frame: nothing to attach it to.
		case line[0] == '.':
			if n, ok := elided(line); ok {
				cur.Elided = n
			} else if string(line) == "...additional frames elided..." {
				if ancestor {
					cur.Ancestors[len(cur.Ancestors)-1].Truncated = true
				} else {
					cur.Truncated = true
				}
			}
		case hasPrefix(line, "created by "):
			fn := line[len("created by "):]
			var parent uint64
			if !ancestor { // an ancestor's never names its parent
				fn, parent = createdBy(fn)
			}
			f := Frame{Func: p.str(fn)}
			if loc, r, ok := p.location(rest); ok {
				f.File, f.Line = loc.File, loc.Line
				rest = r
			}
			if ancestor {
				cur.Ancestors[len(cur.Ancestors)-1].CreatedBy = f
			} else {
				cur.CreatedBy, cur.Parent = f, parent
			}
		case hasPrefix(line, "[originating from goroutine "):
			id, ok := originating(line)
			if !ok {
				continue
			}
			cur.Ancestors = append(cur.Ancestors, Ancestor{ID: id})
			a := &cur.Ancestors[len(cur.Ancestors)-1]
			target, start, ancestor = &a.Frames, len(p.frames), true
		default:
			var f Frame
			if pc, ok := cutPrefix(line, "non-Go function at pc=0x"); ok && isHex(pc) {
				// A C frame the runtime could not symbolise: no
				// location line follows.
				f.Func = p.str([]byte("non-Go function"))
			} else {
				name := trimArgs(line)
				f.Func = p.str(name)
				if len(p.argFuncs) > 0 && !ancestor && p.wantArg(f.Func) {
					if v, ok := firstArg(line[len(name):]); ok {
						p.argBuf = append(p.argBuf, Arg{Func: f.Func, Value: v})
						cur.Args = p.argBuf[argStart:len(p.argBuf):len(p.argBuf)]
					}
				}
				if loc, r, ok := p.location(rest); ok {
					f.File, f.Line = loc.File, loc.Line
					rest = r
				}
			}
			p.frames = append(p.frames, f)
			// A full slice expression, so that a later append to
			// p.frames (after it moved) never writes into it.
			*target = p.frames[start:len(p.frames):len(p.frames)]
		}
	}
	end()
}

// header parses "goroutine 21 [chan receive, 3 minutes, locked to thread,
// synctest bubble 2 labels:{"k": "v"}]:". Between the id and the '[' a
// crash at GOTRACEBACK=system prints "gp=... m=...", which is skipped.
func (p *parser) header(line []byte, g *Goroutine) bool {
	g.Count = 1
	rest := line[len("goroutine "):]
	id, n := parseUint(rest)
	if n == 0 || id == 0 || n == len(rest) || rest[n] != ' ' {
		return false
	}
	g.ID = id
	rest = rest[n:]
	open := bytes.IndexByte(rest, '[')
	if open < 0 || !hasSuffix(rest[open:], "]:") {
		return false
	}
	body := rest[open+1 : len(rest)-len("]:")]
	if i := bytes.Index(body, []byte(" labels:{")); i >= 0 {
		g.Labels = p.labels(body[i+len(" labels:{"):], ": ")
		body = body[:i]
	}
	status, body, more := cut(body, ", ")
	for {
		if s, ok := cutSuffix(status, " (durable)"); ok {
			status, g.Durable = s, true
		} else if s, ok := cutSuffix(status, " (scan)"); ok {
			status = s
		} else if s, ok := cutSuffix(status, " (leaked)"); ok {
			status, g.Leaked = s, true
		} else {
			break
		}
	}
	g.State = p.str(status)
	for more {
		var part []byte
		part, body, more = cut(body, ", ")
		if m, ok := cutSuffix(part, " minutes"); ok {
			if v, n := parseUint(m); n == len(m) && n > 0 && v <= maxInt {
				g.Minutes = int(v)
			}
		} else if string(part) == "locked to thread" {
			g.Locked = true
		} else if b, ok := cutPrefix(part, "synctest bubble "); ok {
			if v, n := parseUint(b); n == len(b) && n > 0 {
				g.Bubble = v
			}
		}
	}
	return true
}

// createdBy splits what follows "created by ": "pkg.fn in goroutine 7", or
// "pkg.fn" (the runtime's own goroutines, and goroutine ids before Go 1.21).
func createdBy(s []byte) ([]byte, uint64) {
	digits := len(s)
	for digits > 0 && '0' <= s[digits-1] && s[digits-1] <= '9' {
		digits--
	}
	if before, ok := cutSuffix(s[:digits], " in goroutine "); ok {
		if v, n := parseUint(s[digits:]); n == len(s)-digits && v != 0 {
			return before, v
		}
	}
	return s, 0
}

// lastIndex returns the index of the last sep in s, or -1; c is sep[1].
// It searches back for c a byte at a time (bytes.LastIndex hashes every
// byte, a fifth of a parse when it ran on every location line).
func lastIndex(s []byte, c byte, sep string) int {
	for end := len(s); ; {
		i := bytes.LastIndexByte(s[:end], c)
		if i < 1 {
			return -1
		}
		if hasPrefix(s[i-1:], sep) {
			return i - 1
		}
		end = i
	}
}

// isHex reports whether s is a non-empty run of hex digits.
func isHex(s []byte) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return len(s) > 0
}

// location parses a "\t/path/file.go:123 +0x1f" line at the start of s, if
// there is one, and returns what follows it. Crashes add " fp=... sp=...
// pc=..." after the offset; inlined frames have no offset; C frames from a
// symboliser end in " pc=0x..." instead, or are only "pc=0x...".
func (p *parser) location(s []byte) (Frame, []byte, bool) {
	if len(s) == 0 || s[0] != '\t' {
		return Frame{}, s, false
	}
	line, rest := nextLine(s)
	line = line[1:]
	if i := lastIndex(line, '+', " +0x"); i >= 0 {
		line = line[:i]
	} else if hasPrefix(line, "pc=0x") {
		line = nil
	} else if i := lastIndex(line, 'p', " pc=0x"); i >= 0 {
		line = line[:i]
	}
	var f Frame
	f.File, f.Line = p.fileLine(line)
	return f, rest, true
}

// fileLine splits "file:123"; without a line number the whole is the file.
func (p *parser) fileLine(s []byte) (string, int) {
	if colon := bytes.LastIndexByte(s, ':'); colon >= 0 {
		num := s[colon+1:]
		if v, n := parseUint(num); n == len(num) && n > 0 && v <= maxInt {
			return p.str(s[:colon]), int(v)
		}
	}
	return p.str(s), 0
}

// trimArgs turns "pkg.(*T).M(0xc000012345, {0x1, 0x2})" into "pkg.(*T).M".
// The runtime prints arguments as hex numbers, braces, "...", "_" and "?",
// never parentheses, so the last '(' opens them. A C frame named by a
// symboliser may have none.
func trimArgs(line []byte) []byte {
	if line[len(line)-1] == ')' {
		if i := bytes.LastIndexByte(line, '('); i >= 0 {
			return line[:i]
		}
	}
	return line
}

// elided parses "...12 frames elided...".
func elided(line []byte) (int, bool) {
	s, ok := cutPrefix(line, "...")
	if !ok {
		return 0, false
	}
	num, ok := cutSuffix(s, " frames elided...")
	if !ok {
		return 0, false
	}
	v, n := parseUint(num)
	if n != len(num) || n == 0 || v > maxInt {
		return 0, false
	}
	return int(v), true
}

// originating parses "[originating from goroutine 7]:".
func originating(line []byte) (uint64, bool) {
	s, _ := cutPrefix(line, "[originating from goroutine ")
	num, ok := cutSuffix(s, "]:")
	if !ok {
		return 0, false
	}
	v, n := parseUint(num)
	return v, n == len(num) && n > 0
}
