package sqlstore_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/guard/sqlstore"
)

// The replica tests re-execute this test binary as several OS processes
// (TestReplicaChild, selected with -test.run and childEnv), each
// incrementing the same few keys of one table through its own guard.Map
// and its own connections: replicas of a service sharing a database.
const (
	childEnv   = "TETHER_SQLSTORE_REPLICA" // the child's role, as JSON
	replicas   = 4
	increments = 500
	keys       = 3
)

// role is what a child process is told to do.
type role struct {
	Backend    string
	Place      place
	Table      string
	Name       string // its task is Name+"/worker"
	Increments int
	Keys       int
}

// A child speaks in lines on its stdout:
//
//	process pid 4242 on host   its Store's process name, first
//	ready                      then waits for a line on stdin
//	ack k1 17                  an Update committed version 17 of k1
//	conflict <process>         a write refused: <process> wrote the row
//	stats <updates> <conflicts>
//	last <message>             the last ConflictError's message
//	done
func TestReplicaChild(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		t.Skip("a child process of TestReplicas and TestReplicaKilled")
	}
	var r role
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatal(err)
	}
	var b backend
	for _, x := range backends {
		if x.name == r.Backend {
			b = x
		}
	}
	ctx := context.Background()
	db := r.Place.db(t)
	store, err := sqlstore.New[string, int](ctx, db, sqlstore.Config[int]{Dialect: b.dialect, Table: r.Table})
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush() // each line is written before the next statement runs
	}
	m := guard.NewMapIn("counters", &observer{Store: store, say: say})
	say("process %s", store.Process())
	say("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	worker := taskCtx(r.Name + "/worker")
	for i := range r.Increments {
		key := "k" + strconv.Itoa(i%r.Keys)
		s, err := m.Update(worker, key, inc)
		if err != nil {
			t.Fatal(err)
		}
		say("ack %s %d", key, s.Version)
	}
	st := m.Stats()
	say("stats %d %d", st.Updates, st.Conflicts)
	if st.LastConflict != nil {
		say("last %s", st.LastConflict)
	}
	say("done")
}

// observer reports every conflict the Store sees, naming the process of
// the row that won.
type observer struct {
	*sqlstore.Store[string, int]
	say func(string, ...any)
}

func (o *observer) CompareAndSwap(ctx context.Context, key string, base uint64, next guard.Snapshot[int]) (guard.Snapshot[int], bool, error) {
	cur, ok, err := o.Store.CompareAndSwap(ctx, key, base, next)
	if err == nil && !ok {
		o.say("conflict %s", cur.Process)
	}
	return cur, ok, err
}

// child is a running replica, as its parent sees it.
type child struct {
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  bytes.Buffer
	ready   chan struct{} // closed at "ready"
	acked   chan int      // each ack's ordinal, for the kill
	mu      sync.Mutex
	process string
	acks    []ack
	fails   []string // conflicts' processes
	stats   []int64  // updates, conflicts
	last    string
	done    bool
}

type ack struct {
	key     string
	version uint64
}

// TestReplicas runs 4 processes, each doing 500 guard.Map.Update increments
// on the same 3 keys of one table: no increment is lost, the conflicts are
// counted, and each names the other process that won.
func TestReplicas(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) { runReplicas(t, b, false) })
}

// TestReplicaKilled is TestReplicas with one process killed (SIGKILL)
// mid-run: every increment it acknowledged is in the table, at most one
// more that it did not (the one in flight), nothing half-written, and the
// others finish.
func TestReplicaKilled(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) { runReplicas(t, b, true) })
}

