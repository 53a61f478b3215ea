// Package pgxtrack is a stub of tether's pool/pgxtrack with its signatures, for the analyzers' tests.
package pgxtrack

import (
	"context"

	"github.com/jackc/pgx/v5"
)

type Pool struct{}
type Conn struct{}

func (p *Pool) Acquire(ctx context.Context) (*Conn, error)                           { return &Conn{}, nil }
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) { return nil, nil }
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row        { return nil }
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (string, error)    { return "", nil }
func (p *Pool) Begin(ctx context.Context) (pgx.Tx, error)                            { return nil, nil }
func (p *Pool) BeginTx(ctx context.Context, o pgx.TxOptions) (pgx.Tx, error)         { return nil, nil }
func (p *Pool) Close()                                                               {}

func (c *Conn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) { return nil, nil }
func (c *Conn) Exec(ctx context.Context, sql string, args ...any) (string, error)    { return "", nil }
func (c *Conn) Begin(ctx context.Context) (pgx.Tx, error)                            { return nil, nil }
func (c *Conn) Release()                                                             {}
