package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeShowsThisProgram keeps the README's code block identical to
// main.go's func main, so the README never shows code that does not build.
func TestReadmeShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "[`examples/quickstart/main.go`](examples/quickstart/main.go):\n\n```go\n")
	block, _, ok2 := strings.Cut(block, "```\n")
	if !ok || !ok2 {
		t.Fatal("README has no quickstart code block after the link to examples/quickstart/main.go")
	}
	_, body, _ := strings.Cut(string(src), "\nfunc main() {")
	if want := "func main() {" + body; block != want {
		t.Fatalf("README's code block differs from main.go's func main:\n--- README\n%s\n--- main.go\n%s", block, want)
	}
}
