// Package leaserelease defines an Analyzer that reports pool leases and
// database handles that are not given back on some path.
//
// # Analyzer leaserelease
//
// leaserelease: check that every lease, connection, Rows and Tx is ended
//
// A lease from [pool.Pool.Acquire] or TryAcquire must be released
// (Release, Destroy or Detach); sqltrack's Conn and Rows (from DB.Conn and
// QueryContext) must be closed and its Tx (from BeginTx) committed or
// rolled back, and so must the database/sql Rows, Stmt and Tx a sqltrack
// Conn or Tx returns; pgxtrack's Conn (from Pool.Acquire) must be released, its
// Rows (from Query) closed and its Tx (from Begin) committed or rolled
// back. Until then the connection is out of its pool: enough of them and
// every request waits.
//
// The analyzer follows each one through its function's control flow and
// reports it, at the line that made it, when some path returns, panics or
// overwrites the variable without ending it:
//
//	l, err := p.Acquire(ctx) // lease from p.Acquire is not released on the path that returns at line 14
//	if err != nil {
//		return err
//	}
//	if n == 0 {
//		return nil
//	}
//	defer l.Release()
//
// Rows that Next has run to the end (false) have closed themselves; a break
// or return out of the loop before that has not.
//
// The fix is nearly always `defer l.Release()` right after the error check,
// which the analyzer offers as a suggested fix where it is safe. A handle
// that is returned, stored in a field, map, slice or another variable,
// sent on a channel, passed to a function, or captured by a function
// literal (a deferred closure, a task) is handed off, and not reported. The
// error branch needs no release (the handle is nil there), whether the
// error is checked with `err != nil` or `err == nil`. A lease made in a loop
// and released by a defer is reported too: the defers run only when the
// function returns, so each iteration holds one more.
//
// `//tether:allow leaserelease <reason>` on the line above silences one
// report.
package leaserelease

import (
	"go/types"

	"golang.org/x/tools/go/analysis"

	"github.com/tether-go/tether/analysis/internal/allow"
	"github.com/tether-go/tether/analysis/internal/handles"
)

// Analyzer is the leaserelease analyzer, as tethervet runs it.
var Analyzer = New()

// New returns a leaserelease analyzer with its own flags, for drivers (such as the
// golangci-lint plugin) that configure it without touching Analyzer.
func New() *analysis.Analyzer {
	c := &handles.Checker{Rule: "leaserelease", Match: match}
	a := &analysis.Analyzer{
		Name:     "leaserelease",
		Doc:      "check that every pool lease, sqltrack/pgxtrack Conn, Rows and Tx is released, closed or ended on every path\n\nA handle returned, stored, sent, passed to a function or captured by a closure is handed off and not reported. Silence one report with //tether:allow leaserelease <reason> on the line above.",
		URL:      "https://pkg.go.dev/github.com/tether-go/tether/analysis/leaserelease",
		Requires: handles.Requires,
		Run:      c.Run,
	}
	a.Flags.BoolVar(&c.Tests, "tests", false, allow.TestsFlag)
	return a
}

const (
	poolPkg = handles.Module + "/pool"
	sqlPkg  = handles.Module + "/pool/sqltrack"
	pgxPkg  = handles.Module + "/pool/pgxtrack"
)

func deferCall(method string) func(v, ctx string) (string, bool) {
	return func(v, _ string) (string, bool) { return "defer " + v + "." + method + "()", true }
}

var (
	lease = &handles.Kind{
		Noun: "lease", Done: "released", Err: true,
		Ends: []string{"Release", "Destroy", "Detach"}, FixWith: []string{"Release"},
		Fix: deferCall("Release"),
	}
	sqlConn = &handles.Kind{
		Noun: "conn", Done: "closed", Err: true,
		Ends: []string{"Close"}, FixWith: []string{"Close"},
		Fix: deferCall("Close"),
	}
	pgxConn = &handles.Kind{
		Noun: "conn", Done: "released", Err: true,
		Ends: []string{"Release", "Hijack"}, FixWith: []string{"Release"},
		Fix: deferCall("Release"),
	}
	rows = &handles.Kind{
		Noun: "rows", Plural: true, Done: "closed", Err: true,
		Ends: []string{"Close"}, FixWith: []string{"Close"},
		// Rows close themselves, and end their lease, when Next returns
		// false (database/sql's, sqltrack's and pgx's alike).
		EndsWhenFalse: "Next",
		Fix:           deferCall("Close"),
	}
	stmt = &handles.Kind{
		Noun: "stmt", Done: "closed", Err: true,
		Ends: []string{"Close"}, FixWith: []string{"Close"},
		Fix: deferCall("Close"),
	}
	sqlTx = &handles.Kind{
		Noun: "tx", Done: "committed or rolled back", Err: true,
		Ends: []string{"Commit", "Rollback"}, FixWith: []string{"Commit", "Rollback"},
		// A Rollback after Commit does nothing but return an error the
		// defer drops: the idiom of database/sql.
		Fix: deferCall("Rollback"),
	}
	pgxTx = &handles.Kind{
		Noun: "tx", Done: "committed or rolled back", Err: true,
		Ends: []string{"Commit", "Rollback"}, FixWith: []string{"Commit", "Rollback"},
		Fix: func(v, ctx string) (string, bool) {
			if ctx == "" {
				return "defer " + v + ".Rollback(ctx)", false
			}
			return "defer " + v + ".Rollback(" + ctx + ")", true
		},
	}
)

// sources maps each call that makes a handle to the handle's kind.
var sources = map[string]*handles.Kind{
	poolPkg + ".Pool.Acquire":    lease,
	poolPkg + ".Pool.TryAcquire": lease,

	sqlPkg + ".DB.Conn":             sqlConn,
	sqlPkg + ".DB.QueryContext":     rows,
	sqlPkg + ".Conn.QueryContext":   rows, // database/sql's *Rows, holding the Conn
	sqlPkg + ".Tx.QueryContext":     rows,
	sqlPkg + ".DB.BeginTx":          sqlTx,
	sqlPkg + ".Conn.BeginTx":        sqlTx, // database/sql's *Tx, on the Conn
	sqlPkg + ".Conn.PrepareContext": stmt,  // a Tx's statements end with the Tx

	pgxPkg + ".Pool.Acquire": pgxConn,
	pgxPkg + ".Pool.Query":   rows,
	pgxPkg + ".Conn.Query":   rows,
	pgxPkg + ".Pool.Begin":   pgxTx,
	pgxPkg + ".Pool.BeginTx": pgxTx,
	pgxPkg + ".Conn.Begin":   pgxTx,
	pgxPkg + ".Conn.BeginTx": pgxTx,
}

func match(fn *types.Func) *handles.Kind {
	k := sources[handles.Method(fn)]
	if k == nil || !handles.Returns(fn, k.Ends) {
		return nil
	}
	return k
}
