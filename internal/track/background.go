package track

import (
	"context"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"

	"github.com/tether-go/tether/internal/stack"
)

// Go runs fn on a new goroutine that belongs to the registered object, such
// as a pool's watchdog. Leak reports list it under the object, with the
// object's kind, name and creation site (the user's line that made it),
// instead of as an unsupervised goroutine created somewhere inside tether.
// name says what the goroutine does ("watchdog").
//
// So that every kind of snapshot can tell, the goroutine runs under the
// pprof label LabelObject (the object's registry id; goroutine profiles
// always show labels) and its goroutine id is recorded in the registry
// (full goroutine dumps show ids, but labels only under GODEBUG
// tracebacklabels=1). It replaces whatever labels the caller had: the
// goroutine belongs to the object, not to the task that created it.
//
// Go returns once the goroutine is recorded. Starting it costs a few
// microseconds (reading its own goroutine id), once per object. Go panics
// on the zero Handle or a Lost record's.
func (h Handle) Go(name string, fn func()) {
	if h.id == 0 || h.lost {
		panic("track: Go(" + strconv.Quote(name) + ") needs the Handle of a registered object")
	}
	labels := pprof.WithLabels(context.Background(), pprof.Labels(LabelObject, strconv.FormatUint(h.id, 10)))
	s := &registry.shards[h.id%shardCount]
	started := make(chan struct{})
	//tether:allow nakedgo track sits below supervise; the goroutine is labelled with its object's id so leakcheck attributes it, and Handle.Go returns only once it runs
	go func() {
		pprof.SetGoroutineLabels(labels)
		var buf [64]byte
		g := Goroutine{Name: name, ID: stack.ID(buf[:runtime.Stack(buf[:], false)])}
		s.mu.Lock()
		if s.background == nil {
			s.background = make(map[uint64][]Goroutine)
		}
		s.background[h.id] = append(s.background[h.id], g)
		s.mu.Unlock()
		close(started)
		defer func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			left := slices.DeleteFunc(s.background[h.id], func(x Goroutine) bool { return x == g })
			if len(left) == 0 {
				delete(s.background, h.id)
			} else {
				s.background[h.id] = left
			}
		}()
		fn()
	}()
	<-started
}
