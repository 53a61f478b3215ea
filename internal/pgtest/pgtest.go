// Package pgtest gives a test its own corner of the shared PostgreSQL server
// named by TETHER_TEST_POSTGRES, so tests of several packages (and of other
// people) can use one server at the same time:
//
//   - a throwaway schema, first on the search_path of the test's
//     connections, dropped with everything in it when the test ends;
//   - an application_name that only the test's own connections carry, so
//     the test can list and terminate exactly its own backends, never
//     anybody else's;
//   - on request, a login role with a connection limit, for running a
//     server out of connections without changing any server setting.
//
// A test that calls [New] without TETHER_TEST_POSTGRES set is skipped with
// a message saying how to run it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding the server's URL, for
// example postgres://postgres@127.0.0.1:5432/test?sslmode=disable. The user
// must be allowed to create schemas and roles.
const EnvVar = "TETHER_TEST_POSTGRES"

// Env is one test's share of the server. Its methods fail the test on a
// server error.
type Env struct {
	t testing.TB
	// Name is unique to the test (lower case, a valid identifier): it is
	// the schema's name and the application_name of the test's
	// connections.
	Name  string
	base  *url.URL
	admin *pgx.Conn // the harness's own connection (application_name Name_admin)
}

// URL returns the server's URL from TETHER_TEST_POSTGRES, or skips t.
func URL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvVar)
	if dsn == "" {
		t.Skipf("pgtest: %s is not set; set it to a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable, to run this test", EnvVar)
	}
	return dsn
}

// New creates the test's schema and returns its Env; t.Cleanup terminates
// the test's remaining backends and drops the schema (and the role, if
// [Env.Role] made one). It skips t when TETHER_TEST_POSTGRES is unset.
func New(t testing.TB) *Env {
	t.Helper()
	base, err := url.Parse(URL(t))
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL: %v", EnvVar, err)
	}
	e := &Env{t: t, Name: uniqueName(t.Name()), base: base}
	ctx, cancel := e.ctx()
	defer cancel()
	// The harness's own connection has the test's schema on its
	// search_path too, so that Exec's unqualified names land there.
	e.admin, err = pgx.Connect(ctx, e.dsn(base, e.Name+"_admin", e.Name))
	if err != nil {
		t.Fatalf("pgtest: connecting to %s: %v", redact(base), err)
	}
	t.Cleanup(e.cleanup)
	e.Exec("CREATE SCHEMA " + e.Name)
	return e
}

// DSN returns the URL the test's connections use: the server's, with the
// test's application_name and its schema first on the search_path.
func (e *Env) DSN() string { return e.dsn(e.base, e.Name, e.Name) }

// AppName is the application_name of the test's connections: the filter
// for everything this package terminates.
func (e *Env) AppName() string { return e.Name }

