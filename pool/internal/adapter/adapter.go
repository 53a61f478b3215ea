// Package adapter is what pool/sqltrack and pool/pgxtrack share beyond the
// ledger: the check of their Config's tracking fields, and the checkout of
// a driver connection as a ledger lease whose wait is bounded by a
// waitbound.Bound.
package adapter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
	"github.com/tether-go/tether/pool/internal/waitbound"
)

// Validate checks the tracking fields of an adapter's Config (pkg is the
// adapter's package name, for the messages) and returns an error naming
// every bad field and what to set, or nil.
func Validate(pkg, name string, acquireTimeout, leakAfter time.Duration) error {
	var errs []error
	prefix := fmt.Sprintf("%s %q: ", pkg, name)
	if name == "" {
		prefix = pkg + ": "
		errs = append(errs, errors.New(pkg+`: Config.Name is empty; set it to a short name that identifies the database in errors, logs and leak reports, e.g. "orders-db"`))
	}
	if acquireTimeout < 0 {
		errs = append(errs, fmt.Errorf("%sConfig.AcquireTimeout is %v; set a positive duration, or 0 for the default (30s)", prefix, acquireTimeout))
	}
	if leakAfter < 0 {
		errs = append(errs, fmt.Errorf("%sConfig.LeakAfter is %v; set a positive duration, or 0 to turn the check off", prefix, leakAfter))
	}
	return errors.Join(errs...)
}

// Checkout runs take, the driver's blocking checkout, as a lease of l of
// the given handle kind, opened at *site by the task in ctx (the site is
// passed by pointer, not copied: see ledger.Ledger.CheckoutWith). The wait is
// bounded by ctx and by b; the query the caller runs next uses its own ctx,
// so only the wait is bounded.
//
// The error is the ledger's (ctx.Err() unchanged when the caller cancelled,
// a *pool.TimeoutError when a deadline passed, an error matching
// pool.ErrClosed after Shutdown), a *pool.TimeoutError when b's bound
// passed, or take's own error prefixed with pkg and the pool's name.
func Checkout[P any](l *ledger.Ledger[P], b *waitbound.Bound, pkg string, ctx context.Context, kind string, site *track.Site, take func(context.Context) (P, error)) (ledger.Lease[P], error) {
	var w waitbound.Wait
	var takeErr error
	ls, err := l.CheckoutWith(ctx, kind, site, ledger.BoundByCaller, func(lctx context.Context) (P, error) {
		p, err := take(w.Begin(b, lctx))
		takeErr = err
		return p, err
	})
	if err != nil {
		err = checkoutError(l, &w, pkg, ctx, err, takeErr)
	}
	w.End()
	return ls, err
}

// checkoutError completes the translation of a failed checkout. When the
// ledger returns take's error as it is, it saw neither the caller's ctx
// done nor a bound of its own pass, and it knows nothing of b's: so either
// the caller's ctx ended since (the ledger's check and take's wait race),
// or b's bound passed (or the ledger's own, since), or the driver failed.
func checkoutError[P any](l *ledger.Ledger[P], w *waitbound.Wait, pkg string, ctx context.Context, err, takeErr error) error {
	if takeErr == nil || err != takeErr || l.Closed() {
		return err // the ledger's own: translated, closed, nil ctx, or ctx done before the wait
	}
	start := l.Now() - int64(w.Since())
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(cerr, context.DeadlineExceeded) {
			return l.TimeoutError(start, true, false)
		}
		return cerr
	}
	if w.Expired() {
		return l.TimeoutError(start, false, false)
	}
	return fmt.Errorf("%s %q: getting a connection: %w", pkg, l.Name(), err)
}
