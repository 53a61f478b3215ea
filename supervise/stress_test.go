package supervise_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/supervise"
)

// node is a task in a random tree: a leaf that succeeds, fails or panics,
// or a task that runs a child group of nodes.
type node struct {
	kind     string // "ok", "fail", "panic", "group"
	children []*node
}

func randomTree(r *rand.Rand, depth int) *node {
	if depth == 0 || r.IntN(3) == 0 {
		return &node{kind: []string{"ok", "ok", "fail", "panic"}[r.IntN(4)]}
	}
	n := &node{kind: "group"}
	for range 1 + r.IntN(4) {
		n.children = append(n.children, randomTree(r, depth-1))
	}
	return n
}

// failing returns the paths that must fail when every group continues on
// error: failing leaves, and the tasks whose child group had a failure.
func (n *node) failing(path string, out map[string]bool) bool {
	switch n.kind {
	case "fail", "panic":
		out[path] = true
		return true
	case "group":
		any := false
		for i, c := range n.children {
			if c.failing(fmt.Sprintf("%s/g/n%d", path, i), out) {
				any = true
			}
		}
		if any {
			out[path] = true
		}
		return any
	}
	return false
}

func (n *node) run(ctx context.Context, opts []supervise.Option) error {
	switch n.kind {
	case "fail":
		return errBoom
	case "panic":
		panic("stress")
	case "group":
		g := supervise.New(ctx, "g", opts...)
		for i, c := range n.children {
			g.Go(fmt.Sprintf("n%d", i), func(ctx context.Context) error { return c.run(ctx, opts) })
		}
		return g.Wait()
	}
	return nil
}

// TestStress runs random trees of nested groups, in parallel, under the
// race detector. With ContinueOnError everywhere, exactly the expected
// tasks fail, each reported exactly once; failing fast, every panic is
// reported at most once and nothing is left running. STRESS_DURATION
// (for example 1m) runs it longer.
func TestStress(t *testing.T) {
	d := 500 * time.Millisecond
	if s := os.Getenv("STRESS_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatal(err)
		}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; time.Now().Before(deadline) && !t.Failed(); i++ {
				stressOnce(t, r, fmt.Sprintf("s%d-%d", w, i), i%2 == 0)
			}
		})
	}
	wg.Wait()
}

func stressOnce(t *testing.T, r *rand.Rand, name string, continueOnError bool) {
	tree := &node{kind: "group"}
	for range 1 + r.IntN(5) {
		tree.children = append(tree.children, randomTree(r, 3))
	}
	rec := &recorder{}
	opts := []supervise.Option{supervise.OnEvent(rec.hook), quiet()}
	if continueOnError {
		opts = append(opts, supervise.ContinueOnError())
	}
	root := supervise.New(context.Background(), name, opts...)
	want := map[string]bool{}
	for i, c := range tree.children {
		c.failing(fmt.Sprintf("%s/n%d", name, i), want)
		root.Go(fmt.Sprintf("n%d", i), func(ctx context.Context) error { return c.run(ctx, opts) })
	}
	err := root.Wait()

	reported := map[string]int{}
	errOf := map[string]error{}
	for _, e := range rec.events {
		if e.Kind == supervise.Failed || e.Kind == supervise.Panicked {
			reported[e.Task]++
			errOf[e.Task] = e.Err
		}
	}
	for p, n := range reported {
		if n != 1 {
			t.Errorf("%s: task %s reported %d failures, want 1", name, p, n)
		}
		if !want[p] {
			t.Errorf("%s: task %s failed but should not have: %v", name, p, errOf[p])
		}
	}
	if continueOnError {
		for p := range want {
			if reported[p] != 1 {
				t.Errorf("%s: task %s should have failed once; reported %d times", name, p, reported[p])
			}
		}
	}
	rootFailed := slices.ContainsFunc(taskErrors(err), func(te *supervise.TaskError) bool { return want[te.Task] })
	if (err != nil) != rootFailed || (err == nil) == (len(reported) > 0 && anyRootChild(reported, name, len(tree.children))) {
		t.Errorf("%s: Wait = %v with failures %v", name, err, reported)
	}
	var pe *supervise.PanicError
	if err != nil && !errors.As(err, &pe) && !errors.Is(err, errBoom) {
		t.Errorf("%s: Wait error carries neither a panic nor boom: %v", name, err)
	}
	if n := len(root.Tasks()); n != 0 {
		t.Errorf("%s: %d tasks live after Wait", name, n)
	}
}

func anyRootChild(reported map[string]int, root string, n int) bool {
	for i := range n {
		if reported[fmt.Sprintf("%s/n%d", root, i)] > 0 {
			return true
		}
	}
	return false
}
