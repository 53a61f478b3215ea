package httptask

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// writer is the ResponseWriter a handler gets: net/http's, plus whether the
// response has begun, so that a panic is answered with a 500 only when
// nothing was sent yet (otherwise the connection is aborted: a client must
// not take a cut response for a whole one).
//
// It forwards the optional interfaces net/http's own writer has (Flusher,
// Hijacker, io.ReaderFrom) and Unwrap, through which
// http.ResponseController reaches the rest (deadlines, full duplex).
type writer struct {
	http.ResponseWriter
	started bool // the status line went out, or the connection was hijacked
}

func (w *writer) WriteHeader(code int) {
	// 1xx responses other than 101 Switching Protocols are informational:
	// the real response is still to come.
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.started = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(p []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(p)
}

// Flush sends what is buffered, if the underlying writer can.
func (w *writer) Flush() {
	w.started = true
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack takes over the connection, if the underlying writer allows it
// (HTTP/1); otherwise it returns an error matching http.ErrNotSupported.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.started = true
	}
	return c, rw, err
}

// ReadFrom keeps net/http's sendfile path for io.Copy into the response.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	w.started = true
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
}

// Unwrap returns net/http's writer, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
