package debugpage

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/tether-go/tether/leakcheck"
)

// pagePath is where the service mounts leakcheck's page.
const pagePath = "/debug/tether"

// fetch gets the page as HTML and as JSON, and the metrics, from the
// server at base.
func fetch(base string) (*leakcheck.Report, string, string, error) {
	url := base + pagePath
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(u string) ([]byte, error) {
		resp, err := client.Get(u)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("debugpage: GET %s: %s", u, resp.Status)
		}
		return io.ReadAll(resp.Body)
	}
	page, err := get(url)
	if err != nil {
		return nil, "", "", err
	}
	body, err := get(url + "?format=json")
	if err != nil {
		return nil, "", "", err
	}
	var r leakcheck.Report
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, "", "", err
	}
	metrics, err := get(base + "/metrics")
	if err != nil {
		return nil, "", "", err
	}
	return &r, string(page), string(metrics), nil
}
