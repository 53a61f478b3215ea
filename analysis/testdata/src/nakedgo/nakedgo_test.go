package nakedgo

import "testing"

// Test files are not checked by default: this raw goroutine is not reported.
func TestWork(t *testing.T) {
	done := make(chan struct{})
	go func() { work(); close(done) }()
	<-done
}
