package guard_test

import (
	"testing"

	"github.com/tether-go/tether/guard"
)

// The tests below run Load's steps one at a time against real commits, in
// each order that matters for the record protocol (see record.go).

func TestReadVersionIsNeverReused(t *testing.T) {
	g := guard.New("p", 1)
	rd := g.BeginRead()
	if rd.Marked() {
		t.Fatal("a version nobody read is marked")
	}
	if !rd.Mark() || !rd.Marked() {
		t.Fatal("the first reader could not mark the version")
	}
	if s, ok := rd.Copy(); !ok || s.Value != 1 || s.Version != 1 {
		t.Fatalf("Copy = %+v, %v; want v1", s, ok)
	}
	for range 3 {
		g.Update(t.Context(), inc)
		if rd.IsSpare() {
			t.Fatal("a record a reader copied was kept for reuse")
		}
	}
	if _, ok := rd.Copy(); ok {
		t.Fatal("a reader copied a record that is no longer current")
	}
}

func TestReaderLosesToRetirement(t *testing.T) {
	g := guard.New("p", 1)
	rd := g.BeginRead() // v1, not marked yet
	g.Update(t.Context(), inc)
	if !rd.IsSpare() {
		t.Fatal("an unread record was not kept for reuse")
	}
	if rd.Mark() || rd.Marked() {
		t.Fatal("a reader marked a record after it was retired")
	}
	if _, ok := rd.Copy(); ok {
		t.Fatal("a reader copied a retired record")
	}
	if s := g.Load(); s.Value != 2 || s.Version != 2 {
		t.Fatalf("Load = %+v, want v2", s)
	}
}

func TestReaderDetectsReuse(t *testing.T) {
	g := guard.New("p", 1)
	stale := g.BeginRead() // v1's record, not marked
	g.Update(t.Context(), inc)
	g.Update(t.Context(), inc) // refills v1's record with v3
	fresh := g.BeginRead()
	if !stale.SameRecord(fresh) {
		t.Fatal("the third version did not reuse the first record; the test cannot reach its case")
	}
	if stale.Mark() {
		t.Fatal("a stale reader's mark landed on the reused record's new version")
	}
	if _, ok := stale.Copy(); ok {
		t.Fatal("a reader copied a reused record without marking its new version")
	}
	if !stale.Mark() {
		t.Fatal("marking the new version failed")
	}
	if s, ok := stale.Copy(); !ok || s.Value != 3 || s.Version != 3 {
		t.Fatalf("Copy = %+v, %v; want v3", s, ok)
	}
}

func TestWritesWithoutReadsAlternateTwoRecords(t *testing.T) {
	g := guard.New("p", 0)
	g.Update(t.Context(), inc) // allocates the second record
	first := g.BeginRead()
	g.Update(t.Context(), inc)
	g.Update(t.Context(), inc)
	if again := g.BeginRead(); !first.SameRecord(again) {
		t.Fatal("two writes later, the guard is not back on the same record")
	}
	if !g.HasSpare() {
		t.Fatal("no spare record after a write nobody read")
	}
	g.Load() // marks the current version
	g.Update(t.Context(), inc)
	if g.HasSpare() {
		t.Fatal("the record a Load read was kept for reuse")
	}
}
