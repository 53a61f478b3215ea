package nakedgotests

import "testing"

func TestWork(t *testing.T) {
	done := make(chan struct{})
	go func() { work(); close(done) }() // want `goroutine outside supervise`
	<-done
	//tether:allow nakedgo the test waits on done
	go func() { work(); close(done) }()
}
