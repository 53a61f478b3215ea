package leakcheck

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tether-go/tether/internal/text"
)

// textStack is how many frames of a goroutine String prints; JSON keeps
// more.
const textStack = 6

// String renders the report for a person: a summary line, then the
// problems pools, groups and scopes found about themselves, then the entries
// grouped by the task that owns them (groups ordered by their oldest entry,
// entries oldest first), each with the file:line and function where it
// began, then guard conflicts and notes. For a given state the text is the
// same every time.
func (r *Report) String() string {
	var b strings.Builder
	b.WriteString("leakcheck: ")
	b.WriteString(r.Summary())
	b.WriteString("\n")

	type ownerGroup struct {
		owner   string
		entries []Entry
	}
	var groups []*ownerGroup
	byOwner := make(map[string]*ownerGroup)
	// Problems are findings of a pool, group or scope about itself (leases
	// collected unreleased, a group never waited): they come first, under
	// their object, not under the task that created it. A problem's text
	// may name the tasks involved; it is not owned by them either.
	problems := &ownerGroup{}
	for _, e := range r.Entries {
		if e.Kind == KindProblem {
			problems.entries = append(problems.entries, e)
			continue
		}
		key := e.Owner
		switch {
		case e.Kind == KindTask:
			key = e.Name
		case e.Role != "":
			key = "\x00" + e.Role // apart from the task whose path is the label
		}
		g, ok := byOwner[key]
		if !ok {
			g = &ownerGroup{owner: key}
			byOwner[key] = g
			groups = append(groups, g)
		}
		g.entries = append(g.entries, e)
	}
	if len(problems.entries) > 0 {
		groups = append([]*ownerGroup{problems}, groups...)
	}
	for _, g := range groups {
		b.WriteString("\n")
		if g == problems {
			b.WriteString("problems found by pools, groups and scopes\n")
		} else if role, ok := strings.CutPrefix(g.owner, "\x00"); ok {
			b.WriteString("tasks named " + strconv.Quote(role) + "\n")
		} else if g.owner == "" {
			b.WriteString("not owned by any task\n")
		} else {
			b.WriteString("task " + strconv.Quote(g.owner) + "\n")
		}
		for _, e := range g.entries {
			b.WriteString("  ")
			b.WriteString(e.describe())
			b.WriteString("\n")
			for i, f := range e.Stack {
				if i == textStack {
					fmt.Fprintf(&b, "      ... %d more frames\n", len(e.Stack)-textStack)
					break
				}
				b.WriteString("      " + f.String() + "\n")
			}
		}
	}

	var guards []string
	for _, o := range r.Objects {
		if o.Kind != "guard" || o.Counters["conflicts"] == 0 {
			continue
		}
		line := fmt.Sprintf("guard %q: %s", o.Name, counterText(o, "conflicts", "retries"))
		for _, e := range r.Info {
			if e.Kind == KindConflict && e.ObjectName == o.Name && e.Detail != "" {
				line += "; last: " + escape(e.Detail)
			}
		}
		guards = append(guards, line)
	}
	if len(guards) > 0 {
		b.WriteString("\nguards (conflicts are caught, not lost)\n")
		for _, g := range guards {
			b.WriteString("  " + g + "\n")
		}
	}
	r.writeRunFailures(&b)
	if len(r.Notes) > 0 {
		b.WriteString("\nnotes\n")
		for _, n := range r.Notes {
			b.WriteString("  " + escape(n) + "\n")
		}
	}
	return b.String()
}

// writeRunFailures writes, for each group whose Run tasks failed, how many
// did and the last few the group kept, oldest first.
func (r *Report) writeRunFailures(b *strings.Builder) {
	first := true
	for _, o := range r.Objects {
		n := o.Counters["run_failed"]
		if o.Kind != "group" || n == 0 {
			continue
		}
		var last []Entry
		for _, e := range r.Info {
			if e.Kind == KindFailure && e.ObjectName == o.Name {
				last = append(last, e)
			}
		}
		if first {
			b.WriteString("\nfailures of Group.Run (returned to their callers, not leaks)\n")
			first = false
		}
		fmt.Fprintf(b, "  group %q: %s (returned to their callers); the last %d:\n",
			o.Name, text.Count(int(n), "Run call", "Run calls")+" failed", len(last))
		for _, e := range last {
			fmt.Fprintf(b, "    task %q %s: %s\n", e.Name, escape(e.State), escape(e.Detail))
		}
	}
}

