package constraint

import (
	"errors"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

var node1 = model.Member{
	Name:          "node1",
	Status:        model.StatusOnline,
	Architecture:  "x86_64",
	Roles:         []string{"database", "event-hub"},
	Labels:        map[string]string{"storage": "SSD", "rack": "r1", "empty": ""},
	Groups:        []string{"default", "gpu"},
	FailureDomain: "az1",
}

func TestParseNormalises(t *testing.T) {
	cases := []struct{ in, want string }{
		{"node.labels.storage == ssd", "node.labels.storage==ssd"},
		{"  node.labels.storage==ssd  ", "node.labels.storage==ssd"},
		{"NODE.LABELS.Storage != SSD", "node.labels.Storage!=SSD"},
		{"node.hostname==node1", "node.hostname==node1"},
		{"Node.ID != node2", "node.id!=node2"},
		{"node.role==database", "node.role==database"},
		{"node.platform.arch == amd64", "node.platform.arch==amd64"},
		{"node.platform.os==linux", "node.platform.os==linux"},
		{"node.group==gpu", "node.group==gpu"},
		{"node.failure_domain==az1", "node.failure_domain==az1"},
		{"node.labels.a.b/c-d_e==x y", "node.labels.a.b/c-d_e==x y"},
	}
	for _, tc := range cases {
		cs, err := Parse([]string{tc.in})
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := cs[0].String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"node.labels.storage = ssd", `invalid constraint "node.labels.storage = ssd": operator must be == or !=`},
		{"node.labels.storage >= ssd", "operator must be == or !="},
		{"node.labels.storage <== ssd", "operator must be == or !="},
		{"node.labels.storage === ssd", `unexpected '='`},
		{"node.labels.storage == ssd == x", `unexpected '='`},
		{"node.labels.storage ==", "missing value after =="},
		{"== ssd", "missing key before =="},
		{"node.labels. == ssd", "unknown key"},
		{"node.labels.a b == ssd", `invalid label name "a b"`},
		{"node.name == x", `unknown key "node.name" (valid keys: node.id, node.hostname, node.role, node.platform.arch, node.platform.os, node.group, node.failure_domain, node.labels.<key>)`},
		{"engine.labels.x == y", `unknown key "engine.labels.x"`},
		{"", "operator must be == or !="},
	}
	for _, tc := range cases {
		_, err := Parse([]string{"node.role==database", tc.in})
		if err == nil {
			t.Errorf("Parse(%q): no error", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error %q does not contain %q", tc.in, err, tc.want)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Constraint != tc.in {
			t.Errorf("Parse(%q) error %#v does not name the constraint", tc.in, err)
		}
	}
}

func TestMatch(t *testing.T) {
	bare := model.Member{Name: "node2", Architecture: "aarch64"}
	cases := []struct {
		expr        string
		node1, bare bool
	}{
		{"node.labels.storage==ssd", true, false},   // case-insensitive value
		{"node.labels.storage!=ssd", false, true},   // missing label is ""
		{"node.labels.storage!=hdd", true, true},    // missing label != anything
		{"node.labels.empty!=x", true, true},        // empty label behaves like missing
		{"node.labels.Storage==ssd", false, false},  // label names are case-sensitive
		{"node.hostname==NODE1", true, false},       //
		{"node.id!=node1", false, true},             //
		{"node.role==database", true, false},        // any role
		{"node.role==event-hub", true, false},       //
		{"node.role!=database", false, true},        // none equal
		{"node.group==GPU", true, false},            //
		{"node.group!=gpu", false, true},            //
		{"node.platform.arch==amd64", true, false},  // Docker name vs Incus name
		{"node.platform.arch==x86_64", true, false}, //
		{"node.platform.arch==arm64", false, true},  //
		{"node.platform.arch==aarch64", false, true},
		{"node.platform.arch!=amd64", false, true},
		{"node.platform.os==linux", true, true},
		{"node.platform.os==windows", false, false},
		{"node.failure_domain==AZ1", true, false},
		{"node.failure_domain!=az1", false, true},
	}
	for _, tc := range cases {
		cs, err := Parse([]string{tc.expr})
		if err != nil {
			t.Fatal(err)
		}
		if got := cs[0].Match(node1); got != tc.node1 {
			t.Errorf("%s on node1 = %v, want %v", tc.expr, got, tc.node1)
		}
		if got := cs[0].Match(bare); got != tc.bare {
			t.Errorf("%s on bare member = %v, want %v", tc.expr, got, tc.bare)
		}
	}
}

func TestMatchAll(t *testing.T) {
	cs, err := Parse([]string{"node.labels.rack==r1", "node.role==database"})
	if err != nil {
		t.Fatal(err)
	}
	if !MatchAll(cs, node1) {
		t.Error("node1 should match both")
	}
	if MatchAll(cs, model.Member{Name: "x", Labels: map[string]string{"rack": "r1"}}) {
		t.Error("member without role should not match")
	}
	if !MatchAll(nil, node1) {
		t.Error("no constraints match everything")
	}
}

func TestKeyValue(t *testing.T) {
	cases := []struct {
		key  string
		want string
		ok   bool
	}{
		{"node.labels.rack", "r1", true},
		{"node.labels.storage", "ssd", true},
		{"node.labels.empty", "", false},
		{"node.labels.none", "", false},
		{"node.group", "default,gpu", true},
		{"node.role", "database,event-hub", true},
		{"node.platform.arch", "amd64", true},
		{"node.platform.os", "linux", true},
		{"node.failure_domain", "az1", true},
		{"node.hostname", "node1", true},
	}
	for _, tc := range cases {
		k, err := ParseKey(tc.key)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := k.Value(node1)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: got %q,%v want %q,%v", tc.key, got, ok, tc.want, tc.ok)
		}
		if k.String() != tc.key {
			t.Errorf("String() = %q, want %q", k.String(), tc.key)
		}
	}
	k, _ := ParseKey("node.group")
	if v, ok := k.Value(model.Member{Groups: []string{"B", "a", "b"}}); v != "a,b" || !ok {
		t.Errorf("group set = %q", v)
	}
}

func TestNormArch(t *testing.T) {
	for in, want := range map[string]string{
		"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64",
		"armv7l": "arm", "i686": "386", "riscv64": "riscv64", "s390x": "s390x",
	} {
		if got := NormArch(in); got != want {
			t.Errorf("NormArch(%q) = %q, want %q", in, got, want)
		}
	}
}
