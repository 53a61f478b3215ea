// Package background is the failure "a background task fails and the error
// is swallowed": an inventory service's sync task panics on a malformed feed
// entry. With a raw go statement the panic kills the process with a stack
// nobody connects to the feed, or, recovered carelessly, vanishes.
//
// Under supervise.Main the panic is recovered with its stack, reported at
// once with the task's name and the panicking line, the sibling tasks are
// cancelled with the panic as the cause, the Defers still run, and the
// process exits non-zero.
package background

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/tether-go/tether/examples/internal/exampledb"
	"github.com/tether-go/tether/supervise"
)

// Bug is the failure this scenario shows, in one line.
const Bug = "a background sync task panics on a malformed feed entry; nothing tells the service"

// Result is what a run saw.
type Result struct {
	ExitCode     int
	Stderr       string   // what Main printed: failures and leak report
	Events       []string // the events, in order, as printed
	SiblingCause string   // what the http task saw as its context's cause
	Synced       int      // feed entries written
}

// entry is one line of the supplier's feed. Attrs is nil when the supplier
// sends an entry without attributes.
type entry struct {
	SKU   string
	Attrs map[string]int
}

// feed returns the supplier's entries; the fourth has no attributes.
func feed() []entry {
	return []entry{
		{"apple", map[string]int{"stock": 12}},
		{"pear", map[string]int{"stock": 3}},
		{"plum", map[string]int{"stock": 7}},
		{"fig", nil},
		{"kiwi", map[string]int{"stock": 9}},
	}
}

// syncFeed is the buggy sync: it normalises each entry in place, which
// panics on an entry without attributes.
func syncFeed(ctx context.Context, db *sql.DB, synced *int) error {
	for _, e := range feed() {
		e.Attrs["synced"] = 1 // BUG: panics when the supplier sent no attributes
		if _, err := db.ExecContext(ctx, `INSERT INTO stock (sku, n) VALUES (?, ?)`, e.SKU, e.Attrs["stock"]); err != nil {
			return err
		}
		*synced++
		if err := pause(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// syncFeedFixed skips entries without attributes, and says so.
func syncFeedFixed(ctx context.Context, db *sql.DB, synced *int, log *slog.Logger) error {
	for _, e := range feed() {
		if e.Attrs == nil {
			log.WarnContext(ctx, "feed entry without attributes skipped", "sku", e.SKU)
			continue
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO stock (sku, n) VALUES (?, ?)`, e.SKU, e.Attrs["stock"]); err != nil {
			return err
		}
		*synced++
		if err := pause(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run runs the inventory service under supervise.Main for at most
// duration, with Main's exit and stderr captured. fixed runs the sync that
// skips malformed entries.
func Run(ctx context.Context, w io.Writer, fixed bool, duration time.Duration) (*Result, error) {
	res := &Result{}
	var mu sync.Mutex
	var stderr bytes.Buffer
	start := time.Now()
	onEvent := func(e supervise.Event) {
		var line string
		switch e.Kind {
		case supervise.Started, supervise.Completed, supervise.Canceled:
			line = fmt.Sprintf("%-9s %s", e.Kind, e.Task)
		default:
			line = fmt.Sprintf("%-9s %s: %v", e.Kind, e.Task, e.Err)
		}
		mu.Lock()
		res.Events = append(res.Events, line)
		mu.Unlock()
		fmt.Fprintf(w, "  %6.1fms  %s\n", float64(time.Since(start).Microseconds())/1000, firstLine(line))
	}
	runCtx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()

	supervise.Main("inventory", func(ctx context.Context, g *supervise.Group) error {
		db, err := exampledb.Open(ctx, `CREATE TABLE stock (sku TEXT, n INTEGER)`)
		if err != nil {
			return err
		}
		// Defers run last-in first-out after every task has ended: the
		// database closes after the flush.
		g.Defer("database", func(context.Context) error {
			fmt.Fprintln(w, "  defer     database closed")
			return db.Close()
		})
		g.Defer("flush", func(context.Context) error {
			fmt.Fprintln(w, "  defer     flush ran")
			return nil
		})
		g.Go("http", func(ctx context.Context) error {
			<-ctx.Done() // serves until the service stops
			mu.Lock()
			res.SiblingCause = firstLine(context.Cause(ctx).Error())
			mu.Unlock()
			return ctx.Err()
		})
		g.Go("sync", func(ctx context.Context) error {
			var synced int
			defer func() { mu.Lock(); res.Synced = synced; mu.Unlock() }()
			if fixed {
				return syncFeedFixed(ctx, db.DB, &synced, slog.New(slog.NewTextHandler(w, nil)))
			}
			return syncFeed(ctx, db.DB, &synced)
		})
		return nil
	},
		supervise.MainContext(runCtx),
		supervise.Exit(func(code int) { res.ExitCode = code }),
		supervise.Stderr(&stderr),
		supervise.ShutdownTimeout(2*time.Second),
		supervise.GroupOptions(supervise.OnEvent(onEvent), supervise.Logger(slog.New(slog.DiscardHandler))),
	)
	res.Stderr = stderr.String()
	if res.ExitCode != 0 && res.Stderr == "" {
		return nil, errors.New("background: Main failed without saying why")
	}
	return res, nil
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
