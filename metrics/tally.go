package metrics

// vec holds one object's numbers for the instruments of its kind; each kind
// says what its indices mean.
type vec [12]int64

func (a *vec) add(b vec) {
	for i := range a {
		a[i] += b[i]
	}
}

// tally sums the numbers of one kind of object per attribute key (a pool's
// name, a group's path) at each collection.
//
// Counters must not go down, but the objects they are read from come and
// go: a group finishes, a pool shuts down, and their counts leave the
// registry with them. So tally remembers each object's numbers from the
// last collection that saw it, and when an object is no longer there, adds
// them to its key's retired total, which every later collection includes.
// A key whose objects are all gone keeps reporting its final counts. What an
// object counted after the last collection that saw it, and objects that
// lived and died between two collections, are not seen: the instruments are
// read from the registry at collection time and nothing is recorded when an
// operation happens.
//
// Gauges (the numbers of live things: leases in use, tasks running) are the
// sum over the objects present now; retired objects add nothing to them.
type tally struct {
	gen     uint64
	objects map[uint64]seen // by registration id
	retired map[string]vec  // counts of objects that are gone, by key
	totals  map[string]vec  // this collection: retired plus live counts
	gauges  map[string]vec  // this collection: live objects only
}

type seen struct {
	key    string
	counts vec
	gen    uint64
}

func newTally() *tally {
	return &tally{
		objects: make(map[uint64]seen),
		retired: make(map[string]vec),
		totals:  make(map[string]vec),
		gauges:  make(map[string]vec),
	}
}

// begin starts a collection.
func (t *tally) begin() {
	t.gen++
	clear(t.totals)
	clear(t.gauges)
	for k, v := range t.retired {
		t.totals[k] = v
	}
}

// add records a live object's counters and gauges under key.
func (t *tally) add(id uint64, key string, counts, gauges vec) {
	t.objects[id] = seen{key: key, counts: counts, gen: t.gen}
	c := t.totals[key]
	c.add(counts)
	t.totals[key] = c
	g := t.gauges[key]
	g.add(gauges)
	t.gauges[key] = g
}

// end retires the objects this collection did not see.
func (t *tally) end() {
	for id, s := range t.objects {
		if s.gen == t.gen {
			continue
		}
		delete(t.objects, id)
		r := t.retired[s.key]
		r.add(s.counts)
		t.retired[s.key] = r
		c := t.totals[s.key]
		c.add(s.counts)
		t.totals[s.key] = c
	}
}

// each calls fn for every key with its counters (retired included) and
// its gauges; live is false for a key whose objects are all gone, whose
// gauges must not be reported (a pool that was shut down has no maximum
// size, rather than one of 0).
func (t *tally) each(fn func(key string, counts, gauges vec, live bool)) {
	for k, c := range t.totals {
		g, live := t.gauges[k]
		fn(k, c, g, live)
	}
}
