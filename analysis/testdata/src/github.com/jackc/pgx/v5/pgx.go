// Package pgx is a stub of the pgx types pgxtrack returns, for the
// analyzers' tests.
package pgx

import "context"

type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type Row interface{ Scan(dest ...any) error }

type TxOptions struct{}

type Tx interface {
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
	Exec(ctx context.Context, sql string, args ...any) (string, error)
}

// CollectRows reads rows to the end and closes them.
func CollectRows[T any](rows Rows, fn func(Row) (T, error)) ([]T, error) {
	rows.Close()
	return nil, nil
}
