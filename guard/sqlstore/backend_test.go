package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/tether-go/tether/guard/sqlstore"
)

// postgresEnv names the PostgreSQL server the tests use; they skip
// PostgreSQL when it is unset.
const postgresEnv = "TETHER_TEST_POSTGRES"

// backend is a database every test of the suite runs on.
type backend struct {
	name    string // "postgres" or "sqlite": sub-test and benchmark names
	dialect sqlstore.Dialect
	// open returns what a process needs to reach a fresh place for the
	// test's tables: a driver, a DSN and a schema prefix for table names.
	// t.Cleanup removes it.
	open func(t testing.TB) place
}

// place is where a test's tables live: the same for the test and the
// child processes it starts.
type place struct {
	Driver string // "pgx" or "sqlite"
	DSN    string
	Prefix string // "schema." on PostgreSQL; "" on SQLite
}

// db opens the place; t.Cleanup closes it.
func (p place) db(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open(p.Driver, p.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var backends = []backend{
	{name: "postgres", dialect: sqlstore.Postgres, open: openPostgres},
	{name: "sqlite", dialect: sqlstore.SQLite, open: openSQLite},
}

// eachBackend runs f as a sub-test per backend, skipping PostgreSQL when
// the server is not configured.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run("db="+b.name, func(t *testing.T) { f(t, b) })
	}
}

// openSQLite is a database file of the test's own, in WAL mode, waiting up
// to 10s for another connection's (or process's) write lock.
func openSQLite(t testing.TB) place {
	dsn := "file:" + filepath.Join(t.TempDir(), "store.db") +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	return place{Driver: "sqlite", DSN: dsn}
}

// openPostgres makes a schema of the test's own (other tests and other
// people share the server), with connections named after it, and drops it
// when the test ends.
func openPostgres(t testing.TB) place {
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skipf("%s is not set; set it to a PostgreSQL URL (postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run on PostgreSQL", postgresEnv)
	}
	var b [4]byte
	rand.Read(b[:])
	schema := "guard_sqlstore_" + hex.EncodeToString(b[:])
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	dsn := u.String()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return place{Driver: "pgx", DSN: dsn, Prefix: schema + "."}
}

// newStore opens a Store of string keys and V values on a new table of
// place p.
func newStore[V any](t testing.TB, b backend, p place, db sqlstore.DB, table string) *sqlstore.Store[string, V] {
	t.Helper()
	s, err := sqlstore.New[string, V](context.Background(), db, sqlstore.Config[V]{
		Dialect: b.dialect, Table: p.Prefix + table, CreateTable: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hostname(t testing.TB) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
