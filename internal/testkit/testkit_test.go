package testkit_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/tether-go/tether/internal/testkit"
)

func TestHere(t *testing.T) {
	_, _, line, _ := runtime.Caller(0)
	for _, tc := range []struct {
		name string
		got  string
		want int
	}{
		{"this line", testkit.Here(0), line + 6},
		{"the line above", testkit.Here(-1), line + 6},
		{"the line below", testkit.Here(1), line + 9},
	} {
		if want := "testkit_test.go:" + strconv.Itoa(tc.want); tc.got != want {
			t.Errorf("%s: Here = %s, want %s", tc.name, tc.got, want)
		}
	}
}

func TestHereSite(t *testing.T) {
	site, line := testkit.HereSite()
	_, _, want, _ := runtime.Caller(0)
	if line != want-1 || site.String() != "testkit_test.go:"+strconv.Itoa(want-1) {
		t.Errorf("HereSite() = %s, %d; want testkit_test.go:%d and that line", site, line, want-1)
	}
}
