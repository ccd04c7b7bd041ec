package composeload

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// hashAttrs is service web's baseline; hashDoc renders it with changes.
var hashAttrs = []struct{ key, value string }{
	{"image", "nginx:1.27"},
	{"command", `["nginx", "-g", "daemon off;"]`},
	{"environment", `{A: "1", B: "2", C: "3"}`},
	{"labels", `{x: "1", y: "2"}`},
	{"ports", `["8080:80"]`},
	{"deploy", "{replicas: 2}"},
}

// hashDoc renders the baseline with some attributes replaced or added.
func hashDoc(set map[string]string) string {
	var b strings.Builder
	b.WriteString("services:\n  web:\n")
	seen := map[string]bool{}
	for _, a := range hashAttrs {
		v := a.value
		if o, ok := set[a.key]; ok {
			v = o
		}
		seen[a.key] = true
		fmt.Fprintf(&b, "    %s: %s\n", a.key, v)
	}
	for _, k := range sortedKeys(set) {
		if !seen[k] {
			fmt.Fprintf(&b, "    %s: %s\n", k, set[k])
		}
	}
	b.WriteString("  db:\n    image: postgres:16\n") // for depends_on
	return b.String()
}

func webHash(t *testing.T, yaml string) string {
	t.Helper()
	st := mustLoad(t, yaml, func(o *Options) { o.Profiles = []string{"front"} })
	s := st.Service("web")
	if s == nil {
		t.Fatal("no service web")
	}
	return s.Hash
}

func TestHashStable(t *testing.T) {
	first := webHash(t, hashDoc(nil))
	// Map iteration order is random per run; many loads must agree.
	for range 20 {
		if h := webHash(t, hashDoc(nil)); h != first {
			t.Fatalf("hash changed between identical loads: %s vs %s", first, h)
		}
	}
	reordered := `
services:
  web:
    deploy:
      replicas: 2
    ports: ["8080:80"]
    labels: {y: "2", x: "1"}
    environment: [C=3, A=1, B=2]
    command: nginx -g "daemon off;"
    image: nginx:1.27
`
	if h := webHash(t, reordered); h != first {
		t.Errorf("same service written in another key order / syntax hashes differently")
	}
}

func TestHashIndependentOfFileSplit(t *testing.T) {
	load := func(files ...string) string {
		t.Helper()
		st, err := Load(context.Background(), Options{Name: "s", Files: files, LookupEnv: noEnv})
		if err != nil {
			t.Fatal(err)
		}
		return st.Service("web").Hash
	}
	split := load("testdata/split/base.yaml", "testdata/split/override.yaml")
	merged := load("testdata/split/merged.yaml")
	if split != merged {
		t.Errorf("split files hash %s, merged file %s", split, merged)
	}
}

func TestHashSensitivity(t *testing.T) {
	base := webHash(t, hashDoc(nil))
	changes := map[string]map[string]string{
		"image":         {"image": "nginx:1.28"},
		"environment":   {"environment": `{A: "1", B: "2", C: "4"}`},
		"command":       {"command": `["nginx"]`},
		"entrypoint":    {"entrypoint": `["/docker-entrypoint.sh"]`},
		"ports":         {"ports": `["8081:80"]`},
		"labels":        {"labels": `{x: "1"}`},
		"x-incus.image": {"x-incus": `{image: "images:alpine/3.20"}`},
		"resources":     {"deploy": "{replicas: 2, resources: {limits: {memory: 64M}}}"},
	}
	for what, set := range changes {
		t.Run(what, func(t *testing.T) {
			if h := webHash(t, hashDoc(set)); h == base {
				t.Errorf("changing %s did not change the hash", what)
			}
		})
	}
	same := map[string]map[string]string{
		"replicas":         {"deploy": "{replicas: 5}"},
		"no deploy at all": {"deploy": "{}"},
		"scale":            {"deploy": "{}", "scale": "7"},
		"build":            {"build": "./web"},
		"pull_policy":      {"pull_policy": "always"},
		"profiles":         {"profiles": `["front"]`},
		"depends_on":       {"depends_on": "[db]"},
		// Swarm: the update policy and deploy labels are not part of what
		// a task is, so editing them replaces nothing (issue 12, item 12).
		"update_config":   {"deploy": "{replicas: 2, update_config: {order: start-first, parallelism: 3}}"},
		"rollback_config": {"deploy": "{replicas: 2, rollback_config: {parallelism: 0, failure_action: continue}}"},
		"deploy labels":   {"deploy": "{replicas: 2, labels: {team: blue}}"},
	}
	for what, set := range same {
		t.Run("ignores "+what, func(t *testing.T) {
			if h := webHash(t, hashDoc(set)); h != base {
				t.Errorf("changing only %s changed the hash", what)
			}
		})
	}
}