// counterText renders the named counters of o that exist, in that order:
// "37 conflicts, 12 retries".
func counterText(o Object, names ...string) string {
	var parts []string
	for _, n := range names {
		if v, ok := o.Counters[n]; ok {
			noun := strings.ReplaceAll(n, "_", " ")
			if v == 1 { // counter names are plural nouns: "conflicts", "retries"
				if stem, ok := strings.CutSuffix(noun, "ies"); ok {
					noun = stem + "y"
				} else {
					noun = strings.TrimSuffix(noun, "s")
				}
			}
			parts = append(parts, strconv.FormatInt(v, 10)+" "+noun)
		}
	}
	return strings.Join(parts, ", ")
}

// Summary is the report's first line: what is running or held, counted by
// kind and by pool or scope, e.g. `2 leases held in pool "db", 1 task still
// running, 3 unsupervised goroutines`; or "clean" when there is nothing.
func (r *Report) Summary() string {
	if r.Clean() {
		return "clean: nothing running or held"
	}
	type key struct{ kind, object string }
	counts := make(map[key]int)
	var order []key
	var problems []string
	for _, e := range r.Entries {
		if e.Kind == KindProblem {
			problems = append(problems, fmt.Sprintf("%s %q %s", escape(e.ObjectKind), e.ObjectName, escape(e.State)))
			continue
		}
		k := key{kind: e.Kind}
		switch e.Kind {
		case KindLease, KindWaiter, KindStep:
			k.object = e.ObjectName
		case KindBackground:
			k.object = e.ObjectKind + " " + strconv.Quote(e.ObjectName)
		}
		if _, ok := counts[k]; !ok {
			order = append(order, k)
		}
		if e.Kind == KindTask {
			counts[k]++ // one task, however many goroutines matched it
		} else {
			counts[k] += max(e.Count, 1)
		}
	}
	rank := map[string]int{KindLease: 0, KindWaiter: 1, KindTask: 2, KindGoroutine: 3, KindUnsupervised: 4, KindBackground: 5, KindStep: 6}
	// Stable order: by kind rank, then first appearance.
	sorted := make([]key, 0, len(order))
	for r := 0; r <= 6; r++ {
		for _, k := range order {
			if rk, ok := rank[k.kind]; ok && rk == r {
				sorted = append(sorted, k)
			}
		}
	}
	for _, k := range order {
		if _, ok := rank[k.kind]; !ok {
			sorted = append(sorted, k)
		}
	}
	var parts []string
	for _, k := range sorted {
		n := counts[k]
		switch k.kind {
		case KindLease:
			parts = append(parts, fmt.Sprintf("%s held in pool %q", text.Count(n, "lease", "leases"), k.object))
		case KindWaiter:
			parts = append(parts, fmt.Sprintf("%s waiting on pool %q", text.Count(n, "caller", "callers"), k.object))
		case KindTask:
			parts = append(parts, text.Count(n, "task", "tasks")+" still running")
		case KindGoroutine:
			parts = append(parts, text.Count(n, "goroutine", "goroutines")+" started inside tasks")
		case KindUnsupervised:
			parts = append(parts, text.Count(n, "unsupervised goroutine", "unsupervised goroutines"))
		case KindBackground:
			parts = append(parts, text.Count(n, "background goroutine", "background goroutines")+" of "+escape(k.object))
		case KindStep:
			parts = append(parts, fmt.Sprintf("%s not run in scope %q", text.Count(n, "cleanup step", "cleanup steps"), k.object))
		default:
			parts = append(parts, text.Count(n, escape(k.kind), escape(k.kind)+"s"))
		}
	}
	parts = append(parts, problems...)
	return strings.Join(parts, ", ")
}

// running says how many tasks of a role were running.
func running(n int) string {
	if n == 0 {
		return "none running"
	}
	return strconv.Itoa(n) + " running"
}

