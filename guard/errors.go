package guard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrConflict matches (with errors.Is) every [*ConflictError]: a write
// refused because the version it was based on is no longer current.
var ErrConflict = errors.New("guard: version conflict")

// ErrUnknownVersion matches the error of a Guard's CompareAndSwap based on a
// version the guard never had: 0, or one greater than the current version.
// That version did not come from this guard's Load; it is a bug in the
// caller, not a race.
var ErrUnknownVersion = errors.New("guard: unknown version")

// ConflictError reports a lost race: a write based on version Base was
// refused because another writer had committed version Current first. It
// names both writers, so the message says who raced whom and from where.
// errors.Is(err, ErrConflict) is true; when Update gave up because its
// context ended, errors.Is also matches the context's error (Err).
type ConflictError struct {
	Guard string // name of the Guard or Map
	Key   any    // the Map key; nil for a Guard

	Base       uint64 // the version the refused write was based on
	Current    uint64 // the version that was current instead; 0 if the Map key does not exist
	Writer     string // task that committed Current; "" outside a task
	WriterSite Site   // where Current was committed
	// WriterProcess names the process that committed Current, for a Map
	// on a Store shared by processes (see Snapshot.Process); "" otherwise.
	WriterProcess string

	Task     string    // task whose write was refused; "" outside a task
	Site     Site      // where the refused write was made
	Attempts int       // how many times the write was tried: 1 for CompareAndSwap
	At       time.Time // when the refused write was attempted
	Err      error     // why Update stopped retrying (ctx.Err()); nil otherwise
}

// Error says who lost to whom, where, and at which versions, for example
//
//	guard "scores": stale write by app/a at score.go:31: based on v3, but v5 is current, written by app/b at score.go:48
//
// and, for a Map on a Store shared by processes, which process wrote
// Current:
//
//	guard "scores" key "ada": stale write by app/a at score.go:31: based on v3, but v5 is current, written by app/b at score.go:48 (pid 4242 on web-2)
func (e *ConflictError) Error() string {
	var b strings.Builder
	b.WriteString(subject(e.Guard, e.Key))
	switch {
	case e.Err != nil:
		b.WriteString(": write")
		writeWho(&b, e.Task, e.Site)
		fmt.Fprintf(&b, " gave up after %d attempts (%v)", e.Attempts, e.Err)
	case e.Attempts > 1:
		b.WriteString(": stale write")
		writeWho(&b, e.Task, e.Site)
		fmt.Fprintf(&b, " (attempt %d)", e.Attempts)
	default:
		b.WriteString(": stale write")
		writeWho(&b, e.Task, e.Site)
	}
	fmt.Fprintf(&b, ": based on v%d, but ", e.Base)
	if e.Key != nil && e.Current == 0 {
		b.WriteString("the key no longer exists")
		return b.String()
	}
	fmt.Fprintf(&b, "v%d is current", e.Current)
	if e.Key != nil && e.Base >= e.Current {
		b.WriteString(" (the key was deleted and written again)")
	}
	b.WriteString(", written")
	if e.Writer == "" {
		b.WriteString(" outside any task")
	} else {
		b.WriteString(" by " + e.Writer)
	}
	if !e.WriterSite.isZero() {
		b.WriteString(" at " + e.WriterSite.String())
	}
	if e.WriterProcess != "" {
		b.WriteString(" (" + e.WriterProcess + ")")
	}
	return b.String()
}

// Is reports whether target is ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Unwrap returns Err: the context's error when Update gave up, else nil.
func (e *ConflictError) Unwrap() error { return e.Err }

func writeWho(b *strings.Builder, task string, site Site) {
	if task != "" {
		b.WriteString(" by " + task)
	}
	if !site.isZero() {
		b.WriteString(" at " + site.String())
	}
}

// subject names a guard, or a key of a Map, at the start of a message.
func subject(name string, key any) string {
	if key == nil {
		return "guard " + quote(name)
	}
	return "guard " + quote(name) + " key " + formatKey(key)
}

func formatKey(key any) string {
	if s, ok := key.(string); ok {
		return quote(s)
	}
	return fmt.Sprint(key)
}

func quote(s string) string { return strconv.Quote(s) }

// versionError is a Guard CompareAndSwap based on a version the guard never
// had. It matches ErrUnknownVersion.
type versionError struct {
	guard         string
	base, current uint64
}

func (e *versionError) Error() string {
	if e.base == 0 {
		return fmt.Sprintf("guard %q: CompareAndSwap based on v0, but versions start at 1 (pass the Version of a Snapshot from this guard)", e.guard)
	}
	return fmt.Sprintf("guard %q: CompareAndSwap based on v%d, but the guard is only at v%d: that version never existed (is it from another guard?)",
		e.guard, e.base, e.current)
}

func (e *versionError) Is(target error) bool { return target == ErrUnknownVersion }

// refusedError is a write refused by a validator. It wraps the validator's
// error.
type refusedError struct {
	guard string
	key   any
	w     writer
	err   error
}

func (e *refusedError) Error() string {
	var b strings.Builder
	b.WriteString(subject(e.guard, e.key) + ": write")
	writeWho(&b, e.w.task.String(), e.w.site())
	b.WriteString(" refused by validator: " + e.err.Error())
	return b.String()
}

func (e *refusedError) Unwrap() error { return e.err }

// storeError is an error from a Map's Store, naming the map and key.
type storeError struct {
	guard string
	key   any
	op    string
	err   error
}

func (e *storeError) Error() string {
	return subject(e.guard, e.key) + ": store " + e.op + ": " + e.err.Error()
}

func (e *storeError) Unwrap() error { return e.err }
