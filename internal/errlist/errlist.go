// Package errlist joins the errors of one call (a group's Wait, a scope's
// Close) into one error whose message lists them, one to a line. It is the
// one place tether builds such an aggregate, so that every list reads the
// same and errors.Is and errors.As see through every one.
package errlist

import (
	"strings"

	"github.com/hashicorp/go-multierror"
)

// Join returns errs as one error, or nil if there are none. Its message is
// the error's own when there is one; otherwise head(errs), then each error
// on a line of its own as "\n\t* "+item(err), with the lines after an
// item's first indented to stay under it. The result is a
// *multierror.Error returned as a plain error (never a nil pointer in an
// interface); errors.Is and errors.As match every error in the list.
func Join(errs []error, head func(errs []error) string, item func(err error) string) error {
	if len(errs) == 0 {
		return nil
	}
	m := &multierror.Error{Errors: errs, ErrorFormat: func(es []error) string {
		if len(es) == 1 {
			return es[0].Error()
		}
		var b strings.Builder
		b.WriteString(head(es))
		for _, err := range es {
			b.WriteString("\n\t* ")
			msg := strings.TrimRight(item(err), "\n")
			b.WriteString(strings.ReplaceAll(msg, "\n", "\n\t  "))
		}
		return b.String()
	}}
	return m.ErrorOrNil()
}
