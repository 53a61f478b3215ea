package metrics_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/tether-go/tether/metrics"
)

// reader is a MeterProvider with a ManualReader and tether's instruments
// registered on it.
type reader struct {
	t  testing.TB
	r  *sdkmetric.ManualReader
	mp *sdkmetric.MeterProvider
}

func newReader(t testing.TB) *reader {
	t.Helper()
	r := sdkReader(t)
	reg, err := metrics.Register(r.mp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := reg.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// sdkReader is a MeterProvider with a ManualReader, shut down by t.Cleanup.
func sdkReader(t testing.TB) *reader {
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() {
		if err := mp.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return &reader{t: t, r: r, mp: mp}
}

// collection is one collection's data points: instrument name, then the
// point's attributes rendered as "k=v,k=v" (sorted), then the value.
type collection struct {
	points map[string]map[string]float64
	units  map[string]string
	kinds  map[string]string // "counter" (monotonic sum), "updown" (non-monotonic sum), "gauge"
}

func (r *reader) collect() collection {
	r.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.r.Collect(context.Background(), &rm); err != nil {
		r.t.Fatal(err)
	}
	c := collection{points: map[string]map[string]float64{}, units: map[string]string{}, kinds: map[string]string{}}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != metrics.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			pts := map[string]float64{}
			c.points[m.Name] = pts
			c.units[m.Name] = m.Unit
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				c.kinds[m.Name] = map[bool]string{true: "counter", false: "updown"}[d.IsMonotonic]
				for _, p := range d.DataPoints {
					pts[attrs(p.Attributes)] = float64(p.Value)
				}
			case metricdata.Sum[float64]:
				c.kinds[m.Name] = map[bool]string{true: "counter", false: "updown"}[d.IsMonotonic]
				for _, p := range d.DataPoints {
					pts[attrs(p.Attributes)] = p.Value
				}
			default:
				r.t.Fatalf("instrument %s has data of type %T", m.Name, m.Data)
			}
		}
	}
	return c
}

func attrs(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.Emit())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// value returns the point of instrument name with exactly the attributes
// kv ("k=v" each), and whether there is one.
func (c collection) value(name string, kv ...string) (float64, bool) {
	sort.Strings(kv)
	v, ok := c.points[name][strings.Join(kv, ",")]
	return v, ok
}

// want fails t unless instrument name has the point kv with value want.
func (c collection) want(t testing.TB, want float64, name string, kv ...string) {
	t.Helper()
	got, ok := c.value(name, kv...)
	if !ok {
		t.Errorf("%s{%s}: no data point; the instrument has %v", name, strings.Join(kv, ","), c.points[name])
		return
	}
	if got != want {
		t.Errorf("%s{%s} = %v, want %v", name, strings.Join(kv, ","), got, want)
	}
}

// wantNone fails t if instrument name has a point with the attributes kv.
func (c collection) wantNone(t testing.TB, name string, kv ...string) {
	t.Helper()
	if v, ok := c.value(name, kv...); ok {
		t.Errorf("%s{%s} = %v, want no data point", name, strings.Join(kv, ","), v)
	}
}

func kv(k string, v any) string { return fmt.Sprintf("%s=%v", k, v) }

var names atomic.Int64

// unique returns a name no other object of the test binary has: guards stay
// registered until they are collected, and objects of the same name are
// summed into one series, so repeated runs (-count) must not share names.
func unique(t testing.TB) string {
	return fmt.Sprintf("%s#%d", t.Name(), names.Add(1))
}
