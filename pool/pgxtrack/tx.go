package pgxtrack

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// tx is the pgx.Tx of [Pool.Begin]: pgx's transaction, whose connection is
// a lease until Commit or Rollback. Rollback after Commit does nothing but
// return pgx.ErrTxClosed, so `defer tx.Rollback(ctx)` is safe.
type tx struct {
	lease
	t pgx.Tx
}

// Begin starts a pseudo nested transaction (a savepoint) within this one.
func (t *tx) Begin(ctx context.Context) (pgx.Tx, error) { return t.t.Begin(ctx) }

func (t *tx) Commit(ctx context.Context) error {
	err := t.t.Commit(ctx)
	t.end()
	return err
}

func (t *tx) Rollback(ctx context.Context) error {
	err := t.t.Rollback(ctx)
	t.end()
	return err
}

func (t *tx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	return t.t.CopyFrom(ctx, table, columns, src)
}

func (t *tx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.t.SendBatch(ctx, b)
}

func (t *tx) LargeObjects() pgx.LargeObjects { return t.t.LargeObjects() }

func (t *tx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.t.Prepare(ctx, name, sql)
}

func (t *tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.t.Exec(ctx, sql, args...)
}

func (t *tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.t.Query(ctx, sql, args...)
}

func (t *tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.t.QueryRow(ctx, sql, args...)
}

func (t *tx) Conn() *pgx.Conn { return t.t.Conn() }
