package incus

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// OVN cannot run on the test machines (no Open vSwitch datapath), so the
// OVN path is checked by the exact requests it makes, against a fake Incus
// on a unix socket that answers like Incus 6.0 and records every request.

type recordingIncus struct {
	mu       sync.Mutex
	config   map[string]string
	networks map[string]map[string]any // name -> GET body
	missing  map[string]bool           // "name@member": absent on that member
	log      []string                  // "METHOD /path?query body"
}

func (f *recordingIncus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	if len(body) > 0 {
		line += " " + strings.TrimSpace(string(body))
	}
	if r.URL.Path != "/1.0" { // the connection's own handshake is not the network code's
		f.log = append(f.log, line)
	}
	sync := func(meta any) {
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "sync", "status": "Success", "status_code": 200, "metadata": meta})
	}
	notFound := func() {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": "Network not found", "error_code": 404})
	}
	switch {
	case r.URL.Path == "/1.0":
		sync(map[string]any{"config": f.config, "api_extensions": []string{}, "auth": "trusted",
			"environment": map[string]any{"server_clustered": true, "server_name": "node1", "architectures": []string{"x86_64"}}})
	case r.URL.Path == "/1.0/networks" && r.Method == "GET":
		var all []map[string]any
		for _, n := range f.networks {
			all = append(all, n)
		}
		sync(all)
	case r.URL.Path == "/1.0/networks" && r.Method == "POST":
		var n map[string]any
		_ = json.Unmarshal(body, &n)
		f.networks[n["name"].(string)] = n
		sync(nil)
	case strings.HasPrefix(r.URL.Path, "/1.0/networks/") && r.Method == "GET":
		name := strings.TrimPrefix(r.URL.Path, "/1.0/networks/")
		n, ok := f.networks[name]
		if !ok || f.missing[name+"@"+r.URL.Query().Get("target")] {
			notFound()
			return
		}
		sync(n)
	default:
		notFound()
	}
}

