package guard_test

// Run guard and its peers side by side, in one run:
//
//	go test -run '^$' -bench . -benchmem -cpu 1,2 -count 6 ./guard/ | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -col /impl bench.txt

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/internal/track"
)

// benchCtx is a task's context as user code sees it: the task four
// context.Value layers up, so that finding the writer costs what it would
// in a handler.
func benchCtx() context.Context {
	ctx := track.WithTask(context.Background(), &track.Task{Path: "app/http/handler"})
	for range 3 {
		ctx = context.WithValue(ctx, new(int), 1)
	}
	return ctx
}

// reportCPU makes b report cpu-ns/op, the process's CPU time per op (the
// garbage collector's included), next to wall time: on a shared machine it
// does not count the time other processes took from us. Call it after the
// setup, and call the function it returns when the op loop is done.
func reportCPU(b *testing.B) func() {
	cpu0 := processCPU()
	return func() {
		if cpu := processCPU() - cpu0; cpu > 0 && b.N > 0 {
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// BenchmarkLoad reads the current value. impl=guard-snapshot copies the
// whole Snapshot out (value, version, writer, time and site: 96 bytes for
// an int), as code that uses several of its fields does.
func BenchmarkLoad(b *testing.B) {
	for _, impl := range cells {
		b.Run(impl.name, func(b *testing.B) {
			c := impl.new()
			c.update(benchCtx(), inc)
			b.ReportAllocs()
			done := reportCPU(b)
			sum := 0
			for b.Loop() {
				sum += c.value()
			}
			done()
			if sum != b.N {
				b.Fatalf("loaded %d in total, want %d", sum, b.N)
			}
		})
	}
	b.Run("impl=guard-snapshot", func(b *testing.B) {
		g := guard.New("bench", 0)
		g.Update(benchCtx(), inc)
		b.ReportAllocs()
		var s guard.Snapshot[int]
		for b.Loop() {
			s = g.Load()
		}
		if s.Value != 1 || s.Version != 2 {
			b.Fatalf("loaded %+v", s)
		}
	})
}

func BenchmarkLoadParallel(b *testing.B) {
	for _, impl := range cells {
		b.Run(impl.name, func(b *testing.B) {
			c := impl.new()
			c.update(benchCtx(), inc)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if v := c.value(); v != 1 {
						b.Errorf("loaded %d, want 1", v)
						return
					}
				}
			})
		})
	}
}

// BenchmarkUpdate is an uncontended read-modify-write of an int. guard
// records the writer (task and call site) and the time; its peers record
// nothing.
func BenchmarkUpdate(b *testing.B) {
	ctx := benchCtx()
	for _, impl := range cells {
		b.Run(impl.name, func(b *testing.B) {
			c := impl.new()
			b.ReportAllocs()
			done := reportCPU(b)
			for b.Loop() {
				if err := c.update(ctx, inc); err != nil {
					b.Fatal(err)
				}
			}
			done()
			if v, ver := c.load(); v != b.N || ver != uint64(b.N)+firstVersion(impl.name) {
				b.Fatalf("%d at v%d after %d updates: lost updates", v, ver, b.N)
			}
		})
	}
}

// BenchmarkLoadThenUpdate reads, then writes: every version is read before
// it is replaced.
func BenchmarkLoadThenUpdate(b *testing.B) {
	ctx := benchCtx()
	for _, impl := range cells {
		b.Run(impl.name, func(b *testing.B) {
			c := impl.new()
			b.ReportAllocs()
			done := reportCPU(b)
			sum := 0
			for b.Loop() {
				sum += c.value()
				if err := c.update(ctx, inc); err != nil {
					b.Fatal(err)
				}
			}
			done()
			if want := b.N * (b.N - 1) / 2; sum != want {
				b.Fatalf("loaded %d in total, want %d", sum, want)
			}
		})
	}
}

// firstVersion is the version of a fresh cell: guard starts at 1, the
// peers at 0.
func firstVersion(impl string) uint64 {
	if impl == "impl=guard" || impl == "impl=cow" {
		return 1
	}
	return 0
}

// BenchmarkUpdateParallel has every goroutine update one int.
func BenchmarkUpdateParallel(b *testing.B) {
	ctx := benchCtx()
	for _, impl := range cells {
		b.Run(impl.name+"/keys=1", func(b *testing.B) {
			c := impl.new()
			var total atomic.Int64
			b.ReportAllocs()
			done := reportCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				n := int64(0)
				for pb.Next() {
					if err := c.update(ctx, inc); err != nil {
						b.Error(err)
						break
					}
					n++
				}
				total.Add(n)
			})
			done()
			if v, _ := c.load(); int64(v) != total.Load() {
				b.Fatalf("value %d after %d updates: lost updates", v, total.Load())
			}
			reportConflicts(b, c)
		})
	}
}

// reportConflicts reports how often a guard's writers actually raced: a
// contended benchmark on a machine too busy to run its goroutines at once
// measures no contention at all.
func reportConflicts(b *testing.B, x any) {
	if s, ok := x.(interface{ stats() guard.Stats }); ok {
		b.ReportMetric(float64(s.stats().Conflicts)/float64(b.N), "conflicts/op")
	}
}

// BenchmarkMapUpdateParallel has every goroutine update random keys of a
// map: keys=1 is all on one key, keys=1024 rarely collides.
func BenchmarkMapUpdateParallel(b *testing.B) {
	ctx := benchCtx()
	for _, keys := range []int{1, 1024} {
		for _, impl := range tables {
			b.Run(impl.name+"/keys="+strconv.Itoa(keys), func(b *testing.B) {
				t := impl.new()
				for k := range keys {
					t.update(ctx, k, func(int) (int, error) { return 0, nil })
				}
				var total atomic.Int64
				var seed atomic.Uint64
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					x := seed.Add(0x9E3779B97F4A7C15) | 1
					n := int64(0)
					for pb.Next() {
						x ^= x << 13 // xorshift: a cheap per-goroutine key sequence
						x ^= x >> 7
						x ^= x << 17
						if err := t.update(ctx, int(x%uint64(keys)), inc); err != nil {
							b.Error(err)
							break
						}
						n++
					}
					total.Add(n)
				})
				sum := 0
				for k := range keys {
					sum += t.load(ctx, k)
				}
				if int64(sum) != total.Load() {
					b.Fatalf("values sum to %d after %d updates: lost updates", sum, total.Load())
				}
				reportConflicts(b, t)
			})
		}
	}
}

// BenchmarkAttribution measures the parts of what Update records per
// commit, which its peers do not: the writer's task, its call site, and the
// time. part=site is what Update does (three return addresses as three
// words, track.CallerPCs); part=site-array takes the first counter of a
// track.Site, an array that the register ABI returns in memory, as Update
// did before: its copies stall store-to-load forwarding, which is the
// difference.
func BenchmarkAttribution(b *testing.B) {
	ctx := benchCtx()
	b.Run("impl=guard/part=task", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			if track.TaskFrom(ctx) == nil {
				b.Fatal("no task")
			}
		}
	})
	b.Run("impl=guard/part=site", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			callerPC()
		}
	})
	b.Run("impl=guard/part=site-array", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			callerSite()
		}
	})
	start := time.Now()
	b.Run("impl=guard/part=clock", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			time.Since(start)
		}
	})
}

//go:noinline
func callerPC() uintptr {
	pc, _, _ := track.CallerPCs(0)
	return pc
}

//go:noinline
func callerSite() uintptr { return track.Caller(0).PC() }
