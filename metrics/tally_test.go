package metrics

import (
	"strconv"
	"testing"
)

// FuzzTally drives a tally with objects that appear, count up and vanish,
// and checks each collection against a model: a key's counter is the sum,
// over every object ever seen under it, of the last counts a collection saw;
// its gauge is the sum over the objects present now; a key is live when
// one of its objects is present.
func FuzzTally(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{9, 9, 9, 0, 0, 0, 3, 3, 250, 17})
	f.Add([]byte{1, 9, 17, 3}) // appear, count, vanish: the count must stay
	f.Fuzz(func(t *testing.T, ops []byte) {
		type obj struct {
			key     string
			n       int64 // its counter, which only grows
			present bool
		}
		objs := map[uint64]*obj{}
		lastSeen := map[uint64]int64{} // the model: counts as last collected
		keyOf := map[uint64]string{}
		tl := newTally()
		for i, op := range ops {
			id := uint64(op % 8)
			o := objs[id]
			switch op / 8 % 4 {
			case 0: // appear (a new object: a fresh id)
				if o == nil {
					objs[id] = &obj{key: "k" + strconv.Itoa(int(op%3)), present: true}
				}
			case 1: // count
				if o != nil && o.present {
					o.n += int64(op%5) + 1
				}
			case 2: // vanish for good
				if o != nil {
					o.present = false
				}
			}
			if op%2 == 0 && i%2 == 0 {
				continue // not every step collects
			}
			tl.begin()
			for id, o := range objs {
				if o.present {
					var c, g vec
					c[0], g[0] = o.n, 1
					tl.add(id, o.key, c, g)
					lastSeen[id] = o.n
					keyOf[id] = o.key
				}
			}
			tl.end()
			want := map[string]int64{}
			wantLive := map[string]int64{}
			for id, n := range lastSeen {
				want[keyOf[id]] += n
				if objs[id].present {
					wantLive[keyOf[id]]++
				}
			}
			got := 0
			tl.each(func(key string, counts, gauges vec, live bool) {
				got++
				if counts[0] != want[key] {
					t.Fatalf("step %d: key %s counter %d, want %d", i, key, counts[0], want[key])
				}
				if live != (wantLive[key] > 0) || gauges[0] != wantLive[key] {
					t.Fatalf("step %d: key %s live %v gauge %d, want %d live objects", i, key, live, gauges[0], wantLive[key])
				}
			})
			if got != len(want) {
				t.Fatalf("step %d: %d keys reported, want %d (%v)", i, got, len(want), want)
			}
		}
	})
}
