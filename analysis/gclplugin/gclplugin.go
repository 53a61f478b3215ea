// Package gclplugin makes tethervet's analyzers a golangci-lint v2 module
// plugin, named "tethervet".
//
// Import it only from a golangci-lint binary built by `golangci-lint custom`
// (see the README's "Code review: tethervet" section for .custom-gcl.yml and
// .golangci.yml). Nothing in tether imports it.
//
// # Why an init
//
// tether has no init functions anywhere else: registration is a
// process-wide side effect. This package is the exception because
// golangci-lint's plugin system works only that way. `golangci-lint custom`
// generates a file of blank imports of its plugins into golangci-lint's own
// main package; the only code of a plugin that runs is what the import
// runs, so the plugin must call register.Plugin from init. The side effect
// is confined to the binary that asked for it, the one whose generated
// plugins.go imports this package, and it touches only golangci-lint's
// plugin table.
//
// # Settings
//
//	linters:
//	  settings:
//	    custom:
//	      tethervet:
//	        type: module
//	        settings:
//	          tests: false   # check _test.go files too (each analyzer's -tests flag)
//	          disable: []    # analyzers to leave out: nakedgo, leaserelease, groupwait, scopeclose
//
// Unknown settings and unknown analyzer names are errors, reported when
// golangci-lint starts.
package gclplugin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"

	"github.com/tether-go/tether/analysis/groupwait"
	"github.com/tether-go/tether/analysis/leaserelease"
	"github.com/tether-go/tether/analysis/nakedgo"
	"github.com/tether-go/tether/analysis/scopeclose"
)

// Name is the plugin's name under linters.settings.custom.
const Name = "tethervet"

func init() {
	register.Plugin(Name, New)
}

// Settings are the plugin's settings in .golangci.yml.
type Settings struct {
	// Tests checks _test.go files too. Off by default, as in tethervet.
	Tests bool `json:"tests"`
	// Disable names analyzers to leave out.
	Disable []string `json:"disable"`
}

// New is the plugin's constructor, as register.Plugin takes it: it decodes
// the settings and checks them.
func New(raw any) (register.LinterPlugin, error) {
	s, err := register.DecodeSettings[Settings](raw)
	if err != nil {
		return nil, fmt.Errorf("tethervet: %w", err)
	}
	for _, name := range s.Disable {
		if !slices.ContainsFunc(analyzers(), func(a *analysis.Analyzer) bool { return a.Name == name }) {
			return nil, fmt.Errorf("tethervet: settings: disable: unknown analyzer %q; the analyzers are nakedgo, leaserelease, groupwait, scopeclose", name)
		}
	}
	return &plugin{settings: s}, nil
}

// analyzers returns fresh analyzers, whose flags the plugin may set without
// touching the ones tethervet runs.
func analyzers() []*analysis.Analyzer {
	return []*analysis.Analyzer{nakedgo.New(), leaserelease.New(), groupwait.New(), scopeclose.New()}
}

type plugin struct {
	settings Settings
}

// BuildAnalyzers returns the analyzers the settings keep, configured.
func (p *plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	var out []*analysis.Analyzer
	for _, a := range analyzers() {
		if slices.Contains(p.settings.Disable, a.Name) {
			continue
		}
		if p.settings.Tests {
			if err := a.Flags.Set("tests", "true"); err != nil {
				return nil, fmt.Errorf("tethervet: %s: %w", a.Name, err)
			}
		}
		out = append(out, plain(a))
	}
	return out, nil
}

// plain makes a's reports read well in golangci-lint: it already names the
// analyzer before each message ("leaserelease: ..."), and it shows related
// information as issues of their own, so the analyzer's own prefix and its
// pointer to the leaking return (whose line the message names) go.
func plain(a *analysis.Analyzer) *analysis.Analyzer {
	b := *a
	run := a.Run
	b.Run = func(pass *analysis.Pass) (any, error) {
		p := *pass
		p.Report = func(d analysis.Diagnostic) {
			d.Message = strings.TrimPrefix(d.Message, a.Name+": ")
			d.Related = nil
			pass.Report(d)
		}
		return run(&p)
	}
	return &b
}

// GetLoadMode asks for type information: the analyzers match calls by the
// package, type and method they resolve to.
func (p *plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
