// Command gen writes the real goroutine dumps that internal/stack's tests
// and fuzz targets use as their corpus. It lives under testdata, so the go
// tool's ./... patterns skip it. From the repository root:
//
//	D=internal/stack/testdata
//	go run ./$D/gen -out $D
//	GODEBUG=tracebackancestors=3,tracebacklabels=1 go run ./$D/gen -ancestors -out $D
//	GOEXPERIMENT=goroutineleakprofile go run ./$D/gen -leak -out $D
//	GOTRACEBACK=system go run ./$D/gen -crash 2>&1 | grep -v '^exit status' > $D/crash-system.txt
//	go run ./$D/gen/cgo -out $D
//
// Each dump is taken from this process, in a form the runtime writes:
// runtime.Stack(all) (the same text as the goroutine profile at debug=2),
// with and without GODEBUG tracebacklabels=1, inside a synctest bubble, and
// the goroutine profile at debug=1 (the first run); with the stacks of
// creators (-ancestors); the goroutine leak profile, whose headers say
// "(leaked)" (-leak); a crash at GOTRACEBACK=system, whose output holds the
// "gp=... m=..." headers and "fp=... sp=... pc=..." suffixes only crashes
// print (-crash); and goroutines blocked in C calls (./cgo). The tests
// read source lines from this file, so regenerate the dumps after editing
// it. synthetic.txt is written by hand, for what no live dump here shows.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

var out = flag.String("out", ".", "directory to write the dumps to")

// Box is generic so that its methods print with "[...]" in tracebacks.
type Box[T any] struct{ v T }

//go:noinline
func (b *Box[T]) WaitOnAVeryLongMethodNameThatGoesOnAndOnToTestLongNamesInDumps(ch chan T) T {
	return <-ch
}

//go:noinline
func deep(n int, stop chan struct{}) {
	if n == 0 {
		<-stop
		return
	}
	deep(n-1, stop)
}

//go:noinline
func deepThen(n int, f func()) {
	if n == 0 {
		f()
		return
	}
	deepThen(n-1, f)
}

func inlined(stop chan struct{}) { <-stop } // small enough to inline

type starter struct{ wg sync.WaitGroup }

// park starts the goroutines every dump shows: blocked on a channel, in a
// select, on a mutex, a WaitGroup, a sleep, deep recursion (elided frames),
// a generic method with a long name, an inlined frame, locked to a thread,
// and goroutines under hostile pprof labels.
func park(stop chan struct{}) func() {
	var s starter
	var mu sync.Mutex
	mu.Lock()
	var wg sync.WaitGroup
	wg.Add(1)
	gos := []func(){
		func() { <-stop },
		func() {
			select {
			case <-stop:
			case <-time.After(time.Hour):
			}
		},
		func() { mu.Lock(); mu.Unlock() },
		func() { wg.Wait() },
		func() { deep(150, stop) },
		func() {
			(&Box[map[string][]int]{}).WaitOnAVeryLongMethodNameThatGoesOnAndOnToTestLongNamesInDumps(make(chan map[string][]int))
		},
		func() { inlined(stop) },
		func() { runtime.LockOSThread(); <-stop; runtime.UnlockOSThread() },
	}
	for _, f := range gos {
		s.wg.Add(1)
		go func() { s.wg.Done(); f() }()
	}
	for _, labels := range [][]string{
		{"tether.group", "app", "tether.task", "app/worker"},
		{"tether.group", "app", "tether.task", "app/<script>alert(1)</script>"},
		{"tether.group", "app/\"quoted\"", "tether.task", "app/\"quoted\"/line\nbreak\ttab]:{}"},
		{"tether.task", "app/ünïcödé ☃ \x01\x7f", "other", "x"},
		{"tether.object", "42"},
	} {
		s.wg.Add(1)
		pprof.Do(context.Background(), pprof.Labels(labels...), func(context.Context) {
			go func() { s.wg.Done(); <-stop }()
		})
	}
	// A goroutine that starts another, so created-by lines name a parent.
	s.wg.Add(1)
	go func() {
		go func() { s.wg.Done(); <-stop }()
		<-stop
	}()
	s.wg.Wait()
	time.Sleep(50 * time.Millisecond) // let every goroutine park: this is a fixture generator, not a test
	return func() { mu.Unlock(); wg.Done() }
}

func stackAll() []byte {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

func write(name string, b []byte) {
	if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", name, len(b), "bytes")
}

func setGODEBUG(v string) {
	if err := os.Setenv("GODEBUG", v); err != nil {
		log.Fatal(err)
	}
}

func main() {
	leak := flag.Bool("leak", false, "write the goroutine leak profile (needs GOEXPERIMENT=goroutineleakprofile)")
	ancestors := flag.Bool("ancestors", false, "write a dump with ancestors (run with GODEBUG=tracebackancestors=3,tracebacklabels=1)")
	crash := flag.Bool("crash", false, "crash with every goroutine's stack (run with GOTRACEBACK=system, keep stderr)")
	flag.Parse()
	if *leak {
		writeLeak()
		return
	}
	if *ancestors {
		writeAncestors()
		return
	}
	if *crash {
		park(make(chan struct{}))
		panic("crash for the fixture")
	}
	stop := make(chan struct{})
	release := park(stop)

	setGODEBUG("")
	write("full.txt", stackAll())
	setGODEBUG("tracebacklabels=1")
	write("full-labels.txt", stackAll())

	var prof bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&prof, 1); err != nil {
		log.Fatal(err)
	}
	write("profile.txt", prof.Bytes())
	prof.Reset()
	if err := pprof.Lookup("goroutine").WriteTo(&prof, 2); err != nil {
		log.Fatal(err)
	}
	write("debug2-labels.txt", prof.Bytes())

	setGODEBUG("tracebacklabels=1")

	release()
	close(stop)

	// synctest: durable blocks and bubble ids. testing.Main exits.
	testing.Main(func(string, string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: "TestBubble", F: func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ch := make(chan int)
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { <-ch }()
				go func() {
					select {
					case <-ch:
					case <-time.After(time.Hour):
					}
				}()
				go func() { wg.Wait() }()
				synctest.Wait()
				write("full-synctest.txt", stackAll())
				close(ch)
				wg.Done()
			})
		}}}, nil, nil)
}

// writeLeak writes a dump in which the garbage collector has proved some
// goroutines leaked: they wait on channels nothing else can reach.
func writeLeak() {
	p := pprof.Lookup("goroutineleak")
	if p == nil {
		log.Fatal("no goroutineleak profile: build with GOEXPERIMENT=goroutineleakprofile")
	}
	for range 3 {
		go func() { <-make(chan int) }()
		go func() { make(chan int) <- 1 }()
	}
	time.Sleep(20 * time.Millisecond)
	var b bytes.Buffer
	if err := p.WriteTo(&b, 2); err != nil {
		log.Fatal(err)
	}
	write("full-leaked.txt", b.Bytes())
}

// writeAncestors writes a dump of goroutines three generations deep, whose
// creators' stacks the runtime prints under tracebackancestors. The setting
// is read when the program starts, so it comes from the environment.
func writeAncestors() {
	stop := make(chan struct{})
	started := make(chan struct{})
	go func() {
		go func() {
			// Started from deep recursion: an ancestor deeper than the
			// runtime records.
			deepThen(120, func() { go func() { close(started); <-stop }() })
			<-stop
		}()
		<-stop
	}()
	<-started
	time.Sleep(20 * time.Millisecond)
	write("full-ancestors.txt", stackAll())
	close(stop)
}
