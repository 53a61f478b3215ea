package guard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// The backoff between Update attempts. After the first conflict Update
// retries at once: a conflict means another writer just made progress, and
// the new value is already in hand. After that it waits a random time in
// [d/2, d), where d doubles from minBackoff to maxBackoff, so that writers
// that keep colliding spread out instead of storming.
const (
	minBackoff = time.Microsecond
	maxBackoff = time.Millisecond
)

// backoffLimit returns d for the wait after the attempt-th conflict
// (attempt >= 2).
func backoffLimit(attempt int) time.Duration {
	shift := attempt - 2
	if shift >= 10 { // 1µs << 10 > 1ms
		return maxBackoff
	}
	return min(minBackoff<<shift, maxBackoff)
}

// backoff waits before the attempt after the attempt-th one conflicted. It
// returns ctx's error (see ctxErr) if ctx is done first.
func backoff(ctx context.Context, attempt int) error {
	if attempt < 2 {
		return nil
	}
	d := backoffLimit(attempt)
	d = d/2 + rand.N(d/2)
	done := ctx.Done()
	if done == nil {
		time.Sleep(d)
		return nil
	}
	t := time.NewTimer(d)
	select {
	case <-done:
		t.Stop()
		return ctxErr(ctx)
	case <-t.C:
		return nil
	}
}

// ctxErr returns ctx.Err(), joined with ctx's cause when it has a
// different one, so that errors.Is matches both.
func ctxErr(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("%w: %w", err, cause)
	}
	return err
}
