package errlist_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/tether-go/tether/internal/errlist"
)

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }

func TestJoin(t *testing.T) {
	head := func(es []error) string { return fmt.Sprintf("op: %d failed:", len(es)) }
	trim := func(err error) string { return strings.TrimPrefix(err.Error(), "op: ") }
	for _, tc := range []struct {
		name string
		errs []error
		want string // "" means a nil error
	}{
		{"none", nil, ""},
		{"empty", []error{}, ""},
		{"one is itself", []error{errors.New("op: alone")}, "op: alone"},
		{"two", []error{errors.New("op: a"), io.EOF}, "op: 2 failed:\n\t* a\n\t* EOF"},
		{"lines indented under their item", []error{errors.New("first\nsecond\n"), errors.New("third")},
			"op: 2 failed:\n\t* first\n\t  second\n\t* third"},
	} {
		err := errlist.Join(tc.errs, head, trim)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Join(%v) = %q, want nil", tc.name, tc.errs, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s: Join(%v) = %v, want %q", tc.name, tc.errs, err, tc.want)
		}
	}
}

func TestJoinIsAndAs(t *testing.T) {
	code := &codeError{code: 7}
	err := errlist.Join([]error{fmt.Errorf("wrapped: %w", fs.ErrNotExist), code},
		func([]error) string { return "two:" }, error.Error)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
	}
	var ce *codeError
	if !errors.As(err, &ce) || ce != code {
		t.Errorf("errors.As(%v, *codeError) = %v, want the listed error", err, ce)
	}
}
