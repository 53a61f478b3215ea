package leakcheck

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"time"

	"github.com/tether-go/tether/internal/text"
)

var (
	//go:embed page.html
	pageHTML string
	//go:embed page.js
	pageJS string
)

// Handler returns an HTTP handler that serves a live report: an HTML page,
// or the same [Report] as JSON with ?format=json.
//
// The page puts problems first (groups never waited, scopes lost, leases
// held too long, callers waiting on a drained pool), then tasks as a tree
// by group (each with what it holds and the goroutines it started), pools
// with their leases and holders, guards with their conflicts, open cleanup
// scopes, and goroutines no task owns. It refreshes itself every 2 seconds
// (a pause button stops it); without JavaScript it is a plain page that a
// reload refreshes. It loads nothing from elsewhere, and every name in it is
// escaped (html/template), with a Content-Security-Policy that lets no other
// script run.
//
// By default it takes a [Light] snapshot, which pauses the program for well
// under a millisecond even with 10,000 goroutines; ?mode=full takes a full
// goroutine dump (wait reasons and goroutine ids) at the cost of a
// stop-the-world pause of about 2 µs per goroutine.
//
// The package never registers it on any mux. The page shows task names,
// source paths and stacks: mount it where only operators can reach it, e.g.
//
//	mux.Handle("/debug/tether", leakcheck.Handler())
func Handler() http.Handler {
	sum := sha256.Sum256([]byte(pageJS))
	return handler{
		page: template.Must(template.New("page").Funcs(template.FuncMap{
			"age": func(d time.Duration) string {
				if d <= 0 {
					return ""
				}
				return text.Round(d).String()
			},
			"key": Entry.key,
		}).Parse(pageHTML)),
		csp: "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-" +
			base64.StdEncoding.EncodeToString(sum[:]) + "'; connect-src 'self'; img-src 'self' data:; " +
			"base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	}
}

type handler struct {
	page *template.Template
	csp  string
}

func (h handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "leakcheck: the report is read-only; use GET", http.StatusMethodNotAllowed)
		return
	}
	q := req.URL.Query()
	var opts []Option
	switch q.Get("mode") {
	case "", "light":
		opts = append(opts, Light())
	case "full":
	default:
		http.Error(w, `leakcheck: mode must be "light" (the default) or "full"`, http.StatusBadRequest)
		return
	}
	r := Snapshot(opts...)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch q.Get("format") {
	case "", "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", h.csp)
		if err := h.page.Execute(w, buildPage(r)); err != nil {
			http.Error(w, "leakcheck: rendering the page: "+err.Error(), http.StatusInternalServerError)
		}
	case "json":
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			http.Error(w, "leakcheck: encoding JSON: "+err.Error(), http.StatusInternalServerError)
		}
	default:
		http.Error(w, `leakcheck: format must be "html" (the default) or "json"`, http.StatusBadRequest)
	}
}
