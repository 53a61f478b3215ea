package sqlstore

import (
	"fmt"
	"strings"
	"time"
)

// Dialect is the SQL a Store speaks.
type Dialect int

const (
	// Postgres is PostgreSQL (through pgx's database/sql driver, "pgx",
	// or pool/sqltrack over it), the database for replicas.
	Postgres Dialect = iota + 1
	// SQLite is SQLite (modernc.org/sqlite, driver "sqlite"), for one
	// machine: several processes may share a database file in WAL mode.
	SQLite
)

func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "Postgres"
	case SQLite:
		return "SQLite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// statements are a Store's SQL, built once by New for its table.
type statements struct {
	create, check, load, insert, update, del, first, next string
}

// columns in the order every SELECT lists them.
const columns = "key, value, version, writer, site, host, pid, updated_at"

func (d Dialect) statements(table string) statements {
	// Arguments, by position: key, then for writes base (UPDATE only),
	// value, writer, site, host, pid, updated_at.
	p := func(n int) string { return fmt.Sprintf("$%d", n) }
	types := []string{"text", "bytea", "bigint", "integer", "timestamptz"}
	if d == SQLite {
		p = func(n int) string { return fmt.Sprintf("?%d", n) }
		types = []string{"TEXT", "BLOB", "INTEGER", "INTEGER", "INTEGER"} // updated_at in Unix microseconds
	}
	text, blob, bigint, integer, stamp := types[0], types[1], types[2], types[3], types[4]
	rowid := ""
	if d == SQLite {
		// The rows are found by key only: keep them in the key's b-tree
		// instead of a rowid table plus an index on key.
		rowid = " WITHOUT ROWID"
	}
	r := strings.NewReplacer("$T", table, "$1", p(1), "$2", p(2), "$3", p(3), "$4", p(4),
		"$5", p(5), "$6", p(6), "$7", p(7), "$8", p(8))
	return statements{
		create: fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	key        %s PRIMARY KEY,
	value      %s NOT NULL,
	version    %s NOT NULL CHECK (version > 0),
	writer     %s NOT NULL,
	site       %s NOT NULL,
	host       %s NOT NULL,
	pid        %s NOT NULL,
	updated_at %s NOT NULL
)%s`, table, text, blob, bigint, text, text, text, integer, stamp, rowid),
		check: r.Replace(`SELECT ` + columns + ` FROM $T WHERE 1 = 0`),
		load:  r.Replace(`SELECT ` + columns + ` FROM $T WHERE key = $1`),
		insert: r.Replace(`INSERT INTO $T (` + columns + `) VALUES ($1, $2, 1, $3, $4, $5, $6, $7)
ON CONFLICT (key) DO NOTHING`),
		update: r.Replace(`UPDATE $T SET value = $3, version = version + 1, writer = $4, site = $5, host = $6, pid = $7, updated_at = $8
WHERE key = $1 AND version = $2`),
		del:   r.Replace(`DELETE FROM $T WHERE key = $1`),
		first: r.Replace(`SELECT ` + columns + ` FROM $T ORDER BY key LIMIT $1`),
		next:  r.Replace(`SELECT ` + columns + ` FROM $T WHERE key > $1 ORDER BY key LIMIT $2`),
	}
}

// stamp is how the dialect stores updated_at.
func (d Dialect) stamp(t time.Time) any {
	if d == SQLite {
		return t.UnixMicro()
	}
	return t
}

// micros truncates t to what both dialects keep (microseconds) and drops
// its monotonic reading, so that a write returns the time a later Load
// reads back.
func micros(t time.Time) time.Time { return t.Round(0).Truncate(time.Microsecond) }
