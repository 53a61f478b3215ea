package pool_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/pool"
)

// pgConn is a minimal PostgreSQL client, enough for this test: startup
// with trust authentication, simple queries returning text, terminate. It
// speaks protocol 3.0 directly, so the test needs no driver.
type pgConn struct {
	c   net.Conn
	r   *bufio.Reader
	pid int
}

// pgDial connects and starts a session as dsn's user on dsn's database.
func pgDial(ctx context.Context, dsn string) (*pgConn, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	pc := &pgConn{c: c, r: bufio.NewReader(c)}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	defer c.SetDeadline(time.Time{})
	var body []byte
	body = binary.BigEndian.AppendUint32(body, 196608) // protocol 3.0
	for _, kv := range [][2]string{{"user", u.User.Username()}, {"database", strings.TrimPrefix(u.Path, "/")}, {"application_name", "tether-pool-test"}} {
		body = append(append(append(append(body, kv[0]...), 0), kv[1]...), 0)
	}
	body = append(body, 0)
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	if _, err := c.Write(append(msg, body...)); err != nil {
		c.Close()
		return nil, err
	}
	for {
		typ, payload, err := pc.read()
		if err != nil {
			c.Close()
			return nil, err
		}
		switch typ {
		case 'R':
			if binary.BigEndian.Uint32(payload) != 0 {
				c.Close()
				return nil, errors.New("postgres asks for a password; the test expects trust authentication")
			}
		case 'K':
			pc.pid = int(binary.BigEndian.Uint32(payload))
		case 'E':
			c.Close()
			return nil, fmt.Errorf("postgres: %s", pgError(payload))
		case 'Z':
			return pc, nil
		}
	}
}

func (pc *pgConn) read() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(pc.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	payload := make([]byte, binary.BigEndian.Uint32(hdr[1:])-4)
	_, err := io.ReadFull(pc.r, payload)
	return hdr[0], payload, err
}

// query runs a simple query and returns the first column of the first row.
func (pc *pgConn) query(sql string) (string, error) {
	msg := append([]byte{'Q'}, binary.BigEndian.AppendUint32(nil, uint32(len(sql)+5))...)
	msg = append(append(msg, sql...), 0)
	if _, err := pc.c.Write(msg); err != nil {
		return "", err
	}
	var first string
	var qerr error
	got := false
	for {
		typ, payload, err := pc.read()
		if err != nil {
			return "", err
		}
		switch typ {
		case 'D':
			if !got && binary.BigEndian.Uint16(payload) > 0 {
				n := int32(binary.BigEndian.Uint32(payload[2:]))
				if n >= 0 {
					first = string(payload[6 : 6+n])
				}
				got = true
			}
		case 'E':
			qerr = fmt.Errorf("postgres: %s", pgError(payload))
		case 'Z':
			return first, qerr
		}
	}
}

func (pc *pgConn) Close() error {
	pc.c.Write([]byte{'X', 0, 0, 0, 4})
	return pc.c.Close()
}

// pgError extracts the message field of an ErrorResponse.
func pgError(payload []byte) string {
	for _, f := range strings.Split(string(payload), "\x00") {
		if strings.HasPrefix(f, "M") {
			return f[1:]
		}
	}
	return "unknown error"
}

// TestPostgresLeakedConnectionIsClosed pools real PostgreSQL connections,
// leaks one (drops the lease), and checks through pg_stat_activity that the
// server really sees that connection go away once the garbage collector
// found the lease. It needs TETHER_TEST_POSTGRES (trust authentication).
func TestPostgresLeakedConnectionIsClosed(t *testing.T) {
	dsn := os.Getenv("TETHER_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("TETHER_TEST_POSTGRES is not set")
	}
	probe, err := pgDial(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connecting to %s: %v", dsn, err)
	}
	defer probe.Close()
	alive := func(pid int) bool {
		n, err := probe.query("SELECT count(*) FROM pg_stat_activity WHERE pid = " + strconv.Itoa(pid))
		if err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		return n != "0"
	}

	leaks := &pooltest.Leaks{}
	p, err := pool.New(pool.Config[*pgConn]{
		Name:    "postgres",
		New:     func(ctx context.Context) (*pgConn, error) { return pgDial(ctx, dsn) },
		Close:   (*pgConn).Close,
		MaxSize: 1,
		OnLeak:  leaks.OnLeak,
		Logger:  slogDiscard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	pid := leakConn(t, p)
	if !alive(pid) {
		t.Fatalf("backend %d not in pg_stat_activity while leased", pid)
	}
	deadline := time.Now().Add(30 * time.Second)
	if d, ok := t.Deadline(); ok && d.Before(deadline) {
		deadline = d.Add(-time.Second)
	}
	for len(leaks.Events()) == 0 || alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("backend %d still alive (leak events: %v)", pid, leaks.Events())
		}
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if ev := leaks.Events(); ev[0].Kind != pool.LeakCollected || !strings.HasPrefix(ev[0].Site, "postgres_test.go:") {
		t.Fatalf("leak event = %+v; want collected-while-held at postgres_test.go", ev[0])
	}
	// The pool of one got its capacity back: a new connection, a new backend.
	err = p.With(t.Context(), func(c *pgConn) error {
		if c.pid == pid {
			return fmt.Errorf("got the leaked backend %d again", pid)
		}
		_, err := c.query("SELECT 1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// leakConn acquires a connection, reads its backend pid, and drops the
// lease without releasing it.
//
//go:noinline
func leakConn(t *testing.T, p *pool.Pool[*pgConn]) int {
	l, err := p.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Value().query("SELECT pg_backend_pid()")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(got)
	if pid != l.Value().pid {
		t.Fatalf("pg_backend_pid() = %d; BackendKeyData said %d", pid, l.Value().pid)
	}
	return pid
}
