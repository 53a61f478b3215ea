package track

// The functions of package supervise that leakcheck looks for on a
// goroutine's stack. They are names, not references, because leakcheck
// reads them from goroutine dumps; supervise's frames_test.go checks them
// against the stacks of a running task and of Main, so a rename there fails
// a test instead of silently leaving every report unable to tell a task's
// goroutine from a goroutine the task started.
const (
	// FuncTaskRun runs every task: it is on the stack of a task's own
	// goroutine, and not on those of goroutines the task starts (which
	// carry the task's labels too).
	FuncTaskRun = "github.com/tether-go/tether/supervise.(*task).run"
	// FuncTaskRunHere runs a task of Group.Run on its caller's goroutine,
	// while the task runs. Its receiver, like FuncTaskRun's, is the task's
	// record, whose address is the task's Item.Runner: a full dump prints
	// it as the frame's first argument, which tells apart the goroutines
	// of tasks that share their labels.
	FuncTaskRunHere = "github.com/tether-go/tether/supervise.(*task).runHere"
	// FuncMain is on the stack of the goroutine running supervise.Main,
	// which waits for the service (its closures run as part of it): the
	// program's root, not a leak.
	FuncMain = "github.com/tether-go/tether/supervise.runMain"
)
