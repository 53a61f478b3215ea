package pgxtrack

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// rows is the pgx.Rows of [Pool.Query]: pgx's rows, whose connection is a
// lease until Close. As pgxpool's rows do, it gives the connection back
// when Next returns false or Scan or Values fail.
type rows struct {
	lease
	r pgx.Rows
}

func (r *rows) Close() {
	r.r.Close()
	r.end()
}

func (r *rows) Err() error                                   { return r.r.Err() }
func (r *rows) CommandTag() pgconn.CommandTag                { return r.r.CommandTag() }
func (r *rows) FieldDescriptions() []pgconn.FieldDescription { return r.r.FieldDescriptions() }
func (r *rows) RawValues() [][]byte                          { return r.r.RawValues() }
func (r *rows) Conn() *pgx.Conn                              { return r.r.Conn() }
func (r *rows) TypeMap() *pgtype.Map                         { return r.r.TypeMap() }

func (r *rows) Next() bool {
	if r.r.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *rows) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if err != nil {
		r.Close()
	}
	return err
}

func (r *rows) Values() ([]any, error) {
	v, err := r.r.Values()
	if err != nil {
		r.Close()
	}
	return v, err
}

// row is the pgx.Row of [Pool.QueryRow]: its connection is a lease until
// Scan.
type row struct {
	lease
	r pgx.Row
}

func (r *row) Scan(dest ...any) error {
	defer r.end() // even if a scanner panics
	return r.r.Scan(dest...)
}

// errRows is the pgx.Rows of a Query whose checkout or query failed, as
// pgxpool returns one.
type errRows struct{ err error }

func (errRows) Close()                                       {}
func (e errRows) Err() error                                 { return e.err }
func (errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (errRows) Next() bool                                   { return false }
func (e errRows) Scan(...any) error                          { return e.err }
func (e errRows) Values() ([]any, error)                     { return nil, e.err }
func (errRows) RawValues() [][]byte                          { return nil }
func (errRows) Conn() *pgx.Conn                              { return nil }
func (errRows) TypeMap() *pgtype.Map                         { return nil }

// errRow is the pgx.Row of a QueryRow whose checkout failed.
type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }
