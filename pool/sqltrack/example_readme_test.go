package sqltrack_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/sqltrack"
)

// Example_yourDatabase is the README's section on database/sql
// (TestReadmeShowsTheExample keeps the two identical).
func Example_yourDatabase() {
	db, err := sqltrack.Open("sqlite", "file:/orders?vfs=memdb", sqltrack.Config{
		Name:           "orders-db",
		AcquireTimeout: time.Second, // bounds every wait for a connection, never the query
		LeakAfter:      time.Minute, // reports a handle held longer
	})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()            // bounded: reclaims and names what is still open
	db.Raw().SetMaxOpenConns(1) // database/sql's own settings stay on the *sql.DB

	ctx := context.Background()
	rows, err := db.QueryContext(ctx, "SELECT 'tea' UNION ALL SELECT 'cake'") // BUG: not closed
	if err != nil {
		log.Fatal(err)
	}

	// The only connection is pinned by those rows: the next query fails
	// after AcquireTimeout, naming them, instead of hanging.
	var item string
	err = db.QueryRowContext(ctx, "SELECT 'coffee'").Scan(&item)
	var te *pool.TimeoutError
	if errors.As(err, &te) {
		fmt.Println("held by", te.Holders[0].Handle, "opened at", te.Holders[0].Site)
	}
	rows.Close() // the fix: then the connection is back
	fmt.Println(db.QueryRowContext(ctx, "SELECT 'coffee'").Scan(&item), item)
	// Output:
	// held by rows opened at example_readme_test.go:29
	// <nil> coffee
}
