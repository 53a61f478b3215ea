// Package leasefix holds the cases where leaserelease offers a suggested
// fix (defer the end right after the error check) and where it must not.
package leasefix

import (
	"context"
	"errors"
	"strconv"

	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/pgxtrack"
	"github.com/tether-go/tether/pool/sqltrack"
)

var errBad = errors.New("bad")

func earlyReturn(ctx context.Context, p *pool.Pool[int], n int) error {
	l, err := p.Acquire(ctx) // want `returns at line 23; add defer l.Release\(\) after the error check`
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	l.Release()
	return nil
}

func never(ctx context.Context, p *pool.Pool[int]) int {
	lease, err := p.TryAcquire(ctx) // want `add defer lease.Release\(\) after the error check`
	if err != nil {
		panic(err)
	}
	return lease.Value()
}

func rows(ctx context.Context, db *sqltrack.DB) (bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT 1") // want `add defer rows.Close\(\) after the error check`
	if err != nil {
		return false, err
	}
	return rows.Next(), nil
}

func sqlTx(ctx context.Context, db *sqltrack.DB) error {
	tx, err := db.BeginTx(ctx, nil) // want `add defer tx.Rollback\(\) after the error check`
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE t SET n = 1"); err != nil {
		return err
	}
	return tx.Commit()
}

func pgxTx(ctx context.Context, p *pgxtrack.Pool) error {
	tx, err := p.Begin(ctx) // want `add defer tx.Rollback\(ctx\) after the error check`
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE t SET n = 1"); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// No fix: Rollback needs a context and the acquire's is not a plain name.
func pgxTxNoName(p *pgxtrack.Pool) error {
	tx, err := p.Begin(context.Background()) // want `add defer tx.Rollback\(ctx\) after the error check`
	if err != nil {
		return err
	}
	if _, err := tx.Exec(context.Background(), "UPDATE t SET n = 1"); err != nil {
		return err
	}
	return tx.Commit(context.Background())
}

// No fix: in a loop a defer would pile up.
func inLoop(ctx context.Context, p *pool.Pool[int], n int) error {
	for range n {
		l, err := p.Acquire(ctx) // want `not released before the next iteration`
		if err != nil {
			return err
		}
		if l.Value() < 0 {
			continue
		}
		l.Release()
	}
	return nil
}

// No fix: some path hands it off, and a deferred release would take it
// back from its new owner.
func handedOff(ctx context.Context, p *pool.Pool[int], keep bool, out **pool.Lease[int]) error {
	l, err := p.Acquire(ctx) // want `returns at line 105; add defer l.Release\(\) after the error check`
	if err != nil {
		return err
	}
	if keep {
		*out = l
		return nil
	}
	return errBad
}

// No fix: Detach gives the resource away; a deferred Release after it is
// not ours to add.
func detached(ctx context.Context, p *pool.Pool[int], keep bool) int {
	l, err := p.Acquire(ctx) // want `returns at line 118; add defer l.Release\(\) after the error check`
	if err != nil {
		return 0
	}
	if keep {
		return l.Detach()
	}
	return 0
}

// No fix: the error check is not right after the acquire.
func checkLater(ctx context.Context, p *pool.Pool[int]) error {
	l, err := p.Acquire(ctx) // want `returns at line 128; add defer l.Release\(\)$`
	n := 1
	if err != nil {
		return err
	}
	return errors.New(strconv.Itoa(l.Value() + n))
}

func varDecl(ctx context.Context, p *pool.Pool[int]) int {
	var l, err = p.Acquire(ctx) // want `add defer l.Release\(\) after the error check`
	if err != nil {
		return 0
	}
	return l.Value()
}
