package composeload

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// FuzzLoadInline feeds arbitrary YAML to Load: it must never panic, must
// fail only with *Error, and on success must uphold the model's invariants.
func FuzzLoadInline(f *testing.F) {
	for _, seed := range []string{
		"services:\n  web:\n    image: nginx:alpine\n    deploy:\n      replicas: 3\n",
		"services:\n  agent:\n    image: a\n    deploy:\n      mode: global\n",
		"services:\n  db:\n    image: postgres:14\n    deploy:\n      replicas: 2\n      placement:\n        constraints: [node.labels.storage == ssd]\n        preferences: [{spread: instanceId}]\n",
		"services:\n  web:\n    image: x\n    ports: [\"8080-8082:80\", \"9000-9001:90-91\"]\n",
		"services:\n  w:\n    x-incus: {image: \"images:debian/12\"}\n    restart: on-failure:3\n    healthcheck: {test: true}\n",
		"x-a: &a {image: a}\nservices:\n  s: {<<: *a, scale: 2}\n",
		"services: []\n",
		"services: &a {<<: *a}\n",
		"",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, yaml string) {
		st, err := Load(context.Background(), Options{Name: "fuzz", Inline: yaml, ProjectDir: dir, LookupEnv: noEnv})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is %T, want *Error: %v", err, err)
			}
			if e.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		checkInvariants(t, st)
	})
}

func checkInvariants(t *testing.T, st *model.Stack) {
	t.Helper()
	if !slices.IsSortedFunc(st.Services, func(a, b model.Service) int {
		return strings.Compare(a.Name, b.Name)
	}) {
		t.Errorf("services not sorted: %v", serviceNames(st))
	}
	if !slices.IsSorted(st.Warnings) || len(slices.Compact(slices.Clone(st.Warnings))) != len(st.Warnings) {
		t.Errorf("warnings not sorted and unique: %q", st.Warnings)
	}
	for _, s := range st.Services {
		if s.Image == "" {
			t.Errorf("%s: empty image", s.Name)
		}
		if b, err := hex.DecodeString(s.Hash); err != nil || len(b) != 32 {
			t.Errorf("%s: hash %q is not sha256 hex", s.Name, s.Hash)
		}
		d := s.Deploy
		if d.Mode != model.ModeReplicated && d.Mode != model.ModeGlobal {
			t.Errorf("%s: mode %q", s.Name, d.Mode)
		}
		if d.Replicas < 0 || (d.Mode == model.ModeGlobal && d.Replicas != 0) {
			t.Errorf("%s: replicas %d in mode %s", s.Name, d.Replicas, d.Mode)
		}
		for _, u := range []model.UpdateConfig{d.UpdateConfig, d.RollbackConfig} {
			if u.Order != model.OrderStartFirst && u.Order != model.OrderStopFirst || u.FailureAction == "" || u.Parallelism < 0 {
				t.Errorf("%s: update config %+v", s.Name, u)
			}
		}
		switch d.RestartPolicy.Condition {
		case "none", "on-failure", "any":
		default:
			t.Errorf("%s: restart condition %q", s.Name, d.RestartPolicy.Condition)
		}
		for _, m := range s.Mounts {
			if !strings.HasPrefix(m.Target, "/") || m.Type == model.MountVolume && st.Volume(m.Source) == nil {
				t.Errorf("%s: mount %+v (volumes %+v)", s.Name, m, st.Volumes)
			}
		}
		for _, p := range s.Ports {
			if p.Target < 1 || p.Target > 65535 || p.PublishedEnd < p.PublishedStart || (p.Protocol != "tcp" && p.Protocol != "udp") {
				t.Errorf("%s: port %+v", s.Name, p)
			}
		}
	}
}
