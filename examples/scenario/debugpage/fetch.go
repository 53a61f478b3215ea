package debugpage

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/tether-go/tether/leakcheck"
)

// fetch gets the page as HTML and as JSON.
func fetch(url string) (*leakcheck.Report, string, error) {
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
		return nil, "", err
	}
	body, err := get(url + "?format=json")
	if err != nil {
		return nil, "", err
	}
	var r leakcheck.Report
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, "", err
	}
	return &r, string(page), nil
}
