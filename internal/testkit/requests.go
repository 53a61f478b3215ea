package testkit

import (
	"context"
	"sync"
	"time"
)

// Requests runs n concurrent requests through handler, each with its own
// deadline, as a server would: a request's ctx ends at its deadline (the
// server would cancel it once the response is written; here that is when
// every request is done). It returns the first failure and how long after
// the start it came, and a func that runs what the successful requests
// returned (closing what a leaky handler left open), then ends the
// requests' contexts. The database adapters' benchmarks tell the story of
// a leaking handler with it.
func Requests(n int, deadline time.Duration, handler func(context.Context) (func(), error)) (first error, after time.Duration, cleanup func()) {
	var mu sync.Mutex
	var leftOpen, cancels []func()
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		cancels = append(cancels, cancel)
		wg.Go(func() {
			closeIt, err := handler(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first, after = err, time.Since(start)
				}
				return
			}
			leftOpen = append(leftOpen, closeIt)
		})
	}
	wg.Wait()
	return first, after, func() {
		for _, c := range leftOpen {
			c()
		}
		for _, c := range cancels {
			c()
		}
	}
}