func (e *Env) dsn(base *url.URL, app, schema string) string {
	u := *base
	q := u.Query()
	q.Set("application_name", app)
	if schema != "" {
		q.Set("search_path", schema)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Role creates a login role (named after the test) that may hold at most
// limit connections at once, with the use of the test's schema, and
// returns a URL that connects as that role with the test's
// application_name. A connection beyond the limit fails with SQLSTATE
// 53300 (too_many_connections), as it would when the server's
// max_connections is exhausted; other users of the server are unaffected.
// The role is dropped when the test ends.
func (e *Env) Role(limit int) string {
	role := e.Name + "_r"
	e.Exec(fmt.Sprintf("CREATE ROLE %s LOGIN CONNECTION LIMIT %d", role, limit))
	e.Exec(fmt.Sprintf("GRANT USAGE, CREATE ON SCHEMA %s TO %s", e.Name, role))
	u := *e.base
	u.User = url.User(role)
	return e.dsn(&u, e.Name, e.Name)
}

// Exec runs sql on the harness's own connection, with the test's schema
// first on its search_path.
func (e *Env) Exec(sql string, args ...any) {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	if _, err := e.admin.Exec(ctx, sql, args...); err != nil {
		e.t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// Backends returns the pids of the test's backends (its application_name),
// in pid order, with their state (pg_stat_activity.state: "idle",
// "active", "idle in transaction"...).
func (e *Env) Backends() map[uint32]string {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	rows, err := e.admin.Query(ctx,
		`SELECT pid, coalesce(state, '') FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, e.Name)
	if err != nil {
		e.t.Fatalf("pgtest: pg_stat_activity: %v", err)
	}
	out := map[uint32]string{}
	var pid uint32
	var state string
	_, err = pgx.ForEachRow(rows, []any{&pid, &state}, func() error {
		out[pid] = state
		return nil
	})
	if err != nil {
		e.t.Fatalf("pgtest: pg_stat_activity: %v", err)
	}
	return out
}

// Running reports whether one of the test's backends is running a query
// (state "active") whose text contains marker.
func (e *Env) Running(marker string) bool {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	var n int
	err := e.admin.QueryRow(ctx,
		`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND strpos(query, $2) > 0 AND pid <> pg_backend_pid()`,
		e.Name, marker).Scan(&n)
	if err != nil {
		e.t.Fatalf("pgtest: pg_stat_activity: %v", err)
	}
	return n > 0
}

// Terminate terminates the given backends with pg_terminate_backend, and
// waits until they are gone. It refuses (fails the test) a pid that is not
// one of the test's own backends: the server is shared.
func (e *Env) Terminate(pids ...uint32) {
	e.t.Helper()
	mine := e.Backends()
	for _, pid := range pids {
		if _, ok := mine[pid]; !ok {
			e.t.Fatalf("pgtest: backend %d is not one of this test's (application_name %s): %v", pid, e.Name, mine)
		}
	}
	ctx, cancel := e.ctx()
	defer cancel()
	ids := make([]int64, len(pids))
	for i, p := range pids {
		ids[i] = int64(p)
	}
	if _, err := e.admin.Exec(ctx,
		`SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = $1 AND pid = ANY($2)`, e.Name, ids); err != nil {
		e.t.Fatalf("pgtest: pg_terminate_backend: %v", err)
	}
}

// Until polls cond until it holds, failing the test with what when the
// test's deadline (or 30s) comes first. It is for state on the server,
// which no channel reports: the poll interval is 10ms.
func (e *Env) Until(what string, cond func() bool) {
	e.t.Helper()
	deadline := e.deadline()
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("pgtest: timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cleanup terminates what the test left connected and drops its objects.
func (e *Env) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer e.admin.Close(ctx)
	role := e.Name + "_r"
	// Only backends of this test: its application_name, or its role.
	if _, err := e.admin.Exec(ctx,
		`SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
		 WHERE (application_name = $1 OR usename = $2) AND pid <> pg_backend_pid()`, e.Name, role); err != nil {
		e.t.Errorf("pgtest: cleanup: %v", err)
	}
	if _, err := e.admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+e.Name+" CASCADE"); err != nil {
		e.t.Errorf("pgtest: cleanup: %v", err)
	}
	var n int
	if err := e.admin.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname = $1`, role).Scan(&n); err != nil {
		e.t.Errorf("pgtest: cleanup: %v", err)
	} else if n > 0 {
		if _, err := e.admin.Exec(ctx, "DROP ROLE "+role); err != nil {
			e.t.Errorf("pgtest: cleanup: %v", err)
		}
	}
}

// ctx bounds one call to the server by the test's deadline.
func (e *Env) ctx() (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.Background(), e.deadline())
}

// deadline is a second before the test's deadline, or 30s from now if
// that is sooner.
func (e *Env) deadline() time.Time {
	d := time.Now().Add(30 * time.Second)
	if td, ok := e.t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := td.Deadline(); ok && dl.Add(-time.Second).Before(d) {
			d = dl.Add(-time.Second)
		}
	}
	return d
}

var notIdent = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueName is "tether_" with part of the test's name and a random
// suffix: a valid lower-case identifier of at most 40 bytes.
func uniqueName(test string) string {
	var b [4]byte
	rand.Read(b[:])
	s := notIdent.ReplaceAllString(strings.ToLower(test), "_")
	s = strings.Trim(s, "_")
	if len(s) > 22 {
		s = s[len(s)-22:]
	}
	return "tether_" + s + "_" + hex.EncodeToString(b[:])
}

// redact hides a password in u for messages.
func redact(u *url.URL) string { return u.Redacted() }
