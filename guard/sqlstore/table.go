package sqlstore

import (
	"errors"
	"fmt"
	"strings"
)

// maxIdent is PostgreSQL's limit on an identifier (NAMEDATALEN - 1);
// longer names are silently truncated by the server, which would make two
// configured names one table.
const maxIdent = 63

// quoteTable checks that table is a plain identifier, optionally qualified
// by a schema ("app.scores"), and returns it quoted for SQL ("app"."scores").
// The name is spliced into every statement, so nothing else is accepted:
// no quotes, spaces, upper case or other punctuation.
func quoteTable(table string) (string, error) {
	if table == "" {
		return "", errors.New(`sqlstore: Config.Table is empty: name the table that holds the map's rows, for example "scores"`)
	}
	parts := strings.Split(table, ".")
	if len(parts) > 2 {
		return "", badTable(table)
	}
	for i, p := range parts {
		if !isIdent(p) {
			return "", badTable(table)
		}
		parts[i] = `"` + p + `"`
	}
	return strings.Join(parts, "."), nil
}

func badTable(table string) error {
	return fmt.Errorf("sqlstore: Config.Table %q is not a plain table name: use lower-case letters, digits and underscores, "+
		"starting with a letter or an underscore, at most %d bytes, optionally after a schema name and a dot (\"app.scores\")", table, maxIdent)
}

func isIdent(s string) bool {
	if s == "" || len(s) > maxIdent {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
