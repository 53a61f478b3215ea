// Package retry holds tether's one wait-and-look-again loop: calling a
// check until it passes or a deadline passes, with pauses that start short
// (goroutines on their way out usually finish within microseconds) and
// double up to MaxPause (so a slow one does not cost a busy loop).
package retry

import (
	"runtime"
	"time"
)

// MaxPause is the longest pause between two checks.
const MaxPause = 100 * time.Millisecond

// Until calls ok until it returns true or deadline has passed, and returns
// ok's last result. ok is always called at least once, and once more after
// the last pause. Between calls Until yields the processor, then sleeps:
// first, then twice as long each time, at most MaxPause, never past the
// deadline.
func Until(deadline time.Time, first time.Duration, ok func() bool) bool {
	pause := first
	for {
		if ok() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		runtime.Gosched()
		time.Sleep(min(pause, left))
		pause = min(2*pause, MaxPause)
	}
}
