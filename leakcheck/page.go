package leakcheck

import (
	"html/template"
	"maps"
	"slices"
	"strconv"
	"time"
)

// page is what the HTML template renders: the report arranged for a
// person, problems first.
type page struct {
	Summary  string
	Clean    bool
	Taken    string
	Mode     string
	Script   template.JS
	Notes    []string
	Problems []Entry
	Groups   []*groupNode
	Tasks    int
	Pools    []*poolView
	Guards   []guardView
	Scopes   []scopeView
	Loose    []Entry // goroutines no task owns
}

type groupNode struct {
	Name     string
	Site     Frame
	Counters string
	Problems []string
	Tasks    []*taskNode
}

type taskNode struct {
	Entry      Entry
	Goroutines []Entry // goroutines the task started
	Leases     []Entry // leases it holds
	Children   []*groupNode
}

type poolView struct {
	Name       string
	Site       Frame
	InUse      int64
	Max        int64
	Idle       int64
	Percent    int64
	Counters   string
	Leases     []Entry
	Waiters    []Entry
	Background []Entry
}

type guardView struct {
	Name     string
	Counters string
	Last     string
}

type scopeView struct {
	Name  string
	Site  Frame
	Steps []Entry
}

func buildPage(r *Report) page {
	p := page{
		Summary: r.Summary(),
		Clean:   r.Clean(),
		Taken:   r.Taken.UTC().Format(time.RFC3339),
		Mode:    r.Mode,
		Script:  template.JS(pageJS),
		Notes:   r.Notes,
	}
	groups := make(map[string]*groupNode)
	var groupOrder []*groupNode
	owners := make(map[*groupNode]string)
	pools := make(map[string]*poolView)
	scopes := make(map[string]*scopeView)
	for _, o := range r.Objects {
		switch o.Kind {
		case "group":
			g := &groupNode{Name: o.Name, Site: o.Site, Problems: o.Problems,
				Counters: nonZero(o, "live", "started", "completed", "failed", "run_failed", "canceled", "restarts")}
			groups[o.Name] = g
			groupOrder = append(groupOrder, g)
			owners[g] = o.Owner
		case "pool":
			pv := &poolView{Name: o.Name, Site: o.Site, InUse: o.Counters["in_use"], Max: o.Counters["max_size"],
				Idle: o.Counters["idle"], Counters: nonZero(o, "waiters", "timeouts", "leaks")}
			if pv.Max > 0 {
				pv.Percent = min(100, 100*pv.InUse/pv.Max)
			}
			pools[o.Name] = pv
			p.Pools = append(p.Pools, pv)
		case "guard":
			gv := guardView{Name: o.Name, Counters: "version " + strconv.FormatInt(o.Counters["version"], 10)}
			if more := nonZero(o, "updates", "conflicts", "retries", "max_retries"); more != "" {
				gv.Counters += ", " + more
			}
			for _, e := range r.Info {
				if e.Kind == KindConflict && e.ObjectName == o.Name {
					gv.Last = e.Detail
				}
			}
			p.Guards = append(p.Guards, gv)
		case "scope":
			if _, ok := scopes[o.Name]; !ok {
				scopes[o.Name] = &scopeView{Name: o.Name, Site: o.Site}
			}
		}
	}

	tasks := make(map[string]*taskNode)
	var owned []Entry // goroutines and leases to hang under their task
	for _, e := range r.Entries {
		switch e.Kind {
		case KindTask:
			t := &taskNode{Entry: e}
			tasks[e.Name] = t
			p.Tasks++
			g, ok := groups[e.ObjectName]
			if !ok { // a task seen only in the goroutine dump
				g = &groupNode{Name: e.ObjectName}
				groups[e.ObjectName] = g
				groupOrder = append(groupOrder, g)
			}
			g.Tasks = append(g.Tasks, t)
		case KindGoroutine:
			owned = append(owned, e)
		case KindUnsupervised:
			p.Loose = append(p.Loose, e)
		case KindLease, KindWaiter:
			if pv, ok := pools[e.ObjectName]; ok {
				if e.Kind == KindLease {
					pv.Leases = append(pv.Leases, e)
				} else {
					pv.Waiters = append(pv.Waiters, e)
				}
			}
			if e.Kind == KindLease && e.Owner != "" {
				owned = append(owned, e)
			}
			if e.Detail != "" || e.Kind == KindWaiter {
				p.Problems = append(p.Problems, e)
			}
		case KindBackground:
			if pv, ok := pools[e.ObjectName]; ok && e.ObjectKind == "pool" {
				pv.Background = append(pv.Background, e)
			} else {
				p.Loose = append(p.Loose, e)
			}
		case KindStep:
			sv, ok := scopes[e.ObjectName]
			if !ok {
				sv = &scopeView{Name: e.ObjectName}
				scopes[e.ObjectName] = sv
			}
			sv.Steps = append(sv.Steps, e)
		case KindProblem:
			p.Problems = append(p.Problems, e)
		default:
			p.Problems = append(p.Problems, e)
		}
	}
	for _, e := range owned {
		t, ok := tasks[e.Owner]
		switch {
		case !ok && e.Kind == KindGoroutine:
			p.Loose = append(p.Loose, e) // its task has ended or is not listed
		case !ok:
		case e.Kind == KindGoroutine:
			t.Goroutines = append(t.Goroutines, e)
		default:
			t.Leases = append(t.Leases, e)
		}
	}
	for _, g := range groupOrder {
		if t, ok := tasks[owners[g]]; ok && owners[g] != "" {
			t.Children = append(t.Children, g)
		} else {
			p.Groups = append(p.Groups, g)
		}
	}
	// Scopes in the order the report lists their objects, then those seen
	// only through their steps.
	seen := make(map[string]bool)
	for _, o := range r.Objects {
		if sv, ok := scopes[o.Name]; ok && o.Kind == "scope" && !seen[o.Name] && len(sv.Steps) > 0 {
			p.Scopes = append(p.Scopes, *sv)
			seen[o.Name] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(scopes)) {
		if sv := scopes[name]; !seen[name] && len(sv.Steps) > 0 {
			p.Scopes = append(p.Scopes, *sv)
		}
	}
	return p
}

// nonZero is counterText for the page: only the counters that are not zero.
func nonZero(o Object, names ...string) string {
	var keep []string
	for _, n := range names {
		if o.Counters[n] != 0 {
			keep = append(keep, n)
		}
	}
	return counterText(o, keep...)
}

// key identifies an entry across refreshes of the page, so that a stack a
// reader opened stays open when the page refreshes itself.
func (e Entry) key() string {
	if e.Goroutine != 0 {
		return "g" + strconv.FormatUint(e.Goroutine, 10)
	}
	return e.Kind + ":" + e.ObjectName + ":" + e.Name + ":" + e.Owner + ":" + e.Site.String()
}
