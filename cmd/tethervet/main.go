// Command tethervet runs tether's analyzers: the rules the run-time checks
// enforce after a leak has happened, enforced in code review instead.
//
//	nakedgo       a go statement outside supervise
//	leaserelease  a pool lease, sqltrack/pgxtrack Conn, Rows or Tx not ended on some path
//	groupwait     a supervise.Group whose Wait or Shutdown is not reached on every path
//	scopeclose    a cleanup.Scope not closed on every path
//
// Run it through go vet, pinned in go.mod with Go's tool directive:
//
//	go get -tool github.com/tether-go/tether/cmd/tethervet
//	go vet -vettool=$(go tool -n tethervet) ./...
//
// or on its own, as `go tool tethervet ./...` (it exits 3 when it reports
// something). Each report names its rule; `//tether:allow RULE <reason>` on
// the line above silences one. `tethervet help` lists the analyzers and
// their flags.
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/tether-go/tether/analysis/groupwait"
	"github.com/tether-go/tether/analysis/leaserelease"
	"github.com/tether-go/tether/analysis/nakedgo"
	"github.com/tether-go/tether/analysis/scopeclose"
)

// multichecker.Main also speaks the protocol go vet uses with -vettool (it
// answers -V=full and -flags, and analyses one unit per .cfg file), so one
// binary serves both ways of running it.
func main() {
	multichecker.Main(
		nakedgo.Analyzer,
		leaserelease.Analyzer,
		groupwait.Analyzer,
		scopeclose.Analyzer,
	)
}
