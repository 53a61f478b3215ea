package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/tether-go/tether/guard"
)

// DB is what a Store needs of a database. *sql.DB, *sql.Conn and *sql.Tx
// have these methods, and so does pool/sqltrack's tracked DB, so a Store
// works on either without change. Every statement is a single one in
// autocommit; the Store never opens a transaction.
type DB interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rowsDB is the optional method Range uses to read many rows per query;
// without it, Range reads one row per query.
type rowsDB interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Config configures a Store. A zero field means its documented default.
type Config[V any] struct {
	// Dialect is the database's SQL: Postgres or SQLite. Required.
	Dialect Dialect
	// Table names the table that holds the map's rows, one per key. It
	// is spliced into SQL, so it must be a plain identifier: lower-case
	// letters, digits and underscores, starting with a letter or an
	// underscore, optionally qualified by a schema ("app.scores").
	// Required.
	Table string
	// Codec encodes values into the value column. nil means JSON.
	Codec Codec[V]
	// CreateTable makes New create the table if it does not exist.
	// Otherwise New only checks that it exists: create it with your
	// migrations, using the statement Schema returns.
	CreateTable bool
}

// Store is a guard.Store on a database table: give it to guard.NewMapIn.
// It is safe for use by multiple goroutines, and by several processes on
// the same table.
type Store[K ~string, V any] struct {
	db      DB
	stmts   *prepared // nil unless db is a *sql.DB
	dialect Dialect
	table   string // as given
	sql     statements
	codec   Codec[V]
	host    string
	pid     int
	process string   // "pid PID on HOST", as Snapshot.Process reads
	sites   sync.Map // guard.Site to its text: sites are symbolised once
}

var _ guard.Store[string, int] = (*Store[string, int])(nil)

// New returns a Store of the map's rows in cfg.Table, reached through db.
// It checks cfg and the table (creating it with cfg.CreateTable), and
// returns an error saying what to change if either is wrong.
//
// Keys are strings, or types whose underlying type is string; format
// other keys as text.
func New[K ~string, V any](ctx context.Context, db DB, cfg Config[V]) (*Store[K, V], error) {
	if db == nil {
		return nil, errors.New("sqlstore: New needs a database: pass a *sql.DB (or a pool/sqltrack DB)")
	}
	if cfg.Dialect != Postgres && cfg.Dialect != SQLite {
		return nil, fmt.Errorf("sqlstore: Config.Dialect is %v: set it to sqlstore.Postgres or sqlstore.SQLite", cfg.Dialect)
	}
	table, err := quoteTable(cfg.Table)
	if err != nil {
		return nil, err
	}
	s := &Store[K, V]{
		db:      db,
		dialect: cfg.Dialect,
		table:   cfg.Table,
		sql:     cfg.Dialect.statements(table),
		codec:   cfg.Codec,
		pid:     os.Getpid(),
	}
	if s.codec == nil {
		s.codec = JSON[V]()
	}
	if s.host, err = os.Hostname(); err != nil {
		s.host = "unknown host"
	}
	s.process = processName(s.pid, s.host)
	if cfg.CreateTable {
		if _, err := db.ExecContext(ctx, s.sql.create); err != nil && s.checkTable(ctx) != nil {
			// Processes creating the same table at once may see
			// PostgreSQL fail all but one; the table then exists.
			return nil, fmt.Errorf("sqlstore: creating table %s: %w", cfg.Table, err)
		}
	} else if err := s.checkTable(ctx); err != nil {
		return nil, fmt.Errorf("sqlstore: table %s is missing or lacks sqlstore's columns (%w): "+
			"create it with the statement sqlstore.Schema returns, or set Config.CreateTable", cfg.Table, err)
	}
	if sdb, ok := db.(*sql.DB); ok {
		if s.stmts, err = prepare(ctx, sdb, s.sql); err != nil {
			return nil, fmt.Errorf("sqlstore: table %s: %w", cfg.Table, err)
		}
	}
	return s, nil
}

// Close releases the statements the Store prepared on a *sql.DB. Call it
// when the Store is no longer used but the DB stays open; closing the DB
// releases them too. The Store must not be used after Close. Close may be
// called more than once.
func (s *Store[K, V]) Close() error {
	if s.stmts == nil {
		return nil
	}
	return s.stmts.close()
}

