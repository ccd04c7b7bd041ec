package protocol

import (
	"strings"
	"testing"
)

func TestDecodeRejectsBadRequests(t *testing.T) {
	cases := []struct {
		name, in, field, contains string
	}{
		{"not json", `{"version":1,`, "", "not valid JSON"},
		{"empty", ``, "", "empty request"},
		{"two documents", `{"version":1,"action":"cluster.status"} {}`, "", "more than one"},
		{"array", `[]`, "", "expected object"},
		{"wrong version", `{"version":2,"action":"cluster.status"}`, "version", "unsupported protocol version 2"},
		{"missing action", `{"version":1}`, "action", "required"},
		{"unknown action", `{"version":1,"action":"stack.plan"}`, "action", "unknown action \"stack.plan\""},
		{"unknown envelope field", `{"version":1,"action":"cluster.status","tset":true}`, "tset", "unknown field"},
		{"wrong type", `{"version":1,"action":"stack.status","params":{"name":5}}`, "params.name", "expected string"},
		{"unknown param", `{"version":1,"action":"stack.status","params":{"name":"demo","nmae":"x"}}`, "params.nmae", "unknown field"},
		{"missing param", `{"version":1,"action":"stack.status","params":{}}`, "params.name", "required"},
		{"bad stack name", `{"version":1,"action":"stack.absent","params":{"name":"Demo/1"}}`, "params.name", "does not match pattern"},
		{"test not bool", `{"version":1,"action":"cluster.status","test":"yes"}`, "test", "expected boolean"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := Decode(strings.NewReader(c.in))
			if err == nil {
				t.Fatalf("accepted %q as %+v", c.in, req)
			}
			if err.Code != CodeInvalidRequest {
				t.Fatalf("code %q, want invalid_request", err.Code)
			}
			if !strings.Contains(err.Message, c.contains) {
				t.Fatalf("message %q does not contain %q", err.Message, c.contains)
			}
			if c.field != "" && !hasField(err, c.field) {
				t.Fatalf("details %+v do not name field %q", err.Details, c.field)
			}
		})
	}
}

func hasField(e *Error, field string) bool {
	for _, d := range e.Details {
		if d.Field == field {
			return true
		}
	}
	return false
}

func TestDecodeAcceptsValidRequest(t *testing.T) {
	in := `{"version":1,"action":"stack.present","test":true,"params":{"name":"demo","compose_yaml":"services: {}","env":{"A":"1"}}}`
	req, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	if req.Action != "stack.present" || !req.Test {
		t.Fatalf("decoded %+v", req)
	}
	var p struct {
		Name        string            `json:"name"`
		ComposeYAML string            `json:"compose_yaml"`
		Env         map[string]string `json:"env"`
	}
	if err := DecodeParams(req, &p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "demo" || p.Env["A"] != "1" {
		t.Fatalf("params %+v", p)
	}
}

func TestEveryActionHasParamsAndResponseSchema(t *testing.T) {
	want := []string{"cluster.snapshot", "cluster.status", "stack.absent", "stack.present", "stack.status"}
	want = append(want, "cluster.member.present", "cluster.member.absent", "cluster.member.evacuate", "cluster.member.restore")
	want = append(want, "bundle.create", "bundle.verify")
	got := Actions()
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("action %s has no schema (have %v)", w, got)
		}
	}
}
