package pgxtrack_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeShowsTheExample keeps the README's pgxpool section identical to
// Example_yourDatabase, so the README never shows code that does not
// build.
func TestReadmeShowsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	const link = "[`pool/pgxtrack/example_readme_test.go`](pool/pgxtrack/example_readme_test.go):\n\n```go\n"
	_, block, ok := strings.Cut(string(readme), link)
	block, _, ok2 := strings.Cut(block, "```\n")
	if !ok || !ok2 {
		t.Fatal("README has no code block after the link to pool/pgxtrack/example_readme_test.go")
	}
	_, body, _ := strings.Cut(string(src), "\nfunc Example_yourDatabase() {")
	if want := "func Example_yourDatabase() {" + body; block != want {
		t.Fatalf("README's block differs from Example_yourDatabase:\n--- README\n%s\n--- example_readme_test.go\n%s", block, want)
	}
}
