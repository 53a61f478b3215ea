// Package testdir locates the analyzers' shared analysistest tree.
package testdir

import (
	"path/filepath"
	"runtime"
)

// Path returns analysis/testdata, the GOPATH-style tree that holds the stub
// tether packages and every analyzer's test cases.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}
