package guard_test

import (
	"context"
	"sync"

	"github.com/tether-go/tether/guard"
)

// textStore is a Store written the way a database-backed one would be: it
// keeps rows of plain columns (the site as text, as a SQL column would) and
// swaps them under "UPDATE ... WHERE version = base" semantics. It proves
// that the interface can be implemented outside the package and that
// writers and sites survive a round trip through text.
type textStore[K comparable, V any] struct {
	mu   sync.Mutex
	rows map[K]row[V]
	err  error // when set, every call fails with it
	cas  int   // CompareAndSwap calls
}

type row[V any] struct {
	value   V
	version uint64
	writer  string
	site    string
	at      int64
}

func (s *textStore[K, V]) snapshot(r row[V]) guard.Snapshot[V] {
	if r.version == 0 {
		return guard.Snapshot[V]{}
	}
	return guard.Snapshot[V]{Value: r.value, Version: r.version, Writer: r.writer, Site: guard.SiteText(r.site), At: unixNano(r.at)}
}

func (s *textStore[K, V]) Load(ctx context.Context, key K) (guard.Snapshot[V], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return guard.Snapshot[V]{}, s.err
	}
	return s.snapshot(s.rows[key]), nil
}

func (s *textStore[K, V]) CompareAndSwap(ctx context.Context, key K, base uint64, next guard.Snapshot[V]) (guard.Snapshot[V], bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cas++
	if s.err != nil {
		return guard.Snapshot[V]{}, false, s.err
	}
	cur := s.rows[key]
	if cur.version != base { // UPDATE ... WHERE version = base: 0 rows
		return s.snapshot(cur), false, nil
	}
	if s.rows == nil {
		s.rows = make(map[K]row[V])
	}
	r := row[V]{value: next.Value, version: next.Version, writer: next.Writer, site: next.Site.String(), at: next.At.UnixNano()}
	s.rows[key] = r
	return s.snapshot(r), true, nil
}

func (s *textStore[K, V]) Delete(ctx context.Context, key K) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	delete(s.rows, key)
	return nil
}

func (s *textStore[K, V]) Range(ctx context.Context, yield func(K, guard.Snapshot[V]) bool) error {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return s.err
	}
	rows := make(map[K]row[V], len(s.rows))
	for k, r := range s.rows {
		rows[k] = r
	}
	s.mu.Unlock()
	for k, r := range rows {
		if !yield(k, s.snapshot(r)) {
			return nil
		}
	}
	return nil
}
