package cleanup_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-go/tether/cleanup"
)

func ExampleScope() {
	s := cleanup.New("app")
	s.Defer("database", func(context.Context) error { fmt.Println("close database"); return nil })
	s.Defer("cache", func(context.Context) error { fmt.Println("flush cache"); return nil })
	s.Defer("http server", func(context.Context) error { fmt.Println("stop http server"); return nil })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// stop http server
	// flush cache
	// close database
}

func ExampleScope_Close_errors() {
	errDisk := errors.New("disk full")
	s := cleanup.New("app")
	s.Defer("database", func(context.Context) error { fmt.Println("database closed anyway"); return nil })
	s.Defer("cache", func(context.Context) error { return errDisk })
	s.Defer("metrics", func(context.Context) error { panic("metrics exporter is nil") })

	err := s.Close(context.Background())
	fmt.Println("disk full among the failures:", errors.Is(err, errDisk))
	var pe *cleanup.PanicError
	if errors.As(err, &pe) {
		fmt.Println("a step panicked:", pe.Value)
	}
	var se *cleanup.StepError
	if errors.As(err, &se) {
		fmt.Println("first failure in run order:", se.Step)
	}
	// Output:
	// database closed anyway
	// disk full among the failures: true
	// a step panicked: metrics exporter is nil
	// first failure in run order: metrics
}

func ExampleStepTimeout() {
	s := cleanup.New("app", cleanup.StepTimeout(20*time.Millisecond))
	s.Defer("http server", func(ctx context.Context) error {
		<-ctx.Done() // a shutdown that never completes on its own
		return ctx.Err()
	})
	err := s.Close(context.Background())
	var se *cleanup.StepError
	if errors.As(err, &se) {
		fmt.Printf("step %q overran: %v, given %v, still running: %v\n",
			se.Step, errors.Is(err, cleanup.ErrOverrun), se.Within, se.Abandoned)
	}
	// Output:
	// step "http server" overran: true, given 20ms, still running: false
}
