// Package metrics exports tether's numbers as OpenTelemetry instruments.
//
// [Register] creates the instruments on a MeterProvider and one callback
// that observes them all at collection time, from the objects alive in the
// process (the registry that leak reports read). Nothing is recorded when
// an operation happens: an Acquire, a Go or an Update costs the same with
// metrics registered or not.
//
//	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
//	reg, err := metrics.Register(mp)
//	if err != nil {
//		return err
//	}
//	defer reg.Close()
//
// The package uses only the OpenTelemetry API (go.opentelemetry.io/otel/metric):
// the SDK and the exporter (Prometheus, OTLP...) are the program's choice.
//
// # Instruments
//
// Pools follow OpenTelemetry's semantic conventions for connection pools,
// which fit any pool of resources, with the attribute
// db.client.connection.pool.name set to the pool's name:
//
//	db.client.connection.count             {connection}  leases in use (state=used) and idle resources (state=idle)
//	db.client.connection.max               {connection}  Config.MaxSize
//	db.client.connection.idle.min          {connection}  Config.MinIdle (and an adapter's driver's limits:
//	db.client.connection.idle.max          {connection}  pool.Pool has no idle maximum)
//	db.client.connection.pending_requests  {request}     callers waiting in Acquire
//	db.client.connection.timeouts          {timeout}     acquires that timed out
//
// The conventions' wait_time, use_time and create_time are histograms of
// single operations, which this package does not record. tether's own
// instruments give totals instead:
//
//	tether.pool.acquires   {acquire}  leases lent
//	tether.pool.waits      {acquire}  of those, leases that had to wait
//	tether.pool.wait.time  s          the total time they waited (rate(wait.time) / rate(waits) is the mean wait)
//	tether.pool.leaks      {lease}    leak events, by tether.leak.kind (pool.LeakKind)
//
// Tasks, by the path of their supervise.Group (tether.group.path), with
// the numbers of repeated names taken out, so that the groups a task or a
// request makes count in one series ("app/worker#7/conns" counts as
// "app/worker/conns"); tasks run by Group.Run (requests, with package
// httptask) count in their group like any other:
//
//	tether.task.running   {task}     tasks live now
//	tether.task.failures  {failure}  tasks that failed (an error, a panic, a timeout, too many restarts)
//	tether.task.panics    {panic}    of those, panics
//	tether.task.restarts  {restart}  restarts made by restart policies
//
// Guards (guard.Guard and guard.Map), by tether.guard.name:
//
//	tether.guard.updates    {update}    versions committed
//	tether.guard.conflicts  {conflict}  writes refused as stale
//	tether.guard.retries    {retry}     Update attempts after a conflict
//
// Cleanup scopes (cleanup.Scope; a group's Defers are one, named by the
// group's path), by tether.scope.name, and the leaks the registry keeps a
// record of after the object is gone, by tether.kind (pool, group, scope):
//
//	tether.scope.steps.pending    {step}    steps deferred and not yet run
//	tether.scope.steps.abandoned  {step}    steps Close gave up waiting for, still running
//	tether.scope.steps.failed     {step}    failed steps of scopes still registered after Close
//	tether.leak.records           {object}  a scope collected before Close, a group collected
//	                                        with failures unseen, a pool shut down with leases out
//
// A scope leaves the registry when Close has run all its steps, so its
// failures are counted only if it stays (a step it abandoned still runs):
// the failures of a scope that closes cleanly are in Close's error and the
// log.
//
// # Rules and limits
//
// Counters are read from live objects, so they see what an object counted
// up to the last collection before it was shut down, closed or waited, and
// nothing of an object that lived and died between two collections. A
// counter whose objects are gone keeps its last value, so it never goes
// down. Gauges (connection counts, running tasks) cover only live objects.
//
// Objects are told apart by name: two pools named "db" are summed into one
// series, and groups and scopes by their path without the "#n" of repeated
// names. Name objects after their role, not per request: each distinct
// name is a series, kept for the life of the Registration.
//
// # Cost
//
// A collection visits every registered object: for each pool its counts
// (which visit every lease record, as Pool.Stats does), for each guard,
// group and scope its Stats (a brief lock), and, once per object, its
// name. Operations pay nothing.
//
// The database adapters (pool/sqltrack, pool/pgxtrack) are pools like
// pool.Pool: their idle connections are the driver's, which the adapter
// reports (or the idle count is left out).
package metrics
