package pool_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/tether-go/tether/pool"
)

// conn stands in for a network connection.
type conn struct{ id int }

func ExampleNew() {
	n := 0
	p, err := pool.New(pool.Config[*conn]{
		Name:    "db",
		New:     func(context.Context) (*conn, error) { n++; return &conn{id: n}, nil },
		Close:   func(c *conn) error { fmt.Println("closed conn", c.id); return nil },
		MaxSize: 4,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close() // closes the idle conns

	if err := p.With(context.Background(), func(c *conn) error { return nil }); err != nil {
		log.Fatal(err)
	}

	// A bad Config is refused with every problem named.
	_, err = pool.New(pool.Config[*conn]{Name: "db"})
	fmt.Println(err)
	// Output:
	// pool "db": Config.New is nil; set it to the function that creates a resource
	// pool "db": Config.MaxSize is 0; set it to the most resources the pool may hold at once (> 0)
	// closed conn 1
}

func ExamplePool_Acquire() {
	p, err := pool.New(pool.Config[*strings.Builder]{
		Name:    "buffers",
		New:     func(context.Context) (*strings.Builder, error) { return new(strings.Builder), nil },
		MaxSize: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	l, err := p.Acquire(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	defer l.Release() // a second Release below is harmless
	l.Value().WriteString("hello")
	fmt.Println(l.Value())

	// The pool is full: a bounded wait names the holder.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = p.Acquire(ctx)
	var te *pool.TimeoutError
	if errors.As(err, &te) {
		fmt.Println(errors.Is(err, context.DeadlineExceeded), te.InUse, "of", te.MaxSize, "held, by", te.Holders[0].Func)
	}
	l.Release()
	// Output:
	// hello
	// true 1 of 1 held, by github.com/tether-go/tether/pool_test.ExamplePool_Acquire
}

func ExamplePool_With() {
	p, err := pool.New(pool.Config[*conn]{
		Name:    "db",
		New:     func(context.Context) (*conn, error) { return &conn{id: 7}, nil },
		MaxSize: 2,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	err = p.With(context.Background(), func(c *conn) error {
		fmt.Println("using conn", c.id)
		return nil
	})
	fmt.Println(err, p.Stats().InUse)
	// Output:
	// using conn 7
	// <nil> 0
}

func ExamplePool_Shutdown() {
	p, err := pool.New(pool.Config[*conn]{
		Name:    "db",
		New:     func(context.Context) (*conn, error) { return &conn{id: 1}, nil },
		Close:   func(c *conn) error { fmt.Println("closed conn", c.id); return nil },
		MaxSize: 2,
	})
	if err != nil {
		log.Fatal(err)
	}
	l, err := p.Acquire(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	l.Release()

	// Shutdown waits for outstanding leases until ctx is done. One still
	// held then is reclaimed (its resource closed) and Shutdown returns a
	// *LeakError naming its task and acquire line; leak reports keep
	// listing the pool afterwards. Here everything came back.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fmt.Println(p.Shutdown(ctx))

	_, err = p.Acquire(context.Background())
	fmt.Println(errors.Is(err, pool.ErrClosed), err)
	// Output:
	// closed conn 1
	// <nil>
	// true pool "db": acquire after Shutdown: pool: closed
}
