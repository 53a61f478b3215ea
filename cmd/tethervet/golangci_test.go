package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// customGCLEnv names a custom golangci-lint binary built with tethervet's
// plugin (.ci/golangci/.custom-gcl.yml). CI builds one and sets it; without
// it the test is skipped, since building golangci-lint takes minutes.
const customGCLEnv = "TETHERVET_CUSTOM_GCL"

// TestGolangciPlugin runs the custom golangci-lint over the examples with
// .ci/golangci/.golangci.yml and checks that the plugin reports exactly
// what go vet -vettool=tethervet does there: the marked lines. (TestModule
// vets the whole module; golangci-lint has no cache between CI runs, so it
// lints only the examples, which use every tether package.)
func TestGolangciPlugin(t *testing.T) {
	bin := os.Getenv(customGCLEnv)
	if bin == "" {
		t.Skip(customGCLEnv + " is not set: no custom golangci-lint to run (.ci/run builds one)")
	}
	root := moduleRoot(t)
	want := moduleMarkers(t, filepath.Join(root, "examples"))
	if len(want) == 0 {
		t.Fatal("no tethervet want markers in the examples")
	}
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(bin, "run",
		"-c", filepath.Join(root, ".ci", "golangci", ".golangci.yml"),
		"--output.json.path", report, "--output.text.path", "stderr",
		"./examples/...")
	cmd.Dir = root
	// golangci-lint caches under the user's cache directory unless told.
	cmd.Env = append(os.Environ(), "GOLANGCI_LINT_CACHE="+t.TempDir(), "GOFLAGS=", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("%s run: %v\n%s", bin, err, out)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var r struct {
		Issues []struct {
			FromLinter string
			Text       string
			Pos        struct {
				Filename string
				Line     int
			}
		}
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	var got []finding
	for _, is := range r.Issues {
		if is.FromLinter != "tethervet" {
			t.Errorf("issue from %s, want only tethervet: %s", is.FromLinter, is.Text)
			continue
		}
		file := is.Pos.Filename
		if !filepath.IsAbs(file) {
			file = filepath.Join(root, file)
		}
		got = append(got, finding{file: file, line: is.Pos.Line, message: is.Text})
	}
	match(t, got, want)
}
