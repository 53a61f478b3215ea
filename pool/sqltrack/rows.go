package sqltrack

import (
	"database/sql"
)

// Rows is the result of [DB.QueryContext]: a *sql.Rows whose connection is
// a lease, held by the task that ran the query from that line until Close,
// or until Next has returned false at the end of the last result set (as
// database/sql gives the connection back then too). Close is required all
// the same; it is idempotent. Rows is safe for use by multiple goroutines
// as far as *sql.Rows is.
type Rows struct {
	lease
	rows *sql.Rows
}

// sql returns the *sql.Rows, panicking on a nil *Rows.
func (r *Rows) sql(method string) *sql.Rows {
	if r == nil {
		panic("sqltrack: " + method + " called on a nil *Rows; check the error from DB.QueryContext")
	}
	return r.rows
}

// Next prepares the next row for Scan, as *sql.Rows' Next does. When it
// returns false because the rows are done (the last result set is read, an
// error occurred, or the query's ctx was cancelled), the connection goes
// back to the pool and the lease ends.
func (r *Rows) Next() bool {
	if r.sql("Next").Next() {
		return true
	}
	r.endIfDone()
	return false
}

// NextResultSet advances to the next result set, as *sql.Rows' does.
func (r *Rows) NextResultSet() bool {
	if r.sql("NextResultSet").NextResultSet() {
		return true
	}
	r.endIfDone()
	return false
}

// endIfDone ends the lease if the rows are finished: database/sql has
// closed them (no further result set), or they failed.
func (r *Rows) endIfDone() {
	if r.rows.Err() != nil {
		r.rows.Close()
		r.end()
		return
	}
	// Columns fails once the rows are closed; while another result set
	// follows, they stay open.
	if _, err := r.rows.Columns(); err != nil {
		r.end()
	}
}

// Scan copies the columns of the current row into dest, as *sql.Rows'
// Scan does.
func (r *Rows) Scan(dest ...any) error { return r.sql("Scan").Scan(dest...) }

// Err returns the error met while iterating, as *sql.Rows' Err does.
func (r *Rows) Err() error { return r.sql("Err").Err() }

// Columns returns the column names.
func (r *Rows) Columns() ([]string, error) { return r.sql("Columns").Columns() }

// ColumnTypes returns the columns' types.
func (r *Rows) ColumnTypes() ([]*sql.ColumnType, error) { return r.sql("ColumnTypes").ColumnTypes() }

// Close closes the rows, gives the connection back and ends the lease. It
// is idempotent, and does nothing on a nil *Rows.
func (r *Rows) Close() error {
	if r == nil {
		return nil
	}
	err := r.rows.Close()
	r.end()
	return err
}

// Row is the result of [DB.QueryRowContext], like *sql.Row: errors are
// deferred to Scan, and the connection is pinned until Scan, which is
// required. Until then it is a lease (kind "row") held by the task that ran
// the query, from that line.
type Row struct {
	lease
	row *sql.Row
	err error // the checkout's, or the query's
}

// Scan copies the row's columns into dest and gives the connection back.
// It returns sql.ErrNoRows when the query selected no row, and the error of
// the checkout or the query if there was one: a *pool.TimeoutError naming
// the holders when no connection came in time.
func (r *Row) Scan(dest ...any) error {
	if r == nil {
		panic("sqltrack: Scan called on a nil *Row")
	}
	if r.err != nil {
		return r.err
	}
	err := r.row.Scan(dest...)
	r.end()
	return err
}

// Err returns the error of the checkout or the query, if any, without
// scanning, as *sql.Row's Err does.
func (r *Row) Err() error {
	if r == nil {
		panic("sqltrack: Err called on a nil *Row")
	}
	if r.err != nil {
		return r.err
	}
	return r.row.Err()
}