// describe renders one entry on one line. Every string that comes from a
// user (task, pool, scope and step names, states and details objects
// report) is quoted or escaped, so a name cannot forge report lines.
func (e Entry) describe() string {
	var b strings.Builder
	count := ""
	if e.Count > 1 {
		count = fmt.Sprintf(" (%d identical goroutines)", e.Count)
	}
	age := ""
	if e.Age > 0 {
		age = text.Round(e.Age).String()
	}
	state := escape(e.State)
	switch e.Kind {
	case KindTask:
		fmt.Fprintf(&b, "task %q%s", e.Name, count)
		if state != "" {
			b.WriteString(": " + state)
		}
		if age != "" {
			b.WriteString(", running " + age)
		}
		b.WriteString(", started at " + e.Site.String())
	case KindGoroutine:
		if e.Name != "" {
			b.WriteString(escape(e.Name))
		} else {
			b.WriteString("goroutine")
		}
		switch {
		case e.Role == "":
			b.WriteString(count + " started inside the task")
		case e.runsTask:
			fmt.Fprintf(&b, "%s runs a task %q (%s)", count, e.Role, running(e.running))
		default:
			fmt.Fprintf(&b, "%s started by a task %q (%s)", count, e.Role, running(e.running))
		}
		if state != "" {
			b.WriteString(": " + state)
		}
		b.WriteString(", created at " + e.Site.String())
	case KindUnsupervised:
		if e.Name != "" {
			b.WriteString("unsupervised " + escape(e.Name))
		} else {
			b.WriteString("unsupervised goroutine")
		}
		b.WriteString(count)
		if state != "" {
			b.WriteString(": " + state)
		}
		if e.Site.IsZero() {
			b.WriteString(", creation site unknown")
		} else {
			b.WriteString(", created at " + e.Site.String())
		}
	case KindBackground:
		if e.Name != "" {
			b.WriteString(escape(e.Name) + " ")
		}
		b.WriteString("goroutine")
		if e.Goroutine != 0 {
			b.WriteString(" " + strconv.FormatUint(e.Goroutine, 10))
		}
		fmt.Fprintf(&b, "%s of %s %q", count, escape(e.ObjectKind), e.ObjectName)
		if state != "" {
			b.WriteString(": " + state)
		}
		b.WriteString(", " + escape(e.ObjectKind) + " created at " + e.Site.String())
	case KindLease:
		fmt.Fprintf(&b, "lease %s of pool %q", escape(e.Name), e.ObjectName)
		if state != "" && state != "held" {
			b.WriteString(": " + state)
		}
		if age != "" {
			b.WriteString(", held for " + age)
		}
		b.WriteString(", acquired at " + e.Site.String())
	case KindWaiter:
		fmt.Fprintf(&b, "waiting on pool %q", e.ObjectName)
		if age != "" {
			b.WriteString(" for " + age)
		}
		b.WriteString(", Acquire called at " + e.Site.String())
	case KindStep:
		fmt.Fprintf(&b, "cleanup step %q of scope %q not run", e.Name, e.ObjectName)
		if state != "" && state != "pending" {
			b.WriteString(" (" + state + ")")
		}
		b.WriteString(", deferred at " + e.Site.String())
	case KindProblem:
		fmt.Fprintf(&b, "%s %q: %s", escape(e.ObjectKind), e.ObjectName, state)
		b.WriteString(", created at " + e.Site.String())
	default:
		fmt.Fprintf(&b, "%s %q", escape(e.Kind), e.Name)
		if e.ObjectName != "" {
			fmt.Fprintf(&b, " of %s %q", escape(e.ObjectKind), e.ObjectName)
		}
		if state != "" {
			b.WriteString(": " + state)
		}
		if age != "" {
			b.WriteString(", for " + age)
		}
		b.WriteString(", at " + e.Site.String())
	}
	if e.Detail != "" {
		b.WriteString(" (" + escape(e.Detail) + ")")
	}
	return b.String()
}

// escape returns s as it is if it prints as one plain line, and otherwise
// with Go's escapes for what does not print (a newline becomes \n, a
// control or bidirectional-override character \x.. or \u....), so that text
// from a user cannot start a line of its own in a report or hide what
// follows it.
func escape(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			q := strconv.Quote(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}
