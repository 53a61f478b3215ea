package leakcheck

import "io"

// SnapshotOfDump builds a report from the registry and a recorded goroutine
// dump (full form, or profile form when light), as Snapshot does from a live
// one.
func SnapshotOfDump(dump []byte, light bool) *Report {
	return snapshot(&settings{light: light}, dump)
}

// VerifyTestMainCode is VerifyTestMain without the os.Exit, writing to w.
func VerifyTestMainCode(m TestingM, w io.Writer, opts ...Option) int {
	return verifyTestMain(m, w, buildSettings(opts))
}

// LabelsInTracebacks is what a full snapshot does about GODEBUG
// tracebacklabels, with or without the TracebackLabels option.
func LabelsInTracebacks(enable bool) bool { return labelsInTracebacks(enable) }
