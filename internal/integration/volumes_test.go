package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// volumesCompose: db keeps its data in the named volume "data" (per slot),
// has a tmpfs at /scratch and a secret from a file; its update_config asks
// for start-first, which a single-writer local volume cannot honour.
func volumesCompose(version, replicas int) string {
	return fmt.Sprintf(`
services:
  db:
    image: busybox
    environment: {V: "%d"}
    volumes:
      - data:/data
      - type: tmpfs
        target: /scratch
        tmpfs: {size: 1048576}
    secrets: [pw]
    deploy:
      replicas: %d
      update_config: {order: start-first, monitor: 100ms}
volumes:
  data:
    driver_opts: {size: 64MiB}
    labels: {team: db}
secrets:
  pw: {file: ./pw.txt}
`, version, replicas)
}

// TestVolumesDataSurvives: a file written to a named volume survives a
// replacing update, a scale-down and scale-up, and stack.absent plus a
// redeploy; prune_volumes and stack.absent with volumes: true remove the
// volumes. Along the way: the volumes' config, the tmpfs, the secret (in
// the instance with mode 0444, absent from every response, log, the
// stack record and the instance config), and the stop-first order used.
func TestVolumesDataSurvives(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	testbed(t)
	const stack = "it-volumes"
	removeWithVolumes(t, stack)
	dir, secret := secretProject(t, volumesCompose(1, 2))
	present := func(version, replicas int, extra map[string]any) response {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(volumesCompose(version, replicas)), 0o600); err != nil {
			t.Fatal(err)
		}
		params := map[string]any{"name": stack, "compose_files": []string{filepath.Join(dir, "compose.yaml")}}
		for k, v := range extra {
			params[k] = v
		}
		r := call(t, "stack.present", false, params).mustSucceed(t)
		if strings.Contains(string(r.Raw), secret) || strings.Contains(r.Stderr, secret) {
			t.Fatalf("the secret leaks into the response or the log:\n%s\n%s", r.Raw, r.Stderr)
		}
		return r
	}

	r := present(1, 2, nil)
	if got := stepsOf(t, r); strings.Count(got, "create-volume ") != 2 || !strings.Contains(got, "volume=data-2") {
		t.Errorf("volume creates are not their own steps:\n%s", got)
	}
	vols := customVolumes(t, stack)
	for _, name := range []string{"data-1", "data-2"} {
		if len(vols[name]) != 1 {
			t.Fatalf("volume %s: %+v", name, vols)
		}
		cfg := vols[name][0].Config
		if cfg["user.fleet.stack"] != stack || cfg["user.fleet.service"] != "db" || cfg["size"] != "67108864B" || cfg["user.team"] != "db" {
			t.Errorf("volume %s config %v", name, cfg)
		}
	}
	inInstance(t, stack, "db-1", "echo one > /data/f")
	inInstance(t, stack, "db-2", "echo two > /data/f")
	if got := inInstance(t, stack, "db-1", "grep ' /scratch ' /proc/mounts | cut -d' ' -f3"); got != "tmpfs" {
		t.Errorf("/scratch is %q, want a tmpfs", got)
	}
	if got := inInstance(t, stack, "db-1", "stat -c %a /run/secrets/pw; cat /run/secrets/pw"); got != "444\n"+secret {
		t.Errorf("secret in the instance: %q", strings.ReplaceAll(got, secret, "<secret>"))
	}
	for _, what := range [][]string{{"project", "show", stack}, {"config", "show", "db-1", "--project", stack}} {
		if out := mustIncus(t, what...); strings.Contains(out, secret) {
			t.Errorf("the secret is stored in Incus (incus %s)", strings.Join(what, " "))
		}
	}

	// A replacing update reattaches the same volume, stop-first.
	r = present(2, 2, nil)
	if got := stepsOf(t, r); strings.Count(got, "order=stop-first") != 2 || strings.Contains(got, "start-first") {
		t.Errorf("the update should run stop-first, and the plan say so:\n%s", got)
	}
	n := 0
	for _, w := range r.Warnings {
		if strings.Contains(w, "start-first is not possible") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("want one stop-first warning: %q", r.Warnings)
	}
	if got := inInstance(t, stack, "db-1", "cat /data/f"); got != "one" {
		t.Errorf("after the update db-1 has %q", got)
	}

	// Scale down keeps data-2; scale up reattaches it.
	r = present(2, 1, nil)
	if len(customVolumes(t, stack)["data-2"]) != 1 {
		t.Fatal("scale-down deleted data-2")
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "data-2") {
		t.Errorf("the kept volume is not reported: %q", r.Warnings)
	}
	present(2, 2, nil)
	if got := inInstance(t, stack, "db-2", "cat /data/f"); got != "two" {
		t.Errorf("after scale-up db-2 has %q", got)
	}

	// stack.absent keeps the volumes (and the project holding them).
	call(t, "stack.absent", false, map[string]any{"name": stack}).mustSucceed(t)
	if !stackProjectExists(t, stack) || len(customVolumes(t, stack)) != 2 {
		t.Fatalf("stack.absent should keep the volumes: %v", customVolumes(t, stack))
	}
	r = present(2, 2, nil)
	if got := stepsOf(t, r); !strings.Contains(got, "sticky=data-1") || !strings.Contains(got, "sticky=data-2") {
		t.Errorf("the redeploy does not show sticky placement:\n%s", got)
	}
	if got := inInstance(t, stack, "db-1", "cat /data/f") + inInstance(t, stack, "db-2", "cat /data/f"); got != "onetwo" {
		t.Errorf("after absent and redeploy the data is %q", got)
	}

	// prune_volumes deletes the volume of a removed slot, as its own step.
	r = present(2, 1, map[string]any{"prune_volumes": true})
	if !strings.Contains(stepsOf(t, r), "delete-volume @node") || len(customVolumes(t, stack)["data-2"]) != 0 {
		t.Errorf("prune_volumes did not delete data-2: %s", r.Raw)
	}

	// stack.absent with volumes: true removes them, and the project.
	r = call(t, "stack.absent", false, map[string]any{"name": stack, "volumes": true}).mustSucceed(t)
	if stackProjectExists(t, stack) {
		t.Errorf("the project remains after stack.absent with volumes: %s", r.Raw)
	}
}

