//go:build unix

package leakcheck_test

import "syscall"

// processCPU returns the CPU time the process has used, user and system,
// in nanoseconds: a benchmark metric that other processes competing for
// the machine disturb far less than the wall clock.
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
