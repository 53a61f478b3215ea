package scores

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tether-go/tether/guard"
)

// sqliteStore keeps a guard.Map's keys in a SQLite table: each row holds a
// key's value and its version, and who wrote it, from where and when. The
// whole compare-and-swap is one UPDATE ... WHERE version = ?, which SQLite
// (like PostgreSQL) applies atomically, so two writes based on the same
// version can never both succeed.
type sqliteStore struct{ db *sql.DB }

const storeSchema = `CREATE TABLE scores (
	player TEXT PRIMARY KEY, points INTEGER NOT NULL, version INTEGER NOT NULL,
	writer TEXT NOT NULL, site TEXT NOT NULL, at INTEGER NOT NULL)`

var _ guard.Store[string, int] = sqliteStore{}

func (s sqliteStore) Load(ctx context.Context, player string) (guard.Snapshot[int], error) {
	var snap guard.Snapshot[int]
	var site string
	var at int64
	err := s.db.QueryRowContext(ctx,
		`SELECT points, version, writer, site, at FROM scores WHERE player = ?`, player).
		Scan(&snap.Value, &snap.Version, &snap.Writer, &site, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return guard.Snapshot[int]{}, nil
	}
	if err != nil {
		return guard.Snapshot[int]{}, err
	}
	snap.Site = guard.SiteText(site)
	snap.At = time.Unix(0, at)
	return snap, nil
}

func (s sqliteStore) CompareAndSwap(ctx context.Context, player string, base uint64, next guard.Snapshot[int]) (guard.Snapshot[int], bool, error) {
	var res sql.Result
	var err error
	if base == 0 {
		res, err = s.db.ExecContext(ctx,
			`INSERT INTO scores (player, points, version, writer, site, at) VALUES (?, ?, ?, ?, ?, ?)
			 ON CONFLICT (player) DO NOTHING`,
			player, next.Value, next.Version, next.Writer, next.Site.String(), next.At.UnixNano())
	} else {
		res, err = s.db.ExecContext(ctx,
			`UPDATE scores SET points = ?, version = ?, writer = ?, site = ?, at = ?
			 WHERE player = ? AND version = ?`,
			next.Value, next.Version, next.Writer, next.Site.String(), next.At.UnixNano(), player, base)
	}
	if err != nil {
		return guard.Snapshot[int]{}, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return guard.Snapshot[int]{}, false, err
	} else if n == 1 {
		return next, true, nil
	}
	cur, err := s.Load(ctx, player)
	return cur, false, err
}

func (s sqliteStore) Delete(ctx context.Context, player string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM scores WHERE player = ?`, player)
	return err
}

func (s sqliteStore) Range(ctx context.Context, yield func(string, guard.Snapshot[int]) bool) error {
	rows, err := s.db.QueryContext(ctx, `SELECT player FROM scores ORDER BY player`)
	if err != nil {
		return err
	}
	var players []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return err
		}
		players = append(players, p)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, p := range players {
		snap, err := s.Load(ctx, p)
		if err != nil {
			return err
		}
		if snap.Version != 0 && !yield(p, snap) {
			return nil
		}
	}
	return nil
}
