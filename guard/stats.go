package guard

import (
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Stats counts a Guard's or Map's writes since New.
type Stats struct {
	Updates    int64 // versions committed (by CompareAndSwap and Update)
	Conflicts  int64 // writes refused as stale, each Update attempt counted
	Retries    int64 // attempts Update made after a conflict
	MaxRetries int64 // the most retries one Update call needed

	// LastConflict is the most recent conflict, naming both writers; nil
	// if there was none. Its Err is always nil.
	LastConflict *ConflictError
}

// counters are the numbers behind Stats that a commit does not already
// hold (a Guard's commits are its version minus one), kept under a mutex
// that only conflicts take.
type counters struct {
	conflicts, retries, maxRetries int64
}

// finish records how many attempts one Update made.
func (c *counters) finish(attempts int) {
	if r := int64(attempts - 1); r > 0 {
		c.retries += r
		c.maxRetries = max(c.maxRetries, r)
	}
}

func (c counters) stats(updates int64) Stats {
	return Stats{Updates: updates, Conflicts: c.conflicts, Retries: c.retries, MaxRetries: c.maxRetries}
}

// conflict is the raw record of a conflict, kept without allocating;
// sites are symbolised only when it is rendered.
type conflict struct {
	base, current uint64
	writer        string // who wrote current
	writerSite    Site
	writerProcess string
	w             writer // who was refused
	attempts      int
	at            time.Time
}

// newConflict describes a write by w based on base, refused because cur
// (nil: the key does not exist) is current.
func newConflict[T any](base uint64, cur *Snapshot[T], w writer, attempt int, at time.Time) conflict {
	c := conflict{base: base, w: w, attempts: attempt, at: at}
	if cur != nil {
		c.current, c.writer, c.writerSite, c.writerProcess = cur.Version, cur.Writer, cur.Site, cur.Process
	}
	return c
}

func (c conflict) err(name string, key any, cause error) *ConflictError {
	return &ConflictError{
		Guard: name, Key: key,
		Base: c.base, Current: c.current, Writer: c.writer, WriterSite: c.writerSite, WriterProcess: c.writerProcess,
		Task: c.w.task.String(), Site: c.w.site(), Attempts: c.attempts, At: c.at, Err: cause,
	}
}

// item renders the conflict for tether's leak report: an Item of kind
// conflict owned by the writer that lost, naming both writers and sites.
func (c conflict) item(name string) track.Item {
	var b strings.Builder
	b.WriteString(who(c.w.task.String(), c.w.site(), ""))
	b.WriteString(" wrote on v" + strconv.FormatUint(c.base, 10) + ", but ")
	if c.current == 0 {
		b.WriteString("the key no longer existed")
	} else {
		b.WriteString(who(c.writer, c.writerSite, c.writerProcess) + " had written v" + strconv.FormatUint(c.current, 10))
	}
	return track.Item{
		Kind:   track.ItemConflict,
		Name:   name,
		Owner:  c.w.task.String(),
		Since:  c.at,
		State:  "conflict",
		Site:   c.w.site().track(),
		Detail: b.String(),
	}
}

func who(task string, site Site, process string) string {
	if task == "" {
		task = "(no task)"
	}
	if !site.isZero() {
		task += " at " + site.String()
	}
	if process != "" {
		task += " (" + process + ")"
	}
	return task
}

func counter(name string, v int64) track.Counter { return track.Counter{Name: name, Value: v} }

// Stats returns the guard's counters and its last conflict.
func (g *Guard[T]) Stats() Stats {
	g.mu.Lock()
	c, last, version := g.st, g.last, g.cur.Load().snap.Version
	g.mu.Unlock()
	s := c.stats(int64(version - 1))
	if c.conflicts > 0 {
		s.LastConflict = last.err(g.name, nil, nil)
	}
	return s
}

// describe reports the guard to tether's leak report. Conflicts are
// information, not leaks: they never appear as Problems.
func (g *Guard[T]) describe() track.State {
	g.mu.Lock()
	c, last, version := g.st, g.last, g.cur.Load().snap.Version
	g.mu.Unlock()
	st := track.State{
		Kind:    track.KindGuard,
		Name:    g.name,
		Created: g.created,
		Site:    g.site,
		Counters: []track.Counter{
			counter("version", int64(version)),
			counter("updates", int64(version-1)),
			counter("conflicts", c.conflicts),
			counter("retries", c.retries),
			counter("max_retries", c.maxRetries),
		},
	}
	if c.conflicts > 0 {
		st.Items = []track.Item{last.item(g.name)}
	}
	return st
}
