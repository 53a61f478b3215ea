package stack_test

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tether-go/tether/internal/stack"
)

// renderFull writes goroutines in the runtime's full-dump form, as
// runtime.Stack(buf, true) does: the reference the parser is checked
// against. quote quotes label keys and values (the runtime's own quoting,
// or Go's).
func renderFull(gs []stack.Goroutine, quote func(string) string) []byte {
	var b strings.Builder
	for i, g := range gs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "goroutine %d [%s", g.ID, g.State)
		if g.Leaked {
			b.WriteString(" (leaked)")
		}
		if g.Durable {
			b.WriteString(" (durable)")
		}
		if g.Minutes != 0 {
			fmt.Fprintf(&b, ", %d minutes", g.Minutes)
		}
		if g.Locked {
			b.WriteString(", locked to thread")
		}
		if g.Bubble != 0 {
			fmt.Fprintf(&b, ", synctest bubble %d", g.Bubble)
		}
		if len(g.Labels) > 0 {
			b.WriteString(" labels:{")
			for j, l := range g.Labels {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(quote(l.Key) + ": " + quote(l.Value))
			}
			b.WriteString("}")
		}
		b.WriteString("]:\n")
		renderFrames(&b, g.Frames, "(0x0?, {0x1, 0x2})")
		if g.Elided != 0 {
			fmt.Fprintf(&b, "...%d frames elided...\n", g.Elided)
		}
		if g.Truncated {
			b.WriteString("...additional frames elided...\n")
		}
		if g.CreatedBy != (stack.Frame{}) || g.Parent != 0 {
			renderCreatedBy(&b, g.CreatedBy, g.Parent)
		}
		for _, a := range g.Ancestors {
			fmt.Fprintf(&b, "[originating from goroutine %d]:\n", a.ID)
			renderFrames(&b, a.Frames, "(...)")
			if a.Truncated {
				b.WriteString("...additional frames elided...\n")
			}
			if a.CreatedBy != (stack.Frame{}) {
				renderCreatedBy(&b, a.CreatedBy, 0)
			}
		}
	}
	return []byte(b.String())
}

func renderFrames(b *strings.Builder, frames []stack.Frame, args string) {
	for _, f := range frames {
		b.WriteString(f.Func + args + "\n")
		renderLocation(b, f)
	}
}

func renderCreatedBy(b *strings.Builder, f stack.Frame, parent uint64) {
	b.WriteString("created by " + f.Func)
	if parent != 0 {
		fmt.Fprintf(b, " in goroutine %d", parent)
	}
	b.WriteString("\n")
	renderLocation(b, f)
}

// renderLocation writes a frame's "\tfile:line +0x1f" line. A frame with
// neither file nor line has none, like a C frame the runtime cannot
// symbolise.
func renderLocation(b *strings.Builder, f stack.Frame) {
	if f.File != "" || f.Line != 0 {
		fmt.Fprintf(b, "\t%s:%d +0x1f\n", f.File, f.Line)
	}
}

// renderProfile writes goroutine records in the form of the goroutine
// profile at debug=1, with pprof's Go quoting and tab-aligned columns.
func renderProfile(gs []stack.Goroutine) []byte {
	var b strings.Builder
	total := 0
	for _, g := range gs {
		total += g.Count
	}
	fmt.Fprintf(&b, "goroutine profile: total %d\n", total)
	for _, g := range gs {
		fmt.Fprintf(&b, "%d @ 0x47d96e 0x4158ee\n", g.Count)
		if len(g.Labels) > 0 {
			b.WriteString("# labels: {")
			for j, l := range g.Labels {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strconv.Quote(l.Key) + ":" + strconv.Quote(l.Value))
			}
			b.WriteString("}\n")
		}
		for i, f := range g.Frames {
			pad := strings.Repeat("\t", 1+i%3)
			fmt.Fprintf(&b, "#\t0x4dc838\t%s+0x18%s%s:%d\n", f.Func, pad, f.File, f.Line)
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// runtimeQuote quotes s as the runtime prints a label in a traceback
// (runtime/print.go printquoted): only printable ASCII stays as it is.
func runtimeQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			switch {
			case r >= ' ' && r <= '~':
				b.WriteRune(r)
			case r < 127:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r < 0x10000:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
