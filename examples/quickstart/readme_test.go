package main

import (
	"testing"

	"github.com/tether-go/tether/internal/testkit"
)

// TestReadmeShowsThisProgram keeps the README's code block identical to
// main.go's func main, so the README never shows code that does not build.
func TestReadmeShowsThisProgram(t *testing.T) {
	testkit.WantReadmeShows(t, "../../README.md", "examples/quickstart/main.go", "main.go", "main")
}
