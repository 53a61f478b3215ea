package leakcheck_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/leakcheck"
)

func get(t *testing.T, srv *httptest.Server, path string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestHandler(t *testing.T) {
	const evil = `<script>alert("x")</script>`
	site, _ := testkit.HereSite()
	register(t, track.State{
		Kind: track.KindGroup, Name: "app",
		Items: []track.Item{{Kind: track.ItemTask, Name: "app/" + evil, Owner: "app/" + evil, Since: time.Now(), State: "running", Site: site}},
	})
	register(t, track.State{
		Kind: track.KindGroup, Name: "app/" + evil + "/child", Owner: "app/" + evil,
		Items: []track.Item{{Kind: track.ItemTask, Name: "app/child-task", Since: time.Now(), State: "running", Site: site}},
	})
	register(t, track.State{
		Kind: track.KindPool, Name: "db" + evil,
		Counters: []track.Counter{{Name: "max_size", Value: 4}, {Name: "in_use", Value: 3}, {Name: "idle", Value: 1}},
		Items:    []track.Item{{Kind: track.ItemLease, Name: "#1", Owner: "app/" + evil, Since: time.Now(), State: "held", Site: site}},
	})
	register(t, track.State{
		Kind: track.KindGuard, Name: "scores",
		Counters: []track.Counter{{Name: "version", Value: 9}, {Name: "conflicts", Value: 2}},
		Items:    []track.Item{{Kind: track.ItemConflict, Detail: "app/a lost to app/b"}},
	})
	srv := httptest.NewServer(leakcheck.Handler())
	defer srv.Close()

	for _, mode := range []string{"", "?mode=full"} {
		code, ctype, body := get(t, srv, "/"+mode)
		if code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
			t.Fatalf("GET %s: %d %s", mode, code, ctype)
		}
		if strings.Contains(body, evil) {
			t.Fatalf("GET %s: the page contains the raw name %q: names are not escaped", mode, evil)
		}
		for _, want := range []string{
			"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", // escaped task and pool names
			"3 / 4 (1 idle)", "width: 75%", // the pool's utilisation bar
			"app/child-task",         // the child group's task, nested under its parent task
			"app/a lost to app/b",    // the guard's last conflict
			"version", "2 conflicts", // guard counters
		} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: page lacks %q", mode, want)
			}
		}
		// The child group sits inside the parent task's list item.
		parent := strings.Index(body, "task <b>app/&lt;script&gt;")
		child := strings.Index(body, "app/child-task")
		if parent < 0 || child < parent {
			t.Errorf("GET %s: child group is not nested under its owning task", mode)
		}
	}

	code, ctype, body := get(t, srv, "/?format=json")
	if code != http.StatusOK || ctype != "application/json" {
		t.Fatalf("GET ?format=json: %d %s", code, ctype)
	}
	var r leakcheck.Report
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("JSON does not decode into a Report: %v", err)
	}
	if r.Mode != "light" || len(r.Objects) < 4 {
		t.Errorf("JSON report: mode %q, %d objects", r.Mode, len(r.Objects))
	}
	found := false
	for _, e := range r.Entries {
		if e.Kind == leakcheck.KindTask && e.Name == "app/"+evil {
			found = true
		}
	}
	if !found {
		t.Errorf("JSON report lacks the task named %q (JSON keeps names as they are)", "app/"+evil)
	}

	for _, bad := range []string{"/?mode=fast", "/?format=xml"} {
		if code, _, _ := get(t, srv, bad); code != http.StatusBadRequest {
			t.Errorf("GET %s: status %d, want 400", bad, code)
		}
	}
	resp, err := http.Post(srv.URL+"/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("POST: status %d Allow %q, want 405 with Allow", resp.StatusCode, resp.Header.Get("Allow"))
	}
	srv.CloseClientConnections()
}

// TestHandlerLetsOnlyItsOwnScriptRun: the HTML page carries a
// Content-Security-Policy whose one script hash is that of the page's own
// inline script, so that no other script runs even if a name ever reached
// the page unescaped; the page needs nothing from elsewhere.
func TestHandlerLetsOnlyItsOwnScriptRun(t *testing.T) {
	srv := httptest.NewServer(leakcheck.Handler())
	defer srv.Close()
	defer srv.CloseClientConnections()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	_, script, ok := strings.Cut(string(body), "<script>")
	script, _, ok2 := strings.Cut(script, "</script>")
	if !ok || !ok2 || strings.Count(string(body), "<script") != 1 {
		t.Fatalf("the page has not exactly one inline script")
	}
	sum := sha256.Sum256([]byte(script))
	want := "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.Contains(csp, want) || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("Content-Security-Policy %q lacks %q or default-src 'none'", csp, want)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("no X-Content-Type-Options: nosniff")
	}
	for _, external := range []string{"http://", "https://", "//cdn"} {
		if strings.Contains(string(body), `src="`+external) || strings.Contains(string(body), `href="`+external) {
			t.Errorf("the page loads something from elsewhere (%s)", external)
		}
	}
}