func startRecordingIncus(t *testing.T, f *recordingIncus) *Client {
	t.Helper()
	if f.networks == nil {
		f.networks = map[string]map[string]any{}
	}
	sock := filepath.Join(t.TempDir(), "incus.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	c, err := Connect(context.Background(), Options{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var threeMembers = []model.Member{{Name: "node1", Status: "Online"}, {Name: "node2", Status: "Online"}, {Name: "node3", Status: "Online"}}

func ovnStack() *model.Stack {
	return &model.Stack{Name: "shop",
		Services: []model.Service{
			{Name: "api", Networks: []model.ServiceNetwork{{Network: "back"}, {Network: "default"}}},
			{Name: "db", Networks: []model.ServiceNetwork{{Network: "back"}}},
		},
		Networks: []model.Network{{Name: "back", Subnets: []string{"10.42.0.0/24"}, Internal: true}, {Name: "default"}},
	}
}

// TestOVNFirstDeployRequests: with an OVN uplink set for the cluster, each
// Compose network becomes an OVN network of its own, looked up first and
// created by one POST each, owned by the stack; NICs attach by network.
func TestOVNFirstDeployRequests(t *testing.T) {
	f := &recordingIncus{config: map[string]string{KeyOVNUplink: "UPLINK"}}
	c := startRecordingIncus(t, f)
	plan, err := c.ResolveNetworks(context.Background(), ovnStack(), threeMembers)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureNetworks(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /1.0/networks/shop-back",
		"GET /1.0/networks?recursion=1",
		"GET /1.0/networks/shop-default",
		`POST /1.0/networks {"name":"shop-back","type":"ovn","description":"incus-fleet: network back of stack shop","config":{"ipv4.address":"10.42.0.1/24","ipv4.nat":"false","ipv6.nat":"false","network":"UPLINK","user.fleet.network":"back","user.fleet.stack":"shop"}}`,
		`POST /1.0/networks {"name":"shop-default","type":"ovn","description":"incus-fleet: network default of stack shop","config":{"network":"UPLINK","user.fleet.network":"default","user.fleet.stack":"shop"}}`,
	}
	checkLog(t, f, want)
	// Every lookup and check comes first; the POSTs only in EnsureNetworks.
	nics := plan.ServiceNICs(&ovnStack().Services[0])
	if len(nics) != 2 || nics[0].Name != "eth0" || nics[0].Device["network"] != "shop-back" || nics[1].Device["network"] != "shop-default" {
		t.Errorf("api NICs: %+v", nics)
	}
	devs := NetworkDevices(nics)
	if d := devs["eth1"]; d["type"] != "nic" || d["name"] != "eth1" || d["network"] != "shop-default" || len(d) != 3 {
		t.Errorf("eth1 device: %v", d)
	}

	// Second deploy: both exist and are the stack's: looked up, not created.
	f.log = nil
	plan, err = c.ResolveNetworks(context.Background(), ovnStack(), threeMembers)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureNetworks(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	checkLog(t, f, []string{"GET /1.0/networks/shop-back", "GET /1.0/networks/shop-default"})
}

func checkLog(t *testing.T, f *recordingIncus, want []string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.log
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestOVNNetworkNotOurs: a network of the derived name that another stack
// or an operator owns is a conflict, not silently shared.
func TestOVNNetworkNotOurs(t *testing.T) {
	f := &recordingIncus{config: map[string]string{KeyOVNUplink: "UPLINK"},
		networks: map[string]map[string]any{"shop-back": {"name": "shop-back", "type": "ovn", "managed": true, "config": map[string]string{}}}}
	c := startRecordingIncus(t, f)
	_, err := c.ResolveNetworks(context.Background(), ovnStack(), threeMembers)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "shop-back") {
		t.Fatalf("err = %v", err)
	}
}

// TestOVNSubnetConflict: an ipam subnet inside an existing network's range
// is refused before anything is created, naming both.
func TestOVNSubnetConflict(t *testing.T) {
	f := &recordingIncus{config: map[string]string{KeyOVNUplink: "UPLINK"},
		networks: map[string]map[string]any{"lan": {"name": "lan", "type": "bridge", "managed": true, "config": map[string]string{"ipv4.address": "10.42.0.1/16"}}}}
	c := startRecordingIncus(t, f)
	_, err := c.ResolveNetworks(context.Background(), ovnStack(), threeMembers)
	var nerr *NetworkError
	if !errors.As(err, &nerr) || !strings.Contains(err.Error(), `"lan"`) || !strings.Contains(err.Error(), "10.42.0.0/24") {
		t.Fatalf("err = %v", err)
	}
	for _, l := range f.log {
		if strings.HasPrefix(l, "POST") {
			t.Errorf("created something before the error: %s", l)
		}
	}
}

// TestParentBridgeMissingOnMember: the parent bridge must exist on every
// online member; a member without it is named (a real test bed shares one
// host, so every member sees the same bridges: this needs the fake).
func TestParentBridgeMissingOnMember(t *testing.T) {
	f := &recordingIncus{config: map[string]string{KeyNetworkParent: "br0"},
		networks: map[string]map[string]any{"br0": {"name": "br0", "type": "bridge", "managed": false}},
		missing:  map[string]bool{"br0@node3": true}}
	c := startRecordingIncus(t, f)
	_, err := c.ResolveNetworks(context.Background(), ovnStack(), threeMembers)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "node3") || !strings.Contains(err.Error(), "br0") {
		t.Fatalf("err = %v", err)
	}
	checkLog(t, f, []string{"GET /1.0/networks/br0?target=node1", "GET /1.0/networks/br0?target=node2", "GET /1.0/networks/br0?target=node3"})

	// Present everywhere: both networks share one NIC on br0, with warnings.
	delete(f.missing, "br0@node3")
	plan, err := c.ResolveNetworks(context.Background(), ovnStack(), threeMembers)
	if err != nil {
		t.Fatal(err)
	}
	nics := plan.ServiceNICs(&ovnStack().Services[0])
	if len(nics) != 1 || nics[0].Device["parent"] != "br0" || nics[0].Device["nictype"] != "bridged" || len(nics[0].Networks) != 2 {
		t.Errorf("api NICs: %+v", nics)
	}
	w := strings.Join(plan.Warnings, "\n")
	for _, want := range []string{"not isolated", "ipam subnet 10.42.0.0/24 not applied", "internal not enforced"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
}

func TestOVNNetworkName(t *testing.T) {
	if got := OVNNetworkName("shop", "back"); got != "shop-back" {
		t.Errorf("short: %s", got)
	}
	a, b := OVNNetworkName("webshop-prod", "backend"), OVNNetworkName("webshop-prod", "backend2")
	if len(a) > 15 || len(b) > 15 || a == b {
		t.Errorf("long names %q %q: want ≤15 chars and distinct", a, b)
	}
}
