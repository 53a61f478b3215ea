package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/guard/sqlstore"
)

// A Map whose keys live in a SQLite file: every process that opens the same
// file, and the same Map, shares the versions.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store, err := sqlstore.New[string, int](ctx, db, sqlstore.Config[int]{
		Dialect:     sqlstore.SQLite,
		Table:       "scores",
		CreateTable: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	scores := guard.NewMapIn("scores", store)
	for range 3 {
		if _, err := scores.Update(ctx, "ada", func(n int) (int, error) { return n + 10, nil }); err != nil {
			log.Fatal(err)
		}
	}
	s, err := scores.Load(ctx, "ada")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ada has %d points at v%d, written at %s\n", s.Value, s.Version, s.Site)

	// A write based on v1 is refused: v3 is current.
	_, err = scores.CompareAndSwap(ctx, "ada", 1, 0)
	fmt.Println(err != nil, s.Process == store.Process())
	// Output:
	// ada has 30 points at v3, written at example_test.go:40
	// true true
}

// The statement that creates a Store's table, for a migration.
func ExampleSchema() {
	stmt, err := sqlstore.Schema(sqlstore.Postgres, "app.scores")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(stmt)
	// Output:
	// CREATE TABLE IF NOT EXISTS "app"."scores" (
	// 	key        text PRIMARY KEY,
	// 	value      bytea NOT NULL,
	// 	version    bigint NOT NULL CHECK (version > 0),
	// 	writer     text NOT NULL,
	// 	site       text NOT NULL,
	// 	host       text NOT NULL,
	// 	pid        integer NOT NULL,
	// 	updated_at timestamptz NOT NULL
	// )
}
