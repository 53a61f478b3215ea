package debugpage

import (
	"context"
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/tether-go/tether/metrics"
	"github.com/tether-go/tether/supervise"
)

// metricsHandler returns the handler of GET /metrics: tether's instruments
// (package metrics) on an OpenTelemetry SDK whose reader is the Prometheus
// exporter, registered on a Prometheus registry of the service's own (not
// the process-wide default one). Each scrape collects them from the live
// pools, groups and guards; nothing is recorded in between. The provider
// is shut down with the group.
func metricsHandler(g *supervise.Group) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	instruments, err := metrics.Register(mp)
	if err != nil {
		return nil, errors.Join(err, mp.Shutdown(context.Background()))
	}
	g.Defer("metrics", func(ctx context.Context) error {
		return errors.Join(instruments.Close(), mp.Shutdown(ctx))
	})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}
