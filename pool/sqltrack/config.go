package sqltrack

import (
	"log/slog"
	"time"

	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/internal/adapter"
)

// Config is the tracking part of pool.Config: everything else (how many
// connections, for how long) stays on the *sql.DB, set with its own
// SetMaxOpenConns, SetConnMaxLifetime and the like. A zero field means its
// documented default; [Open] and [Wrap] reject a Config with a missing name
// or a negative duration, with an error naming each bad field.
type Config struct {
	// Name identifies the database in every error, log record and leak
	// report, for example "orders-db". Required.
	Name string

	// AcquireTimeout bounds every wait for a connection (and only the
	// wait, never the query that follows): a call waits at most the
	// earlier of its ctx's deadline and AcquireTimeout, then fails with a
	// *pool.TimeoutError naming the handles that hold the connections. The
	// bound has a resolution of a hundredth of AcquireTimeout (see "Bounded
	// waits" in the package doc). 0 means 30s. Negative is an error.
	AcquireTimeout time.Duration

	// LeakAfter reports a handle (Conn, Rows, Tx, Row) held open longer
	// than this: one pool.Leak of kind held-too-long per handle. 0 turns
	// the check off.
	LeakAfter time.Duration

	// Logger receives leak events (Warn) and the return of handles
	// reported held too long (Info). nil means slog.Default() at the time
	// of each record.
	Logger *slog.Logger

	// OnLeak is called for every leak event, after it is logged. It must
	// not block and must not call Shutdown or Close. Optional.
	OnLeak func(pool.Leak)
}

// validate checks cfg and returns an error listing every problem, or nil.
func (cfg *Config) validate() error {
	return adapter.Validate("sqltrack", cfg.Name, cfg.AcquireTimeout, cfg.LeakAfter)
}
