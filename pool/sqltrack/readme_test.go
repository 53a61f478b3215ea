package sqltrack_test

import (
	"testing"

	"github.com/tether-go/tether/internal/testkit"
)

// TestReadmeShowsTheExample keeps the README's database/sql section identical to
// Example_yourDatabase, so the README never shows code that does not
// build.
func TestReadmeShowsTheExample(t *testing.T) {
	testkit.WantReadmeShows(t, "../../README.md", "pool/sqltrack/example_readme_test.go", "example_readme_test.go", "Example_yourDatabase")
}
