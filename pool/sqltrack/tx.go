package sqltrack

import (
	"context"
	"database/sql"
)

// Tx is a transaction started with [DB.BeginTx]. Its connection is a
// lease, held by the task that began it from that line until Commit or
// Rollback, one of which is required. Rows and statements made in it live
// within it. Tx is safe for use by multiple goroutines as far as *sql.Tx
// is. After Commit or Rollback, its methods return sql.ErrTxDone.
type Tx struct {
	lease
	tx *sql.Tx
}

// sql returns the *sql.Tx, panicking on a nil *Tx.
func (t *Tx) sql(method string) *sql.Tx {
	if t == nil {
		panic("sqltrack: " + method + " called on a nil *Tx; check the error from DB.BeginTx")
	}
	return t.tx
}

// Commit commits the transaction, gives the connection back and ends the
// lease, even when the commit fails.
func (t *Tx) Commit() error {
	err := t.sql("Commit").Commit()
	t.end()
	return err
}

// Rollback aborts the transaction, gives the connection back and ends the
// lease. Calling it after Commit returns sql.ErrTxDone and does nothing
// else, so `defer tx.Rollback()` is safe.
func (t *Tx) Rollback() error {
	err := t.sql("Rollback").Rollback()
	t.end()
	return err
}

// ExecContext runs a statement in the transaction.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.sql("ExecContext").ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction. Its rows must be closed
// before the transaction ends.
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.sql("QueryContext").QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.sql("QueryRowContext").QueryRowContext(ctx, query, args...)
}

// PrepareContext prepares a statement for use in the transaction.
func (t *Tx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.sql("PrepareContext").PrepareContext(ctx, query)
}

// StmtContext returns a transaction-specific statement from stmt.
func (t *Tx) StmtContext(ctx context.Context, stmt *sql.Stmt) *sql.Stmt {
	return t.sql("StmtContext").StmtContext(ctx, stmt)
}
