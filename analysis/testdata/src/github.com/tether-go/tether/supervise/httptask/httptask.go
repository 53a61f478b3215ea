// Package httptask is a stub of tether's supervise/httptask with the
// signatures of DESIGN.md, for the analyzers' tests. Server and HTTPHandler
// stand in for net/http's types: type-checking net/http from source would
// make every analysistest run several times slower, and the analyzers look
// only at the group.
package httptask

import "github.com/tether-go/tether/supervise"

type Server struct{}

type HTTPHandler interface{}

func Handler(g *supervise.Group, h HTTPHandler) HTTPHandler { return h }
func Serve(g *supervise.Group, name string, srv *Server)    {}
