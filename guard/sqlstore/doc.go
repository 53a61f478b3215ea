// Package sqlstore keeps a guard.Map in a database table, so that the
// replicas of a service share one version history: a lost update between
// processes is caught the way guard catches one between goroutines.
//
// Two replicas read the same row, each adds to it, each writes it back, and
// one addition is gone. With a Store, every write names the version it was
// based on, in one statement,
//
//	UPDATE "scores" SET value = $3, version = version + 1, writer = $4, site = $5, host = $6, pid = $7, updated_at = $8
//	WHERE key = $1 AND version = $2
//
// which changes no row if any other writer, in any process, committed
// first. guard.Map.Update then reads the row that won and tries again; a
// CompareAndSwap returns a *guard.ConflictError that names the winner,
// its line and its process. A real one, from four processes incrementing
// the same keys (TestReplicas):
//
//	guard "counters" key "k0": stale write by replica-1/worker at replicas_test.go:90: based on v622, but v634 is current, written by replica-3/worker at replicas_test.go:90 (pid 27933 on vm)
//
// A new key is created with INSERT ... ON CONFLICT (key) DO NOTHING, so two
// processes creating it at once cannot both succeed either.
//
// # Use
//
//	db, err := sql.Open("pgx", dsn) // github.com/jackc/pgx/v5/stdlib, or pool/sqltrack
//	...
//	store, err := sqlstore.New[string, int](ctx, db, sqlstore.Config[int]{
//		Dialect: sqlstore.Postgres,
//		Table:   "scores",
//	})
//	...
//	scores := guard.NewMapIn("scores", store)
//	snap, err := scores.Update(ctx, "ada", func(n int) (int, error) { return n + 1, nil })
//
// The table holds one row per key:
//
//	CREATE TABLE IF NOT EXISTS "scores" (
//		key        text PRIMARY KEY,
//		value      bytea NOT NULL,                      -- the value, through Config.Codec (JSON by default)
//		version    bigint NOT NULL CHECK (version > 0),
//		writer     text NOT NULL,                       -- the writing task's path, "" outside a task
//		site       text NOT NULL,                       -- the line that wrote it: "score.go:48"
//		host       text NOT NULL,                       -- the writing process: host name
//		pid        integer NOT NULL,                    --                      and process id
//		updated_at timestamptz NOT NULL                 -- the writer's clock
//	)
//
// [Schema] returns this statement for a migration; or set
// Config.CreateTable and New creates the table if it is missing. On SQLite
// the types are TEXT, BLOB and INTEGER (updated_at in Unix microseconds),
// and the table is WITHOUT ROWID: rows are found by key only.
//
// # Rules
//
//   - Keys are strings (or types whose underlying type is string); format
//     other keys as text. Give each Map its own table.
//   - The database is reached through [DB]: ExecContext and
//     QueryRowContext returning *sql.Row, which *sql.DB, *sql.Conn and
//     *sql.Tx have, and so does a pool/sqltrack Conn. A sqltrack.DB's
//     QueryRowContext returns its own tracked Row, so pass its Raw() *sql.DB:
//     the Store's statements are then not leases (each is one statement
//     that holds a connection only while it runs, so there is nothing to
//     leak). Every statement runs on its own, in
//     autocommit; a Store never holds a transaction open. On a *sql.DB the
//     Store prepares its three hot statements at New; [Store.Close]
//     releases them.
//   - PostgreSQL (driver "pgx") is the database for replicas. SQLite
//     (modernc.org/sqlite, driver "sqlite") serves one machine, and several
//     processes may share a database file: open it in WAL mode with a busy
//     timeout ("?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)"),
//     so that a writer waits for the file's write lock instead of failing.
//   - A process killed mid-write loses nothing it committed and leaves no
//     partial row: each write is a single statement (TestReplicaKilled).
//   - Range reads the table in key order, a page of rows per query when the
//     DB also has QueryContext returning *sql.Rows, one row per query
//     otherwise. It is for reports and administration, not a hot path.
//
// # Cost
//
// Map.Update on a Store is two round trips (the row's SELECT, then the
// UPDATE), as a hand-written read-modify-write with a version check is:
// BenchmarkUpdate runs both side by side, on PostgreSQL and SQLite: on
// PostgreSQL the Store measured 1.08x the handwritten statements (1.05x
// prepared ones), with twice their allocations (the codec, the writer's
// record). A conflict costs one more SELECT, for the row that won, before
// the retry.
package sqlstore
