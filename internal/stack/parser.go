package stack

import (
	"bytes"
	"strconv"
)

// parser holds what one parse shares: the strings made so far (each
// distinct function name, file path, wait reason and label made once), and
// the backing arrays of every goroutine's frames and labels.
type parser struct {
	// recent remembers the last strings made, by a cheap hash, so that
	// the lines that repeat from one goroutine to the next (the same
	// function, the same file) skip the map.
	recent   [256]string
	strs     map[string]string
	frames   []Frame
	labelBuf []Label
	argBuf   []Arg
	argFuncs []string // the functions whose first argument to keep
	reuse    bool     // frames and labels are reused once a goroutine is emitted
}

// newParser returns a parser with room for frames frames.
func newParser(frames int) *parser {
	return &parser{
		strs:   make(map[string]string, 64),
		frames: make([]Frame, 0, frames),
	}
}

// str returns b as a string, made once per distinct value. The map lookup
// with string(b) as its key does not allocate.
func (p *parser) str(b []byte) string {
	var h byte
	if n := len(b); n > 0 {
		h = byte(n) ^ b[0] ^ b[n-1]<<1 ^ b[n/2]<<2
	}
	if s := p.recent[h]; s == string(b) {
		return s
	}
	s, ok := p.strs[string(b)]
	if !ok {
		s = string(b)
		p.strs[s] = s
	}
	p.recent[h] = s
	return s
}

// labels parses `"k": "v", "k2": "v2"}` (sep ": ", the runtime's form in a
// header) or `"k":"v", ...}` (sep ":", pprof's). The strings are quoted (the
// runtime's quoting and Go's both unquote with strconv.Unquote). Pairs are
// kept up to the first one that does not parse.
func (p *parser) labels(s []byte, sep string) []Label {
	start := len(p.labelBuf)
	for len(s) > 0 && s[0] == '"' {
		key, rest, ok := p.quoted(s)
		if !ok {
			break
		}
		rest, ok = cutPrefix(rest, sep)
		if !ok {
			break
		}
		val, rest, ok := p.quoted(rest)
		if !ok {
			break
		}
		p.labelBuf = append(p.labelBuf, Label{Key: key, Value: val})
		if r, ok := cutPrefix(rest, ", "); ok {
			s = r
			continue
		}
		break
	}
	if len(p.labelBuf) == start {
		return nil
	}
	return p.labelBuf[start:len(p.labelBuf):len(p.labelBuf)]
}

// quoted reads the double-quoted string at the start of s and returns its
// value and what follows it.
func (p *parser) quoted(s []byte) (string, []byte, bool) {
	escaped := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++ // the escaped byte cannot end the string
		case '"':
			if !escaped {
				return p.str(s[1:i]), s[i+1:], true
			}
			v, err := strconv.Unquote(string(s[:i+1]))
			if err != nil {
				return "", s, false
			}
			return p.str([]byte(v)), s[i+1:], true
		}
	}
	return "", s, false
}

// maxInt bounds numbers stored in an int.
const maxInt = uint64(^uint(0) >> 1)

// parseUint reads the decimal digits at the start of s, returning the value
// and how many bytes it used; 0 bytes if there is no digit or the value
// overflows.
func parseUint(s []byte) (uint64, int) {
	var v uint64
	i := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, 0
		}
		v = v*10 + d
	}
	return v, i
}

// nextLine splits s at its first newline.
func nextLine(s []byte) (line, rest []byte) {
	if i := bytes.IndexByte(s, '\n'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, nil
}

func cut(s []byte, sep string) (before, after []byte, found bool) {
	if i := bytes.Index(s, []byte(sep)); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, nil, false
}

func hasPrefix(s []byte, prefix string) bool {
	return len(s) >= len(prefix) && string(s[:len(prefix)]) == prefix
}

func hasSuffix(s []byte, suffix string) bool {
	return len(s) >= len(suffix) && string(s[len(s)-len(suffix):]) == suffix
}

func cutPrefix(s []byte, prefix string) ([]byte, bool) {
	if !hasPrefix(s, prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

func cutSuffix(s []byte, suffix string) ([]byte, bool) {
	if !hasSuffix(s, suffix) {
		return s, false
	}
	return s[:len(s)-len(suffix)], true
}

// wantArg reports whether fn is one of the functions whose first argument
// the caller asked for. They are few (two, in leakcheck), and strings of
// other lengths compare at the cost of a length check.
func (p *parser) wantArg(fn string) bool {
	for _, f := range p.argFuncs {
		if f == fn {
			return true
		}
	}
	return false
}

// firstArg reads the first argument of a frame from what follows its
// function's name: "(0xc000012345, ...)" gives 0xc000012345. An argument
// that is not a plain hex word, or that the runtime marked as possibly
// stale ("0xc000012345?"), is not read.
func firstArg(s []byte) (uint64, bool) {
	s, ok := cutPrefix(s, "(0x")
	if !ok {
		return 0, false
	}
	i := 0
	for i < len(s) && ('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
		i++
	}
	if i == 0 || i > 16 || i == len(s) || (s[i] != ',' && s[i] != ')') {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s[:i]), 16, 64)
	return v, err == nil
}
