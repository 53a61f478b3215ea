package guard

// Option configures a [Guard] (New) or the values of a [Map] (NewMap,
// NewMapIn).
type Option[T any] interface{ apply(*settings[T]) }

type settings[T any] struct {
	validate func(T) error
	clone    func(T) T
}

type validatorOption[T any] func(T) error

func (f validatorOption[T]) apply(s *settings[T]) {
	if prev := s.validate; prev != nil {
		s.validate = func(v T) error {
			if err := prev(v); err != nil {
				return err
			}
			return f(v)
		}
		return
	}
	s.validate = f
}

// WithValidator makes the guard check every value before it is committed
// (by CompareAndSwap or Update) and refuse it if fn returns an error. The
// refusal is returned to the writer, wrapping fn's error, and nothing is
// committed. New panics if the initial value is refused. fn must be safe to
// call from many goroutines at once, and quick: after a conflict, Update
// runs it under the commit lock. When given more than once, every validator
// must accept the value.
func WithValidator[T any](fn func(T) error) Option[T] {
	if fn == nil {
		panic("guard: WithValidator(nil): pass a function that returns an error for values to refuse")
	}
	return validatorOption[T](fn)
}

type cloneOption[T any] func(T) T

func (f cloneOption[T]) apply(s *settings[T]) { s.clone = f }

// WithClone makes Update pass fn a private copy of the current value,
// fn(v), so that fn may modify its argument in place and return it. Use it
// when T holds maps, slices or pointers that fn would otherwise modify under
// every reader's feet. fn must return a copy that shares no mutable memory
// with its argument; Update then costs a clone (and usually an allocation).
//
// Snapshots are never cloned: Load, CompareAndSwap, Update and Range return
// the Value every reader shares, which keeps Load free of allocation. To
// hand a loaded value to code that may modify it, copy it first (with the
// same function). Values handed in (CompareAndSwap's next, the result of
// Update's fn) belong to the guard from then on: do not modify them after
// the call.
func WithClone[T any](fn func(T) T) Option[T] {
	if fn == nil {
		panic("guard: WithClone(nil): pass a function that returns a deep copy")
	}
	return cloneOption[T](fn)
}

// UpdateOption changes how one Update call behaves.
type UpdateOption interface {
	// apply returns s changed by the option. It takes and returns a value
	// (not a pointer) so that Update's settings stay on its stack.
	apply(s updateSettings) updateSettings
}

type updateSettings struct {
	noRetry bool
}

type noRetry struct{}

func (noRetry) apply(s updateSettings) updateSettings {
	s.noRetry = true
	return s
}

// NoRetry makes Update return the first conflict (a [*ConflictError])
// instead of retrying. Tests use it to prove that a race is caught.
func NoRetry() UpdateOption { return noRetry{} }

func updateSettingsOf(name string, opts []UpdateOption) updateSettings {
	var us updateSettings
	for _, o := range opts {
		if o == nil {
			panic("guard: nil UpdateOption passed to Update on " + quote(name))
		}
		us = o.apply(us)
	}
	return us
}

func settingsOf[T any](what, name string, opts []Option[T]) settings[T] {
	var s settings[T]
	for _, o := range opts {
		if o == nil {
			panic("guard: nil Option passed to " + what + " " + quote(name))
		}
		o.apply(&s)
	}
	return s
}
