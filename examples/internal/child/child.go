// Package child runs part of a test in a child process: the test binary,
// run again for that one test. The examples leak on purpose (that is what
// they show), and tether keeps a record of a pool that leaked in its
// registry for the rest of the process, so that a later leak report still
// names the line to fix. In a test binary the report at exit (TestMain's
// leakcheck) would find those records; in a child they end with it, as
// they would in the example program run on its own.
package child

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// envVar names the test a child process was started for.
const envVar = "TETHER_EXAMPLE_CHILD"

// Run runs f in a child process and decodes what it returned into out (a
// pointer to f's result type). It must be the first thing the test named
// t.Name() does: in the child, Run calls f, writes its result as JSON to
// stdout and exits the process, before TestMain's checks. In the parent,
// it starts the child and waits for it; the child's stderr goes to the
// test's log.
func Run[T any](t *testing.T, out *T, f func() (T, error)) {
	t.Helper()
	if os.Getenv(envVar) == t.Name() {
		v, err := f()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), envVar+"="+t.Name())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child process: %v\nstderr:\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("child process: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
}