func runReplicas(t *testing.T, b backend, kill bool) {
	p := b.open(t)
	db := p.db(t)
	store := newStore[int](t, b, p, db, "counters") // creates the table once, for all
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	children := make([]*child, replicas)
	var readers sync.WaitGroup
	for i := range children {
		c := &child{name: "replica-" + strconv.Itoa(i), ready: make(chan struct{}), acked: make(chan int, increments)}
		children[i] = c
		cfg, _ := json.Marshal(role{Backend: b.name, Place: p, Table: p.Prefix + "counters", Name: c.name, Increments: increments, Keys: keys})
		c.cmd = exec.CommandContext(ctx, os.Args[0], "-test.run=^TestReplicaChild$", "-test.count=1")
		c.cmd.Env = append(os.Environ(), childEnv+"="+string(cfg))
		c.cmd.Stderr = &c.stderr
		var err error
		if c.stdin, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := c.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		readers.Go(func() { c.read(t, stdout) })
	}
	for _, c := range children {
		select {
		case <-c.ready:
		case <-ctx.Done():
			t.Fatalf("%s never got ready: %s", c.name, c.stderr.String())
		}
	}
	for _, c := range children { // all start together
		io.WriteString(c.stdin, "go\n")
		c.stdin.Close()
	}
	victim := children[0]
	if kill {
		for range 100 {
			select {
			case <-victim.acked:
			case <-ctx.Done():
				t.Fatalf("%s acknowledged fewer than 100 increments", victim.name)
			}
		}
		if err := victim.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range children {
		err := c.cmd.Wait()
		if kill && c == victim {
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ProcessState.String() != "signal: killed" {
				t.Errorf("%s: %v, want it killed", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, c.stderr.String())
		}
	}
	readers.Wait() // every line a child wrote has been read, to EOF
	if t.Failed() {
		return
	}
	check(t, store, children, kill)
}

// read parses a child's stdout until EOF.
func (c *child) read(t *testing.T, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		word, rest, _ := strings.Cut(sc.Text(), " ")
		c.mu.Lock()
		switch word {
		case "process":
			c.process = rest
		case "ready":
			close(c.ready)
		case "ack":
			k, v, _ := strings.Cut(rest, " ")
			n, _ := strconv.ParseUint(v, 10, 64)
			c.acks = append(c.acks, ack{k, n})
			c.acked <- len(c.acks)
		case "conflict":
			c.fails = append(c.fails, rest)
		case "stats":
			for _, f := range strings.Fields(rest) {
				n, _ := strconv.ParseInt(f, 10, 64)
				c.stats = append(c.stats, n)
			}
		case "last":
			c.last = rest
		case "done":
			c.done = true
		}
		c.mu.Unlock()
	}
}

func check(t *testing.T, store *sqlstore.Store[string, int], children []*child, kill bool) {
	processes := map[string]string{} // process to child
	for _, c := range children {
		processes[c.process] = c.name
	}
	acked := map[string]map[uint64]string{} // key, version: who acknowledged it
	total, conflicts := 0, 0
	for i, c := range children {
		killed := kill && i == 0
		if !killed && (!c.done || len(c.acks) != increments || len(c.stats) != 2 || c.stats[0] != increments) {
			t.Errorf("%s: done %v after %d acks, stats %v; want %d updates", c.name, c.done, len(c.acks), c.stats, increments)
		}
		for _, a := range c.acks {
			if acked[a.key] == nil {
				acked[a.key] = map[uint64]string{}
			}
			if other, ok := acked[a.key][a.version]; ok {
				t.Errorf("%s and %s both committed v%d of %s: an update was lost", other, c.name, a.version, a.key)
			}
			acked[a.key][a.version] = c.name
		}
		total += len(c.acks)
		if !killed && c.stats[1] != int64(len(c.fails)) {
			t.Errorf("%s counted %d conflicts, its store saw %d", c.name, c.stats[1], len(c.fails))
		}
		for _, p := range c.fails {
			if p == c.process || processes[p] == "" {
				t.Errorf("%s (%s) lost a race to %q: want another replica's process among %v", c.name, c.process, p, slices.Collect(maps.Keys(processes)))
			}
		}
		conflicts += len(c.fails)
		if !killed && c.last != "" {
			t.Logf("%s's last conflict: %s", c.name, c.last)
		}
	}
	if conflicts == 0 {
		t.Errorf("no conflicts in %d increments of %d keys by %d processes started together: the race was not exercised", total, keys, replicas)
	}

	rows := 0
	err := store.Range(context.Background(), func(k string, s guard.Snapshot[int]) bool {
		rows += s.Value
		// A row is whole: one version per increment, its writer one of
		// the replicas, named with its process.
		if s.Value != int(s.Version) || !strings.HasSuffix(s.Writer, "/worker") || processes[s.Process] == "" || s.At.IsZero() {
			t.Errorf("row %s: %+v; want value = version, written by a replica", k, s)
		}
		missing := 0
		for v := uint64(1); v <= s.Version; v++ {
			if _, ok := acked[k][v]; !ok {
				missing++
			}
		}
		if len(acked[k])+missing != int(s.Version) {
			t.Errorf("row %s at v%d, but versions up to v%d were acknowledged", k, s.Version, slices.Max(slices.Collect(maps.Keys(acked[k]))))
		}
		if missing > 0 {
			t.Logf("row %s: %d committed increment(s) never acknowledged", k, missing)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every acknowledged increment is in the table. Only the killed
	// replica can have committed one more: the Update in flight when it
	// died, whose statement the database may have finished.
	if lost := total - rows; lost > 0 {
		t.Errorf("the table holds %d increments, %d were acknowledged: %d lost", rows, total, lost)
	}
	extra := rows - total
	if (!kill && extra != 0) || extra > 1 {
		t.Errorf("the table holds %d increments, %d were acknowledged; want at most %d more", rows, total, map[bool]int{false: 0, true: 1}[kill])
	}
	t.Logf("%d increments acknowledged (%d more committed unacknowledged), %d conflicts, each won by another process", total, extra, conflicts)
}
