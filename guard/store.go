package guard

import "context"

// Store keeps the keys of a Map made by [NewMapIn]: for each key, its
// current [Snapshot]. The Map does everything else (writer attribution,
// validation, cloning, retries, conflict reports and counters), so a Store
// has one hard job: CompareAndSwap must compare a key's version and replace
// it atomically.
//
// guard/sqlstore is a Store on PostgreSQL or SQLite: a row per key, and
// CompareAndSwap is one statement,
//
//	UPDATE ... SET value = $3, version = version + 1, ... WHERE key = $1 AND version = $2
//
// which changes no row if another writer, in this process or another,
// committed first. Under Read Committed, an UPDATE blocked by a concurrent
// one re-checks its WHERE clause against the newly committed row, so two
// writes based on the same version cannot both succeed.
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
	// exist) and false. A Store shared by processes records which process
	// wrote each version, and returns it in Snapshot.Process.
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
