package adapter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/internal/ledger"
	"github.com/tether-go/tether/pool/internal/waitbound"
)

func newLedger(t *testing.T) *ledger.Ledger[int] {
	l := ledger.New(ledger.Config[int]{Name: "db", Reclaim: func(int) {}})
	l.Start()
	t.Cleanup(func() { l.Shutdown(context.Background(), nil) })
	return l
}

// TestTakesErrorIsTranslatedByWhatEndedTheWait checks each way a checkout
// whose take failed is reported, when the ledger passed take's error on
// as it was.
func TestTakesErrorIsTranslatedByWhatEndedTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger(t)
		b := waitbound.New(time.Second)
		defer b.Stop()
		driverErr := errors.New("dial refused")
		expired, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		time.Sleep(time.Millisecond)
		synctest.Wait() // the timer has cancelled expired
		canceled, cancel2 := context.WithCancel(context.Background())
		cancel2()

		for _, tc := range []struct {
			name string
			// ctx is the caller's; parent the ctx the ledger gave take
			// (the caller's, or the ledger's own bound).
			ctx, parent context.Context
			err         error
			want        func(error) bool
		}{
			{"driver error", context.Background(), context.Background(), driverErr, func(err error) bool {
				return errors.Is(err, driverErr) && strings.HasPrefix(err.Error(), `sqltrack "db": getting a connection: dial refused`)
			}},
			{"caller cancelled since", canceled, canceled, context.Canceled, func(err error) bool { return err == context.Canceled }},
			{"caller's deadline passed since", expired, expired, context.DeadlineExceeded, func(err error) bool {
				var te *pool.TimeoutError
				return errors.As(err, &te) && te.CallerDeadline
			}},
			// The ledger's own bound passed after it looked: the caller's
			// ctx is fine, so this is AcquireTimeout, not the caller's
			// deadline. (Reported the raw ctx error before.)
			{"ledger's bound passed since", context.Background(), expired, context.DeadlineExceeded, func(err error) bool {
				var te *pool.TimeoutError
				return errors.As(err, &te) && !te.CallerDeadline
			}},
		} {
			var w waitbound.Wait
			w.Begin(b, tc.parent)
			got := checkoutError(l, &w, "sqltrack", tc.ctx, tc.err, tc.err)
			w.End()
			if !tc.want(got) {
				t.Errorf("%s: %v", tc.name, got)
			}
		}
		// An error the ledger translated is left alone.
		var w waitbound.Wait
		w.Begin(b, context.Background())
		if got := checkoutError(l, &w, "sqltrack", context.Background(), pool.ErrClosed, driverErr); got != pool.ErrClosed {
			t.Errorf("translated error changed: %v", got)
		}
		w.End()
	})
}

func TestCheckoutIsBoundedByTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger(t)
		b := waitbound.New(time.Second)
		defer b.Stop()
		start := time.Now()
		_, err := Checkout(l, b, "pgxtrack", context.Background(), ledger.HandleConn, &track.Site{}, func(ctx context.Context) (int, error) {
			<-ctx.Done() // a driver that never has a connection
			return 0, ctx.Err()
		})
		var te *pool.TimeoutError
		if !errors.As(err, &te) || te.CallerDeadline || time.Since(start) != time.Second+waitbound.Tick(time.Second) {
			t.Fatalf("after %v: %v; want AcquireTimeout's *pool.TimeoutError", time.Since(start), err)
		}
	})
}

func TestValidate(t *testing.T) {
	if err := Validate("sqltrack", "db", 0, 0); err != nil {
		t.Fatal(err)
	}
	err := Validate("pgxtrack", "", -1, -2)
	for _, want := range []string{
		`pgxtrack: Config.Name is empty; set it to a short name`,
		`pgxtrack: Config.AcquireTimeout is -1ns; set a positive duration, or 0 for the default (30s)`,
		`pgxtrack: Config.LeakAfter is -2ns; set a positive duration, or 0 to turn the check off`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want %q", err, want)
		}
	}
}
