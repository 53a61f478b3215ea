package pool_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/pool"
)

// TestMinIdleKeepsResourcesReady: MinIdle resources are created after New,
// in the background, and topped up within a watchdog tick when acquires
// take the idle count below it (issue 9, item 23; pgxpool's MinConns).
func TestMinIdleKeepsResourcesReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 3, MinIdle: 2})
		synctest.Wait()
		if st := e.Pool.Stats(); e.Factory.Made() != 2 || st.Idle != 2 || st.Constructed != 2 {
			t.Fatalf("after New: made %d, Stats %+v; want 2 idle resources", e.Factory.Made(), st)
		}
		l1 := e.MustAcquire(t, t.Context()) // takes a warm one: no New on the caller's path
		if e.Factory.Made() != 2 {
			t.Fatalf("Acquire made a resource with %d idle", 2)
		}
		time.Sleep(100 * time.Millisecond) // one tick
		synctest.Wait()
		if st := e.Pool.Stats(); st.Idle != 2 || e.Factory.Made() != 3 {
			t.Fatalf("a tick after an acquire: made %d, Stats %+v; want 2 idle again", e.Factory.Made(), st)
		}
		l2 := e.MustAcquire(t, t.Context())
		time.Sleep(time.Second)
		synctest.Wait()
		if st := e.Pool.Stats(); st.Idle != 1 || e.Factory.Made() != 3 {
			t.Fatalf("at MaxSize: made %d, Stats %+v; want 1 idle, never more than MaxSize", e.Factory.Made(), st)
		}
		l1.Release()
		l2.Release()
	})
}

// TestMinIdleSurvivesMaxIdleTime: MaxIdleTime closes idle resources only
// above MinIdle, as pgxpool keeps MinConns.
func TestMinIdleSurvivesMaxIdleTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 3, MinIdle: 1, MaxIdleTime: time.Second})
		synctest.Wait()
		l1, l2 := e.MustAcquire(t, t.Context()), e.MustAcquire(t, t.Context())
		l1.Release()
		l2.Release()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if st := e.Pool.Stats(); st.Idle != 1 || st.Closed != 1 {
			t.Fatalf("after MaxIdleTime: Stats %+v; want 1 idle kept, 1 closed", st)
		}
	})
}

func TestMinIdleIsValidated(t *testing.T) {
	for _, tc := range []struct {
		minIdle int
		want    string
	}{
		{-1, `pool "db": Config.MinIdle is -1; set it between 0 and MaxSize (2)`},
		{3, `pool "db": Config.MinIdle is 3; set it between 0 and MaxSize (2)`},
	} {
		_, err := pool.New(pool.Config[*pooltest.Res]{Name: "db", New: (&pooltest.Factory{}).New, MaxSize: 2, MinIdle: tc.minIdle})
		if err == nil {
			t.Fatalf("New with MinIdle %d succeeded", tc.minIdle)
		}
		wantContains(t, "error", err.Error(), tc.want)
	}
}