// TestVolumesBadInputChangesNothing: a shared volume on a local pool, a
// missing external volume and a size that does not parse are each a clear
// error before anything changes (not even the project is created).
func TestVolumesBadInputChangesNothing(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	testbed(t)
	for i, c := range []struct {
		compose, code, fragment string
	}{
		// A volume on the local pool shared by services whose constraints
		// leave no common member (co-location is impossible).
		{"services:\n  a: {image: busybox, volumes: [\"shared:/s\"], deploy: {placement: {constraints: [node.hostname==node1]}}}\n  b: {image: busybox, volumes: [\"shared:/s\"], deploy: {placement: {constraints: [node.hostname==node2]}}}\nvolumes:\n  shared: {}\n",
			"compose_invalid", "services a, b share volume shared on local pool local (dir), which one member holds, so they must run on one member, but no member is eligible for all of them"},
		{"services:\n  a: {image: busybox, volumes: [\"old:/s\"]}\nvolumes:\n  old: {external: true, name: no-such-volume}\n",
			"not_found", "no-such-volume"},
		{"services:\n  a: {image: busybox, volumes: [\"data:/s\"]}\nvolumes:\n  data: {driver_opts: {size: huge}}\n",
			"compose_invalid", "driver_opts.size"},
		{"services:\n  a: {image: busybox, volumes: [\"nope:/s\"]}\n",
			"compose_invalid", "nope"},
	} {
		stack := fmt.Sprintf("it-volbad-%d", i)
		cleanup(t, stack)
		r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": c.compose})
		if r.Error == nil || string(r.Error.Code) != c.code || !strings.Contains(r.Error.Message, c.fragment) {
			t.Errorf("case %d: want %s mentioning %q, got %s", i, c.code, c.fragment, r.Raw)
		}
		if stackProjectExists(t, stack) {
			t.Errorf("case %d: the project was created although the input is bad", i)
		}
	}
}
