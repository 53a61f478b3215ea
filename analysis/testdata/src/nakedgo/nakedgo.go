// Package nakedgo holds the analyzer's test cases.
package nakedgo

func work() {}

func raw() {
	go work()   // want `^nakedgo: go statement starts a goroutine outside supervise, which nothing names, waits for or recovers; run it as a task with g.Go\(name, fn\) on a supervise.Group, or say why it must be raw: //tether:allow nakedgo <reason>$`
	go func() { // want `goroutine outside supervise`
		work()
	}()
}

func allowedAbove() {
	//tether:allow nakedgo the scheduler's own worker; Stop waits for it
	go work()
}

func allowedTrailing() {
	go work() //tether:allow nakedgo the scheduler's own worker; Stop waits for it
}

// A trailing directive covers its own line only, not the next.
func trailingCoversItsLineOnly() {
	go work() //tether:allow nakedgo the first is explained
	go work() // want `goroutine outside supervise`
}

// A directive two lines up covers nothing.
func tooFar() {
	//tether:allow nakedgo too far away // want `silences nothing`

	go work() // want `goroutine outside supervise`
}

func noReason() {
	//tether:allow nakedgo // want `^nakedgo: //tether:allow nakedgo needs a reason: say why the rule does not apply here \(//tether:allow nakedgo <reason>\)$`
	go work() // want `goroutine outside supervise`
}

func unused() {
	//tether:allow nakedgo nothing here any more // want `^nakedgo: //tether:allow nakedgo silences nothing: no nakedgo report on its line or the next; remove it$`
	work()
}

// Not a directive: a space after the slashes, or a longer word.
func notDirectives() {
	// tether:allow nakedgo with a space it is prose
	go work() // want `goroutine outside supervise`
	//tether:allowed nakedgo another word
	go work() // want `goroutine outside supervise`
}

// A misspelt rule silences nothing, and says so.
func typo() {
	//tether:allow nakedog a typo // want `^nakedgo: //tether:allow names no known rule "nakedog"; the rules are nakedgo, leaserelease, groupwait, scopeclose$`
	go work() // want `goroutine outside supervise`
}
