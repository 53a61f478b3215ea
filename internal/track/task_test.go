package track_test

import (
	"context"
	"testing"

	"github.com/tether-go/tether/internal/track"
)

func TestTaskInContext(t *testing.T) {
	ctx := context.Background()
	if got := track.TaskFrom(ctx); got != nil {
		t.Fatalf("TaskFrom(Background) = %v, want nil", got)
	}
	task := &track.Task{Path: "app/http"}
	tctx := track.WithTask(ctx, task)
	if got := track.TaskFrom(tctx); got != task {
		t.Fatalf("TaskFrom(WithTask(ctx, t)) = %p, want %p", got, task)
	}
	// Derived contexts keep the task; a nested task shadows it.
	derived, cancel := context.WithCancel(tctx)
	defer cancel()
	if got := track.TaskFrom(derived); got != task {
		t.Fatalf("TaskFrom(derived) = %v, want %v", got, task)
	}
	child := &track.Task{Path: "app/http/handler"}
	if got := track.TaskFrom(track.WithTask(derived, child)); got != child {
		t.Fatalf("TaskFrom(nested) = %v, want %v", got, child)
	}
}

func TestTaskString(t *testing.T) {
	var none *track.Task
	if got := none.String(); got != "" {
		t.Fatalf("nil Task String() = %q, want empty", got)
	}
	if got := (&track.Task{Path: "a/b"}).String(); got != "a/b" {
		t.Fatalf("String() = %q, want %q", got, "a/b")
	}
}

func BenchmarkTaskFrom(b *testing.B) {
	ctx := track.WithTask(context.Background(), &track.Task{Path: "app/x"})
	for range 3 {
		ctx = context.WithValue(ctx, new(int), 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		if track.TaskFrom(ctx) == nil {
			b.Fatal("lost task")
		}
	}
}

func TestIsTaskKey(t *testing.T) {
	// A context type that answers the task key itself, as supervise's task
	// contexts do.
	task := &track.Task{Path: "app/self"}
	ctx := selfAnswering{Context: context.Background(), task: task}
	if got := track.TaskFrom(ctx); got != task {
		t.Fatalf("TaskFrom(self-answering ctx) = %v, want %v", got, task)
	}
	if track.IsTaskKey("tether.task") || track.IsTaskKey(nil) {
		t.Fatal("IsTaskKey accepts a foreign key")
	}
}

type selfAnswering struct {
	context.Context
	task *track.Task
}

func (c selfAnswering) Value(key any) any {
	if track.IsTaskKey(key) {
		return c.task
	}
	return c.Context.Value(key)
}
