package scores

import (
	"context"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/guard/sqlstore"
)

// newScores returns the players' points as a guard.Map kept in the
// database by guard/sqlstore: a row per player holds the points, their
// version, and who wrote them, from which process, where and when. Each
// write is one UPDATE ... WHERE version = ?, which SQLite (like
// PostgreSQL) applies atomically, so two writes based on the same version
// can never both succeed.
func newScores(ctx context.Context, db sqlstore.DB) (*guard.Map[string, int], error) {
	store, err := sqlstore.New[string, int](ctx, db, sqlstore.Config[int]{
		Dialect:     sqlstore.SQLite,
		Table:       "scores",
		CreateTable: true,
	})
	if err != nil {
		return nil, err
	}
	return guard.NewMapIn("scores", store), nil
}
