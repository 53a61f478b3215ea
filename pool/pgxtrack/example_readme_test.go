package pgxtrack_test

import (
	"context"
	"errors"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/pool/pgxtrack"
)

// Example_yourDatabase is the README's section on pgxpool
// (TestReadmeShowsTheExample keeps the two identical). It needs a server,
// so it is only compiled; TestPostgresRowsLeftOpenNamesLineAndTask runs the
// same story.
func Example_yourDatabase() {
	ctx := context.Background()
	pc, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	pc.MaxConns = 8 // pgxpool's own settings stay on its Config
	p, err := pgxtrack.New(ctx, pc, pgxtrack.Config{
		Name:           "orders-db",
		AcquireTimeout: time.Second, // bounds every wait for a connection, never the query
		LeakAfter:      time.Minute, // reports a handle held longer
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close() // bounded, where pgxpool's Close waits for every connection

	rows, err := p.Query(ctx, "SELECT id, item FROM orders") // a lease from this line until Close
	if err != nil {
		var te *pool.TimeoutError
		if errors.As(err, &te) {
			log.Printf("no connection in %v; held by %v", te.Waited, te.Holders) // kind, task, line, for how long
		}
		log.Fatal(err)
	}
	defer rows.Close()
}
