// Package httptask is a stub of tether's supervise/httptask with the
// signatures of DESIGN.md, for the analyzers' tests.
package httptask

import (
	"net/http"

	"github.com/tether-go/tether/supervise"
)

func Handler(g *supervise.Group, h http.Handler) http.Handler { return h }
func Serve(g *supervise.Group, name string, srv *http.Server) {}
