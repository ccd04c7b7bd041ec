package clusterres

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// fakeIncus is an HTTP server on a unix socket that answers like a
// clustered Incus for the few endpoints a present/absent run reads, and
// records every request. It stands in only where this machine cannot run
// the real thing (OVN, Ceph): the tests check the exact requests sent.
type fakeIncus struct {
	t        *testing.T
	mu       sync.Mutex
	requests []string                  // "METHOD /1.0/path?query {body}"
	records  map[string]map[string]any // path under /1.0 -> GET metadata
	members  []string
}

type reply struct {
	Type       string `json:"type"`
	Status     string `json:"status"`
	StatusCode int    `json:"status_code"`
	Metadata   any    `json:"metadata"`
}

func newFakeIncus(t *testing.T, members ...string) (*fakeIncus, *incus.Client) {
	t.Helper()
	f := &fakeIncus{t: t, records: map[string]map[string]any{}, members: members}
	sock := filepath.Join(t.TempDir(), "unix.socket")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := incus.Connect(context.Background(), incus.Options{Socket: sock})
	if err != nil {
		t.Fatalf("connect to the fake: %v", err)
	}
	f.mu.Lock()
	f.requests = nil // the connect's own reads are not what the tests check
	f.mu.Unlock()
	return f, c
}

func (f *fakeIncus) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/1.0")
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	if len(body) > 0 {
		line += " " + strings.TrimSpace(string(body))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == "GET" && path == "":
		f.write(w, 200, map[string]any{"api_version": "1.0", "auth": "trusted", "api_extensions": []string{},
			"environment": map[string]any{"server_clustered": true, "server_name": f.members[0], "architectures": []string{"x86_64"}},
			"config":      map[string]any{}})
		return
	case r.Method == "GET" && path == "/cluster/members":
		var list []map[string]any
		for _, m := range f.members {
			list = append(list, map[string]any{"server_name": m, "status": "Online", "message": "Fully operational", "roles": []string{"database"}})
		}
		f.write(w, 200, list)
		return
	}
	f.requests = append(f.requests, line)
	switch r.Method {
	case "GET":
		if rec, ok := f.records[path]; ok {
			f.write(w, 200, rec)
			return
		}
		f.fail(w, 404, "not found")
	case "POST":
		var req map[string]any
		_ = json.Unmarshal(body, &req)
		key := path + "/" + req["name"].(string)
		rec := f.records[key]
		if rec == nil {
			rec = map[string]any{"name": req["name"], "status": "Pending", "locations": []string{}, "config": map[string]any{}, "used_by": []string{}}
			for _, k := range []string{"driver", "type"} {
				if v, ok := req[k]; ok {
					rec[k] = v
				}
			}
			f.records[key] = rec
		}
		if t := r.URL.Query().Get("target"); t != "" {
			rec["locations"] = append(rec["locations"].([]string), t)
		} else {
			rec["status"] = "Created"
			rec["config"] = req["config"]
			if d, ok := req["description"]; ok {
				rec["description"] = d
			}
		}
		f.write(w, 200, nil)
	case "PATCH":
		rec, ok := f.records[path]
		if !ok {
			f.fail(w, 404, "not found")
			return
		}
		var req map[string]any
		_ = json.Unmarshal(body, &req)
		cfg, _ := rec["config"].(map[string]any)
		if cfg == nil {
			cfg = map[string]any{}
		}
		for k, v := range req["config"].(map[string]any) {
			cfg[k] = v
		}
		rec["config"] = cfg
		if d, ok := req["description"]; ok {
			rec["description"] = d
		}
		f.write(w, 200, nil)
	default:
		f.fail(w, 400, "not expected by this fake")
	}
}

func (f *fakeIncus) write(w http.ResponseWriter, code int, meta any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(reply{Type: "sync", Status: "Success", StatusCode: code, Metadata: meta})
}

func (f *fakeIncus) fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": msg, "error_code": code})
}

func (f *fakeIncus) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}
