package metrics

import "testing"

func TestGroupSeries(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"app", "app"},
		{"app/worker#7/conns", "app/worker/conns"},
		{"app/worker#7/conns#12", "app/worker/conns"},
		{"app/GET /orders/{id}#3/db#2", "app/GET /orders/{id}/db"},
		{"app#", "app"},
		{"", ""},
	} {
		if got := groupSeries(c.path); got != c.want {
			t.Errorf("groupSeries(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}
