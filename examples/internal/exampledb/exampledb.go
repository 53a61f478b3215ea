// Package exampledb gives each example a real embedded database: a SQLite
// file (modernc.org/sqlite, pure Go) in a temporary directory that Close
// removes. TempFile gives such a file's DSN, for examples that open it
// through pool/sqltrack, as a service would.
package exampledb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is a SQLite database in a temporary file.
type DB struct {
	*sql.DB
	dir string
}

// dsnIn is the SQLite file of a new database in dir. Connections wait up to
// 5s for SQLite's write lock (busy_timeout) and use WAL, so concurrent
// readers and one writer at a time work as in a server database.
func dsnIn(dir string) string {
	return "file:" + filepath.Join(dir, "example.db") +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
}

// Open creates a new database and runs the schema statements in order.
func Open(ctx context.Context, schema ...string) (*DB, error) {
	dir, err := os.MkdirTemp("", "tether-example-")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsnIn(dir))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for _, stmt := range schema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			os.RemoveAll(dir)
			return nil, fmt.Errorf("exampledb: %q: %w", stmt, err)
		}
	}
	return &DB{DB: db, dir: dir}, nil
}

// Close closes the database and removes its files.
func (d *DB) Close() error {
	err := d.DB.Close()
	if rerr := os.RemoveAll(d.dir); err == nil {
		err = rerr
	}
	return err
}

// TempFile returns the DSN (for the "sqlite" driver) of a new database in
// a temporary directory, and a func that removes the directory. Examples
// open it with sqltrack.Open, as a service would open its database.
func TempFile() (dsn string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "tether-example-")
	if err != nil {
		return "", nil, err
	}
	return dsnIn(dir), func() { os.RemoveAll(dir) }, nil
}
