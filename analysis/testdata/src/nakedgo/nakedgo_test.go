package nakedgo

// Test files are not checked by default: this raw goroutine is not reported.
// (The file needs no testing import to be a test file; leaving it out keeps
// package testing out of the analysistest run.)
func startInTest(done chan struct{}) {
	go func() { work(); close(done) }()
}
