package metrics

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/tether-go/tether/internal/track"
)

// ScopeName is the instrumentation scope of the instruments: the name of
// the Meter that Register asks mp for.
const ScopeName = "github.com/tether-go/tether/metrics"

// Registration is the instruments [Register] created, observed until
// Close. It is safe for use by multiple goroutines.
type Registration struct {
	reg metric.Registration
}

// Close unregisters the callback that observes the instruments: they
// report nothing from then on. It may be called more than once; later calls
// do nothing.
func (r *Registration) Close() error {
	if err := r.reg.Unregister(); err != nil {
		return errors.New("metrics: unregister: " + err.Error())
	}
	return nil
}

// Register creates tether's instruments on a Meter of mp (named
// [ScopeName]) and one callback that observes them all at collection time,
// from the objects alive in the process: every pool, group, guard and
// scope, whoever created them. It returns an error if mp refuses an
// instrument or the callback; Register panics if mp is nil.
//
// Register once per provider: a second Registration observes the same
// objects again. Close the Registration before the provider is shut down.
func Register(mp metric.MeterProvider) (*Registration, error) {
	if mp == nil {
		panic("metrics: Register(nil): pass a MeterProvider, e.g. the SDK's sdkmetric.NewMeterProvider(...) or otel.GetMeterProvider()")
	}
	m := mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	c := &collector{names: make(map[uint64]name)}
	c.kinds = []kind{&pools{}, &guards{}, &groups{}, &scopes{}}
	b := &builder{m: m}
	for _, k := range c.kinds {
		k.init(b)
	}
	if b.err != nil {
		return nil, errors.New("metrics: creating an instrument: " + b.err.Error())
	}
	reg, err := m.RegisterCallback(c.observe, b.all...)
	if err != nil {
		return nil, errors.New("metrics: registering the callback: " + err.Error())
	}
	return &Registration{reg: reg}, nil
}

// collector walks the registry once per collection and observes every
// instrument. Collections may overlap (one per reader of the provider):
// the mutex makes them take turns, because the tallies are shared.
type collector struct {
	mu    sync.Mutex
	gen   uint64
	names map[uint64]name // by registration id: names never change, so each is read once
	kinds []kind
}

// kind is the instruments of one kind of registered object. Each knows its
// objects by a typed interface they implement (see take), never by the
// counters of a leak report: metrics reads numbers, not names of numbers.
type kind interface {
	init(b *builder)
	// take records obj's numbers and reports true if obj is of this kind.
	take(obj track.Object, c *collector) bool
	// observe reports this collection's numbers.
	observe(o metric.Observer)
	tally() *tally
}

type name struct {
	s   string
	gen uint64
}

func (c *collector) observe(_ context.Context, o metric.Observer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, k := range c.kinds {
		k.tally().begin()
	}
	track.Objects(func(obj track.Object) {
		for _, k := range c.kinds {
			if k.take(obj, c) {
				return
			}
		}
	})
	for _, k := range c.kinds {
		k.tally().end()
	}
	for id, n := range c.names {
		if n.gen != c.gen {
			delete(c.names, id)
		}
	}
	for _, k := range c.kinds {
		k.observe(o)
	}
	return nil
}

// key returns the series an object counts in: series applied to its name
// (State.Name, a typed field: a pool's or guard's name, a group's path),
// which is read from the registry once per object, since names never
// change. ok is false if the object unregistered before its name could be
// read: it is left out of this collection (and retired by the next).
func (c *collector) key(obj track.Object, series func(string) string) (key string, ok bool) {
	n, seen := c.names[obj.ID]
	if !seen {
		st := obj.State()
		if st.Kind == "" {
			return "", false
		}
		n.s = series(st.Name)
	}
	n.gen = c.gen
	c.names[obj.ID] = n
	return n.s, true
}

// asIs is the series of objects told apart by their name alone.
func asIs(name string) string { return name }

// builder creates the instruments of every kind on one Meter, keeping the
// first error and the list the callback observes.
type builder struct {
	m   metric.Meter
	err error
	all []metric.Observable
}

// add keeps an instrument made elsewhere (the semantic conventions'
// constructors), or its error.
func (b *builder) add(o metric.Observable, err error) {
	if b.err == nil && err != nil {
		b.err = err
	}
	b.all = append(b.all, o)
}

func (b *builder) counter(name, unit, desc string) metric.Int64ObservableCounter {
	c, err := b.m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.add(c, err)
	return c
}

func (b *builder) upDown(name, unit, desc string) metric.Int64ObservableUpDownCounter {
	c, err := b.m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.add(c, err)
	return c
}

func (b *builder) seconds(name, desc string) metric.Float64ObservableCounter {
	c, err := b.m.Float64ObservableCounter(name, metric.WithUnit("s"), metric.WithDescription(desc))
	b.add(c, err)
	return c
}
