package leaserelease

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/tether-go/tether/pool/pgxtrack"
	"github.com/tether-go/tether/pool/sqltrack"
)

func sqlRows(ctx context.Context, db *sqltrack.DB) (int, error) {
	rows, err := db.QueryContext(ctx, "SELECT 1")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

func sqlRowsLeak(ctx context.Context, db *sqltrack.DB) (int, error) {
	rows, err := db.QueryContext(ctx, "SELECT 1") // want `^leaserelease: rows from db.QueryContext are not closed on the path that returns at line 33; add defer rows.Close\(\) after the error check$`
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		if n > 10 {
			return n, nil
		}
		n++
	}
	rows.Close()
	return n, nil
}

func sqlTx(ctx context.Context, db *sqltrack.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE t SET n = n + 1"); err != nil {
		return err
	}
	return tx.Commit()
}

// Committed on success, but the failed statement returns with the
// transaction open.
func sqlTxLeak(ctx context.Context, db *sqltrack.DB) error {
	tx, err := db.BeginTx(ctx, nil) // want `^leaserelease: tx from db.BeginTx is not committed or rolled back on the path that returns at line 61; add defer tx.Rollback\(\) after the error check$`
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE t SET n = n + 1"); err != nil {
		return err
	}
	return tx.Commit()
}

func sqlConn(ctx context.Context, db *sqltrack.DB) error {
	c, err := db.Conn(ctx) // want `conn from db.Conn is not closed on the path that returns at line 73; add defer c.Close\(\) after the error check`
	if err != nil {
		return err
	}
	rows, err := c.QueryContext(ctx, "SELECT 1") // want `rows from c.QueryContext are not closed on the path that returns at line 76`
	if err != nil {
		return err
	}
	_ = rows.Next()
	return nil
}

func pgxRows(ctx context.Context, p *pgxtrack.Pool) ([]int, error) {
	rows, err := p.Query(ctx, "SELECT 1")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(pgx.Row) (int, error) { return 0, nil }) // CollectRows closes them
}

// Rows read to the end (Next false) have closed themselves.
func pgxRowsToTheEnd(ctx context.Context, p *pgxtrack.Pool) error {
	rows, err := p.Query(ctx, "SELECT 1")
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	return rows.Err()
}

// A break leaves them open.
func pgxRowsLeak(ctx context.Context, p *pgxtrack.Pool) error {
	rows, err := p.Query(ctx, "SELECT 1") // want `rows from p.Query are not closed on the path that returns at line 109`
	if err != nil {
		return err
	}
	for rows.Next() {
		if rows.Err() != nil {
			break
		}
	}
	return rows.Err()
}

// Not reading them at all leaves them open too; if !rows.Next() is the
// same test the other way round.
func firstRow(ctx context.Context, db *sqltrack.DB) error {
	rows, err := db.QueryContext(ctx, "SELECT 1") // want `rows from db.QueryContext are not closed on the path that returns at line 122`
	if err != nil {
		return err
	}
	if !rows.Next() {
		return rows.Err()
	}
	return rows.Scan()
}

func pgxTx(ctx context.Context, p *pgxtrack.Pool) error {
	tx, err := p.Begin(ctx) // want `tx from p.Begin is not committed or rolled back on the path that returns at line 131; add defer tx.Rollback\(ctx\) after the error check`
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE t SET n = n + 1"); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func pgxConn(ctx context.Context, p *pgxtrack.Pool) error {
	c, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	rows, err := c.Query(ctx, "SELECT 1")
	if err != nil {
		return err
	}
	rows.Close()
	return nil
}

func pgxConnLeak(ctx context.Context, p *pgxtrack.Pool) error {
	c, err := p.Acquire(ctx) // want `conn from p.Acquire is not released on the path that returns at line 156; add defer c.Release\(\) after the error check`
	if err != nil {
		return err
	}
	_, err = c.Exec(ctx, "SELECT 1")
	return err
}

// A sqltrack Conn's queries, statements and transactions are database/sql's
// own handles, and hold the connection as sqltrack's do.
func connHandles(ctx context.Context, c *sqltrack.Conn, n int) error {
	rows, err := c.QueryContext(ctx, "SELECT 1")
	if err != nil {
		return err
	}
	defer rows.Close()
	st, err := c.PrepareContext(ctx, "SELECT 1") // want `^leaserelease: stmt from c.PrepareContext is not closed on the path that returns at line 172; add defer st.Close\(\) after the error check$`
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	st.Close()
	tx, err := c.BeginTx(ctx, nil) // want `tx from c.BeginTx is not committed or rolled back on the path that returns at line 182`
	if err != nil {
		return err
	}
	// database/sql's own methods are not tether's: sqlclosecheck's domain.
	txRows, err := tx.QueryContext(ctx, "SELECT 1")
	if err != nil {
		return err
	}
	_ = txRows.Next()
	return tx.Commit()
}

// A Tx's own statements end with it.
func txStmt(ctx context.Context, db *sqltrack.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.PrepareContext(ctx, "SELECT 1"); err != nil {
		return err
	}
	return tx.Commit()
}

func pgxBeginTx(ctx context.Context, p *pgxtrack.Pool, c *pgxtrack.Conn) error {
	tx, err := p.BeginTx(ctx, pgx.TxOptions{}) // want `tx from p.BeginTx is not committed or rolled back`
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
		return err
	}
	ctx2 := ctx
	tx2, err := c.Begin(ctx2)
	if err != nil {
		return err
	}
	return tx2.Commit(ctx2)
}
