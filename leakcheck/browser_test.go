package leakcheck_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/supervise"
)

// chromium returns the browser to test the live page with: $TETHER_TEST_CHROMIUM,
// or Debian's /usr/bin/chromium (.ci/run installs it). Without one the test
// is skipped, saying so.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TETHER_TEST_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("TETHER_TEST_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	const debian = "/usr/bin/chromium"
	if _, err := os.Stat(debian); err != nil {
		t.Skipf("no browser: %s not found and TETHER_TEST_CHROMIUM not set (apt-get install chromium, as .ci/run does)", debian)
	}
	return debian
}

// The hostile names: each would run script, or break out of its element,
// if the page put it in the HTML as markup.
// Real task names cannot hold '/', so the script tag is in names of
// registered stand-ins.
const (
	svgName    = `<svg onload="window.__pwned=1;alert(1)">`
	imgName    = `"><img src=x onerror="window.__pwned=2;alert(2)">`
	scriptName = `<script>window.__pwned=3;alert(3)</script>`
	lineName   = "line\nbreak"
)

// TestLivePageInChromium serves leakcheck.Handler over a service with one
// of everything (tasks, nested groups, leases, a waiter, a guard's
// conflicts, a cleanup scope, a goroutine started inside a task, an
// unsupervised one, problems) and hostile names, and loads it in headless
// Chromium: the page renders, every hostile name stays text and no script
// but the page's own runs (no dialog, no flag set), the JSON view parses in
// the page and in Go, the page refreshes itself and pauses, and the console
// stays free of errors. A screenshot is written under the test's temporary
// directory for a person to look at.
func TestLivePageInChromium(t *testing.T) {
	browser := chromium(t)
	plantService(t)
	srv := httptest.NewServer(leakcheck.Handler())
	defer srv.Close()
	defer srv.CloseClientConnections()

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()

	var mu sync.Mutex
	var dialogs []string
	if err := chromedp.Listen(tab, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			mu.Lock()
			dialogs = append(dialogs, d.Message)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("starting Chromium (%s): %v", browser, err)
	}
	console := chromedp.Console(tab)

	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#report"))); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	text, err := chromedp.Run(tab, chromedp.TextContent(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Problems", "Tasks", "Pools", "Guards", "Open cleanup scopes", "Goroutines no task owns",
		"browser/" + svgName, // the hostile task, as text
		imgName,              // the hostile group, as text
		"stand-in/" + scriptName,
		`browser-db`, "3 / 4 (", "held by", "browser/handler", "never waited",
		"browser-scores", "close " + scriptName,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page's text lacks %q", want)
		}
	}
	if !strings.Contains(text, "line break") && !strings.Contains(text, lineName) {
		t.Errorf("the page's text lacks the task named %q", lineName)
	}
	for expr, want := range map[string]any{
		`typeof window.__pwned`: "undefined", // no hostile script ran
		`document.querySelectorAll("#report script, #report img, #report [onerror]").length`:       float64(0),
		`document.getElementById("auto").hidden`:                                                   false, // the page's own script ran
		`document.querySelectorAll("ul.tree > li").length > 0`:                                     true,
		`getComputedStyle(document.querySelector(".fill")).backgroundColor !== "rgba(0, 0, 0, 0)"`: true,
	} {
		got, err := chromedp.Run(tab, chromedp.Evaluate[any](expr))
		if err != nil || got != want {
			t.Errorf("%s = %v (%v), want %v", expr, got, err, want)
		}
	}

	// It refreshes itself (every 2 s) with nothing breaking, and pauses.
	before, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#taken")))
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`document.getElementById("taken").textContent !== `+jsString(before),
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the page did not refresh itself within 10s: %v", err)
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#pause"))); err != nil {
		t.Fatal(err)
	}
	if label, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#pause"))); label != "resume" {
		t.Errorf("after a click the pause button reads %q, want resume", label)
	}

	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(t.TempDir(), "leakcheck-page.png")
	if err := os.WriteFile(png, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the live page: %s", png)
	if dir := os.Getenv("TETHER_TEST_SCREENSHOTS"); dir != "" { // to keep it past the test
		if err := os.WriteFile(filepath.Join(dir, "leakcheck-page.png"), shot, 0o644); err != nil {
			t.Error(err)
		}
	}

	// The full snapshot renders too.
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL+"/?mode=full"), chromedp.WaitVisible(chromedp.CSS("#report"))); err != nil {
		t.Fatal(err)
	}
	if ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.body.textContent.includes("full snapshot") && typeof window.__pwned === "undefined"`)); err != nil || !ok {
		t.Errorf("the full snapshot's page: %v %v", ok, err)
	}

	// The JSON view parses, in the page and in Go, and keeps names as they are.
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL+"/?format=json")); err != nil {
		t.Fatal(err)
	}
	if mode, err := chromedp.Run(tab, chromedp.Evaluate[string](`JSON.parse(document.body.innerText).mode`)); err != nil || mode != "light" {
		t.Errorf("JSON.parse in the page: mode %q, %v", mode, err)
	}
	raw, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	var r leakcheck.Report
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("the JSON view does not decode into a Report: %v", err)
	}
	found := false
	for _, e := range r.Entries {
		found = found || e.Kind == leakcheck.KindTask && e.Name == "browser/"+svgName
	}
	if !found {
		t.Errorf("the JSON lacks the task named %q", "browser/"+svgName)
	}

	cancelTab() // closes the tab; the console iterator ends
	var problems []string
	for m, err := range console {
		if err != nil {
			break
		}
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
			problems = append(problems, m.String())
		}
	}
	if len(problems) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dialogs) > 0 {
		t.Errorf("the page opened dialogs (a hostile name ran as script): %q", dialogs)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// plantService builds a small service with one of everything the page
// shows, and hostile names, all stopped when the test ends.
func plantService(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	stop := make(chan struct{})
	p, err := pool.New(pool.Config[int]{Name: "browser-db", MaxSize: 4, Logger: quiet, LeakAfter: time.Millisecond,
		New: func(context.Context) (int, error) { return 1, nil }})
	if err != nil {
		t.Fatal(err)
	}
	idle, err := p.Acquire(ctx) // one idle resource
	if err != nil {
		t.Fatal(err)
	}
	idle.Release()

	g := supervise.New(ctx, "browser", supervise.Logger(quiet))
	holding := make(chan struct{}, 3)
	for _, name := range []string{"handler", svgName, lineName} {
		g.Go(name, func(ctx context.Context) error {
			l, err := p.Acquire(ctx)
			if err != nil {
				return err
			}
			defer l.Release()
			if name == "handler" {
				go func() { <-stop }() // a goroutine started inside the task
				inner := supervise.New(ctx, "workers", supervise.Logger(quiet))
				inner.Go("poller", func(context.Context) error { <-stop; return nil })
				defer inner.Wait()
			}
			holding <- struct{}{}
			<-stop
			return nil
		})
	}
	for range 3 {
		<-holding
	}
	scores := guard.New("browser-scores", 0)
	snap := scores.Load()
	scores.CompareAndSwap(ctx, snap.Version, 1)
	scores.CompareAndSwap(ctx, snap.Version, 2) // a conflict
	scope := cleanup.New("browser-scope")
	scope.Defer("close "+scriptName, func(context.Context) error { return nil })
	scope.Defer("flush", func(context.Context) error { return nil })
	forgotten := supervise.New(ctx, imgName, supervise.Logger(quiet))
	forgotten.Go("quick", func(context.Context) error { return nil })
	go func() { <-stop }() // an unsupervised goroutine
	site, _ := testkit.HereSite()
	register(t, track.State{
		Kind: track.KindGroup, Name: "stand-in", Site: site, Created: time.Now(),
		Items: []track.Item{{Kind: track.ItemTask, Name: "stand-in/" + scriptName, Since: time.Now().Add(-time.Minute), State: "running", Site: site}},
	})
	register(t, track.State{
		Kind: track.KindPool, Name: "browser-cache" + imgName, Site: site, Created: time.Now(),
		Counters: []track.Counter{{Name: "max_size", Value: 1}, {Name: "in_use", Value: 1}, {Name: "idle", Value: 0}},
		Items: []track.Item{
			{Kind: track.ItemLease, Name: "#1", Owner: "stand-in/" + scriptName, Since: time.Now().Add(-90 * time.Second), State: "held", Site: site, Detail: "held past LeakAfter (1m)"},
			{Kind: track.ItemWaiter, Owner: "browser/handler", Since: time.Now().Add(-3 * time.Second), State: "waiting", Site: site},
		},
	})

	t.Cleanup(func() {
		close(stop)
		if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
		forgotten.Wait()
		scope.Close(ctx)
		if err := p.Close(); err != nil {
			t.Error(err)
		}
		// A guard stays registered until it is collected: drop it and
		// wait, so that later tests do not find its conflict.
		scores = nil
		if !testkit.Collect(t, func() bool { _, ok := testkit.Registered(track.KindGuard, "browser-scores"); return !ok }) {
			t.Error("the dropped guard was never collected")
		}
	})
}
