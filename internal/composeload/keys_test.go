package composeload

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/schema"
)

// schemaKeys collects the property names of a definition of the schema
// compose-go embeds, following allOf/anyOf/oneOf and $ref.
func schemaKeys(t *testing.T, defs map[string]any, node any, seen map[string]bool) []string {
	t.Helper()
	m, _ := node.(map[string]any)
	var out []string
	if ref, ok := m["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		if !seen[name] {
			seen[name] = true
			out = append(out, schemaKeys(t, defs, defs[name], seen)...)
		}
	}
	for k := range propsOrEmpty(m) {
		out = append(out, k)
	}
	for _, comb := range []string{"allOf", "anyOf", "oneOf"} {
		list, _ := m[comb].([]any)
		for _, sub := range list {
			out = append(out, schemaKeys(t, defs, sub, seen)...)
		}
	}
	sort.Strings(out)
	return out
}

func propsOrEmpty(m map[string]any) map[string]any {
	if p, ok := m["properties"].(map[string]any); ok {
		return p
	}
	return map[string]any{}
}

// TestEveryServiceKeyIsHandled walks the service schema compose-go embeds
// and fails on any key that is neither mapped nor reported: a new Compose
// release cannot drop a key silently.
func TestEveryServiceKeyIsHandled(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(schema.Schema), &doc); err != nil {
		t.Fatal(err)
	}
	defs := doc["$defs"].(map[string]any)
	for _, c := range []struct {
		def   string
		table map[string]handled
	}{
		{"service", serviceKeys},
		{"deployment", deployKeys},
		{"healthcheck", healthcheckKeys},
	} {
		keys := schemaKeys(t, defs, defs[c.def], map[string]bool{})
		if len(keys) < 5 {
			t.Fatalf("%s: only %d keys found in the schema: the walk is broken", c.def, len(keys))
		}
		for _, k := range keys {
			if _, ok := c.table[k]; !ok {
				t.Errorf("%s key %q is neither mapped nor in the warn table (keys.go): map it, refuse it, or add why it is ignored", c.def, k)
			}
		}
		// And the table names no key Compose does not have.
		known := map[string]bool{}
		for _, k := range keys {
			known[k] = true
		}
		for k := range c.table {
			if !known[k] {
				t.Errorf("%s key %q is in the table but not in the Compose schema", c.def, k)
			}
		}
	}
}

// TestUnsupportedKeysWarnOncePerServiceAndKey: every key without an Incus
// equivalent is named in Swarm's form, once per service and key.
func TestUnsupportedKeysWarnOncePerServiceAndKey(t *testing.T) {
	st := mustLoad(t, `
services:
  web:
    image: busybox
    dns: [192.0.2.53]
    logging: {driver: json-file}
    expose: ["80"]
    read_only: true
    deploy:
      endpoint_mode: dnsrr
      resources:
        reservations:
          devices: [{capabilities: [gpu], count: 1}]
  db:
    image: busybox
    logging: {driver: syslog}
`)
	want := []string{
		`service "db": logging is not supported on Incus (Incus keeps each instance's console output instead: incus console --show-log); ignored`,
		`service "web": deploy.endpoint_mode is not supported on Incus (Incus has no service virtual IP or DNS round-robin); ignored`,
		`service "web": deploy.resources.reservations.devices is not supported on Incus (device reservations such as GPUs are not mapped yet; add an Incus gpu device to the profile and a node.labels constraint); ignored`,
		`service "web": dns is not supported on Incus (instances use the DNS server of their Incus network); ignored`,
		`service "web": expose is not supported on Incus (instances reach each other's ports directly; there is nothing to open); ignored`,
		`service "web": logging is not supported on Incus (Incus keeps each instance's console output instead: incus console --show-log); ignored`,
		`service "web": read_only is not supported on Incus (Incus cannot mount a container's root read-only); ignored`,
	}
	if strings.Join(st.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(st.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

// TestREADMEListsEveryKey keeps the README's mapping tables true to the
// key tables: every service and deploy key is listed in one of them.
func TestREADMEListsEveryKey(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start, end := strings.Index(readme, "<!-- compose-keys:mapped -->"), strings.Index(readme, "<!-- /compose-keys:reported -->")
	if start < 0 || end < start {
		t.Fatal("README.md lost its compose-keys markers")
	}
	section := readme[start:end]
	listed := func(key string) bool {
		return regexp.MustCompile("`" + regexp.QuoteMeta(key) + "[`: ]").MatchString(section)
	}
	for key := range serviceKeys {
		if !listed(key) {
			t.Errorf("README's mapping tables do not list %q", key)
		}
	}
	for key := range deployKeys {
		if !listed("deploy." + key) {
			t.Errorf("README's mapping tables do not list %q", "deploy."+key)
		}
	}
}

// TestDefaultValuesAreNotWarned: a key set to what Docker does anyway
// (false, 0 where 0 is the default, an empty list) changes nothing, so it
// is no false alarm; the same keys set to a real value still warn.
func TestDefaultValuesAreNotWarned(t *testing.T) {
	st := mustLoad(t, `
services:
  web:
    image: busybox
    read_only: false
    tty: false
    stdin_open: false
    oom_kill_disable: false
    use_api_socket: false
    cpu_shares: 0
    oom_score_adj: 0
    dns: []
    expose: []
  db:
    image: busybox
    tty: true
    mem_swappiness: 0
`)
	want := []string{
		`service "db": mem_swappiness is not supported on Incus (Incus controls swap per instance with limits.memory.swap); ignored`,
		`service "db": tty is not supported on Incus (instances have no attached terminal; use incus exec or incus console); ignored`,
	}
	if strings.Join(st.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(st.Warnings, "\n"), strings.Join(want, "\n"))
	}
}
