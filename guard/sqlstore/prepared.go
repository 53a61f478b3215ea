package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// prepared are the statements of a Store's hot path, prepared once on a
// *sql.DB (which prepares them again on each connection as it needs them).
// Without them every call sends the SQL text: pgx's driver then prepares
// it once per connection anyway, but SQLite parses it each time, which cost
// a Store on SQLite about a third of its Update (BenchmarkUpdate).
type prepared struct {
	mu     sync.Mutex
	closed bool
	stmts  [3]*sql.Stmt // load, insert, update
}

func prepare(ctx context.Context, db *sql.DB, q statements) (*prepared, error) {
	p := new(prepared)
	for i, text := range [3]string{q.load, q.insert, q.update} {
		st, err := db.PrepareContext(ctx, text)
		if err != nil {
			return nil, errors.Join(err, p.close())
		}
		p.stmts[i] = st
	}
	return p, nil
}

// The statements, or nil (when the Store has none): the Store then sends
// the SQL text.
func (p *prepared) load() *sql.Stmt   { return p.get(0) }
func (p *prepared) insert() *sql.Stmt { return p.get(1) }
func (p *prepared) update() *sql.Stmt { return p.get(2) }

func (p *prepared) get(i int) *sql.Stmt {
	if p == nil {
		return nil
	}
	return p.stmts[i]
}

func (p *prepared) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	for _, st := range p.stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

func (s *Store[K, V]) queryRow(ctx context.Context, st *sql.Stmt, query string, args ...any) *sql.Row {
	if st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

func (s *Store[K, V]) exec(ctx context.Context, st *sql.Stmt, query string, args ...any) (sql.Result, error) {
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, query, args...)
}
