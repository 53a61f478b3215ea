package track

import "context"

// Task identifies one running supervised task. supervise creates it when a
// task starts and puts it in the task's context with WithTask; pool and guard
// read it back with TaskFrom and keep the pointer (no allocation, no string
// copy) as the holder of a lease or the writer of a value.
//
// A Task is immutable after it is put in a context.
type Task struct {
	// Path names the task: its group path and its name, for example
	// "app/http/handler". Paths are unique among live tasks, so a goroutine's
	// LabelTask label identifies its task.
	Path string
}

// String returns the task path, or "" for a nil Task (code not running under
// any task).
func (t *Task) String() string {
	if t == nil {
		return ""
	}
	return t.Path
}

// The pprof label keys supervise sets on every task's goroutine. Goroutines a
// task starts inherit them, so a goroutine dump can name the owner.
const (
	LabelGroup = "tether.group" // the group path
	LabelTask  = "tether.task"  // the task path (Task.Path)
	// LabelObject marks a goroutine an object started for itself with
	// Handle.Go; its value is the object's registry id (State.ID).
	LabelObject = "tether.object"
)

type taskKey struct{}

// WithTask returns a context that carries t as the current task.
func WithTask(ctx context.Context, t *Task) context.Context {
	return context.WithValue(ctx, taskKey{}, t)
}

// IsTaskKey reports whether key is the context key TaskFrom looks up. It
// lets supervise make a task's context answer TaskFrom itself (its Value
// method returns the *Task for this key), saving the context layer and the
// allocation WithTask would add to every task. Everyone else uses WithTask.
func IsTaskKey(key any) bool {
	_, ok := key.(taskKey)
	return ok
}

// TaskFrom returns the task ctx belongs to, or nil when ctx was not derived
// from a task's context. It costs one ctx.Value lookup.
func TaskFrom(ctx context.Context) *Task {
	t, _ := ctx.Value(taskKey{}).(*Task)
	return t
}
