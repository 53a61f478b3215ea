package track

import (
	"strconv"
	"sync"
)

// Lost records an object that is gone but whose loss must still be
// reported: a cleanup scope garbage-collected with steps never run, a group
// collected with failures nobody saw. The object itself cannot stay in the
// registry (it has been collected), so its last State is kept instead,
// strongly, and every Snapshot includes it until the record is unregistered
// (tests that lose objects on purpose do that) or pushed out by newer ones.
//
// At most maxLost records are kept; beyond that the oldest is dropped and
// counted, and the count is reported as a Problem of the next record, so a
// program that loses objects continuously cannot grow the registry without
// bound and the report still says that more were lost.
func Lost(st State) Handle {
	id := registry.nextID.Add(1)
	lost := &registry.lost
	lost.mu.Lock()
	defer lost.mu.Unlock()
	if len(lost.records) >= maxLost {
		lost.dropped++
		lost.records = lost.records[1:]
	}
	if lost.dropped > 0 {
		st.Problems = append(st.Problems[:len(st.Problems):len(st.Problems)],
			strconv.Itoa(lost.dropped)+" earlier lost objects dropped from the registry")
	}
	lost.records = append(lost.records, lostRecord{id: id, state: st})
	return Handle{id: id, lost: true}
}

// maxLost bounds the lost records kept.
const maxLost = 256

type lostList struct {
	mu      sync.Mutex
	records []lostRecord
	dropped int
}

type lostRecord struct {
	id    uint64
	state State
}

func (l *lostList) remove(id uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, r := range l.records {
		if r.id == id {
			l.records = append(l.records[:i:i], l.records[i+1:]...)
			if len(l.records) == 0 {
				// Everything kept was handled by its owner; the
				// count of older drops has nothing left to qualify.
				l.dropped = 0
			}
			return
		}
	}
}

func (l *lostList) snapshot() []lostRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]lostRecord(nil), l.records...)
}
