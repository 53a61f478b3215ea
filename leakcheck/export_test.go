package leakcheck

import "os"

// SnapshotOfDump builds a report from the registry and a recorded goroutine
// dump (full form, or profile form when light), as Snapshot does from a live
// one.
func SnapshotOfDump(dump string, light bool) *Report {
	return snapshot(&settings{light: light}, &dump)
}

// VerifyTestMainCode is VerifyTestMain without the os.Exit, writing to w.
func VerifyTestMainCode(m TestingM, w *os.File, opts ...Option) int {
	return verifyTestMain(m, w, buildSettings(opts))
}
