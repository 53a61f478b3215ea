package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/testmain"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/metrics"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/supervise"
)

func TestMain(m *testing.M) { testmain.Run(m) }

const poolName = "db.client.connection.pool.name"

// wantPool checks every pool instrument against st.
func wantPool(t *testing.T, c collection, name string, st pool.Stats) {
	t.Helper()
	p := kv(poolName, name)
	c.want(t, float64(st.InUse), "db.client.connection.count", p, "db.client.connection.state=used")
	c.want(t, float64(st.Idle), "db.client.connection.count", p, "db.client.connection.state=idle")
	c.want(t, float64(st.MaxSize), "db.client.connection.max", p)
	c.want(t, float64(st.Waiting), "db.client.connection.pending_requests", p)
	c.want(t, float64(st.Timeouts), "db.client.connection.timeouts", p)
	c.want(t, float64(st.Acquires), "tether.pool.acquires", p)
	c.want(t, float64(st.Waits), "tether.pool.waits", p)
	c.want(t, st.WaitTime.Seconds(), "tether.pool.wait.time", p)
	c.want(t, float64(st.LeaksHeldTooLong), "tether.pool.leaks", p, kv("tether.leak.kind", pool.LeakHeldTooLong))
	c.want(t, float64(st.LeaksCollected), "tether.pool.leaks", p, kv("tether.leak.kind", pool.LeakCollected))
	c.want(t, float64(st.LeaksAtShutdown), "tether.pool.leaks", p, kv("tether.leak.kind", pool.LeakAtShutdown))
}

func TestPoolInstrumentsMatchStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newReader(t)
		name := unique(t)
		env := pooltest.New(t, pool.Config[*pooltest.Res]{
			Name: name, MaxSize: 3, AcquireTimeout: time.Second, LeakAfter: 5 * time.Second,
		})
		p := env.Pool
		ctx := t.Context()

		// Empty: nothing made yet.
		c := r.collect()
		wantPool(t, c, name, p.Stats())
		c.want(t, 3, "db.client.connection.max", kv(poolName, name))
		c.wantNone(t, "db.client.connection.idle.max", kv(poolName, name)) // pool.Pool has no such limit
		c.want(t, 0, "db.client.connection.idle.min", kv(poolName, name))  // Config.MinIdle
		c.want(t, 0, "db.client.connection.count", kv(poolName, name), "db.client.connection.state=idle")

		// Three leases out and a fourth caller waiting.
		var leases []*pool.Lease[*pooltest.Res]
		for range 3 {
			l, err := p.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			leases = append(leases, l)
		}
		waited := make(chan error, 1)
		go func() {
			_, err := p.Acquire(ctx)
			waited <- err
		}()
		synctest.Wait()
		c = r.collect()
		wantPool(t, c, name, p.Stats())
		c.want(t, 3, "db.client.connection.count", kv(poolName, name), "db.client.connection.state=used")
		c.want(t, 1, "db.client.connection.pending_requests", kv(poolName, name))

		// The waiter times out after AcquireTimeout; one lease comes back.
		if err := <-waited; !errors.Is(err, pool.ErrTimeout) {
			t.Fatalf("the fourth Acquire returned %v, want a timeout", err)
		}
		leases[0].Release()
		c = r.collect()
		wantPool(t, c, name, p.Stats())
		c.want(t, 1, "db.client.connection.timeouts", kv(poolName, name))
		c.want(t, 1, "db.client.connection.count", kv(poolName, name), "db.client.connection.state=idle")
		c.want(t, 3, "tether.pool.waits", kv(poolName, name)) // the three that created a resource

		// Two leases held past LeakAfter.
		time.Sleep(6 * time.Second)
		synctest.Wait()
		c = r.collect()
		wantPool(t, c, name, p.Stats())
		c.want(t, 2, "tether.pool.leaks", kv(poolName, name), kv("tether.leak.kind", pool.LeakHeldTooLong))
		for _, l := range leases[1:] {
			l.Release()
		}
		final := p.Stats()
		if err := p.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}

		// Gone from the registry: its gauges stop, its counters keep their
		// last values (a counter never goes down).
		c = r.collect()
		c.wantNone(t, "db.client.connection.count", kv(poolName, name), "db.client.connection.state=used")
		c.wantNone(t, "db.client.connection.max", kv(poolName, name))
		c.want(t, 1, "db.client.connection.timeouts", kv(poolName, name))
		c.want(t, float64(final.Acquires), "tether.pool.acquires", kv(poolName, name))
		c.want(t, 2, "tether.pool.leaks", kv(poolName, name), kv("tether.leak.kind", pool.LeakHeldTooLong))
	})
}

func TestUnitsAndKinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newReader(t)
		pooltest.New(t, pool.Config[*pooltest.Res]{Name: t.Name(), MaxSize: 1})
		guard.New(t.Name(), 0)
		g := supervise.New(t.Context(), "units")
		defer g.Wait()
		s := cleanup.New("units")
		s.Defer("nothing", func(context.Context) error { return nil })
		defer s.Close(context.Background())
		c := r.collect()
		for _, w := range []struct{ name, unit, kind string }{
			{"db.client.connection.count", "{connection}", "updown"},
			{"db.client.connection.max", "{connection}", "updown"},
			{"db.client.connection.pending_requests", "{request}", "updown"},
			{"db.client.connection.timeouts", "{timeout}", "counter"},
			{"tether.pool.acquires", "{acquire}", "counter"},
			{"tether.pool.waits", "{acquire}", "counter"},
			{"tether.pool.wait.time", "s", "counter"},
			{"tether.pool.leaks", "{lease}", "counter"},
			{"tether.guard.updates", "{update}", "counter"},
			{"tether.guard.conflicts", "{conflict}", "counter"},
			{"tether.guard.retries", "{retry}", "counter"},
			{"tether.task.running", "{task}", "updown"},
			{"tether.task.failures", "{failure}", "counter"},
			{"tether.task.panics", "{panic}", "counter"},
			{"tether.task.restarts", "{restart}", "counter"},
			{"tether.scope.steps.pending", "{step}", "updown"},
			{"tether.scope.steps.failed", "{step}", "counter"},
			{"tether.leak.records", "{object}", "updown"},
		} {
			if c.units[w.name] != w.unit || c.kinds[w.name] != w.kind {
				t.Errorf("%s: unit %q, kind %q; want %q, %q", w.name, c.units[w.name], c.kinds[w.name], w.unit, w.kind)
			}
		}
	})
}

func TestGuardInstrumentsMatchStats(t *testing.T) {
	r := newReader(t)
	ctx := t.Context()
	name := unique(t)
	g := guard.New(name, 0)
	m := guard.NewMap[string, int](name + "/map")
	for range 3 {
		if _, err := g.Update(ctx, func(n int) (int, error) { return n + 1, nil }); err != nil {
			t.Fatal(err)
		}
	}
	stale := g.Load()
	if _, err := g.CompareAndSwap(ctx, stale.Version, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := g.CompareAndSwap(ctx, stale.Version, 11); !errors.Is(err, guard.ErrConflict) {
		t.Fatalf("stale CompareAndSwap = %v, want a conflict", err)
	}
	if _, err := m.Update(ctx, "k", func(n int) (int, error) { return n + 1, nil }); err != nil {
		t.Fatal(err)
	}
	c := r.collect()
	for _, x := range []struct {
		name string
		st   guard.Stats
	}{{name, g.Stats()}, {name + "/map", m.Stats()}} {
		n := kv("tether.guard.name", x.name)
		c.want(t, float64(x.st.Updates), "tether.guard.updates", n)
		c.want(t, float64(x.st.Conflicts), "tether.guard.conflicts", n)
		c.want(t, float64(x.st.Retries), "tether.guard.retries", n)
	}
	c.want(t, 4, "tether.guard.updates", kv("tether.guard.name", name))
	c.want(t, 1, "tether.guard.conflicts", kv("tether.guard.name", name))
}

func TestCloseStopsObserving(t *testing.T) {
	r := sdkReader(t)
	reg, err := metrics.Register(r.mp)
	if err != nil {
		t.Fatal(err)
	}
	name := unique(t)
	g := guard.New(name, 0)
	if _, ok := r.collect().value("tether.guard.updates", kv("tether.guard.name", name)); !ok {
		t.Fatal("no tether.guard.updates point for a live guard")
	}
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	if err := reg.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c := r.collect(); len(c.points) != 0 {
		t.Fatalf("after Close the reader still sees %v", c.points)
	}
	runtime.KeepAlive(g)
}

func TestRegisterNilPanics(t *testing.T) {
	testkit.WantPanic(t, "Register(nil)", func() { metrics.Register(nil) }, "metrics: Register(nil)", "MeterProvider")
}

func TestTaskInstrumentsMatchStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newReader(t)
		ctx := t.Context()
		name := fmt.Sprintf("tasks-%d", names.Add(1)) // group names cannot contain '#'
		g := supervise.New(ctx, name, supervise.ContinueOnError(), supervise.Logger(slog.New(slog.DiscardHandler)))
		release := make(chan struct{})
		g.Go("fails", func(context.Context) error { return errors.New("boom") })
		g.Go("panics", func(context.Context) error { panic("bang") })
		tries := 0
		g.Go("flaky", func(context.Context) error {
			if tries++; tries < 2 {
				return errors.New("not yet")
			}
			<-release
			return nil
		}, supervise.Restart(supervise.Policy{}))
		// Two workers, each with a child group "conns" of two tasks: the
		// children's paths differ by a number ("worker#2"), their series
		// do not.
		for range 2 {
			g.Go("worker", func(ctx context.Context) error {
				conns := supervise.New(ctx, "conns")
				for range 2 {
					conns.Go("conn", func(context.Context) error { <-release; return nil })
				}
				return conns.Wait()
			})
		}
		synctest.Wait()
		time.Sleep(time.Second) // the restart's backoff
		synctest.Wait()
		c := r.collect()
		st := g.Stats()
		group := kv("tether.group.path", name)
		c.want(t, float64(st.Running), "tether.task.running", group)
		c.want(t, float64(st.Failed), "tether.task.failures", group)
		c.want(t, float64(st.Panicked), "tether.task.panics", group)
		c.want(t, float64(st.Restarts), "tether.task.restarts", group)
		c.want(t, 3, "tether.task.running", group) // flaky and the two workers
		c.want(t, 2, "tether.task.failures", group)
		c.want(t, 1, "tether.task.panics", group)
		c.want(t, 1, "tether.task.restarts", group)
		c.want(t, 4, "tether.task.running", kv("tether.group.path", name+"/worker/conns"))
		c.wantNone(t, "tether.task.running", kv("tether.group.path", name+"/worker#2/conns"))

		close(release)
		if err := g.Wait(); err == nil {
			t.Fatal("Wait = nil, want two failures")
		}
		// The groups are gone: running is no longer reported, the counters
		// keep their values.
		c = r.collect()
		c.wantNone(t, "tether.task.running", group)
		c.wantNone(t, "tether.task.running", kv("tether.group.path", name+"/worker/conns"))
		c.want(t, 2, "tether.task.failures", group)
		c.want(t, 1, "tether.task.panics", group)
		c.want(t, 0, "tether.task.failures", kv("tether.group.path", name+"/worker/conns"))
	})
}

