package supervise_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"testing"

	"github.com/tether-go/tether/internal/stack"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

// TestLeakcheckKnowsSupervisesFrames ties supervise's code to the function
// names leakcheck looks for in goroutine dumps (track.FuncTaskRun,
// track.FuncMain): it takes the stacks of a running task's goroutine and of
// the goroutine running Main and checks each shows its name. Renaming or
// restructuring those functions fails here; fix the constants in
// internal/track to match, or every leak report loses the difference
// between a task and a goroutine it started, and counts Main's own
// goroutine as a leak.
func TestLeakcheckKnowsSupervisesFrames(t *testing.T) {
	discard := supervise.Logger(slog.New(slog.DiscardHandler))

	t.Run("task", func(t *testing.T) {
		g := supervise.New(context.Background(), "frames", discard)
		own := make(chan []stack.Frame, 1)
		g.Go("task", func(context.Context) error {
			own <- ownFrames()
			return nil
		})
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if frames := <-own; !hasFunc(frames, track.FuncTaskRun) {
			t.Errorf("a task's goroutine does not run %s (track.FuncTaskRun); its frames:\n%v", track.FuncTaskRun, frames)
		}
	})

	t.Run("Main", func(t *testing.T) {
		t.Setenv("GODEBUG", os.Getenv("GODEBUG")) // Main's report may set it
		var buf [64]byte
		mainID := stack.ID(buf[:runtime.Stack(buf[:], false)])
		var frames []stack.Frame
		supervise.Main("frames", func(context.Context, *supervise.Group) error {
			for _, g := range allGoroutines() {
				if g.ID == mainID {
					frames = g.Frames
				}
			}
			return nil
		}, supervise.MainContext(context.Background()), supervise.Signals(), supervise.Exit(func(int) {}),
			supervise.Stderr(io.Discard), supervise.GroupOptions(discard))
		if !hasFunc(frames, track.FuncMain) {
			t.Errorf("the goroutine running Main does not run %s (track.FuncMain); its frames:\n%v", track.FuncMain, frames)
		}
	})
}

func ownFrames() []stack.Frame {
	buf := make([]byte, 64<<10)
	return stack.ParseFull(buf[:runtime.Stack(buf, false)])[0].Frames
}

func allGoroutines() []stack.Goroutine {
	for size := 1 << 20; ; size *= 2 {
		buf := make([]byte, size)
		if n := runtime.Stack(buf, true); n < size {
			return stack.ParseFull(buf[:n])
		}
	}
}

func hasFunc(frames []stack.Frame, fn string) bool {
	for _, f := range frames {
		if f.Func == fn {
			return true
		}
	}
	return false
}