// checkTable runs a query that needs the table and all its columns.
func (s *Store[K, V]) checkTable(ctx context.Context) error {
	var r row
	err := s.scan(s.db.QueryRowContext(ctx, s.sql.check), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// Schema returns the statement that creates a Store's table, for
// migrations: for PostgreSQL,
//
//	CREATE TABLE IF NOT EXISTS "scores" (
//		key        text PRIMARY KEY,
//		value      bytea NOT NULL,
//		version    bigint NOT NULL CHECK (version > 0),
//		writer     text NOT NULL,
//		site       text NOT NULL,
//		host       text NOT NULL,
//		pid        integer NOT NULL,
//		updated_at timestamptz NOT NULL
//	)
//
// It returns an error if d or table is not valid, as New would.
func Schema(d Dialect, table string) (string, error) {
	if d != Postgres && d != SQLite {
		return "", fmt.Errorf("sqlstore: Schema of dialect %v: use sqlstore.Postgres or sqlstore.SQLite", d)
	}
	q, err := quoteTable(table)
	if err != nil {
		return "", err
	}
	return d.statements(q).create, nil
}

// Process returns how the Store names its process in the rows it writes,
// and in Snapshot.Process and ConflictError.WriterProcess:
// "pid 4242 on web-2".
func (s *Store[K, V]) Process() string { return s.process }

func processName(pid int, host string) string { return "pid " + strconv.Itoa(pid) + " on " + host }

// row is one row as scanned.
type row struct {
	key     string
	value   []byte
	version uint64
	writer  string
	site    string
	host    string
	pid     int64
	at      time.Time
}

type scanner interface{ Scan(dest ...any) error }

func (s *Store[K, V]) scan(sc scanner, r *row) error {
	if s.dialect == SQLite {
		var micros int64
		if err := sc.Scan(&r.key, &r.value, &r.version, &r.writer, &r.site, &r.host, &r.pid, &micros); err != nil {
			return err
		}
		r.at = time.UnixMicro(micros)
		return nil
	}
	return sc.Scan(&r.key, &r.value, &r.version, &r.writer, &r.site, &r.host, &r.pid, &r.at)
}

// snapshot decodes r.
func (s *Store[K, V]) snapshot(r *row) (guard.Snapshot[V], error) {
	v, err := s.codec.Decode(r.value)
	if err != nil {
		return guard.Snapshot[V]{}, fmt.Errorf("sqlstore: table %s: decoding the value of key %q at v%d: %w", s.table, r.key, r.version, err)
	}
	p := s.process
	if r.pid != int64(s.pid) || r.host != s.host {
		p = processName(int(r.pid), r.host)
	}
	return guard.Snapshot[V]{
		Value: v, Version: r.version, Writer: r.writer, Process: p, At: r.at, Site: guard.SiteText(r.site),
	}, nil
}

// Load returns key's row, or the zero Snapshot if there is none.
func (s *Store[K, V]) Load(ctx context.Context, key K) (guard.Snapshot[V], error) {
	var r row
	err := s.scan(s.queryRow(ctx, s.stmts.load(), s.sql.load, string(key)), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return guard.Snapshot[V]{}, nil
	}
	if err != nil {
		return guard.Snapshot[V]{}, err
	}
	return s.snapshot(&r)
}

// CompareAndSwap writes next as key's row if the row is at version base
// (0: there is no row), in one statement: an UPDATE ... WHERE key = $1 AND
// version = $2, or for base 0 an INSERT ... ON CONFLICT (key) DO NOTHING.
// If it changed no row, another writer committed first, and it reads the
// row that won.
func (s *Store[K, V]) CompareAndSwap(ctx context.Context, key K, base uint64, next guard.Snapshot[V]) (guard.Snapshot[V], bool, error) {
	value, err := s.codec.Encode(next.Value)
	if err != nil {
		return guard.Snapshot[V]{}, false, fmt.Errorf("sqlstore: table %s: encoding the value of key %q: %w", s.table, string(key), err)
	}
	next.At = micros(next.At)
	next.Process = s.process
	site, stamp := s.siteText(next.Site), s.dialect.stamp(next.At)
	var res sql.Result
	if base == 0 {
		res, err = s.exec(ctx, s.stmts.insert(), s.sql.insert, string(key), value, next.Writer, site, s.host, s.pid, stamp)
	} else {
		res, err = s.exec(ctx, s.stmts.update(), s.sql.update, string(key), int64(base), value, next.Writer, site, s.host, s.pid, stamp)
	}
	if err != nil {
		return guard.Snapshot[V]{}, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return guard.Snapshot[V]{}, false, err
	}
	if n == 1 {
		return next, true, nil
	}
	cur, err := s.Load(ctx, key)
	return cur, false, err
}

// siteText returns site's text, symbolising each site once.
func (s *Store[K, V]) siteText(site guard.Site) string {
	if t, ok := s.sites.Load(site); ok {
		return t.(string)
	}
	t := site.String()
	s.sites.Store(site, t)
	return t
}

// Delete removes key's row.
func (s *Store[K, V]) Delete(ctx context.Context, key K) error {
	_, err := s.db.ExecContext(ctx, s.sql.del, string(key))
	return err
}

// Range calls yield for each row, in key order, reading a page of rows at a
// time (one row per query if the DB has no QueryContext returning
// *sql.Rows). yield runs between queries, so it may use the Store, even on
// a database with a single connection.
func (s *Store[K, V]) Range(ctx context.Context, yield func(K, guard.Snapshot[V]) bool) error {
	var (
		page  []row
		after *string
		err   error
	)
	for {
		if page, err = s.page(ctx, page[:0], after); err != nil {
			return err
		}
		for i := range page {
			snap, err := s.snapshot(&page[i])
			if err != nil {
				return err
			}
			if !yield(K(page[i].key), snap) {
				return nil
			}
		}
		if len(page) == 0 {
			return nil
		}
		last := page[len(page)-1].key
		after = &last
	}
}

// page reads the rows after key *after (all rows if after is nil), in key
// order, into buf.
func (s *Store[K, V]) page(ctx context.Context, buf []row, after *string) ([]row, error) {
	query, args := s.sql.first, []any{}
	if after != nil {
		query, args = s.sql.next, []any{*after}
	}
	q, ok := s.db.(rowsDB)
	if !ok {
		var r row
		err := s.scan(s.db.QueryRowContext(ctx, query, append(args, 1)...), &r)
		if errors.Is(err, sql.ErrNoRows) {
			return buf, nil
		}
		return append(buf, r), err
	}
	rows, err := q.QueryContext(ctx, query, append(args, rangePage)...)
	if err != nil {
		return buf, err
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		if err := s.scan(rows, &r); err != nil {
			return buf, err
		}
		buf = append(buf, r)
	}
	if err := rows.Err(); err != nil {
		return buf, err
	}
	return buf, rows.Close()
}

// rangePage is how many rows Range reads per query.
const rangePage = 100
