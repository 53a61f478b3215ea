package metrics_test

import (
	"context"
	"fmt"
	"strings"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/tether-go/tether/metrics"
	"github.com/tether-go/tether/pool"
)

// Register the instruments on a MeterProvider; any reader or exporter of
// the SDK reads them (here a ManualReader; in a service, the Prometheus
// exporter or OTLP). A pool's connections are reported by state, as
// OpenTelemetry's conventions for connection pools name them.
func ExampleRegister() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	reg, err := metrics.Register(mp)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()

	ctx := context.Background()
	p, err := pool.New(pool.Config[*strings.Builder]{
		Name: "example-db", MaxSize: 2,
		New: func(context.Context) (*strings.Builder, error) { return new(strings.Builder), nil },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Shutdown(ctx)
	lease, err := p.Acquire(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lease.Release()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "db.client.connection.count" {
				continue
			}
			for _, pt := range m.Data.(metricdata.Sum[int64]).DataPoints {
				name, _ := pt.Attributes.Value("db.client.connection.pool.name")
				state, _ := pt.Attributes.Value("db.client.connection.state")
				if name.AsString() == "example-db" {
					fmt.Printf("%s{pool.name=%s, state=%s} %d\n", m.Name, name.AsString(), state.AsString(), pt.Value)
				}
			}
		}
	}
	// Unordered output:
	// db.client.connection.count{pool.name=example-db, state=used} 1
	// db.client.connection.count{pool.name=example-db, state=idle} 0
}
