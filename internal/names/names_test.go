package names

import (
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func stack() *model.Stack {
	return &model.Stack{Name: "shop", Services: []model.Service{
		{Name: "api", Networks: []model.ServiceNetwork{{Network: "back", Aliases: []string{"backend"}}, {Network: "edge"}}},
		{Name: "db", Networks: []model.ServiceNetwork{{Network: "back"}}},
		{Name: "front", Networks: []model.ServiceNetwork{{Network: "edge"}}},
	}}
}

func TestBookScopesNamesToSharedNetworks(t *testing.T) {
	eps := []Endpoint{
		{Instance: "front-1", Service: "front", Addrs: map[string]string{"edge": "10.0.1.5"}},
		{Instance: "api-1", Service: "api", Addrs: map[string]string{"edge": "10.0.1.6", "back": "10.0.2.6"}},
		{Instance: "api-2", Service: "api", Addrs: map[string]string{"edge": "10.0.1.7", "back": "10.0.2.7"}},
		{Instance: "db-1", Service: "db", Addrs: map[string]string{"back": "10.0.2.9"}},
	}
	book := Book(stack(), eps)
	front := render(book["front-1"])
	for _, want := range []string{"10.0.1.6\tapi-1 api tasks.api", "10.0.1.7\tapi-2 api tasks.api", "10.0.1.5\tfront-1 front tasks.front"} {
		if !strings.Contains(front, want) {
			t.Errorf("front lacks %q:\n%s", want, front)
		}
	}
	if strings.Contains(front, "db") || strings.Contains(front, "backend") || strings.Contains(front, "10.0.2.") {
		t.Errorf("front (edge only) sees the back network:\n%s", front)
	}
	db := render(book["db-1"])
	if !strings.Contains(db, "10.0.2.6\tapi-1 api tasks.api backend") || strings.Contains(db, "front") {
		t.Errorf("db sees:\n%s", db)
	}
	// A service on both networks sees everything, each peer at its address on the shared network.
	api := render(book["api-1"])
	for _, want := range []string{"10.0.2.9\tdb-1 db tasks.db", "10.0.1.5\tfront-1 front tasks.front"} {
		if !strings.Contains(api, want) {
			t.Errorf("api lacks %q:\n%s", want, api)
		}
	}
}

func TestBookIsDeterministicAndSpreads(t *testing.T) {
	var eps []Endpoint
	for _, n := range []string{"api-1", "api-2", "api-3", "api-4"} {
		eps = append(eps, Endpoint{Instance: n, Service: "api", Addrs: map[string]string{"edge": "10.0.1." + n[4:]}})
	}
	eps = append(eps, Endpoint{Instance: "front-1", Service: "front", Addrs: map[string]string{"edge": "10.0.1.100"}},
		Endpoint{Instance: "front-2", Service: "front", Addrs: map[string]string{"edge": "10.0.1.101"}})
	a := Book(stack(), eps)
	rev := append([]Endpoint(nil), eps...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	b := Book(stack(), rev)
	if render(a["front-1"]) != render(b["front-1"]) {
		t.Errorf("order of endpoints changes the file")
	}
	firsts := map[string]bool{}
	for _, self := range []string{"front-1", "front-2", "api-1", "api-2", "api-3", "api-4"} {
		for _, e := range a[self] {
			if strings.HasPrefix(e.Names[0], "api-") {
				firsts[e.IP] = true
				break
			}
		}
	}
	if len(firsts) < 2 {
		t.Errorf("every client sees the same api replica first: %v", firsts)
	}
}

func TestRenderMarksFleetSectionAndKeepsExtraHosts(t *testing.T) {
	out := string(Render(Hosts{Stack: "shop", Instance: "web-1",
		Fleet: []Entry{{IP: "10.0.0.2", Names: []string{"web-2", "web"}}},
		Extra: []Entry{{IP: "192.0.2.1", Names: []string{"legacy"}}}}))
	want := "# Written by incus-fleet for web-1 of stack shop; rewritten whenever the stack changes.\n" +
		"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tweb-1\n" +
		BeginMarker + "\n10.0.0.2\tweb-2 web\n" + EndMarker + "\n# extra_hosts\n192.0.2.1\tlegacy\n"
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	// With its own address among the names, no 127.0.1.1 line.
	out = string(Render(Hosts{Stack: "shop", Instance: "web-1", Fleet: []Entry{{IP: "10.0.0.1", Names: []string{"web-1", "web"}}}}))
	if strings.Contains(out, "127.0.1.1") {
		t.Errorf("own name twice:\n%s", out)
	}
}

func render(es []Entry) string { return string(Render(Hosts{Stack: "shop", Instance: "x", Fleet: es})) }

// A Compose hostname resolves to the instance's own address once it has
// one (Docker's behaviour), not to 127.0.1.1.
func TestRenderHostnameResolvesToOwnAddress(t *testing.T) {
	out := string(Render(Hosts{Stack: "shop", Instance: "web-1", Hostname: "frontdoor",
		Fleet: []Entry{{IP: "198.18.0.11", Names: []string{"web-1", "web", "tasks.web"}}}}))
	if !strings.Contains(out, "198.18.0.11\tfrontdoor\n") || strings.Contains(out, "127.0.1.1") {
		t.Errorf("hostname does not resolve to the instance's address:\n%s", out)
	}
	out = string(Render(Hosts{Stack: "shop", Instance: "web-1", Hostname: "frontdoor"}))
	if !strings.Contains(out, "127.0.1.1\tfrontdoor\n") {
		t.Errorf("hostname without an address yet:\n%s", out)
	}
}

func TestRecordCoversExactlyTheRunningSet(t *testing.T) {
	r := Record{"web-1": Digest([]byte("a")), "web-2": Digest([]byte("b"))}
	if !r.Covers([]string{"web-2", "web-1"}) {
		t.Error("same set not covered")
	}
	for _, running := range [][]string{{"web-1"}, {"web-1", "web-2", "web-3"}, {"web-1", "web-3"}} {
		if r.Covers(running) {
			t.Errorf("record %v covers running %v", r, running)
		}
	}
	if got := DecodeRecord(r.Encode()); !got.Covers([]string{"web-1", "web-2"}) || got["web-1"] != r["web-1"] {
		t.Errorf("round trip: %v", got)
	}
	if DecodeRecord("{not json").Covers([]string{"web-1"}) || len(DecodeRecord("")) != 0 {
		t.Error("an unreadable record must be empty")
	}
	if (Record{}).Encode() != "" {
		t.Error("empty record must encode to nothing")
	}
}
