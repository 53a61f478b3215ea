package nakedgotests

func startInTest(done chan struct{}) {
	go func() { work(); close(done) }() // want `goroutine outside supervise`
	//tether:allow nakedgo the test waits on done
	go func() { work(); close(done) }()
}
