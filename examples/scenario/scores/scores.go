// Package scores is the failure "two tasks read-modify-write the same state
// and one update is lost": players' points are added by reading the score,
// adding, and writing it back. Run concurrently, increments vanish, and
// neither the database nor the race detector says a word.
//
// With a guard.Map every write names the version it was based on. A stale
// write is refused, so Update re-reads and retries: the total is exact, and
// every conflict is counted and attributed to both tasks. The map keeps its
// rows in the same SQLite database, through guard/sqlstore.
package scores

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/tether-go/tether/examples/internal/exampledb"
	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/pool/sqltrack"
	"github.com/tether-go/tether/supervise"
)

// Bug is the failure this scenario shows, in one line.
const Bug = "concurrent score updates read, add and write back; increments are lost without any error"

// Tasks and increments of a run: each of Tasks tasks adds 1 point
// Increments times, so the total must be Tasks*Increments.
const (
	Tasks      = 4
	Increments = 50
)

// Result is what a run saw.
type Result struct {
	Want, Got int         // the exact total and the stored one
	Stats     guard.Stats // the guard's counters (fixed run)
	Conflict  string      // a conflict caught and attributed (fixed run)
	Writer    string      // the task that won that race
	Loser     string      // the task whose write was refused
}

// addNaive is the buggy update: between the SELECT and the UPDATE another
// task can write, and its increment is overwritten.
func addNaive(ctx context.Context, db *sqltrack.DB, player string, points int) error {
	var score int
	if err := db.QueryRowContext(ctx, `SELECT points FROM naive WHERE player = ?`, player).Scan(&score); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `UPDATE naive SET points = ? WHERE player = ?`, score+points, player) // BUG: lost update
	return err
}

// addGuarded commits with the version it read; on a conflict Update reads
// the newer value and tries again. fn must be pure: it may run more than
// once.
func addGuarded(ctx context.Context, scores *guard.Map[string, int], player string, points int) error {
	_, err := scores.Update(ctx, player, func(cur int) (int, error) { return cur + points, nil })
	return err
}

// Run adds points from Tasks concurrent tasks and compares the stored total
// with the exact one. fixed writes through a guard.Map.
func Run(ctx context.Context, w io.Writer, fixed bool) (*Result, error) {
	dsn, remove, err := exampledb.TempFile()
	if err != nil {
		return nil, err
	}
	defer remove()
	db, err := sqltrack.Open("sqlite", dsn, sqltrack.Config{Name: "scores-db"})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.Raw().SetMaxOpenConns(Tasks)
	for _, stmt := range []string{
		`CREATE TABLE naive (player TEXT PRIMARY KEY, points INTEGER NOT NULL)`,
		`INSERT INTO naive VALUES ('ada', 0)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, err
		}
	}

	res := &Result{Want: Tasks * Increments}
	scores, err := newScores(ctx, db.Raw())
	if err != nil {
		return nil, err
	}
	g := supervise.New(ctx, "scores", supervise.Logger(slog.New(slog.DiscardHandler)))
	for range Tasks {
		g.Go("player", func(ctx context.Context) error {
			for range Increments {
				var err error
				if fixed {
					err = addGuarded(ctx, scores, "ada", 1)
				} else {
					err = addNaive(ctx, db, "ada", 1)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if fixed {
		snap, err := scores.Load(ctx, "ada")
		if err != nil {
			return nil, err
		}
		res.Got = snap.Value
		res.Stats = scores.Stats()
		fmt.Fprintf(w, "  %d tasks x %d increments through guard.Map.Update: total %d (want %d), version %d\n",
			Tasks, Increments, res.Got, res.Want, snap.Version)
		fmt.Fprintf(w, "  %d conflicts caught and retried (at most %d retries for one update)\n",
			res.Stats.Conflicts, res.Stats.MaxRetries)
		if err := attribute(ctx, scores, res); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "  a race caught with CompareAndSwap: %s\n", res.Conflict)
	} else {
		if err := db.QueryRowContext(ctx, `SELECT points FROM naive WHERE player = 'ada'`).Scan(&res.Got); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "  %d tasks x %d increments by read-add-write: total %d (want %d): %d increments lost, no error anywhere\n",
			Tasks, Increments, res.Got, res.Want, res.Want-res.Got)
	}
	return res, nil
}

// attribute stages the race explicitly: two tasks load the same version,
// one commits, and the other's CompareAndSwap is refused with an error that
// names both of them.
func attribute(ctx context.Context, scores *guard.Map[string, int], res *Result) error {
	g := supervise.New(ctx, "league", supervise.Logger(slog.New(slog.DiscardHandler)))
	loaded := make(chan guard.Snapshot[int])
	committed := make(chan struct{})
	g.Go("referee", func(ctx context.Context) error {
		snap := <-loaded
		_, err := scores.CompareAndSwap(ctx, "ada", snap.Version, snap.Value+10)
		close(committed)
		return err
	})
	g.Go("bonus", func(ctx context.Context) error {
		snap, err := scores.Load(ctx, "ada")
		if err != nil {
			return err
		}
		loaded <- snap
		<-committed
		_, err = scores.CompareAndSwap(ctx, "ada", snap.Version, snap.Value+5)
		var ce *guard.ConflictError
		if !errors.As(err, &ce) {
			return fmt.Errorf("want a conflict, got %v", err)
		}
		res.Conflict, res.Writer, res.Loser = err.Error(), ce.Writer, ce.Task
		return nil
	})
	return g.Wait()
}
