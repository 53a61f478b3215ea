package guard

import (
	"context"
	"hash/maphash"
	"sync"
)

// Store keeps a Map's keys: for each key, its current [Snapshot]. The Map
// does everything else (writer attribution, validation, cloning, retries,
// conflict reports and counters), so a Store has one hard job:
// CompareAndSwap must compare a key's version and replace it atomically.
//
// The default Store keeps keys in memory. A database can implement the same
// interface. In PostgreSQL, for example, with a table
//
//	CREATE TABLE scores (key text PRIMARY KEY, value jsonb, version bigint,
//	                     writer text, site text, at timestamptz)
//
// CompareAndSwap(ctx, key, base, next) with base > 0 runs
//
//	UPDATE scores SET value = $3, version = $4, writer = $5, site = $6, at = $7
//	WHERE key = $1 AND version = $2
//
// with next.Value, next.Version, next.Writer, next.Site.String() and
// next.At, and with base 0 an INSERT ... ON CONFLICT (key) DO NOTHING. When
// no row changed, it selects the current row and returns it with swapped
// false. Load selects a row and rebuilds its Site with [SiteText]. Under Read
// Committed, an UPDATE blocked by a concurrent one re-checks its WHERE clause
// against the newly committed row, so two writes based on the same version
// cannot both succeed.
//
// A Store must be safe for concurrent use. Errors it returns reach the Map's
// callers wrapped, naming the map and key; errors.Is and errors.As see
// through the wrapping.
type Store[K comparable, V any] interface {
	// Load returns key's current snapshot, or the zero Snapshot (Version
	// 0) if key does not exist.
	Load(ctx context.Context, key K) (Snapshot[V], error)

	// CompareAndSwap makes next key's current snapshot if key is at
	// version base (0: key does not exist); next.Version is base+1. It
	// returns the snapshot now current and whether it swapped: next and
	// true, or key's current snapshot (the zero Snapshot if key does not
	// exist) and false.
	CompareAndSwap(ctx context.Context, key K, base uint64, next Snapshot[V]) (cur Snapshot[V], swapped bool, err error)

	// Delete removes key. Removing a missing key is not an error. A key
	// written again after Delete starts again at version 1.
	Delete(ctx context.Context, key K) error

	// Range calls yield for each key and its current snapshot, in no
	// particular order, until yield returns false. It need not be a
	// consistent view of all keys at one instant, and yield may call the
	// Store's other methods.
	Range(ctx context.Context, yield func(K, Snapshot[V]) bool) error
}

// memShards spreads keys over independent locks, so that writes to
// different keys rarely contend.
const memShards = 64

// memStore is the default Store: keys in memory, hashed over shards, each a
// map under its own lock. Its methods never fail.
type memStore[K comparable, V any] struct {
	seed   maphash.Seed
	shards [memShards]memShard[K, V]
}

type memShard[K comparable, V any] struct {
	mu      sync.RWMutex
	m       map[K]Snapshot[V]
	commits int64 // successful CompareAndSwaps, counted under mu for Map.Stats
	_       [cacheLine - 40]byte
}

func newMemStore[K comparable, V any]() *memStore[K, V] {
	return &memStore[K, V]{seed: maphash.MakeSeed()}
}

func (s *memStore[K, V]) shard(key K) *memShard[K, V] {
	return &s.shards[maphash.Comparable(s.seed, key)%memShards]
}

func (s *memStore[K, V]) Load(_ context.Context, key K) (Snapshot[V], error) {
	return s.shard(key).load(key), nil
}

func (s *memStore[K, V]) CompareAndSwap(_ context.Context, key K, base uint64, next Snapshot[V]) (Snapshot[V], bool, error) {
	cur, ok := s.shard(key).compareAndSwap(key, base, next)
	return cur, ok, nil
}

// A Map calls its in-memory store's shards directly, hashing a key once
// per Update instead of once per step, and with no dynamic calls.

func (sh *memShard[K, V]) load(key K) Snapshot[V] {
	sh.mu.RLock()
	cur := sh.m[key]
	sh.mu.RUnlock()
	return cur
}

func (sh *memShard[K, V]) compareAndSwap(key K, base uint64, next Snapshot[V]) (Snapshot[V], bool) {
	sh.mu.Lock()
	cur := sh.m[key]
	if cur.Version != base {
		sh.mu.Unlock()
		return cur, false
	}
	if sh.m == nil {
		sh.m = make(map[K]Snapshot[V])
	}
	sh.m[key] = next
	sh.commits++
	sh.mu.Unlock()
	return next, true
}

func (s *memStore[K, V]) Delete(_ context.Context, key K) error {
	sh := s.shard(key)
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
	return nil
}

// Range copies each shard's entries under its lock and yields them after
// releasing it, so yield may use the Map.
func (s *memStore[K, V]) Range(_ context.Context, yield func(K, Snapshot[V]) bool) error {
	type entry struct {
		k K
		s Snapshot[V]
	}
	var buf []entry
	for i := range s.shards {
		sh := &s.shards[i]
		buf = buf[:0]
		sh.mu.RLock()
		for k, v := range sh.m {
			buf = append(buf, entry{k, v})
		}
		sh.mu.RUnlock()
		for _, e := range buf {
			if !yield(e.k, e.s) {
				return nil
			}
		}
	}
	return nil
}

// counts returns how many keys the store holds and how many commits it
// made, for Map.Stats and the leak report.
func (s *memStore[K, V]) counts() (keys int, commits int64) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		keys += len(sh.m)
		commits += sh.commits
		sh.mu.RUnlock()
	}
	return keys, commits
}
