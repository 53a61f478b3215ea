package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/guard/sqlstore"
)

func TestNewRejectsBadConfig(t *testing.T) {
	p := openSQLite(t)
	db := p.db(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		db   sqlstore.DB
		cfg  sqlstore.Config[int]
		want string
	}{
		{"nil db", nil, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: "t"}, "New needs a database"},
		{"no dialect", db, sqlstore.Config[int]{Table: "t"}, "Config.Dialect is Dialect(0): set it to sqlstore.Postgres or sqlstore.SQLite"},
		{"unknown dialect", db, sqlstore.Config[int]{Dialect: 7, Table: "t"}, "Config.Dialect is Dialect(7)"},
		{"no table", db, sqlstore.Config[int]{Dialect: sqlstore.SQLite}, "Config.Table is empty"},
		{"upper case", db, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: "Scores"}, `Config.Table "Scores" is not a plain table name: use lower-case letters, digits and underscores`},
		{"space", db, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: "my scores"}, "is not a plain table name"},
		{"injection", db, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: `t; DROP TABLE users; --`}, "is not a plain table name"},
		{"quote", db, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: `t"x`}, "is not a plain table name"},
		{"leading digit", db, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: "1t"}, "is not a plain table name"},
		{"three parts", db, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: "a.b.c"}, "is not a plain table name"},
		{"empty schema", db, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: ".t"}, "is not a plain table name"},
		{"too long", db, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: strings.Repeat("t", 64)}, "at most 63 bytes"},
		{"missing table", db, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: "absent"},
			"table absent is missing or lacks sqlstore's columns (SQL logic error: no such table: absent (1)): create it with the statement sqlstore.Schema returns, or set Config.CreateTable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlstore.New[string](ctx, tc.db, tc.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), "sqlstore: ") || !strings.Contains(err.Error(), tc.want) || s != nil {
				t.Fatalf("New = %v, %v; want an error containing %q", s, err, tc.want)
			}
		})
	}
	for _, ok := range []string{"t", "_t", "scores_2", "main.scores", strings.Repeat("t", 63)} {
		if _, err := sqlstore.New[string](ctx, db, sqlstore.Config[int]{Dialect: sqlstore.SQLite, Table: ok, CreateTable: true}); err != nil {
			t.Errorf("table %q: %v", ok, err)
		}
	}
}

// TestSchemaIsTheMigration creates the table from Schema's statement, as a
// migration would, then opens it without CreateTable.
func TestSchemaIsTheMigration(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		p := b.open(t)
		db := p.db(t)
		ctx := context.Background()
		stmt, err := sqlstore.Schema(b.dialect, p.Prefix+"migrated")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		s, err := sqlstore.New[string](ctx, db, sqlstore.Config[int]{Dialect: b.dialect, Table: p.Prefix + "migrated"})
		if err != nil {
			t.Fatal(err)
		}
		m := guard.NewMapIn("m", s)
		if s, err := m.Update(ctx, "k", inc); err != nil || s.Version != 1 {
			t.Fatalf("Update = %+v, %v", s, err)
		}
	})
	if _, err := sqlstore.Schema(0, "t"); err == nil || !strings.Contains(err.Error(), "use sqlstore.Postgres or sqlstore.SQLite") {
		t.Errorf("Schema(0): %v", err)
	}
	if _, err := sqlstore.Schema(sqlstore.Postgres, "T"); err == nil || !strings.Contains(err.Error(), "not a plain table name") {
		t.Errorf("Schema of a bad name: %v", err)
	}
	pg, _ := sqlstore.Schema(sqlstore.Postgres, "app.scores")
	for _, want := range []string{`CREATE TABLE IF NOT EXISTS "app"."scores"`, "key        text PRIMARY KEY", "value      bytea NOT NULL",
		"version    bigint NOT NULL CHECK (version > 0)", "pid        integer NOT NULL", "updated_at timestamptz NOT NULL"} {
		if !strings.Contains(pg, want) {
			t.Errorf("PostgreSQL schema lacks %q:\n%s", want, pg)
		}
	}
}

// point is a value with a codec of its own: "x,y".
type point struct{ X, Y int }

type pointCodec struct{}

var errOdd = errors.New("odd x")

func (pointCodec) Encode(p point) ([]byte, error) {
	if p.X%2 != 0 {
		return nil, errOdd
	}
	return []byte(strings.Join([]string{itoa(p.X), itoa(p.Y)}, ",")), nil
}

func (pointCodec) Decode(b []byte) (point, error) {
	x, y, ok := strings.Cut(string(b), ",")
	if !ok {
		return point{}, errors.New("not x,y")
	}
	return point{atoi(x), atoi(y)}, nil
}

func TestCodec(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		p := b.open(t)
		db := p.db(t)
		ctx := context.Background()
		s, err := sqlstore.New[string](ctx, db, sqlstore.Config[point]{
			Dialect: b.dialect, Table: p.Prefix + "points", Codec: pointCodec{}, CreateTable: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		m := guard.NewMapIn("points", s)
		if _, err := m.CompareAndSwap(ctx, "p", 0, point{2, 3}); err != nil {
			t.Fatal(err)
		}
		var raw string
		if err := db.QueryRowContext(ctx, "SELECT CAST(value AS TEXT) FROM "+p.Prefix+"points WHERE key = 'p'").Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if got, _ := m.Load(ctx, "p"); got.Value != (point{2, 3}) || (raw != "2,3" && raw != `\x322c33`) {
			t.Fatalf("Load = %+v, stored %q; want {2 3} stored as 2,3", got, raw)
		}
		_, err = m.Update(ctx, "p", func(p point) (point, error) { return point{p.X + 1, p.Y}, nil })
		if !errors.Is(err, errOdd) || !strings.Contains(err.Error(), `guard "points" key "p": store compare-and-swap: sqlstore: table `) ||
			!strings.Contains(err.Error(), `points: encoding the value of key "p": odd x`) {
			t.Fatalf("encode failure: %v", err)
		}
		if _, err := db.ExecContext(ctx, "UPDATE "+p.Prefix+"points SET value = CAST('garbage' AS "+map[string]string{"postgres": "bytea", "sqlite": "BLOB"}[b.name]+")"); err != nil {
			t.Fatal(err)
		}
		_, err = m.Load(ctx, "p")
		if err == nil || !strings.Contains(err.Error(), `store load: sqlstore: table `) || !strings.Contains(err.Error(), `decoding the value of key "p" at v1: not x,y`) {
			t.Fatalf("decode failure: %v", err)
		}
	})
}

func TestClose(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		p := b.open(t)
		db := p.db(t)
		ctx := context.Background()
		s := newStore[int](t, b, p, db, "closing")
		if _, err := guard.NewMapIn("m", s).Update(ctx, "k", inc); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := s.Load(ctx, "k"); err == nil || !strings.Contains(err.Error(), "statement is closed") {
			t.Fatalf("Load after Close: %v, want the closed statement's error", err)
		}
		// Without a *sql.DB there is nothing to prepare, and nothing to close.
		s2 := newStore[int](t, b, p, onlyRow{db}, "closing")
		if err := s2.Close(); err != nil {
			t.Fatal(err)
		}
		if got, err := s2.Load(ctx, "k"); err != nil || got.Value != 1 {
			t.Fatalf("Load = %+v, %v", got, err)
		}
	})
}