// driverPool stands for a database adapter's pool: its registered object
// reports through track.PoolStatser, knows idle limits, and may not know
// its idle count.
type driverPool struct {
	name string
	st   track.PoolStats
}

func (d *driverPool) describe() track.State      { return track.State{Kind: track.KindPool, Name: d.name} }
func (d *driverPool) PoolStats() track.PoolStats { return d.st }

func registerDriverPool(t *testing.T, name string, st track.PoolStats) {
	d := &driverPool{name: name, st: st}
	h := track.Register(d, (*driverPool).describe)
	t.Cleanup(h.Unregister)
}

func TestDriverPoolsThroughTheHook(t *testing.T) {
	r := newReader(t)
	name := unique(t)
	base := track.PoolStats{MaxSize: 10, IdleMax: 4, IdleMin: 1, InUse: 3, Idle: 2, Waiting: 1, Timeouts: 5}
	registerDriverPool(t, name, base)
	unknown := base
	unknown.Idle, unknown.IdleMin = -1, -1
	registerDriverPool(t, name, unknown) // a second pool of the same name: one series
	c := r.collect()
	p := kv(poolName, name)
	c.want(t, 6, "db.client.connection.count", p, "db.client.connection.state=used")
	c.want(t, 2, "db.client.connection.count", p, "db.client.connection.state=idle") // only the first knows
	c.want(t, 20, "db.client.connection.max", p)
	c.want(t, 8, "db.client.connection.idle.max", p)
	c.want(t, 1, "db.client.connection.idle.min", p)
	c.want(t, 2, "db.client.connection.pending_requests", p)
	c.want(t, 10, "db.client.connection.timeouts", p)
	for _, w := range []struct{ name, unit string }{
		{"db.client.connection.idle.max", "{connection}"},
		{"db.client.connection.idle.min", "{connection}"},
	} {
		if c.units[w.name] != w.unit || c.kinds[w.name] != "updown" {
			t.Errorf("%s: unit %q, kind %q; want %q, updown", w.name, c.units[w.name], c.kinds[w.name], w.unit)
		}
	}

	// A pool that knows nothing of idle connections reports none.
	only := unique(t)
	registerDriverPool(t, only, unknown)
	c = r.collect()
	c.wantNone(t, "db.client.connection.count", kv(poolName, only), "db.client.connection.state=idle")
	c.wantNone(t, "db.client.connection.idle.min", kv(poolName, only))
	c.want(t, 4, "db.client.connection.idle.max", kv(poolName, only))
}

func TestScopeInstrumentsMatchStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newReader(t)
		name := fmt.Sprintf("scope-%d", names.Add(1))
		s := cleanup.New(name, cleanup.Logger(slog.New(slog.DiscardHandler)))
		release := make(chan struct{})
		s.Defer("stuck", func(context.Context) error { <-release; return nil }) // ignores its context
		s.Defer("fails", func(context.Context) error { return errors.New("boom") })
		n := kv("tether.scope.name", name)
		c := r.collect()
		c.want(t, 2, "tether.scope.steps.pending", n)
		c.want(t, 0, "tether.scope.steps.failed", n)

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := s.Close(ctx); err == nil {
			t.Fatal("Close = nil, want two failed steps")
		}
		// The abandoned step keeps the scope registered: its failures are
		// seen.
		st := s.Stats()
		c = r.collect()
		c.want(t, float64(st.Pending), "tether.scope.steps.pending", n)
		c.want(t, float64(st.Abandoned), "tether.scope.steps.abandoned", n)
		c.want(t, float64(st.Failed), "tether.scope.steps.failed", n)
		c.want(t, 2, "tether.scope.steps.failed", n)
		c.want(t, 1, "tether.scope.steps.abandoned", n)

		close(release)
		synctest.Wait() // the step ends; the scope leaves the registry
		c = r.collect()
		c.wantNone(t, "tether.scope.steps.abandoned", n)
		c.want(t, 2, "tether.scope.steps.failed", n)
	})
}

func TestLeakRecordsByKind(t *testing.T) {
	r := newReader(t)
	scopes := func(c collection) float64 {
		v, ok := c.value("tether.leak.records", "tether.kind=scope")
		if !ok {
			t.Fatalf("no tether.leak.records{tether.kind=scope}: %v", c.points["tether.leak.records"])
		}
		return v
	}
	before := scopes(r.collect())
	h := track.Lost(track.State{Kind: track.KindScope, Name: t.Name()}) // a scope collected before Close
	if got := scopes(r.collect()); got != before+1 {
		t.Errorf("tether.leak.records{scope} = %v with one more lost scope, want %v", got, before+1)
	}
	h.Unregister()
	if got := scopes(r.collect()); got != before {
		t.Errorf("tether.leak.records{scope} = %v once the record is gone, want %v", got, before)
	}
	c := r.collect()
	for _, k := range []string{"pool", "group"} {
		if _, ok := c.value("tether.leak.records", "tether.kind="+k); !ok {
			t.Errorf("no tether.leak.records{tether.kind=%s}", k)
		}
	}
}

func TestPoolIdleMinIsMinIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newReader(t)
		name := unique(t)
		pooltest.New(t, pool.Config[*pooltest.Res]{Name: name, MaxSize: 4, MinIdle: 2})
		r.collect().want(t, 2, "db.client.connection.idle.min", kv(poolName, name))
	})
}

// refusingProvider's meters refuse to make instruments (failInstrument) or
// to register callbacks.
type refusingProvider struct {
	noop.MeterProvider
	failInstrument bool
}

func (p refusingProvider) Meter(string, ...metric.MeterOption) metric.Meter {
	return refusingMeter{fail: p.failInstrument}
}

type refusingMeter struct {
	noop.Meter
	fail bool
}

var errRefused = errors.New("refused by the test's meter")

func (m refusingMeter) Int64ObservableCounter(name string, _ ...metric.Int64ObservableCounterOption) (metric.Int64ObservableCounter, error) {
	if m.fail && name == "tether.guard.conflicts" {
		return noop.Int64ObservableCounter{}, errRefused
	}
	return noop.Int64ObservableCounter{}, nil
}

func (m refusingMeter) RegisterCallback(metric.Callback, ...metric.Observable) (metric.Registration, error) {
	return nil, errRefused
}

func TestRegisterReportsTheProvidersErrors(t *testing.T) {
	if _, err := metrics.Register(refusingProvider{failInstrument: true}); err == nil ||
		!strings.Contains(err.Error(), "metrics: creating an instrument: "+errRefused.Error()) {
		t.Errorf("Register with a meter refusing an instrument = %v", err)
	}
	if _, err := metrics.Register(refusingProvider{}); err == nil ||
		!strings.Contains(err.Error(), "metrics: registering the callback: "+errRefused.Error()) {
		t.Errorf("Register with a meter refusing the callback = %v", err)
	}
}
