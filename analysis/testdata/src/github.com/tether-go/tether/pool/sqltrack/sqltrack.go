// Package sqltrack is a stub of tether's pool/sqltrack with its signatures,
// for the analyzers' tests. As in sqltrack, a Conn's and a Tx's queries and
// transactions are database/sql's own handles.
package sqltrack

import (
	"context"
	"database/sql"
)

type DB struct{}
type Conn struct{}
type Rows struct{}
type Row struct{}
type Tx struct{}

func (db *DB) Conn(ctx context.Context) (*Conn, error)                    { return &Conn{}, nil }
func (db *DB) BeginTx(ctx context.Context, o *sql.TxOptions) (*Tx, error) { return &Tx{}, nil }
func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*Rows, error) {
	return &Rows{}, nil
}
func (db *DB) QueryRowContext(ctx context.Context, q string, args ...any) *Row { return &Row{} }
func (db *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return nil, nil
}
func (db *DB) Raw() *sql.DB { return nil }
func (db *DB) Close() error { return nil }

func (c *Conn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return nil, nil
}
func (c *Conn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row { return nil }
func (c *Conn) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error)     { return nil, nil }
func (c *Conn) BeginTx(ctx context.Context, o *sql.TxOptions) (*sql.Tx, error)      { return nil, nil }
func (c *Conn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return nil, nil
}
func (c *Conn) Close() error { return nil }

func (r *Rows) Next() bool             { return false }
func (r *Rows) Scan(dest ...any) error { return nil }
func (r *Rows) Err() error             { return nil }
func (r *Rows) Close() error           { return nil }

func (r *Row) Scan(dest ...any) error { return nil }

func (tx *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return nil, nil
}
func (tx *Tx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) { return nil, nil }
func (tx *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return nil, nil
}
func (tx *Tx) Commit() error   { return nil }
func (tx *Tx) Rollback() error { return nil }
