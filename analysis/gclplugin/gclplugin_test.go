package gclplugin_test

import (
	"strings"
	"testing"

	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/tether-go/tether/analysis/gclplugin"
	"github.com/tether-go/tether/analysis/internal/testdir"
	"github.com/tether-go/tether/analysis/nakedgo"
)

// TestRegistered checks that importing the package registers the plugin,
// which is all golangci-lint's generated plugins.go does with it.
func TestRegistered(t *testing.T) {
	newPlugin, err := register.GetPlugin(gclplugin.Name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPlugin(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.GetLoadMode(); got != register.LoadModeTypesInfo {
		t.Errorf("GetLoadMode() = %q, want %q", got, register.LoadModeTypesInfo)
	}
}

func build(t *testing.T, raw any) []*analysis.Analyzer {
	t.Helper()
	p, err := gclplugin.New(raw)
	if err != nil {
		t.Fatalf("New(%v): %v", raw, err)
	}
	as, err := p.BuildAnalyzers()
	if err != nil {
		t.Fatalf("BuildAnalyzers: %v", err)
	}
	return as
}

func summary(as []*analysis.Analyzer) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, a.Name+"/tests="+a.Flags.Lookup("tests").Value.String())
	}
	return strings.Join(parts, " ")
}

// TestSettings decodes settings as golangci-lint passes them (YAML decoded
// into maps) and checks the analyzers they configure.
func TestSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  any
		want string
	}{
		{"none", nil, "nakedgo/tests=false leaserelease/tests=false groupwait/tests=false scopeclose/tests=false"},
		{"empty", map[string]any{}, "nakedgo/tests=false leaserelease/tests=false groupwait/tests=false scopeclose/tests=false"},
		{"tests", map[string]any{"tests": true}, "nakedgo/tests=true leaserelease/tests=true groupwait/tests=true scopeclose/tests=true"},
		{"disable", map[string]any{"disable": []any{"nakedgo", "scopeclose"}}, "leaserelease/tests=false groupwait/tests=false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summary(build(t, tc.raw)); got != tc.want {
				t.Errorf("analyzers = %s\nwant        %s", got, tc.want)
			}
		})
	}
	// The plugin's analyzers are its own: tethervet's stay as they were.
	build(t, map[string]any{"tests": true})
	if got := nakedgo.Analyzer.Flags.Lookup("tests").Value.String(); got != "false" {
		t.Errorf("nakedgo.Analyzer -tests = %s after the plugin set its own; want false", got)
	}
}

func TestBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  any
		want string
	}{
		{"unknown field", map[string]any{"test": true}, `tethervet: decoding settings: json: unknown field "test"`},
		{"unknown analyzer", map[string]any{"disable": []any{"nakedgoo"}}, `tethervet: settings: disable: unknown analyzer "nakedgoo"; the analyzers are nakedgo, leaserelease, groupwait, scopeclose`},
		{"wrong type", map[string]any{"tests": "yes"}, "tethervet: decoding settings: json: cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gclplugin.New(tc.raw)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("New(%v) = %v, want an error starting %q", tc.raw, err, tc.want)
			}
		})
	}
}

// TestPlainMessages runs the plugin's leaserelease on a leak: the message
// does not repeat the analyzer's name (golangci-lint prefixes it), and the
// related pointer to the return, which golangci-lint would show as an
// issue of its own, is gone.
func TestPlainMessages(t *testing.T) {
	var lr *analysis.Analyzer
	for _, a := range build(t, nil) {
		if a.Name == "leaserelease" {
			lr = a
		}
	}
	results := analysistest.Run(t, testdir.Path(), lr, "gclcases")
	n := 0
	for _, r := range results {
		for _, d := range r.Diagnostics {
			n++
			if len(d.Related) != 0 {
				t.Errorf("%s: related information %v, want none", d.Message, d.Related)
			}
		}
	}
	if n == 0 {
		t.Error("no diagnostics: the test checks nothing")
	}
}
