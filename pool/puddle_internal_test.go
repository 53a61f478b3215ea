package pool

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/jackc/puddle/v2"
)

// TestPuddleTryAcquireGivesItsCtxToTheConstructor pins down the puddle
// behaviour tryContext relies on: when TryAcquire finds nothing idle but
// room, it returns ErrNotAvailable and calls the constructor in the
// background with TryAcquire's own ctx, unchanged, and a constructor error
// there leaves nothing behind (the room is free again). If puddle ever
// wraps that ctx, constructs in the foreground or keeps the failed
// resource, this test fails, and the fast path of Acquire must change:
// it would otherwise build resources in the background, where New's
// failures reach no caller.
func TestPuddleTryAcquireGivesItsCtxToTheConstructor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := make(chan context.Context, 1)
		p, err := puddle.NewPool(&puddle.Config[int]{
			Constructor: func(ctx context.Context) (int, error) {
				got <- ctx
				if _, ok := ctx.(tryContext); ok {
					return 0, errSkip
				}
				return 1, nil
			},
			Destructor: func(int) {},
			MaxSize:    1,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, err := p.TryAcquire(tryCtx); !errors.Is(err, puddle.ErrNotAvailable) {
			t.Fatalf("TryAcquire on an empty pool = %v; want ErrNotAvailable", err)
		}
		synctest.Wait()
		select {
		case ctx := <-got:
			if ctx != tryCtx {
				t.Fatalf("the background constructor got %T %v; want TryAcquire's tryContext itself", ctx, ctx)
			}
		default:
			t.Fatal("TryAcquire did not start a background construction")
		}
		if st := p.Stat(); st.TotalResources() != 0 {
			t.Fatalf("puddle kept %d resources after the skipped construction; want 0", st.TotalResources())
		}
		if err := p.CreateResource(context.Background()); err != nil {
			t.Fatalf("CreateResource after the skipped construction = %v; want the room free again", err)
		}
	})
}
